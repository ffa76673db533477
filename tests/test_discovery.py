import errno
import inspect
import json
import os
import pathlib
import random

import pytest

from workers_scan import InputError, load_workers
from workers_scan.discovery import (ALWAYS_EXCLUDED, MAX_WORKERS, discover_workers, kebab_case, service_name,
                                    short_hash, shorten)
from workers_scan.errors import Problems, display_path
from workers_scan import SettingsSource, load_settings
from workers_scan.settings import EXAMPLE_SETTINGS, KEYS

from .helpers import BOOTSTRAP, WORKERS, make_monorepo, settings_from


def workers_of(env, environ=None):
    return load_workers(settings_from(env, environ))


def problems_of(env, environ=None) -> list[str]:
    with pytest.raises(InputError) as caught:
        workers_of(env, environ)
    return [str(p) for p in caught.value.problems]


def test_example_monorepo_has_four_workers_one_private_and_ignores_spec_and_index():
    settings = load_settings(SettingsSource(EXAMPLE_SETTINGS, is_example=True))
    workers = load_workers(settings)
    assert [(w.name, w.worker_file, w.route, w.private) for w in workers] == [
        ("billing", "billing/main.js", "billing", False),
        ("email-outbox", "emailOutbox.worker.js", "email-outbox", True),
        ("email-sender", "emailSender.worker.js", "email-sender", False),
        ("orders", "orders.js", "orders", False),
    ]
    assert workers[2].start_command == "bash apps/api/scripts/start-worker.sh emailSender.worker.js"


@pytest.mark.parametrize("stem, route", [
    ("emailSender.worker", "email-sender"),
    ("email-sender.worker", "email-sender"),
    ("orders", "orders"),
    ("PDFExport", "pdf-export"),
    ("pdf_export_worker", "pdf-export"),
    ("sync2Crm", "sync2-crm"),
    ("billing", "billing"),
    ("_orders_", "orders"),
    ("exportX", "export-x"),
])
def test_worker_routes_are_kebab_case_of_file_names(stem, route):
    assert kebab_case(stem) == route


def test_excluded_files_are_not_workers(tmp_path):
    env = make_monorepo(tmp_path, ["orders.ts", "orders.spec.ts", "orders.test.ts", "types.d.ts", "index.ts",
                                   "_helpers.ts", ".hidden.ts", "README.md", "_internal/", "notes/"])
    (tmp_path / WORKERS / "notes" / "main.ts").unlink()  # a folder without main.ts is not a worker
    assert [w.name for w in workers_of(env)] == ["orders"]


def test_folder_with_main_ts_is_a_worker_named_after_the_folder(tmp_path):
    env = make_monorepo(tmp_path, ["reportGenerator/"])
    [worker] = workers_of(env)
    assert (worker.name, worker.route, worker.worker_file) == ("report-generator", "report-generator",
                                                                "reportGenerator/main.js")
    assert worker.source == tmp_path / WORKERS / "reportGenerator"  # the folder, not its entry file


def test_include_exclude_and_folder_entry_are_configurable(tmp_path):
    env = make_monorepo(tmp_path, ["a.worker.ts", "b.ts", "bb.worker.ts", "c/"], settings={
        "WORKER_INCLUDE": "*.worker.ts", "WORKER_FOLDER_ENTRY": "index.ts", "WORKER_EXCLUDE": "*.spec.ts,bb*"})
    (tmp_path / WORKERS / "c" / "index.ts").write_text(BOOTSTRAP)
    assert [(w.name, w.worker_file) for w in workers_of(env)] == [("a", "a.worker.js"), ("c", "c/index.js")]


def test_nestjs_files_are_never_workers_and_worker_exclude_adds_to_the_exclusions(tmp_path):
    env = make_monorepo(tmp_path, ["orders.ts", "worker.module.ts", "orders.service.ts", "billing.controller.ts",
                                   "create-order.dto.ts", "order.entity.ts", "index.ts", "legacy.ts"],
                        settings={"WORKER_EXCLUDE": "legacy.ts"})
    assert [w.name for w in workers_of(env)] == ["orders"]


def test_service_names_are_project_env_route():
    assert service_name("acme", "dev", "orders") == "acme-dev-orders"


def test_short_hash_of_several_values_is_stable_between_releases():
    # Names in Terraform state carry it (the VPC connector's placement): another value would replace resources.
    assert short_hash("vpc-0123456789abcdef0", "subnet-a", "subnet-b") == "32e48c"
    assert short_hash("ab", "c") != short_hash("a", "bc")


def test_long_service_names_are_shortened_deterministically_and_uniquely():
    first = service_name("acme-platform-team", "staging", "customer-notification-dispatcher")
    second = service_name("acme-platform-team", "staging", "customer-notification-dispatcher-v2")
    assert len(first) == len(second) == 40
    assert first != second
    assert first == service_name("acme-platform-team", "staging", "customer-notification-dispatcher")
    assert first.startswith("acme-platform-team-staging-custom-")


def test_same_route_from_two_files_names_both(tmp_path):
    env = make_monorepo(tmp_path, ["emailSender.ts", "email-sender.worker.ts", "email_sender/"])
    messages = problems_of(env)
    assert len(messages) == 2
    assert all("'email-sender'" in m for m in messages)
    assert any("email-sender.worker.ts" in m and "email_sender" in m for m in messages), messages


def test_invalid_file_names_are_rejected_with_the_path(tmp_path):
    env = make_monorepo(tmp_path, ["orders.ts", "bad name.ts", "tilde~x.ts"])
    messages = problems_of(env)
    assert any("bad name.ts" in m and "may hold only letters" in m for m in messages)
    assert any("tilde~x.ts" in m for m in messages)


def test_missing_workers_folder_names_the_path_and_key(tmp_path):
    env = make_monorepo(tmp_path, settings={"WORKERS_DIR": "apps/backend/workers"})
    [message] = problems_of(env)
    assert "apps/backend/workers: WORKERS_DIR: workers folder not found" in message


def test_empty_workers_folder_is_an_error(tmp_path):
    env = make_monorepo(tmp_path, ["index.ts", "x.spec.ts"])
    [message] = problems_of(env)
    assert "no worker found" in message and "WORKERS_DIR" in message


def test_symlink_leaving_the_monorepo_is_an_error(tmp_path):
    outside = tmp_path / "outside.ts"
    outside.write_text("")
    env = make_monorepo(tmp_path / "repo", ["orders.ts"])
    os.symlink(outside, tmp_path / "repo" / WORKERS / "stray.ts")
    [message] = problems_of(env)
    assert "stray.ts" in message and "outside the monorepo" in message


def test_symlink_inside_the_monorepo_is_followed(tmp_path):
    env = make_monorepo(tmp_path, ["orders.ts"])
    shared = tmp_path / "apps" / "api" / "src" / "shared.ts"
    shared.write_text(BOOTSTRAP)
    os.symlink(shared, tmp_path / WORKERS / "shared.ts")
    assert [w.name for w in workers_of(env)] == ["orders", "shared"]


def test_symlink_loop_is_an_error(tmp_path):
    env = make_monorepo(tmp_path, ["orders.ts"])
    os.symlink(tmp_path / WORKERS / "loop-b.ts", tmp_path / WORKERS / "loop-a.ts")
    os.symlink(tmp_path / WORKERS / "loop-a.ts", tmp_path / WORKERS / "loop-b.ts")
    messages = problems_of(env)
    assert len(messages) == 2 and all("symlink loop" in m for m in messages)


def test_too_many_workers_for_one_rest_api(tmp_path):
    names = [f"w{i:03d}.ts" for i in range(MAX_WORKERS + 1)]
    env = make_monorepo(tmp_path, names)
    [message] = problems_of(env)
    assert f"holds {MAX_WORKERS + 1} workers; one REST API routes at most {MAX_WORKERS}" in message


def test_result_is_sorted_whatever_the_creation_order(tmp_path):
    names = [f"worker{i}.ts" for i in range(12)]
    shuffled = names[:]
    random.Random(7).shuffle(shuffled)
    first = [w.name for w in workers_of(make_monorepo(tmp_path / "a", names))]
    second = [w.name for w in workers_of(make_monorepo(tmp_path / "b", shuffled))]
    assert first == second == sorted(first)


@pytest.mark.parametrize("command, script", [
    ("bash apps/api/scripts/start-worker.sh {worker_file}", "apps/api/scripts/start-worker.sh"),
    ("cd apps/api && sh scripts/run.sh {worker_file}", "scripts/run.sh"),
    ("node apps/api/dist/workers/{worker_file}", None),
    ("bash -c 'node {worker_file}'", None),
])
def test_the_start_script_a_start_command_runs(command, script):
    from workers_scan.build_check import start_script

    assert start_script(command) == script


def test_workspace_packages_are_found_below_the_root_but_not_in_node_modules(tmp_path):
    from workers_scan.build_check import workspace_packages

    for folder, name in (("apps/api", "@acme/api"), ("packages/shared", "@acme/shared"),
                         ("node_modules/left-pad", "left-pad"), ("apps/web", None)):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "package.json").write_text(json.dumps({"name": name} if name else {}))
    assert {p.name for p in workspace_packages(tmp_path)} == {"@acme/api", "@acme/shared", None}


def test_the_built_in_exclusions_can_be_replaced_explicitly(tmp_path):
    env = make_monorepo(tmp_path, ["orders.ts", "index.ts", "legacy.ts"],
                        settings={"WORKER_DEFAULT_EXCLUSIONS": "false", "WORKER_EXCLUDE": "legacy.ts"})
    assert [w.name for w in workers_of(env)] == ["index", "orders"]


def test_every_problem_of_the_workers_folder_is_reported_with_its_whole_message(tmp_path):
    root = tmp_path / "repo"
    long_name = "a" * 65
    env = make_monorepo(root, ["orders.ts", "bad name.ts", "Email_sender.ts", "email-sender.ts", "-.ts",
                               f"{long_name}.ts", "billing/", "empty/"])
    folder = root / WORKERS
    (folder / "empty" / "main.ts").unlink()  # a folder without the entry file is no worker, and no problem
    os.symlink(folder / "nowhere.ts", folder / "broken.ts")
    os.symlink(folder / "loop-b.ts", folder / "loop-a.ts")
    os.symlink(folder / "loop-a.ts", folder / "loop-b.ts")
    (tmp_path / "outside.ts").write_text("")
    os.symlink(tmp_path / "outside.ts", folder / "astray.ts")  # early in the order: later entries are still read
    open(os.fsencode(folder) + b"/caf\xe9.ts", "w").close()
    rel = lambda name: display_path(folder / name)  # noqa: E731
    bad_name = ("worker file or folder name may hold only letters, digits, '.', '_' and '-' (it becomes part of a "
                "URL path and a shell argument); rename it")
    symlink = "remove it or point it at a file inside the monorepo"
    assert problems_of(env) == [
        f"{rel('-.ts')}: {bad_name}",
        f"{rel(long_name + '.ts')}: derives the route {long_name!r}, which is not a valid path part (1-64 of a-z, "
        "0-9, '-', not starting or ending with '-'); rename it",
        f"{rel('astray.ts')}: is a symlink to {tmp_path.resolve() / 'outside.ts'}, outside the monorepo "
        f"{root.resolve()}; App Runner builds from the repository only, so the target would be missing",
        f"{rel('bad name.ts')}: {bad_name}",
        f"{rel('broken.ts')}: is a broken symlink; {symlink}",
        f"{display_path(folder)}: 'caf\\xe9.ts': file name is not valid UTF-8; rename it",
        f"{rel('loop-a.ts')}: is a symlink loop; {symlink}",
        f"{rel('loop-b.ts')}: is a symlink loop; {symlink}",
        f"{rel('email-sender.ts')}: maps to the worker name and route 'email-sender', like Email_sender.ts; "
        "rename one of them",
    ]


def test_missing_or_empty_workers_folder_says_what_would_be_found(tmp_path):
    env = make_monorepo(tmp_path / "a", settings={"WORKERS_DIR": "apps/jobs"})
    assert problems_of(env) == [
        f"{display_path(tmp_path / 'a' / 'apps' / 'jobs')}: WORKERS_DIR: workers folder not found; set "
        "MONOREPO_ROOT (relative to the settings file) and WORKERS_DIR so that MONOREPO_ROOT/WORKERS_DIR is the folder"]
    env = make_monorepo(tmp_path / "b", ["index.ts"])
    assert problems_of(env) == [
        f"{display_path(tmp_path / 'b' / WORKERS)}: WORKERS_DIR: no worker found: expected files matching *.ts "
        f"(not {', '.join(ALWAYS_EXCLUDED)}) or folders holding main.ts"]


def test_shorten_keeps_names_that_fit_and_the_suffix_whole():
    assert shorten("x" * 40, 40) == "x" * 40
    assert shorten("abcdefghij", 12, "-sfx") == f"a-{short_hash('abcdefghij')}-sfx"
    # only '-' and '_' are trimmed before the hash
    assert shorten("A" * 20 + "X" * 30, 40) == f"{'A' * 20}{'X' * 13}-{short_hash('A' * 20 + 'X' * 30)}"


def test_discovery_defaults_are_the_settings_defaults():
    defaults = {key.name: key.default for key in KEYS}
    parameters = inspect.signature(discover_workers).parameters
    assert ",".join(parameters["include"].default) == defaults["WORKER_INCLUDE"]
    assert ",".join(parameters["exclude"].default) == defaults["WORKER_EXCLUDE"]
    assert parameters["folder_entry"].default == defaults["WORKER_FOLDER_ENTRY"]


def test_only_bad_workers_are_not_also_reported_as_no_worker_found(tmp_path):
    env = make_monorepo(tmp_path, ["bad name.ts"])
    [message] = problems_of(env)
    assert "may hold only letters" in message


def test_workers_folder_that_cannot_be_listed_is_reported(tmp_path, monkeypatch):
    env = make_monorepo(tmp_path, ["orders.ts"])

    def refuse(path):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr("workers_scan.discovery.os.scandir", refuse)
    assert problems_of(env) == [f"{display_path(tmp_path / WORKERS)}: WORKERS_DIR: cannot be listed "
                                "(Permission denied)"]


def test_symlink_loop_reported_as_eloop_is_a_loop_too(tmp_path, monkeypatch):
    # Python 3.13 raises OSError(ELOOP) where 3.11 raises RuntimeError.
    env = make_monorepo(tmp_path, ["orders.ts", "loop.ts"])
    resolve = pathlib.Path.resolve

    def eloop(self, strict=False):
        if self.name == "loop.ts" and strict:
            raise OSError(errno.ELOOP, "Too many levels of symbolic links", str(self))
        return resolve(self, strict=strict)

    monkeypatch.setattr(pathlib.Path, "resolve", eloop)
    assert problems_of(env) == [f"{display_path(tmp_path / WORKERS / 'loop.ts')}: is a symlink loop; remove it "
                                "or point it at a file inside the monorepo"]


def test_discovery_with_its_own_defaults_finds_folder_workers(tmp_path):
    make_monorepo(tmp_path, ["billing/", "orders.ts", "index.ts"])
    problems = Problems()
    found = discover_workers(tmp_path / WORKERS, tmp_path, problems=problems)
    assert [w.worker_file for w in found] == ["billing/main.js", "orders.js"] and not problems


def test_no_worker_found_lists_every_include_pattern(tmp_path):
    env = make_monorepo(tmp_path, ["index.ts"], settings={"WORKER_INCLUDE": "*.ts,*.mts"})
    [message] = problems_of(env)
    assert "expected files matching *.ts, *.mts (not " in message


def test_as_many_workers_as_one_rest_api_routes_are_accepted(tmp_path):
    env = make_monorepo(tmp_path, [f"w{i:03d}.ts" for i in range(MAX_WORKERS)])
    assert len(workers_of(env)) == MAX_WORKERS


# --- the build check and misplaced files (workers_scan/build_check.py, workers.py), whole messages ----------------

def test_each_build_check_problem_has_its_whole_message(tmp_path):
    root = tmp_path / "repo"
    env = make_monorepo(root, ["orders.ts"], settings={
        "BUILD_COMMAND": "pnpm i --frozen-lockfile && pnpm run build -F '@acme/api'",
        "START_COMMAND": "sh scripts/go.sh {worker_file}"})
    for name in ("pnpm-lock.yaml", "pnpm-workspace.yaml"):
        (root / name).unlink()
    where = display_path(env)
    assert problems_of(env) == [
        f"{where}: BUILD_COMMAND: runs `pnpm install --frozen-lockfile`, which fails without "
        f"{display_path(root / 'pnpm-lock.yaml')}; run `pnpm install` and commit the lockfile",
        f"{where}: BUILD_COMMAND: filters on the package @acme/api, which is not in the monorepo; its packages "
        "are: @monorepo/api; the workers are in @monorepo/api: set BUILD_COMMAND=pnpm i --frozen-lockfile && pnpm "
        "run build -F @monorepo/api",
        f"{where}: START_COMMAND: runs scripts/go.sh, which is not in the monorepo "
        f"({display_path(root / 'scripts' / 'go.sh')}); add it or change START_COMMAND"]


def test_a_known_package_without_a_workspace_file_and_commands_that_need_nothing(tmp_path):
    root = tmp_path / "repo"
    env = make_monorepo(root, ["orders.ts"], settings={"BUILD_COMMAND": "pnpm run build --filter=@monorepo/api"})
    (root / "pnpm-workspace.yaml").unlink()
    (root / "pnpm-lock.yaml").unlink()   # no --frozen-lockfile: no lockfile needed
    assert problems_of(env) == [
        f"{display_path(env)}: BUILD_COMMAND: filters on a workspace package, but "
        f"{display_path(root / 'pnpm-workspace.yaml')} is missing, so pnpm sees no workspace"]
    plain = make_monorepo(tmp_path / "plain", ["orders.ts"], settings={
        "BUILD_COMMAND": "npm ci && npm run build", "START_COMMAND": "node dist/{worker_file}"})
    for name in ("pnpm-lock.yaml", "pnpm-workspace.yaml"):
        (tmp_path / "plain" / name).unlink()
    (tmp_path / "plain" / "package-lock.json").write_text("{}")   # npm ci needs it
    assert [w.name for w in workers_of(plain)] == ["orders"]


def test_a_copied_source_folder_must_exist_but_build_outputs_and_variables_are_not_checked(tmp_path):
    from workers_scan.build_check import copied_sources

    root = tmp_path / "repo"
    env = make_monorepo(root, ["orders.ts"])
    (root / "apps" / "api" / "src" / "i18n").rmdir()
    [problem] = problems_of(env)
    assert problem == (f"{display_path(env)}: BUILD_COMMAND: copies apps/api/src/i18n, which is not in the monorepo "
                       f"({display_path(root / 'apps/api/src/i18n')}); add it or change BUILD_COMMAND")
    assert copied_sources("pnpm build && cp -R dist/assets out/ && cp $HOME/x y; cp -r a/*.json b/ "
                          "&& cp -a static 'public files' target/ | tee log") == ["static", "public files"]


def test_a_renamed_api_package_gets_the_default_build_command_with_its_name(tmp_path):
    from workers_scan.settings import DEFAULT_BUILD_COMMAND
    from workers_scan.workers import stack_build_command

    root = tmp_path / "repo"
    env = make_monorepo(root, ["orders.ts"])
    (root / "apps" / "api" / "package.json").write_text('{"name": "@northwind/api"}\n')
    settings = settings_from(env)
    workers = load_workers(settings)
    assert stack_build_command(settings, workers) == DEFAULT_BUILD_COMMAND.replace("{filters}",
                                                                                   "--filter @northwind/api")


def test_a_build_command_filtering_on_another_package_names_the_workers_package(tmp_path):
    root = tmp_path / "repo"
    command = "pnpm install --frozen-lockfile && pnpm run build --filter @monorepo/api"
    env = make_monorepo(root, ["orders.ts"], settings={"BUILD_COMMAND": f"'{command}'"})
    (root / "apps" / "api" / "package.json").write_text('{"name": "@northwind/api"}\n')
    [problem] = problems_of(env)
    fixed = command.replace("@monorepo/api", "@northwind/api")
    assert problem.endswith(f"the workers are in @northwind/api: set BUILD_COMMAND={fixed}")


def test_the_workers_package_is_looked_for_inside_the_monorepo_only(tmp_path):
    from workers_scan.build_check import workers_package

    (tmp_path / "package.json").write_text('{"name": "outside-the-monorepo"}\n')
    env = make_monorepo(tmp_path / "repo", ["orders.ts"])
    (tmp_path / "repo" / "apps" / "api" / "package.json").unlink()
    assert workers_package(settings_from(env)) is None


def test_a_wrong_monorepo_root_is_one_problem_not_one_per_file_the_commands_miss(tmp_path):
    env = make_monorepo(tmp_path / "repo", ["orders.ts"], settings={"MONOREPO_ROOT": ".."})
    [problem] = problems_of(env)
    assert "WORKERS_DIR: workers folder not found; set MONOREPO_ROOT" in problem


def test_no_package_json_anywhere_is_said_plainly(tmp_path):
    root = tmp_path / "repo"
    env = make_monorepo(root, ["orders.ts"])
    (root / "apps" / "api" / "package.json").unlink()
    assert problems_of(env) == [
        f"{display_path(env)}: WORKERS_DIR: apps/api/src/workers: no package.json with a name above it inside the "
        f"monorepo ({display_path(root)}), so its workers belong to no package; START_COMMAND and BUILD_COMMAND need "
        "it ({package} is the package's folder, {filters} filters the build on its name). Put the folder inside a "
        "workspace package (apps/<name>/src/workers)"]


def test_workspace_packages_stop_at_their_depth_and_skip_build_output_and_bad_manifests(tmp_path):
    from workers_scan.build_check import workspace_packages

    for folder, text in (("a/b/c", '{"name": "deep3"}'), ("a/b/c/d", '{"name": "deep4"}'), ("dist/x", '{"name": "d"}'),
                         ("bad", "{not json"), ("list", '["name"]'), ("num", '{"name": 7}')):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "package.json").write_text(text)
    (tmp_path / "package.json").write_text('{"name": "root"}')
    assert {p.name for p in workspace_packages(tmp_path) if p.name} == {"root", "deep3"}
    assert {p.name for p in workspace_packages(tmp_path, depth=4) if p.name} == {"root", "deep3", "deep4"}


@pytest.mark.parametrize("layout, message", [
    ({".env.worker": "X=1\n"}, "{aws}/.env.worker: is not read: worker environments are .env.workers and "
                               ".env.workers.<worker> (plural); rename it"),
    ({".env.worker.orders": "X=1\n"}, "{aws}/.env.worker.orders: is not read: worker environments are .env.workers "
                                      "and .env.workers.<worker> (plural); rename it"),
    ({"worker.toml": ""}, "{aws}/worker.toml: is not read: per-worker settings are workers.toml next to the settings "
                          "file; rename it"),
    ({"workers.yaml": ""}, "{aws}/workers.yaml: is not read: per-worker settings are workers.toml next to the "
                           "settings file; rename it"),
    ({"workers.json": ""}, "{aws}/workers.json: is not read: per-worker settings are workers.toml next to the "
                           "settings file; rename it"),
    ({"../../.env.workers.orders": "X=1\n"}, "{root}/.env.workers.orders: is not read: .env.workers.orders belongs "
                                             "next to the settings file, in {aws}; move it there"),
    ({"../../workers.toml": ""}, "{root}/workers.toml: is not read: workers.toml belongs next to the settings "
                                 "file, in {aws}; move it there"),
    ({"../../workers.toml": "", "workers.toml": ""},
     "{root}/workers.toml: is not read: workers.toml belongs next to the settings file, in {aws}; {aws}/workers.toml "
     "exists and is the one read: merge what this one adds into it, then delete this one"),
])
def test_each_misplaced_file_gets_its_whole_message(tmp_path, layout, message):
    root = tmp_path / "repo"
    env = make_monorepo(root, ["orders.ts"])
    for name, text in layout.items():
        (env.parent / name).write_text(text)
    assert problems_of(env) == [message.format(aws=display_path(env.parent), root=display_path(root))]


def test_examples_at_the_root_and_a_settings_file_at_the_root_are_not_misplaced(tmp_path):
    root = tmp_path / "repo"
    env = make_monorepo(root, ["orders.ts"])
    (root / ".env.workers.example").write_text("X=1\n")
    (root / "workers.toml.sample").write_text("")
    assert [w.name for w in workers_of(env)] == ["orders"]
    # Settings next to the monorepo root: the root is where the files belong, nothing is misplaced.
    flat = make_monorepo(tmp_path / "flat", ["orders.ts"], settings={"MONOREPO_ROOT": "../.."})
    (flat.parent / ".env.workers").write_text("LOG_LEVEL=info\n")
    assert workers_of(flat)[0].environment.variables == {"LOG_LEVEL": "info"}


@pytest.mark.parametrize("text, found", [
    ("APP_RUNNER_CONNECTION_ARN=x\n", True), ("  export APP_RUNNER_CONNECTION_ARN = x\n", True),
    ("# APP_RUNNER_CONNECTION_ARN=x\n", False), ("MY_APP_RUNNER_CONNECTION_ARN=x\n", False),
    ("DATABASE_URL=x\n", False), ("GITHUB_CONNECTION_ARN=x\n", False),  # not a misspelling: another service's
    ("APP_RUNNER_CONECTION_ARN=x\n", True),  # a misspelling: ours, so the typo is named
])
def test_a_settings_file_where_the_command_runs_is_one_that_sets_the_connection(tmp_path, text, found):
    from workers_scan.settings_files import is_settings_file

    (tmp_path / ".env").write_bytes(text.encode() + b"\xff")
    assert is_settings_file(tmp_path / ".env") is found
    assert is_settings_file(tmp_path / "absent.env") is False
    assert is_settings_file(tmp_path) is False   # a folder


def test_skipped_entries_say_why_each_entry_is_not_a_worker(tmp_path):
    from workers_scan.discovery import skipped_entries

    (tmp_path / "orders.spec.ts").write_text("")
    (tmp_path / "notes.md").write_text("")
    (tmp_path / "shared").mkdir()
    (tmp_path / "orders.ts").write_text("")
    target = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    target.mkdir()
    (tmp_path / "linked").symlink_to(target, target_is_directory=True)  # not followed: not a folder of the workers
    assert skipped_entries(tmp_path, include=("*.ts", "*.mts")) == [
        ("notes.md", "matches no WORKER_INCLUDE pattern (*.ts, *.mts)"),
        ("orders.spec.ts", "always excluded (*.spec.ts)"),
        ("shared/", "folder without main.ts (WORKER_FOLDER_ENTRY)")]
    # Without the default exclusions, a spec file is a worker like any other.
    assert skipped_entries(tmp_path, default_exclusions=False) == [
        ("notes.md", "matches no WORKER_INCLUDE pattern (*.ts)"),
        ("shared/", "folder without main.ts (WORKER_FOLDER_ENTRY)")]
