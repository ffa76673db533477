"""`python main.py local`, its parts without a build: what it reads from the synthesized JSON, the stage it serves,
the environment it gives the workers, the clean copy and a failed build (tests/test_local_e2e.py runs it whole)."""

from __future__ import annotations

import asyncio
import json
import subprocess

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from command_line.local_gateway import Target, application
from command_line.local_run import POSTGRES, REDIS, LocalManager, LocalRunError, Options, Store, build, copy_sources, \
    worker_environment
from command_line.local_stack import LocalPlatform, StackReadError, Worker, read_platform


@pytest.fixture(scope="module")
def platforms(tmp_path_factory, example_stack, ecs_example_stack) -> dict[str, LocalPlatform]:
    found = {}
    for name, stack in (("apprunner", example_stack), ("ecs", ecs_example_stack)):
        path = tmp_path_factory.mktemp(name) / "acme-dev" / "cdk.tf.json"
        path.parent.mkdir()
        path.write_text(json.dumps(stack))
        found[name] = read_platform(path)
    return found


@pytest.mark.parametrize("compute", ["apprunner", "ecs"])
def test_every_worker_gets_its_route_and_proxy_route_from_the_json(platforms, example_workers, compute):
    platform = platforms[compute]
    assert platform.compute == compute and platform.stage == "dev"
    expected = sorted((path, w.name) for w in example_workers if not w.private
                      for path in (f"/{w.route}", f"/{w.route}/{{proxy+}}"))
    assert sorted((r.path, r.worker) for r in platform.routes) == expected
    # A private worker has no route, and is still one of the workers `local` starts.
    assert sorted(platform.workers) == sorted(w.name for w in example_workers)
    assert {r.method for r in platform.routes} == {"ANY"}
    for route in platform.routes:
        assert route.uri_path == ("/{proxy}" if route.path.endswith("{proxy+}") else "/"), route


def test_the_worker_of_a_route_is_the_service_behind_its_host_on_either_backend(platforms, example_workers):
    by_name = {w.name: w for w in example_workers}
    for compute, platform in platforms.items():
        for route in platform.routes:
            worker = platform.workers[route.worker]
            assert worker.variables["WORKER_NAME"] == route.worker
            assert worker.service == by_name[route.worker].service_name
            assert worker.start_command == by_name[route.worker].start_command
    # App Runner's ingress domain is an apply-time value: the Host stands in for it; ECS's is the literal host.
    routed = [w for w in example_workers if not w.private]
    assert {r.host for r in platforms["apprunner"].routes} == {f"acme-dev-{w.name}.ingress.local" for w in routed}
    assert {r.host for r in platforms["ecs"].routes} == {f"{w.name}.workers.internal" for w in routed}


def test_the_build_command_health_checks_and_dockerignore_come_from_the_stack(platforms, example_settings,
                                                                              example_workers):
    from workers_scan.workers import stack_build_command

    for platform in platforms.values():
        assert platform.build_command == stack_build_command(example_settings, example_workers)
    runner, ecs = platforms["apprunner"], platforms["ecs"]
    assert runner.workers["email-sender"].health_path == "/health" and runner.workers["orders"].health_path is None
    assert (ecs.workers["orders"].health_path, ecs.workers["orders"].health_codes) == ("/", (200, 499))
    assert ecs.dockerignore and not runner.dockerignore


def test_an_integration_to_a_host_no_worker_serves_is_refused_naming_the_stack_file(tmp_path, example_stack):
    stack = json.loads(json.dumps(example_stack))
    integration = next(iter(stack["resource"]["aws_api_gateway_integration"].values()))
    integration["uri"] = "http://nobody.internal/"
    path = tmp_path / "acme-dev" / "cdk.tf.json"
    path.parent.mkdir()
    path.write_text(json.dumps(stack))
    with pytest.raises(StackReadError, match=f"^{path}: the integration of /billing sends to nobody.internal, which "
                                             "no worker serves$"):
        read_platform(path)
    del stack["resource"]["aws_api_gateway_stage"]
    stack["resource"]["aws_apprunner_service"][next(iter(stack["resource"]["aws_apprunner_service"]))].pop(
        "source_configuration")
    path.write_text(json.dumps(stack))
    with pytest.raises(StackReadError, match=f"^{path}: not the shape this app synthesizes \\(KeyError"):
        read_platform(path)


def test_commands_and_values_are_read_as_terraform_hands_them_to_aws(tmp_path, example_stack, ecs_example_stack):
    """terraform_literal() escaped `${` as `$${` in the JSON; a shell must see `${HOME}` again. An ECS command in
    exec form is joined with its quoting."""
    from constructs_lib.terraform_text import terraform_literal

    runner = json.loads(json.dumps(example_stack))
    [service] = [s for s in runner["resource"]["aws_apprunner_service"].values()
                 if s["service_name"] == "acme-dev-orders"]
    values = service["source_configuration"]["code_repository"]["code_configuration"]["code_configuration_values"]
    values["start_command"] = terraform_literal('cd "${HOME}" && node dist/workers/orders.js')
    values["runtime_environment_variables"]["GREETING"] = terraform_literal("hello ${USER}")
    path = tmp_path / "runner" / "cdk.tf.json"
    path.parent.mkdir()
    path.write_text(json.dumps(runner))
    orders = read_platform(path).workers["orders"]
    assert orders.start_command == 'cd "${HOME}" && node dist/workers/orders.js'
    assert orders.variables["GREETING"] == "hello ${USER}" and "GREETING" not in orders.references
    assert {"DB_HOST", "REDIS_HOST", "DB_SECRET_ARN"} <= orders.references
    ecs = json.loads(json.dumps(ecs_example_stack))
    [task] = [t for t in ecs["resource"]["aws_ecs_task_definition"].values() if t["family"] == "acme-dev-orders"]
    [container] = json.loads(task["container_definitions"])
    container["command"] = ["bash", "-c", "node dist/a.js && echo done"]
    task["container_definitions"] = json.dumps([container])
    path = tmp_path / "ecs" / "cdk.tf.json"
    path.parent.mkdir()
    path.write_text(json.dumps(ecs))
    assert read_platform(path).workers["orders"].start_command == "bash -c 'node dist/a.js && echo done'"


# --- the stage ----------------------------------------------------------------------------------------------------

def serve(handler_routes, targets, exchange):
    """Run `exchange(client, seen)` against the stage in front of one upstream that records what it was sent."""
    async def main():
        seen = []

        async def upstream(request: web.Request):
            seen.append({"path": request.raw_path, "host": request.headers["Host"], "method": request.method,
                         "body": await request.text(), "forwarded": request.headers.get("X-Forwarded-For"),
                         "accept": request.headers.getall("Accept", []),
                         "hop": [h for h in ("Keep-Alive", "X-Private", "Content-Length") if h in request.headers]})
            if request.path == "/slow":
                await asyncio.sleep(2)
            answer = web.json_response({"ok": True}, status=201, headers={"X-From": "worker"})
            answer.headers.add("Set-Cookie", "a=1")
            answer.headers.add("Set-Cookie", "b=2")
            return answer

        worker = web.Application()
        worker.router.add_route("*", "/{tail:.*}", upstream)
        async with TestServer(worker) as upstream_server:
            live = [Target(**{**t, "port": upstream_server.port if t["port"] == "UP" else t["port"]}) for t in targets]
            async with TestClient(TestServer(application("dev", live, log=lambda *_: None))) as client:
                return await exchange(client, seen)

    return asyncio.run(main())


TARGETS = [dict(path="/orders", method="ANY", worker="orders", port="UP", uri_path="/", host="orders.internal",
                timeout_ms=1000),
           dict(path="/orders/{proxy+}", method="ANY", worker="orders", port="UP", uri_path="/{proxy}",
                host="orders.internal", timeout_ms=1000),
           dict(path="/reports", method="GET", worker="reports", port="UP", uri_path="/", host="reports.internal",
                timeout_ms=1000)]


def test_the_stage_strips_the_route_prefix_and_sets_the_integration_host():
    async def exchange(client, seen):
        answer = await client.post("/dev/orders/items/1?x=1&y=a%26b", data="payload", headers={"Host": "api.example"})
        root = await client.get("/dev/orders")
        return answer.status, answer.headers.get("X-From"), await answer.json(), root.status, seen

    status, header, body, root_status, seen = serve(None, TARGETS, exchange)
    assert (status, header, body, root_status) == (201, "worker", {"ok": True}, 201)
    assert seen[0] == {"path": "/items/1?x=1&y=a%26b", "host": "orders.internal", "method": "POST", "body": "payload",
                       "forwarded": "127.0.0.1", "accept": ["*/*"], "hop": ["Content-Length"]}
    assert seen[1]["path"] == "/" and seen[1]["hop"] == []   # a GET without a body gets no Content-Length


def test_repeated_headers_pass_both_ways_and_hop_by_hop_ones_do_not():
    async def exchange(client, seen):
        answer = await client.get("/dev/orders/a/b/", headers=[("Accept", "text/html"), ("Accept", "application/json"),
                                                               ("Connection", "keep-alive, X-Private"),
                                                               ("Keep-Alive", "timeout=5"), ("X-Private", "1")])
        return answer.headers.getall("Set-Cookie"), seen

    cookies, seen = serve(None, TARGETS, exchange)
    assert cookies == ["a=1", "b=2"]
    assert seen[0]["accept"] == ["text/html", "application/json"] and seen[0]["hop"] == []
    assert seen[0]["path"] == "/a/b/"   # the proxy value keeps its trailing slash


@pytest.mark.parametrize("method, path", [("GET", "/dev/nothing"), ("GET", "/prod/orders"), ("GET", "/orders"),
                                          ("GET", "/"), ("POST", "/dev/reports"), ("GET", "/dev"),
                                          ("GET", "/devx/orders")])
def test_what_no_resource_and_method_match_gets_the_stages_403(method, path):
    async def exchange(client, seen):
        answer = await client.request(method, path)
        return answer.status, await answer.json(), seen

    status, body, seen = serve(None, TARGETS, exchange)
    assert (status, body, seen) == (403, {"message": "Missing Authentication Token"}, [])


def test_a_slow_worker_is_a_504_and_an_unreachable_one_a_500():
    targets = [*TARGETS, dict(path="/gone", method="ANY", worker="gone", port=1, uri_path="/", host="g",
                              timeout_ms=1000)]

    async def exchange(client, seen):
        slow, gone = await client.get("/dev/orders/slow"), await client.get("/dev/gone")
        return (slow.status, await slow.json()), (gone.status, await gone.json())

    assert serve(None, targets, exchange) == ((504, {"message": "Endpoint request timed out"}),
                                              (500, {"message": "Internal server error"}))


# --- the workers' environment -------------------------------------------------------------------------------------

def test_a_worker_gets_its_variables_the_local_stores_its_secrets_and_its_own_port(platforms, tmp_path):
    worker = platforms["apprunner"].workers["email-sender"]
    stores = {POSTGRES: Store(POSTGRES, "127.0.0.1", 5999, "app_admin", "pw", "app"),
              REDIS: Store(REDIS, "127.0.0.1", 6999)}
    notices = []
    env = worker_environment(worker, 4100, stores, {"SMTP_PASSWORD": "local-smtp"}, tmp_path, notices.append)
    assert (env["PORT"], env["DB_HOST"], env["DB_PORT"], env["REDIS_HOST"], env["REDIS_PORT"], env["REDIS_TLS"]) == \
        ("4100", "127.0.0.1", "5999", "127.0.0.1", "6999", "false")
    assert (env["DB_NAME"], env["DB_USER"]) == ("app", "app_admin")   # the local store's, e.g. from --postgres
    assert json.loads(env["DB_SECRET"]) == {"username": "app_admin", "password": "pw"}
    assert (env["LOG_LEVEL"], env["SMTP_HOST"], env["SMTP_PASSWORD"]) == \
        ("debug", "email-smtp.eu-west-1.amazonaws.com", "local-smtp")
    assert env["STRIPE_API_KEY"] == "local-placeholder-STRIPE_API_KEY"
    assert notices == ["email-sender: STRIPE_API_KEY is a secret by reference (arn:aws:secretsmanager:eu-west-1:"
                       "123456789012:secret:acme/dev/stripe-AbCdEf); give its local value in the local secrets file "
                       "(--secrets), the worker gets a placeholder"]
    assert not [k for k, v in env.items() if "${" in v]


def test_an_apply_time_value_local_cannot_give_is_refused_naming_the_worker_and_key(tmp_path):
    worker = Worker("orders", "acme-dev-orders", "node x", 3000,
                    {"PORT": "3000", "QUEUE_URL": "${aws_sqs_queue.jobs.url}"}, {}, None, references=frozenset({"QUEUE_URL"}))
    with pytest.raises(LocalRunError, match="orders: QUEUE_URL hold values Terraform knows only at apply time"):
        worker_environment(worker, 4000, {}, {}, tmp_path, lambda *_: None)


def test_a_caller_gets_each_callees_local_address_in_place_of_its_apply_time_domain(tmp_path):
    domain = "https://${aws_apprunner_vpc_ingress_connection.worker-billing_ingress_1A2B3C4D.domain_name}"
    worker = Worker("orders", "acme-dev-orders", "node x", 3000, {"PORT": "3000", "WORKER_BILLING_URL": domain}, {},
                    None, references=frozenset({"WORKER_BILLING_URL"}))
    env = worker_environment(worker, 4000, {}, {}, tmp_path, lambda *_: None, {"orders": 4000, "billing": 4001})
    assert env["WORKER_BILLING_URL"] == "http://127.0.0.1:4001"
    assert "WORKER_ORDERS_URL" not in env   # only the addresses the stack gives it


# --- the clean copy and the build ---------------------------------------------------------------------------------

def test_the_clean_copy_is_what_git_tracks_minus_the_images_dockerignore(tmp_path):
    root = tmp_path / "repo"
    for path, text in {"package.json": "{}", ".gitignore": "dist/\n.env\n", "apps/api/src/a.ts": "",
                       "apps/api/src/new.ts": "", "apps/api/dist/a.js": "", ".env": "SECRET=1",
                       "apps/api/.env.local": "X=1", "node_modules/x/index.js": ""}.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "package.json", ".gitignore", "apps/api/src/a.ts",
                    "apps/api/.env.local"], check=True)
    copied = lambda target: sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())  # noqa: E731
    assert copy_sources(root, tmp_path / "runner") == (4, ["apps/api/src/new.ts"])   # what a commit would leave out
    assert copied(tmp_path / "runner") == [".gitignore", "apps/api/.env.local", "apps/api/src/a.ts", "package.json"]
    copy_sources(root, tmp_path / "ecs", dockerignore=".git\n**/node_modules\n**/.env\n**/.env.*\n")
    assert copied(tmp_path / "ecs") == [".gitignore", "apps/api/src/a.ts", "package.json"]
    plain = tmp_path / "plain"
    (plain / "node_modules" / "x").mkdir(parents=True)
    (plain / "node_modules" / "x" / "index.js").write_text("")
    (plain / "package.json").write_text("{}")
    assert copy_sources(plain, tmp_path / "plain-copy") == (1, [])   # not git: everything but node_modules


def test_a_failed_build_stops_with_its_own_last_lines_and_the_workers_that_needed_it(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "package.json").write_text("{}")
    platform = LocalPlatform("acme-dev", "apprunner", "dev", "echo compiling; echo 'TS2307: no module' >&2; exit 3",
                             {"orders": None, "billing": None}, ())
    options = Options(workdir=tmp_path / "work", settings_dir=root, monorepo_root=root)
    with pytest.raises(LocalRunError) as failed:
        build(platform, options, lambda *_: None)
    message = str(failed.value)
    assert message.startswith("the build failed (exit 3); no worker was started (billing, orders need it).")
    assert message.endswith("  compiling\n  TS2307: no module")
    with pytest.raises(LocalRunError, match="--no-build: nothing built with this BUILD_COMMAND"):
        build(platform, Options(**{**options.__dict__, "build": False}), lambda *_: None)


def test_the_build_runs_under_sh_with_a_home_of_its_own_and_no_shell(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "package.json").write_text("{}")
    monkeypatch.setenv("SHELL", "/bin/zsh")
    monkeypatch.setenv("npm_config_cache", "/tmp/npm-cache")
    command = 'echo "shell=${SHELL:-none} home=$HOME ci=$CI cache=$npm_config_cache" > seen.txt'
    platform = LocalPlatform("acme-dev", "apprunner", "dev", command, {}, ())
    options = Options(workdir=tmp_path / "work", settings_dir=root, monorepo_root=root)
    source = build(platform, options, lambda *_: None)
    assert (source / "seen.txt").read_text() == \
        f"shell=none home={tmp_path / 'work' / 'home'} ci=true cache=/tmp/npm-cache\n"
    again = build(platform, Options(**{**options.__dict__, "build": False}), lambda *_: None)
    assert (again / "seen.txt").is_file()   # --no-build keeps the last build


def test_a_stop_asked_for_while_a_process_still_starts_stops_it_once_it_has_started():
    """honcho's own _killall reads the pid of a process not yet reported started (KeyError, the process left
    running): LocalManager stops it when its start is reported, and tells a signal from a worker's own exit."""
    manager = LocalManager()
    started = []
    manager._procmgr.terminate = started.append
    manager.add_process("orders", "true")
    manager.add_process("billing", "true")
    manager._processes["billing"]["pid"] = 41
    manager._system_print("SIGTERM received\n")
    manager.terminate()
    assert started == [41]                        # billing at once, orders not yet started
    manager._processes["orders"]["pid"] = 42
    manager._system_print("orders started (pid=42)\n")
    assert started == [41, 42] and manager.signalled
    manager._system_print("billing stopped (rc=-15)\n")
    assert manager.first_stop == ("billing", -15)
