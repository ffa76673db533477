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
from command_line.local_run import (LOCAL_INFRASTRUCTURE, POSTGRES, REDIS, LocalRunError, Options, Store, build,
                                    copy_sources, worker_environment)
from command_line.local_stack import LocalPlatform, Worker, _routes, read_platform
from workers_scan.injected import INJECTED


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
    expected = sorted((path, w.name) for w in example_workers for path in (f"/{w.route}", f"/{w.route}/{{proxy+}}"))
    assert sorted((r.path, r.worker) for r in platform.routes) == expected
    assert {r.method for r in platform.routes} == {"ANY"}
    for route in platform.routes:
        assert route.uri.endswith("/{proxy}" if route.path.endswith("{proxy+}") else "/"), route


def test_the_worker_of_a_route_is_the_service_behind_its_host_on_either_backend(platforms, example_workers):
    by_name = {w.name: w for w in example_workers}
    for compute, platform in platforms.items():
        for route in platform.routes:
            worker = platform.workers[route.worker]
            assert worker.variables["WORKER_NAME"] == route.worker
            assert worker.service == by_name[route.worker].service_name
            assert worker.start_command == by_name[route.worker].start_command
    # App Runner's ingress domain is an apply-time value: the Host stands in for it; ECS's is the literal host.
    assert {r.host for r in platforms["apprunner"].routes} == {f"acme-dev-{w.name}.ingress.local"
                                                               for w in example_workers}
    assert {r.host for r in platforms["ecs"].routes} == {f"{w.name}.workers.internal" for w in example_workers}


def test_the_build_command_health_checks_and_dockerignore_come_from_the_stack(platforms, example_settings):
    for platform in platforms.values():
        assert platform.build_command == example_settings.build_command
    runner, ecs = platforms["apprunner"], platforms["ecs"]
    assert runner.workers["email-sender"].health_path == "/health" and runner.workers["orders"].health_path is None
    assert (ecs.workers["orders"].health_path, ecs.workers["orders"].health_codes) == ("/", (200, 499))
    assert ecs.dockerignore and not runner.dockerignore


def test_an_integration_to_a_host_no_worker_serves_is_refused():
    from command_line.local_stack import StackReadError

    stack = {"aws_api_gateway_resource": {"r": {"parent_id": "${aws_api_gateway_rest_api.a.root_resource_id}",
                                                "path_part": "x"}},
             "aws_api_gateway_method": {"m": {"http_method": "ANY"}},
             "aws_api_gateway_integration": {"i": {"type": "HTTP_PROXY", "resource_id": "${aws_api_gateway_resource.r.id}",
                                                   "http_method": "${aws_api_gateway_method.m.http_method}",
                                                   "uri": "http://nobody.internal/"}}}
    with pytest.raises(StackReadError, match="the integration of /x sends to nobody.internal, which no worker serves"):
        _routes(stack, {}, {})


# --- the stage ----------------------------------------------------------------------------------------------------

def serve(handler_routes, targets, exchange):
    """Run `exchange(client, seen)` against the stage in front of one upstream that records what it was sent."""
    async def main():
        seen = []

        async def upstream(request: web.Request):
            seen.append({"path": request.raw_path, "host": request.headers["Host"], "method": request.method,
                         "body": await request.text(), "forwarded": request.headers.get("X-Forwarded-For")})
            if request.path == "/slow":
                await asyncio.sleep(2)
            return web.json_response({"ok": True}, status=201, headers={"X-From": "worker"})

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
                       "forwarded": "127.0.0.1"}
    assert seen[1]["path"] == "/"


@pytest.mark.parametrize("method, path", [("GET", "/dev/nothing"), ("GET", "/prod/orders"), ("GET", "/orders"),
                                          ("GET", "/"), ("POST", "/dev/reports"), ("GET", "/dev")])
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

def test_local_points_only_declared_injected_variables_at_the_local_stores():
    assert set(LOCAL_INFRASTRUCTURE) <= {e.key for e in INJECTED}


def test_a_worker_gets_its_variables_the_local_stores_its_secrets_and_its_own_port(platforms, tmp_path):
    worker = platforms["apprunner"].workers["email-sender"]
    stores = {POSTGRES: Store(POSTGRES, "127.0.0.1", 5999, "app_admin", "pw", "app"),
              REDIS: Store(REDIS, "127.0.0.1", 6999)}
    notices = []
    env = worker_environment(worker, 4100, stores, {"SMTP_PASSWORD": "local-smtp"}, tmp_path, notices.append)
    assert (env["PORT"], env["DB_HOST"], env["DB_PORT"], env["REDIS_HOST"], env["REDIS_PORT"], env["REDIS_TLS"]) == \
        ("4100", "127.0.0.1", "5999", "127.0.0.1", "6999", "false")
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
                    {"PORT": "3000", "QUEUE_URL": "${aws_sqs_queue.jobs.url}"}, {}, None)
    with pytest.raises(LocalRunError, match="orders: QUEUE_URL hold values Terraform knows only at apply time"):
        worker_environment(worker, 4000, {}, {}, tmp_path, lambda *_: None)


# --- the clean copy and the build ---------------------------------------------------------------------------------

def test_the_clean_copy_is_what_git_would_commit_minus_the_images_dockerignore(tmp_path):
    root = tmp_path / "repo"
    for path, text in {"package.json": "{}", ".gitignore": "dist/\n.env\n", "apps/api/src/a.ts": "",
                       "apps/api/dist/a.js": "", ".env": "SECRET=1", "apps/api/.env.local": "X=1",
                       "node_modules/x/index.js": ""}.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "package.json", ".gitignore"], check=True)
    copied = lambda target: sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())  # noqa: E731
    copy_sources(root, tmp_path / "runner")
    assert copied(tmp_path / "runner") == [".gitignore", "apps/api/.env.local", "apps/api/src/a.ts", "package.json"]
    copy_sources(root, tmp_path / "ecs", dockerignore=".git\n**/node_modules\n**/.env\n**/.env.*\n")
    assert copied(tmp_path / "ecs") == [".gitignore", "apps/api/src/a.ts", "package.json"]


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
