"""`python main.py local`: the synthesized platform on this machine, as the cloud would run it.

- Build: BUILD_COMMAND in a clean copy of the monorepo (what git would commit: tracked and unignored files; on ECS
  without what the image's .dockerignore leaves out), under `/bin/sh -c` with no SHELL and a HOME of its own, as a
  Docker RUN step or a fresh build host runs it. `--no-build` reuses the last build.
- Data stores: a throwaway PostgreSQL and Redis when the stack has them and their binaries are installed (as an
  unprivileged user when run as root: PostgreSQL refuses root), or the addresses given with --postgres and --redis.
- Workers: each with the stack's start command and environment (local_stack.py reads both from cdk.tf.json), the
  infrastructure variables pointed at the local stores, secrets resolved as the platform resolves them (DB_SECRET
  as the JSON Secrets Manager holds; the team's own from a local secrets file), and a PORT of its own.
- The REST API: local_gateway.py serves the stack's routes on --port.
- Stop: Ctrl-C, SIGINT or SIGTERM stops everything it started (honcho stops the workers' process groups).
"""

from __future__ import annotations

import fnmatch
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from dotenv import dotenv_values
from honcho.manager import Manager
from honcho.printer import Printer

from workers_scan.errors import display_path
from workers_scan.injected import INJECTED

from .local_stack import REFERENCE, LocalPlatform, StackReadError, Worker, read_platform

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Never part of the clean copy: what a checkout does not have.
NOT_COPIED = {".git", "node_modules", ".turbo", "cdktf.out", ".local-run"}
# The build's environment: what a build host has, not the developer's shell (no SHELL: a Docker RUN step has none).
BUILD_PASSTHROUGH = ("PATH", "LANG", "LC_ALL", "TZ", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy",
                     "https_proxy", "no_proxy", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR")
HEALTH_TIMEOUT = 120         # seconds for every worker to pass its health check
LOCAL_SECRETS_FILE = "secrets.local.env"   # beside the settings file: KEY=value of the team's own secrets, local only
POSTGRES, REDIS = "PostgreSQL", "Redis"
# The injected variables local points at the local stores, by key (checked against workers_scan/injected.py).
LOCAL_INFRASTRUCTURE = ("DB_HOST", "DB_PORT", "DB_SECRET", "DB_SECRET_ARN", "REDIS_HOST", "REDIS_PORT", "REDIS_TLS",
                        "PORT")
assert set(LOCAL_INFRASTRUCTURE) <= {e.key for e in INJECTED}, "local_run.py points at an injected key that is gone"


class LocalRunError(RuntimeError):
    """A problem local reports in one message and stops on (exit 1)."""


@dataclass(frozen=True)
class Options:
    workdir: Path                 # builds, logs and the gateway's routes: kept between runs
    settings_dir: Path
    monorepo_root: Path
    build: bool = True
    port: int = 8080
    postgres: str | None = None   # postgresql://user:password@host:port/database
    redis: str | None = None      # host:port
    secrets_file: Path | None = None


    def write(self, stack_file: Path, quiet: bool) -> Path:
        """These options and the stack to run, for `python -m command_line.local_run REQUEST` (the run's process)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        request = self.workdir / "request.json"
        fields = {k: str(v) if isinstance(v, Path) else v for k, v in self.__dict__.items()}
        request.write_text(json.dumps({"stack_file": str(stack_file), "quiet": quiet, "options": fields}, indent=2))
        return request

    @classmethod
    def read(cls, request: Path) -> tuple[Options, Path, bool]:
        document = json.loads(request.read_text())
        paths = {"workdir", "settings_dir", "monorepo_root", "secrets_file"}
        options = cls(**{k: Path(v) if k in paths and v is not None else v for k, v in document["options"].items()})
        return options, Path(document["stack_file"]), document["quiet"]


@dataclass(frozen=True)
class Store:
    kind: str
    host: str
    port: int
    user: str = ""
    password: str = ""
    database: str = ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- build --------------------------------------------------------------------------------------------------------

def copy_sources(root: Path, target: Path, dockerignore: str = "") -> int:
    """A clean copy of the monorepo: what git would commit (tracked and unignored files) when it is a git work tree,
    else every file outside NOT_COPIED; minus the .dockerignore patterns an ECS image build applies."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True)
    if listed.returncode == 0:
        files = [Path(p) for p in listed.stdout.decode().split("\0") if p]
    else:
        files = [p.relative_to(root) for p in root.rglob("*") if p.is_file() or p.is_symlink()]
    ignored = [line.strip() for line in dockerignore.splitlines() if line.strip() and not line.startswith("#")]
    copied = 0
    for relative in files:
        if set(relative.parts) & NOT_COPIED or _ignored(relative.as_posix(), ignored):
            continue
        source = root / relative
        if not (source.is_file() or source.is_symlink()):
            continue   # listed by git but deleted in the work tree
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination, follow_symlinks=False)
        copied += 1
    return copied


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore matching, for the patterns our image build writes (`name`, `**/name`, `**/name.*`)."""
    for pattern in patterns:
        bare = pattern.removeprefix("**/")
        parts = path.split("/")
        if pattern.startswith("**/"):
            if any(fnmatch.fnmatchcase(part, bare) for part in parts):
                return True
        elif fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(parts[0], pattern):
            return True
    return False


def build_environment(home: Path) -> dict[str, str]:
    env = {key: os.environ[key] for key in BUILD_PASSTHROUGH if key in os.environ}
    env.update({key: value for key, value in os.environ.items() if key.lower().startswith("npm_config_")})
    user_npmrc = Path.home() / ".npmrc"
    if user_npmrc.is_file() and "NPM_CONFIG_USERCONFIG" not in env:
        env["NPM_CONFIG_USERCONFIG"] = str(user_npmrc)   # the registry and its credentials the developer set up
    env.update(HOME=str(home), CI="true", TURBO_TELEMETRY_DISABLED="1")
    return env


def build(platform: LocalPlatform, options: Options, say) -> Path:
    """The built copy of the monorepo; LocalRunError with the build's own last lines when the build fails."""
    source, home = options.workdir / "source", options.workdir / "home"
    marker = options.workdir / "built.json"
    if not options.build:
        if not marker.is_file() or json.loads(marker.read_text()).get("build_command") != platform.build_command:
            raise LocalRunError(f"--no-build: nothing built with this BUILD_COMMAND in {display_path(options.workdir)} "
                                "yet; run once without --no-build")
        say(f"build: reusing {display_path(source)} (--no-build)")
        return source
    marker.unlink(missing_ok=True)
    count = copy_sources(options.monorepo_root, source, platform.dockerignore)
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    say(f"build: {count} files of {display_path(options.monorepo_root)} copied to {display_path(source)}; running "
        f"BUILD_COMMAND under /bin/sh -c (HOME={display_path(home)}, no SHELL)")
    log_path = options.workdir / "build.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(["/bin/sh", "-c", platform.build_command], cwd=source,
                                   env=build_environment(home), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            for line in iter(process.stdout.readline, b""):
                log.write(line)
                say(f"build | {line.decode(errors='replace').rstrip()}")
            code = process.wait()
        except BaseException:
            _stop_group(process, signal.SIGTERM)
            raise
    if code != 0:
        last = log_path.read_text(errors="replace").splitlines()[-15:]
        needed = ", ".join(sorted(platform.workers))
        raise LocalRunError(f"the build failed (exit {code}); no worker was started ({needed} need it).\n"
                            f"BUILD_COMMAND: {platform.build_command}\nIts last lines ({display_path(log_path)}):\n"
                            + "\n".join(f"  {line}" for line in last))
    marker.write_text(json.dumps({"build_command": platform.build_command, "at": time.time()}))
    return source


# --- data stores --------------------------------------------------------------------------------------------------

def needed_stores(platform: LocalPlatform) -> set[str]:
    """The stores the workers' variables reference: DB_HOST or REDIS_HOST written by Terraform."""
    needed = set()
    for worker in platform.workers.values():
        if REFERENCE.search(worker.variables.get("DB_HOST", "")):
            needed.add(POSTGRES)
        if REFERENCE.search(worker.variables.get("REDIS_HOST", "")):
            needed.add(REDIS)
    return needed


def postgres_binaries() -> Path | None:
    found = shutil.which("pg_config")
    if found:
        folder = subprocess.run([found, "--bindir"], capture_output=True, text=True).stdout.strip()
        if folder and (Path(folder) / "initdb").is_file():
            return Path(folder)
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").is_file():
            return candidate
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _unprivileged() -> dict:
    """Popen's user/group for a process PostgreSQL lets run: itself when not root, else `postgres` or `nobody`."""
    if os.geteuid() != 0:
        return {}
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    raise LocalRunError("running as root, and neither a `postgres` nor a `nobody` user exists to run PostgreSQL as "
                        "(it refuses root): create one, or give --postgres")


@contextmanager
def throwaway_postgres(user: str, database: str, say):
    binaries = postgres_binaries()
    if binaries is None:
        raise LocalRunError("the stack has a database, and no PostgreSQL is installed here (no initdb found): install "
                            "PostgreSQL, or give --postgres postgresql://user:password@host:port/database")
    folder = Path(tempfile.mkdtemp(prefix="local-postgres-"))
    try:
        folder.chmod(0o755)   # the unprivileged user must reach its data folder
        data, sockets, password = folder / "data", folder / "sockets", secrets.token_urlsafe(24)
        account = _unprivileged()
        for path in (data, sockets):
            path.mkdir()
            if account:
                os.chown(path, account["user"], account["group"])
        pwfile = folder / "pwfile"
        pwfile.write_text(password)
        if account:
            os.chown(pwfile, account["user"], account["group"])
        pwfile.chmod(0o600)
        init = subprocess.run([str(binaries / "initdb"), "-D", str(data), "-U", user, f"--pwfile={pwfile}",
                               "--auth=scram-sha-256", "-E", "UTF8", "--no-sync"],
                              capture_output=True, text=True, **account)
        if init.returncode != 0:
            raise LocalRunError(f"initdb failed: {init.stderr.strip()[-800:]}")
        port = free_port()
        log = open(folder / "postgres.log", "wb")
        process = subprocess.Popen([str(binaries / "postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1",
                                    "-k", str(sockets), "-c", "fsync=off", "-c", "synchronous_commit=off",
                                    "-c", "full_page_writes=off"], stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True, **account)
        try:
            env = dict(os.environ, PGPASSWORD=password)
            deadline = time.monotonic() + 30
            while subprocess.run([str(binaries / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)]).returncode:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise LocalRunError(f"PostgreSQL did not start: {(folder / 'postgres.log').read_text()[-800:]}")
                time.sleep(0.2)
            if database != "postgres":
                created = subprocess.run([str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", user,
                                          database], capture_output=True, text=True, env=env)
                if created.returncode != 0:
                    raise LocalRunError(f"createdb {database} failed: {created.stderr.strip()}")
            version = subprocess.run([str(binaries / "postgres"), "--version"], capture_output=True, text=True)
            say(f"stores: started a throwaway {version.stdout.strip()} on 127.0.0.1:{port} (database {database}, "
                f"user {user}{', run as an unprivileged user' if account else ''}; deleted when local stops)")
            yield Store(POSTGRES, "127.0.0.1", port, user, password, database)
        finally:
            _stop_group(process, signal.SIGINT)   # PostgreSQL's fast shutdown
            log.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def throwaway_redis(say):
    binary = shutil.which("redis-server")
    if binary is None:
        raise LocalRunError("the stack has a cache, and redis-server is not installed here: install Redis (Debian: "
                            "apt-get install redis-server), or give --redis host:port")
    folder = Path(tempfile.mkdtemp(prefix="local-redis-"))
    port = free_port()
    log = open(folder / "redis.log", "wb")
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                "--dir", str(folder)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while not _redis_answers("127.0.0.1", port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise LocalRunError(f"redis-server did not start: {(folder / 'redis.log').read_text()[-800:]}")
            time.sleep(0.1)
        say(f"stores: started a throwaway Redis on 127.0.0.1:{port} (no TLS: REDIS_TLS=false here; deleted when "
            "local stops)")
        yield Store(REDIS, "127.0.0.1", port)
    finally:
        _stop_group(process, signal.SIGTERM)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


def _redis_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def given_postgres(url: str) -> Store:
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql") or not parts.hostname:
        raise LocalRunError(f"--postgres {url!r}: expected postgresql://user:password@host:port/database")
    return Store(POSTGRES, parts.hostname, parts.port or 5432, unquote(parts.username or ""),
                 unquote(parts.password or ""), parts.path.lstrip("/") or "postgres")


def given_redis(address: str) -> Store:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise LocalRunError(f"--redis {address!r}: expected host:port")
    return Store(REDIS, host, int(port))


def _stop_group(process: subprocess.Popen, first: signal.Signals) -> None:
    """Stop a process started in a session of its own, with everything it started; SIGKILL after 10 s."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, first)
        process.wait(timeout=10)
    except (ProcessLookupError, PermissionError):
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


# --- the workers' environment -------------------------------------------------------------------------------------

def local_secrets(path: Path | None) -> dict[str, str]:
    if path is None or not path.is_file():
        return {}
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def worker_environment(worker: Worker, port: int, stores: dict[str, Store], own_secrets: dict[str, str],
                       home: Path, notice) -> dict[str, str]:
    """What the platform gives `worker`, pointed at this machine: its variables, the stores' addresses, its secrets'
    values and its own PORT; a value Terraform knows at apply time only, and local cannot give, is an error."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": os.environ.get("LANG", "C.UTF-8")}
    env.update(worker.variables)
    database, cache = stores.get(POSTGRES), stores.get(REDIS)
    local = {"PORT": str(port)}
    if database:
        local.update(DB_HOST=database.host, DB_PORT=str(database.port),
                     DB_SECRET_ARN="arn:aws:secretsmanager:local:000000000000:secret:local-database")
    if cache:
        local.update(REDIS_HOST=cache.host, REDIS_PORT=str(cache.port), REDIS_TLS="false")
    env.update({k: v for k, v in local.items() if k in worker.variables})
    for key, reference in worker.secrets.items():
        if key == "DB_SECRET" and database:
            env[key] = json.dumps({"username": database.user, "password": database.password})
        elif key in own_secrets:
            env[key] = own_secrets[key]
        else:
            env[key] = f"local-placeholder-{key}"
            notice(f"{worker.name}: {key} is a secret by reference ({reference}); give its local value in the local "
                   f"secrets file (--secrets), the worker gets a placeholder")
    unresolved = sorted(k for k, v in env.items() if REFERENCE.search(v))
    if unresolved:
        raise LocalRunError(f"{worker.name}: {', '.join(unresolved)} hold values Terraform knows only at apply time "
                            "and local cannot give")
    return env


# --- run ----------------------------------------------------------------------------------------------------------

def healthy(worker: Worker, port: int) -> tuple[bool, str]:
    if worker.health_path is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True, f"TCP {port}"
        except OSError as error:
            return False, str(error)
    url = f"http://127.0.0.1:{port}{worker.health_path}"
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            status = answer.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError as error:
        return False, str(error)
    low, high = worker.health_codes
    return low <= status <= high, f"GET {worker.health_path} {status}"


def watch_health(platform: LocalPlatform, ports: dict[str, int], gateway_port: int, say, stopped: threading.Event):
    """Print the table of local URLs once every worker passes its health check; say which did not in time."""
    deadline = time.monotonic() + HEALTH_TIMEOUT
    last: dict[str, str] = {}
    pending = set(platform.workers)
    while pending and not stopped.wait(0.5):
        for name in sorted(pending):
            ok, last[name] = healthy(platform.workers[name], ports[name])
            if ok:
                pending.discard(name)
        if pending and time.monotonic() > deadline:
            say("local: not healthy after {} s: {}".format(
                HEALTH_TIMEOUT, "; ".join(f"{n} ({last[n]})" for n in sorted(pending))))
            return
    if stopped.is_set():
        return
    base = f"http://127.0.0.1:{gateway_port}/{platform.stage}"
    rows = [("worker", "through the API", "the worker itself", "health")]
    for name in sorted(platform.workers):
        route = next((r.path for r in platform.routes if r.worker == name and "{" not in r.path), "(no route)")
        rows.append((name, f"{base}{route}", f"http://127.0.0.1:{ports[name]}", last[name]))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    say("\nlocal: every worker is healthy (Ctrl-C stops everything)\n" + "\n".join(lines) + "\n")


def run_local(platform: LocalPlatform, options: Options, say, notice) -> int:
    """Build, start the stores, the workers and the REST API; block until stopped. 0 on a stop asked for, 1 when a
    worker stopped by itself (everything else is stopped too)."""
    options.workdir.mkdir(parents=True, exist_ok=True)
    stop_signal = {"received": None}

    def interrupt(signum, frame):
        stop_signal["received"] = signum
        raise KeyboardInterrupt

    previous = {s: signal.signal(s, interrupt) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with ExitStack() as resources:
            for auth in sorted({r.authorization for r in platform.routes} - {"NONE"}):
                notice(f"the stage's methods require {auth} authorization on AWS; local serves them unsigned")
            node = shutil.which("node")
            version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip() if node else ""
            if not version.startswith("v22."):
                notice(f"the workers run on Node.js {version or '(none found)'} here, on Node.js 22 on AWS")
            source = build(platform, options, say)
            stores: dict[str, Store] = {}
            needed = needed_stores(platform)
            first = next(iter(platform.workers.values()))
            if POSTGRES in needed:
                stores[POSTGRES] = given_postgres(options.postgres) if options.postgres else resources.enter_context(
                    throwaway_postgres(first.variables.get("DB_USER", "postgres"),
                                       first.variables.get("DB_NAME", "postgres"), say))
                if options.postgres:
                    say(f"stores: PostgreSQL at {stores[POSTGRES].host}:{stores[POSTGRES].port} (--postgres)")
            if REDIS in needed:
                stores[REDIS] = given_redis(options.redis) if options.redis else resources.enter_context(
                    throwaway_redis(say))
                if options.redis:
                    say(f"stores: Redis at {options.redis} (--redis)")
            own = local_secrets(options.secrets_file)
            ports = {name: free_port() for name in sorted(platform.workers)}
            home = options.workdir / "home"
            home.mkdir(exist_ok=True)
            printer = FirstStopPrinter(sys.stdout)
            manager = Manager(printer=printer)
            for name, worker in sorted(platform.workers.items()):
                env = worker_environment(worker, ports[name], stores, own, home, notice)
                manager.add_process(name, worker.start_command, env=env, cwd=str(source))
            config = options.workdir / "gateway.json"
            config.write_text(json.dumps({"stage": platform.stage, "port": options.port, "targets": [
                {"path": r.path, "method": r.method, "worker": r.worker, "port": ports[r.worker],
                 "uri_path": "/" + r.uri.split("://", 1)[1].split("/", 1)[1], "host": r.host,
                 "timeout_ms": r.timeout_ms} for r in platform.routes]}, indent=2))
            manager.add_process("gateway", f"{sys.executable} -m command_line.local_gateway {config}",
                                env=dict(os.environ, PYTHONUNBUFFERED="1"), cwd=str(PROJECT_ROOT))
            stopped = threading.Event()
            watcher = threading.Thread(target=watch_health, daemon=True,
                                       args=(platform, ports, options.port, say, stopped))
            watcher.start()   # honcho's loop installs its own SIGINT and SIGTERM handlers: they stop every process
            try:
                manager.loop()
            finally:
                stopped.set()
            if manager.returncode in (130, 143) or printer.first_stop is None:
                say("local: stopped; every process it started has ended")
                return 0
            name, code = printer.first_stop
            say(f"local: {name} stopped by itself (exit {code}), so everything was stopped; its output is above")
            return 1
    except KeyboardInterrupt:
        say("local: stopped before the workers started; every process it started has ended")
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class FirstStopPrinter(Printer):
    """honcho's printer, noting which process stopped first (honcho prints `<name> stopped (rc=N)`)."""

    STOPPED = re.compile(r"^(\S+) stopped \(rc=(-?\d+)\)")
    first_stop: tuple[str, int] | None = None

    def write(self, message):
        if self.first_stop is None and message.name == "system" and isinstance(message.data, str):
            found = self.STOPPED.match(message.data)
            if found:
                self.first_stop = (found.group(1), int(found.group(2)))
        super().write(message)


def main(argv: list[str]) -> int:
    """The run `python main.py local` hands over to (command_line/cli.py): REQUEST is the options file it wrote."""
    options, stack_file, quiet = Options.read(Path(argv[0]))
    say = (lambda *_: None) if quiet else (lambda text: print(text, flush=True))

    def notice(text: str) -> None:
        if not quiet:
            print(text, file=sys.stderr, flush=True)

    try:
        return run_local(read_platform(stack_file), options, say, notice)
    except (LocalRunError, StackReadError) as error:
        print(f"local: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
