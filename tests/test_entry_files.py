"""A worker file must start a NestJS application (workers_scan/entry_points.py): files that do not are refused with
the reason, NestJS's non-entry file types are skipped visibly, and workers.toml can declare an entry detection cannot
see."""

import json
import pathlib
from pathlib import Path

import pytest

import main
from workers_scan import InputError, load_workers
from workers_scan.discovery import skipped_entries
from workers_scan.entry_points import MAX_IMPORT_HOPS
from workers_scan.errors import display_path

from .helpers import BOOTSTRAP, WORKERS, make_monorepo, settings_from

MODULE_FILE = """import { Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';

// Imported by the workers' modules; NestFactory.create(QueuesModule) is not called here.
@Module({ imports: [BullModule.registerQueue({ name: 'mail' })] })
export class QueuesModule {}
"""
HELPER = """import { NestFactory } from '@nestjs/core';

export async function bootstrapWorker(module: unknown): Promise<void> {
  const app = await NestFactory.create(module);
  await app.listen(Number(process.env.PORT ?? 3000), '0.0.0.0');
}
"""
CALLS_HELPER = """import {{ bootstrapWorker }} from '{specifier}';
import {{ OrdersModule }} from '../orders/orders.module';

void bootstrapWorker(OrdersModule);
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def monorepo(tmp_path: Path, files: dict[str, str], toml: str | None = None) -> Path:
    """A monorepo whose files (relative to apps/api/src) hold the given text; the workers are in workers/."""
    env = make_monorepo(tmp_path, [], toml=toml)
    for name, text in files.items():
        write(tmp_path / "apps/api/src" / name, text)
    return env


def problems_of(env) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_workers(settings_from(env))
    return [str(p) for p in caught.value.problems]


def refusal_of(env, name: str) -> str:
    """The one problem, which must name the file."""
    [message] = problems_of(env)
    assert message.startswith(f"{display_path(env.parent.parent.parent / WORKERS / name)}: "), message
    return message


@pytest.mark.parametrize("source", [
    BOOTSTRAP,
    "import { NestFactory } from '@nestjs/core';\nconst app = await NestFactory.create<NestExpressApplication>(M);\n",
    "import { NestFactory } from '@nestjs/core';\nimport { Transport } from '@nestjs/microservices';\n"
    "NestFactory.createMicroservice(M, { transport: Transport.TCP }).then((app) => app.listen());\n",
    "import { NestFactory as Factory } from '@nestjs/core';\n(async () => { await Factory.create(M); })();\n",
    "import * as core from '@nestjs/core';\nconst start = async () => { await core.NestFactory.create(M); };\n"
    "start().catch(() => process.exit(1));\n",
    "const { NestFactory } = require('@nestjs/core');\nif (require.main === module) { NestFactory.create(M); }\n",
], ids=["bootstrap-function", "top-level-await-with-type-argument", "microservice", "aliased-factory-in-an-iife",
        "namespace-import-arrow-function", "commonjs"])
def test_a_worker_file_that_calls_nest_factory_create_or_create_microservice_is_a_worker(tmp_path, source):
    env = monorepo(tmp_path, {"workers/orders.ts": source, "workers/queues.ts": MODULE_FILE})
    # queues.ts beside it is refused: the rule reads each file, it does not accept every *.ts
    assert [m.split(": ", 1)[0] for m in problems_of(env)] == [display_path(tmp_path / WORKERS / "queues.ts")]
    (tmp_path / WORKERS / "queues.ts").unlink()
    assert [w.name for w in load_workers(settings_from(env))] == ["orders"]


def test_a_nestjs_module_file_not_named_module_ts_is_refused_with_what_was_looked_for_and_what_to_do(tmp_path):
    env = monorepo(tmp_path, {"workers/orders.ts": BOOTSTRAP, "workers/queues.ts": MODULE_FILE})
    message = refusal_of(env, "queues.ts")
    assert "does not start a NestJS application: no call of NestFactory.create or NestFactory.createMicroservice " \
           "runs when it is loaded" in message
    assert "add it to WORKER_EXCLUDE or rename it" in message
    assert message.endswith("declare it in workers.toml: [queues] entry = true")


@pytest.mark.parametrize("source", [
    "// NestFactory.create(AppModule)\nexport {};\n",
    "/* await NestFactory.create(AppModule);\n   app.listen(3000); */\nexport {};\n",
    "export const usage = 'call NestFactory.create(AppModule) in your worker';\n",
    "export const usage = `NestFactory.create(${'AppModule'})`;\n",
    "/** @example NestFactory.createMicroservice(M) */\nexport function noop(): void {}\n",
])
def test_a_call_in_a_comment_or_a_string_does_not_count(tmp_path, source):
    env = monorepo(tmp_path, {"workers/orders.ts": BOOTSTRAP, "workers/notes.ts": source})
    assert "does not start a NestJS application" in refusal_of(env, "notes.ts")


def test_a_shared_bootstrap_helper_is_refused_and_the_workers_calling_it_are_found(tmp_path):
    env = monorepo(tmp_path, {"workers/bootstrap-worker.ts": HELPER,
                              "workers/orders.ts": CALLS_HELPER.format(specifier="./bootstrap-worker")})
    # Defining the function that would start the application is not calling it.
    assert "does not start a NestJS application" in refusal_of(env, "bootstrap-worker.ts")
    # Out of the way (a leading _), the same helper serves the worker that calls it.
    (tmp_path / WORKERS / "bootstrap-worker.ts").rename(tmp_path / WORKERS / "_bootstrap-worker.ts")
    (tmp_path / WORKERS / "orders.ts").write_text(CALLS_HELPER.format(specifier="./_bootstrap-worker"))
    assert [w.name for w in load_workers(settings_from(env))] == ["orders"]


@pytest.mark.parametrize("files, specifier", [
    ({"common/bootstrap.ts": HELPER}, "../common/bootstrap"),
    ({"common/bootstrap.ts": HELPER}, "../common/bootstrap.js"),             # NodeNext: the .js of the .ts
    ({"common/index.ts": "export * from './bootstrap';\n", "common/bootstrap.ts": HELPER}, "../common"),
    ({"common/index.ts": "export { start as bootstrapWorker } from './start';\n",
      "common/start.ts": HELPER.replace("bootstrapWorker", "start")}, "../common/index"),
    ({"common/bootstrap.ts": "import { listen } from './listen';\n"
                             "export function bootstrapWorker(m: unknown) { return listen(m); }\n",
      "common/listen.ts": HELPER.replace("bootstrapWorker", "listen")}, "../common/bootstrap"),
    ({"common/bootstrap.ts": HELPER.replace("export async function bootstrapWorker", "export default async function "
                                                                                     "bootstrapWorker")},
     "../common/bootstrap"),
], ids=["file", "js-specifier", "barrel-export-star", "renamed-re-export", "two-files-away", "default-export"])
def test_a_worker_that_calls_a_function_imported_by_relative_path_that_starts_the_application_is_a_worker(
        tmp_path, files, specifier):
    worker = CALLS_HELPER.format(specifier=specifier)
    if "default" in files.get("common/bootstrap.ts", ""):
        worker = worker.replace("{ bootstrapWorker }", "bootstrapWorker")
    env = monorepo(tmp_path, {**files, "workers/orders.ts": worker,
                              # the same import without the call starts nothing
                              "workers/billing.ts": worker.replace("void bootstrapWorker(OrdersModule);", "")})
    assert "does not start a NestJS application" in refusal_of(env, "billing.ts")
    (tmp_path / WORKERS / "billing.ts").unlink()
    assert [w.name for w in load_workers(settings_from(env))] == ["orders"]


def test_a_namespace_import_of_a_helper_is_followed(tmp_path):
    env = monorepo(tmp_path, {"common/bootstrap.ts": HELPER, "workers/orders.ts": (
        "import * as boot from '../common/bootstrap';\nboot.bootstrapWorker(OrdersModule);\n"),
        "workers/billing.ts": "import * as boot from '../common/bootstrap';\nboot.somethingElse();\n"})
    assert "does not start a NestJS application" in refusal_of(env, "billing.ts")


def test_an_import_cycle_ends_and_the_file_is_refused(tmp_path):
    env = monorepo(tmp_path, {
        "workers/orders.ts": BOOTSTRAP,
        "workers/ping.ts": "import { pong } from '../common/pong';\nexport function ping() { pong(); }\nping();\n",
        "common/pong.ts": "import { ping } from '../workers/ping';\nexport function pong() { ping(); }\n"})
    assert "does not start a NestJS application" in refusal_of(env, "ping.ts")


def test_a_chain_of_imports_past_the_bound_is_not_followed_and_the_refusal_says_so(tmp_path):
    files = {f"common/step{i}.ts": f"import {{ step{i + 1} }} from './step{i + 1}';\n"
                                   f"export function step{i}(m: unknown) {{ step{i + 1}(m); }}\n"
             for i in range(1, MAX_IMPORT_HOPS + 1)}
    files[f"common/step{MAX_IMPORT_HOPS + 1}.ts"] = HELPER.replace("bootstrapWorker", f"step{MAX_IMPORT_HOPS + 1}")
    files["workers/orders.ts"] = "import { step1 } from '../common/step1';\nstep1(OrdersModule);\n"
    env = monorepo(tmp_path, files)
    message = refusal_of(env, "orders.ts")
    assert f"not followed: step{MAX_IMPORT_HOPS + 1}() from './step{MAX_IMPORT_HOPS + 1}' (more than " \
           f"{MAX_IMPORT_HOPS} imports away)" in message
    (tmp_path / "apps/api/src/common/step1.ts").unlink()   # one file less: within the bound
    (tmp_path / WORKERS / "orders.ts").write_text("import { step2 } from '../common/step2';\nstep2(OrdersModule);\n")
    assert [w.name for w in load_workers(settings_from(env))] == ["orders"]


def test_a_call_into_a_package_or_a_path_alias_is_not_followed_and_the_refusal_names_it(tmp_path):
    env = monorepo(tmp_path, {"workers/orders.ts": BOOTSTRAP, "workers/mailer.ts": (
        "import { startWorker } from '@acme/platform';\nimport { MailModule } from '@app/mail';\n"
        "startWorker(MailModule);\n")})
    message = refusal_of(env, "mailer.ts")
    assert "not followed: startWorker() from '@acme/platform'" in message
    assert message.endswith("declare it in workers.toml: [mailer] entry = true")


def test_an_application_context_alone_is_refused_because_it_serves_no_port(tmp_path):
    env = monorepo(tmp_path, {"workers/orders.ts": BOOTSTRAP, "workers/cleanup.ts": (
        "import { NestFactory } from '@nestjs/core';\n"
        "async function run() { const context = await NestFactory.createApplicationContext(CleanupModule); }\n"
        "void run();\n")})
    message = refusal_of(env, "cleanup.ts")
    assert "it calls only NestFactory.createApplicationContext, which listens on no port, so its service would fail " \
           "its health check" in message


def test_a_folder_worker_is_checked_on_its_entry_file(tmp_path):
    env = monorepo(tmp_path, {"workers/orders.ts": BOOTSTRAP, "workers/billing/main.ts": "export {};\n",
                              "workers/billing/billing.module.ts": MODULE_FILE})
    message = refusal_of(env, "billing/main.ts")
    assert "does not start a NestJS application" in message and "[billing] entry = true" in message
    (tmp_path / WORKERS / "billing" / "main.ts").write_text(BOOTSTRAP)
    assert [(w.name, w.worker_file) for w in load_workers(settings_from(env))] == [
        ("billing", "billing/main.js"), ("orders", "orders.js")]


@pytest.mark.parametrize("name", ["mail.processor.ts", "mail.consumer.ts", "queues.module.ts", "mail.service.ts",
                                  "orders.controller.ts", "auth.guard.ts", "logging.interceptor.ts", "order.dto.ts",
                                  "order.entity.ts", "orders.spec.ts", "orders.test.ts", "globals.d.ts"])
def test_nestjs_non_entry_file_types_are_skipped_visibly_not_refused(tmp_path, name):
    env = monorepo(tmp_path, {"workers/orders.ts": BOOTSTRAP, f"workers/{name}": MODULE_FILE})
    assert [w.name for w in load_workers(settings_from(env))] == ["orders"]
    assert skipped_entries(tmp_path / WORKERS) == [(name, f"always excluded (*{name[name.index('.'):]})")]


def test_entry_true_in_workers_toml_declares_an_entry_that_detection_cannot_see(tmp_path):
    files = {"workers/orders.ts": BOOTSTRAP,
             "workers/mailer.ts": "import { startWorker } from '@acme/platform';\nstartWorker(MailModule);\n"}
    env = monorepo(tmp_path, files, toml="[mailer]\nentry = true\ncpu = 512\nmemory = 1024\n")
    mailer, orders = load_workers(settings_from(env))
    assert (mailer.name, mailer.entry_declared, mailer.cpu) == ("mailer", True, 512)
    assert orders.entry_declared is False


@pytest.mark.parametrize("value", ["false", "'yes'", "1"])
def test_entry_accepts_only_true_naming_the_file_and_key(tmp_path, value):
    env = monorepo(tmp_path, {"workers/orders.ts": BOOTSTRAP}, toml=f"[orders]\nentry = {value}\n")
    [message] = problems_of(env)
    assert message.startswith(f"{display_path(env.parent / 'workers.toml')}: [orders].entry: ")
    assert "is not true" in message and "to leave a file out, add it to WORKER_EXCLUDE" in message


def test_entry_on_a_table_that_names_no_worker_is_the_unknown_table_error_and_does_not_bring_back_an_excluded_file(
        tmp_path):
    env = monorepo(tmp_path, {"workers/orders.ts": BOOTSTRAP, "workers/queues.module.ts": MODULE_FILE},
                   toml="[queues-module]\nentry = true\n")
    [message] = problems_of(env)
    assert message.startswith(f"{display_path(env.parent / 'workers.toml')}: [queues-module]: names no discovered "
                              "worker; workers are: orders")
    assert "entry = true does not make a worker of an excluded file" in message


def test_an_entry_file_that_cannot_be_read_is_reported(tmp_path, monkeypatch):
    env = monorepo(tmp_path, {"workers/orders.ts": BOOTSTRAP})
    read_bytes = pathlib.Path.read_bytes

    def refuse(self):
        if self.name == "orders.ts":
            raise PermissionError(13, "Permission denied", str(self))
        return read_bytes(self)

    monkeypatch.setattr(pathlib.Path, "read_bytes", refuse)
    assert "cannot be read (Permission denied)" in refusal_of(env, "orders.ts")


def test_the_workers_command_refuses_a_file_that_starts_nothing_with_the_reason(tmp_path, capsys):
    env = monorepo(tmp_path, {"workers/orders.ts": BOOTSTRAP, "workers/queues.ts": MODULE_FILE})
    assert main.main(["workers", "--env-file", str(env)]) == main.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert f"{display_path(tmp_path / WORKERS / 'queues.ts')}: does not start a NestJS application" in err


def test_the_workers_command_shows_skipped_file_types_and_declared_entries(tmp_path, capsys):
    env = monorepo(tmp_path, {"workers/orders.ts": BOOTSTRAP, "workers/mail.processor.ts": MODULE_FILE,
                              "workers/mailer.ts": "import { startWorker } from '@acme/platform';\nstartWorker();\n"},
                   toml="[mailer]\nentry = true\n")
    assert main.main(["workers", "--env-file", str(env)]) == main.EXIT_OK
    out = capsys.readouterr().out
    assert "mail.processor.ts  always excluded (*.processor.ts)" in out
    assert "Entry point declared in workers.toml (entry = true), not checked: mailer" in out
    assert main.main(["workers", "--json", "--env-file", str(env)]) == main.EXIT_OK
    [stack] = json.loads(capsys.readouterr().out)
    assert {w["name"]: w["entry"] for w in stack["workers"]} == {"mailer": "declared", "orders": "detected"}
    assert stack["skipped"] == [{"entry": "mail.processor.ts", "why": "always excluded (*.processor.ts)"}]


def test_doctor_shows_why_each_file_is_skipped_or_refused(tmp_path, capsys):
    env = monorepo(tmp_path, {"workers/orders.ts": BOOTSTRAP, "workers/mail.processor.ts": MODULE_FILE})
    main.main(["doctor", "--env-file", str(env)])
    out = capsys.readouterr().out
    assert f"[  ok] not workers             1 other entry in {display_path(tmp_path / WORKERS)}" in out
    assert "    mail.processor.ts: always excluded (*.processor.ts)" in out
    write(tmp_path / WORKERS / "queues.ts", MODULE_FILE)
    assert main.main(["doctor", "--env-file", str(env)]) == main.EXIT_BAD_INPUT
    out = capsys.readouterr().out
    assert "[FAIL] settings and workers" in out
    assert f"    {display_path(tmp_path / WORKERS / 'queues.ts')}: does not start a NestJS application" in out
