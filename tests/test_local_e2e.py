"""End to end: `python main.py local` builds the example with the default BUILD_COMMAND, starts PostgreSQL, Redis,
the three workers and the REST stage, and real HTTP requests go through every route (tests/node_toolchain.py says
which one build step is swapped for an offline equivalent, and why)."""

from __future__ import annotations

import json
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from workers_scan.settings import EXAMPLE_ECS_SETTINGS, EXAMPLE_SETTINGS, PROJECT_ROOT

from .node_toolchain import build_environment
from .terraform import unavailable

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

HEALTHY = "every worker is healthy"
STOPPED = "local: stopped; every process it started has ended"
STRIPE_TEST_KEY = "sk_test_local_only_not_a_real_key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, pending = set(), [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.add(child)
            pending.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@dataclass
class Local:
    process: subprocess.Popen
    port: int
    lines: list[str]
    worker_ports: dict[str, int]
    reader: threading.Thread

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self, sig=signal.SIGTERM, timeout: float = 60) -> int:
        self.process.send_signal(sig)   # to its own process alone, not its group
        code = self.process.wait(timeout=timeout)
        self.reader.join(timeout=10)    # every line it printed is in .lines
        return code


def start_local(args: list[str], env: dict[str, str], wait_for: str = HEALTHY, timeout: float = 600) -> Local:
    """`python main.py local ARGS`; returns once `wait_for` is printed (the output is kept in .lines)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "main.py", "local", "--port", str(port), *args], cwd=PROJECT_ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    arrived: queue.Queue = queue.Queue()

    def read():
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            arrived.put(line)
        arrived.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    while True:
        try:
            line = arrived.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            process.kill()
            pytest.fail(f"local printed no {wait_for!r} in {timeout} s:\n" + "\n".join(lines[-60:]))
        if line is None:
            process.wait()
            reader.join(timeout=10)
            return Local(process, port, lines, {}, reader)
        if wait_for in line:
            break
    time.sleep(0.5)   # the rest of the table
    ports = {m.group(1): int(m.group(2)) for m in
             (re.match(r"^(\S+)\s+(?:http://127\.0\.0\.1:\d+/\S+|\(no route\))\s+http://127\.0\.0\.1:(\d+)", l)
              for l in lines) if m}
    return Local(process, port, lines, ports, reader)


def get(url: str, method: str = "GET", body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json"} if body else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def toolchain(tmp_path_factory):
    for binary in ("redis-server",):
        if not shutil.which(binary):
            unavailable(f"{binary} is not installed (Debian: apt-get install redis-server)")
    return build_environment()


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("local") / "cdktf.out"


@pytest.fixture(scope="module")
def secrets_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("secrets") / "secrets.local.env"
    path.write_text(f"STRIPE_API_KEY={STRIPE_TEST_KEY}\n")
    return path


@pytest.fixture(scope="module")
def running(toolchain, out, secrets_file):
    local = start_local(["--env-file", str(EXAMPLE_SETTINGS), "--out", str(out), "--secrets", str(secrets_file)],
                        toolchain)
    if local.process.poll() is not None:
        pytest.fail("local stopped before every worker was healthy:\n" + "\n".join(local.lines[-80:]))
    yield local
    if local.process.poll() is None:
        local.stop()


def test_the_default_build_command_built_the_example_with_turbo_and_pnpms_installer(running):
    output = "\n".join(running.lines)
    assert "running BUILD_COMMAND under /bin/sh -c" in output
    assert "Copying pnpm CLI from" in output                       # pnpm setup, given its SHELL by the command
    assert "turbo run build \"--filter\" \"@monorepo/api\"" in output and "Tasks:    1 successful" in output
    assert re.search(r"stores: started a throwaway postgres \(PostgreSQL\) \d+", output)
    assert "stores: started a throwaway Redis" in output


def test_each_worker_answers_on_its_route_with_the_route_prefix_stripped(running):
    status, item = get(running.url("/dev/orders/items/41?verbose=1"))
    assert status == 200
    assert (item["worker"], item["path"], item["host"], item["item"]["id"]) == \
        ("orders", "/items/41?verbose=1", "acme-dev-orders.ingress.local", 41)
    status, invoices = get(running.url("/dev/billing/invoices"))
    assert (status, invoices["worker"], invoices["greeting"]) == (200, "billing", "Hello")   # i18n copied by the build
    status, queued = get(running.url("/dev/email-sender/send"), "POST", {"to": "someone@example.com"})
    assert (status, queued["worker"], queued["queued"]) == (201, "email-sender", 1)


def test_the_database_and_the_cache_are_reached_through_the_injected_variables(running):
    assert get(running.url("/dev/orders/health")) == \
        (200, {"status": "ok", "worker": "orders", "logLevel": "info", "database": "up"})
    status, health = get(running.url("/dev/email-sender/health"))
    assert (status, health["status"], health["cache"]) == (200, "ok", "up")


def test_env_workers_values_and_secrets_reach_the_workers(running):
    _, email = get(running.url("/dev/email-sender/health"))
    assert email["logLevel"] == "debug"                  # .env.workers.email-sender overrides .env.workers' info
    assert email["smtp"] == {"host": "email-smtp.eu-west-1.amazonaws.com", "passwordSet": True}
    _, invoices = get(running.url("/dev/billing/invoices"))
    assert (invoices["logLevel"], invoices["stripeKeySet"]) == ("info", True)   # the secret from --secrets


def test_the_private_consumer_has_no_route_and_pops_what_email_sender_queues(running):
    assert get(running.url("/dev/email-outbox/health")) == (403, {"message": "Missing Authentication Token"})
    outbox = f"http://127.0.0.1:{running.worker_ports['email-outbox']}/health"   # its own port, as local serves it
    message = {"to": "outbox@example.com", "subject": "consumed"}
    assert get(running.url("/dev/email-sender/send"), "POST", message)[0] == 201
    deadline = time.monotonic() + 30
    while (health := get(outbox))[1].get("last") != message:
        assert time.monotonic() < deadline, f"email-outbox never popped the message: {health}"
        time.sleep(0.5)
    status, body = health
    assert (status, body["worker"], body["cache"]) == (200, "email-outbox", "up") and body["consumed"] >= 1


def test_a_path_no_resource_matches_gets_the_stages_403(running):
    for path in ("/dev/unknown", "/dev", "/prod/orders/items/1", "/orders/items/1"):
        assert get(running.url(path)) == (403, {"message": "Missing Authentication Token"}), path


def test_a_sigterm_to_local_alone_stops_everything_it_started(running):
    below = descendants(running.process.pid)
    ports = [running.port, *running.worker_ports.values()]
    assert len(running.worker_ports) == 4 and all(listening(p) for p in ports)
    assert running.stop(signal.SIGTERM) == 0
    assert STOPPED in running.lines[-1]
    time.sleep(1)
    assert [p for p in below if alive(p)] == []
    assert [p for p in ports if listening(p)] == []


def test_the_ecs_stack_runs_from_the_same_build(toolchain, out, running, secrets_file):
    if running.process.poll() is None:
        running.stop()
    local = start_local(["--env-file", str(EXAMPLE_ECS_SETTINGS), "--out", str(out), "--no-build",
                         "--secrets", str(secrets_file)], toolchain)
    try:
        assert any("build: reusing" in line for line in local.lines)
        status, item = get(local.url("/dev/orders/items/2"))
        assert (status, item["path"], item["host"]) == (200, "/items/2", "orders.workers.internal")
    finally:
        assert local.stop(signal.SIGINT) == 0


def test_a_second_worker_folder_is_built_and_started_from_its_own_package(toolchain, out, running, secrets_file):
    """WORKERS_DIR with the example's second package (docs/worker-folders.md): one build of both packages, each
    worker started by its own package's script, every route served by the one stage."""
    if running.process.poll() is None:
        running.stop()
    env = {**toolchain, "WORKERS_DIR": "apps/api/src/workers,apps/jobs/src/workers"}
    local = start_local(["--env-file", str(EXAMPLE_SETTINGS), "--out", str(out), "--secrets", str(secrets_file)], env)
    try:
        output = "\n".join(local.lines)
        assert "turbo run build \"--filter\" \"@monorepo/api\" \"--filter\" \"@monorepo/jobs\"" in output, output[-3000:]
        assert sorted(local.worker_ports) == ["billing", "email-outbox", "email-sender", "orders", "scheduler"]
        status, answer = get(local.url("/dev/scheduler"))
        assert (status, answer["worker"], answer["package"]) == (200, "scheduler", "@monorepo/jobs")
        status, item = get(local.url("/dev/orders/items/3"))
        assert (status, item["worker"], item["item"]["id"]) == (200, "orders", 3)
    finally:
        assert local.stop(signal.SIGINT) == 0


def test_a_broken_build_stops_with_the_builds_own_error_and_the_workers_that_needed_it(toolchain, tmp_path):
    monorepo = tmp_path / "monorepo"
    shutil.copytree(EXAMPLE_SETTINGS.parents[2], monorepo, ignore=shutil.ignore_patterns("node_modules", "dist"))
    module = monorepo / "apps" / "api" / "src" / "orders" / "orders.module.ts"
    module.write_text(module.read_text().replace("'./database'", "'./databse'"))
    local = start_local(["--env-file", str(monorepo / "infra" / "aws" / ".env.example"), "--out",
                         str(tmp_path / "cdktf.out")], toolchain, wait_for="never printed", timeout=600)
    output = "\n".join(local.lines)
    assert local.process.returncode == 1, output[-3000:]
    assert ("local: the build failed (exit 1); no worker was started (billing, email-outbox, email-sender, orders "
            "need it).") in output
    assert "Cannot find module './databse'" in output
    assert not any(line.startswith(("stores:", "local: every")) for line in local.lines)
