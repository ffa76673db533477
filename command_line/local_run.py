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
import inspect
import json
import os
import pwd
import re
import secrets
import shlex
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
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlsplit

from dotenv import dotenv_values
from honcho.manager import Manager

from workers_scan.calls import call_url_key
from workers_scan.errors import display_path
from workers_scan.injected import INJECTED

from .local_stack import LocalPlatform, StackReadError, Worker, read_platform

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
LOCAL_INFRASTRUCTURE = ("DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_SECRET", "DB_SECRET_ARN", "DB_IAM_AUTH",
                        "REDIS_HOST", "REDIS_PORT", "REDIS_TLS", "PORT")
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

def copy_sources(root: Path, target: Path, dockerignore: str = "") -> tuple[int, list[str]]:
    """A clean copy of the monorepo, as the cloud builds it: the files git tracks when it is a git work tree (the
    untracked ones, which a commit would leave out, are returned), else every file outside NOT_COPIED; minus the
    .dockerignore patterns an ECS image build applies. Returns (files copied, untracked files left out)."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    git = ["git", "-C", str(root), "ls-files", "-z"]
    tracked = subprocess.run([*git, "--cached"], capture_output=True)
    untracked: list[str] = []
    if tracked.returncode == 0:
        files = [Path(p) for p in tracked.stdout.decode().split("\0") if p]
        listed = subprocess.run([*git, "--others", "--exclude-standard"], capture_output=True).stdout.decode()
        untracked = sorted(p for p in listed.split("\0") if p and not set(Path(p).parts) & NOT_COPIED)
    else:
        files = []
        for folder, folders, names in os.walk(root):
            folders[:] = [f for f in folders if f not in NOT_COPIED]   # never walk node_modules
            files += [(Path(folder) / name).relative_to(root) for name in names]
    ignored = [line.strip() for line in dockerignore.splitlines() if line.strip() and not line.startswith("#")]
    copied = 0
    for relative in files:
        if set(relative.parts) & NOT_COPIED or _ignored(relative.as_posix(), ignored):
            continue
        source = root / relative
        if not (source.is_file() or source.is_symlink()):
            continue   # tracked by git but deleted in the work tree
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination, follow_symlinks=False)
        copied += 1
    return copied, untracked


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


def build(platform: LocalPlatform, options: Options, say, notice=lambda *_: None) -> Path:
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
    count, untracked = copy_sources(options.monorepo_root, source, platform.dockerignore)
    if untracked:
        shown = ", ".join(untracked[:8]) + (f" and {len(untracked) - 8} more" if len(untracked) > 8 else "")
        notice(f"not built: {shown}: untracked by git, so the cloud, which builds a commit, would not have them "
               "either (git add them)")
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
        if "DB_HOST" in worker.references:
            needed.add(POSTGRES)
        if "REDIS_HOST" in worker.references:
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
def throwaway_postgres(user: str, database: str, say, trust: bool = False):
    """trust: the database takes `user` without a password (workers that sign IAM tokens on AWS)."""
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
                               f"--auth={'trust' if trust else 'scram-sha-256'}", "-E", "UTF8", "--no-sync"],
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
                       home: Path, notice, ports: dict[str, int] | None = None) -> dict[str, str]:
    """What the platform gives `worker`, pointed at this machine: its variables, the stores' addresses, its secrets'
    values, its own PORT and the local address of each worker it calls (`ports`: every worker's); a value
    Terraform knows at apply time only, and local cannot give, is an error."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": os.environ.get("LANG", "C.UTF-8")}
    env.update(worker.variables)
    database, cache = stores.get(POSTGRES), stores.get(REDIS)
    local = {"PORT": str(port)}
    if database:
        local.update(DB_HOST=database.host, DB_PORT=str(database.port), DB_NAME=database.database,
                     DB_USER=database.user, DB_IAM_AUTH="false",
                     DB_SECRET_ARN="arn:aws:secretsmanager:local:000000000000:secret:local-database")
    if cache:
        local.update(REDIS_HOST=cache.host, REDIS_PORT=str(cache.port), REDIS_TLS="false")
    local.update({call_url_key(name): f"http://127.0.0.1:{other}" for name, other in (ports or {}).items()})
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
    unresolved = sorted(k for k in worker.references if env.get(k) == worker.variables.get(k))
    unresolved += sorted(k for k, v in worker.secrets.items() if env.get(k) == v)
    if unresolved:
        raise LocalRunError(f"{worker.name}: {', '.join(unresolved)} hold values Terraform knows only at apply time "
                            "and local cannot give")
    return env


# --- run ----------------------------------------------------------------------------------------------------------

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None   # a load balancer's health check takes a 3xx as the answer, it does not follow it


# Straight to the worker: no proxy from the environment, no redirect followed.
_HEALTH_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


def healthy(worker: Worker, port: int) -> tuple[bool, str]:
    if worker.health_path is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True, f"TCP {port}"
        except OSError as error:
            return False, str(error)
    try:
        with _HEALTH_OPENER.open(f"http://127.0.0.1:{port}{worker.health_path}", timeout=2) as answer:
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
        route = next((r.path for r in platform.routes if r.worker == name and "{" not in r.path), None)
        # A private worker (workers.toml private = true): reached on its own port only.
        rows.append((name, f"{base}{route}" if route else "(no route)", f"http://127.0.0.1:{ports[name]}", last[name]))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    say("\nlocal: every worker is healthy (Ctrl-C stops everything)\n" + "\n".join(lines) + "\n")


class LocalManager(Manager):
    """honcho's Manager (2.0), told apart from the outside only by what it prints, and safe against a stop asked
    for while processes still start: honcho's own _killall reads the pid of each process not yet stopped, which a
    process still starting does not have (KeyError, and the process would be left running). Such a process is
    stopped as soon as its start is reported. Also notes the first process to stop and whether a signal stopped it
    all, and calls `on_started` once every process is forked (a thread started before honcho forks would be forked
    too)."""

    STARTED = re.compile(r"^(\S+) started \(pid=(\d+)\)")
    STOPPED = re.compile(r"^(\S+) stopped \(rc=(-?\d+)\)")
    SIGNALLED = re.compile(r"^SIG(INT|TERM) received")

    def __init__(self, on_started=lambda: None):
        super().__init__()
        self.first_stop: tuple[str, int] | None = None
        self.signalled = False
        self._late: set[str] = set()
        self._on_started = on_started

    def _killall(self, force=False):
        for name, process in self._processes.items():
            if "returncode" in process:
                continue
            if "pid" not in process:
                self._late.add(name)
                continue
            self._system_print(f"sending {'SIGKILL' if force else 'SIGTERM'} to {name} (pid {process['pid']})\n")
            (self._procmgr.kill if force else self._procmgr.terminate)(process["pid"])

    def _system_print(self, data):
        super()._system_print(data)
        if self._on_started:
            self._on_started, started = None, self._on_started
            started()
        if (found := self.STARTED.match(data)) and found.group(1) in self._late:
            self._procmgr.terminate(int(found.group(2)))
        elif (found := self.STOPPED.match(data)) and self.first_stop is None:
            self.first_stop = (found.group(1), int(found.group(2)))
        elif self.SIGNALLED.match(data):
            self.signalled = True


# LocalManager overrides two of honcho's private methods: a honcho where they differ is refused, not half-used.
for _name, _parameters in (("_killall", ["self", "force"]), ("_system_print", ["self", "data"])):
    if list(inspect.signature(getattr(Manager, _name, lambda: None)).parameters) != _parameters:
        raise ImportError(f"honcho {metadata.version('honcho')}: Manager.{_name}({', '.join(_parameters)}) is not "
                          "what command_line/local_run.py's LocalManager overrides (requirements/app.txt pins the "
                          "honcho it was written for)")


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def run_local(platform: LocalPlatform, options: Options, say, notice) -> int:
    """Build, start the stores, the workers and the REST API; block until stopped. 0 on a stop asked for, 1 when a
    worker stopped by itself (everything else is stopped too)."""
    options.workdir.mkdir(parents=True, exist_ok=True)
    if not port_free(options.port):
        raise LocalRunError(f"--port {options.port}: something already listens there; choose another")

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    # Until honcho's loop takes them over: a stop during the build or the stores' start unwinds what was started.
    previous = {s: signal.signal(s, interrupt) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with ExitStack() as resources:
            for auth in sorted({r.authorization for r in platform.routes} - {"NONE"}):
                notice(f"the stage's methods require {auth} authorization on AWS; local serves them unsigned")
            node = shutil.which("node")
            version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip() if node else ""
            if not version.startswith("v22."):
                notice(f"the workers run on Node.js {version or '(none found)'} here, on Node.js 22 on AWS")
            source = build(platform, options, say, notice)
            stores = start_stores(platform, options, resources, say, notice)
            own = local_secrets(options.secrets_file)
            ports = {name: free_port() for name in sorted(platform.workers)}
            home = options.workdir / "home"
            home.mkdir(exist_ok=True)
            stopped = threading.Event()
            watcher = threading.Thread(target=watch_health, daemon=True,
                                       args=(platform, ports, options.port, say, stopped))
            manager = LocalManager(on_started=watcher.start)
            for name, worker in sorted(platform.workers.items()):
                env = worker_environment(worker, ports[name], stores, own, home, notice, ports)
                manager.add_process(name, worker.start_command, env=env, cwd=str(source))
            config = options.workdir / "gateway.json"
            config.write_text(json.dumps({"stage": platform.stage, "port": options.port, "targets": [
                {"path": r.path, "method": r.method, "worker": r.worker, "port": ports[r.worker],
                 "uri_path": r.uri_path, "host": r.host, "timeout_ms": r.timeout_ms} for r in platform.routes]},
                indent=2))
            manager.add_process("gateway", shlex.join([sys.executable, "-m", "command_line.local_gateway", str(config)]),
                                env=dict(os.environ, PYTHONUNBUFFERED="1"), cwd=str(PROJECT_ROOT))
            try:
                manager.loop()   # installs honcho's SIGINT and SIGTERM handlers: they stop every process
            finally:
                stopped.set()
            if manager.signalled or manager.first_stop is None:
                say("local: stopped; every process it started has ended")
                return 0
            name, code = manager.first_stop
            say(f"local: {name} stopped by itself (exit {code}), so everything was stopped; its output is above")
            return 1
    except KeyboardInterrupt:
        say("local: stopped before the workers started; every process it started has ended")
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def start_stores(platform: LocalPlatform, options: Options, resources: ExitStack, say, notice) -> dict[str, Store]:
    """The stores the stack has: given (--postgres, --redis) or throwaway ones, stopped when `resources` closes."""
    stores: dict[str, Store] = {}
    needed = needed_stores(platform)
    first = next(iter(platform.workers.values()))
    iam = first.variables.get("DB_IAM_AUTH") == "true"
    if POSTGRES in needed:
        if iam:
            notice("the workers sign IAM database tokens on AWS (AURORA_IAM_USER); here DB_IAM_AUTH=false and the "
                   "local database takes DB_USER without a password")
        if options.postgres:
            stores[POSTGRES] = given_postgres(options.postgres)
            say(f"stores: PostgreSQL at {stores[POSTGRES].host}:{stores[POSTGRES].port}, database "
                f"{stores[POSTGRES].database} (--postgres)")
        else:
            stores[POSTGRES] = resources.enter_context(throwaway_postgres(
                first.variables.get("DB_USER", "postgres"), first.variables.get("DB_NAME", "postgres"), say,
                trust=iam))
    if REDIS in needed:
        if options.redis:
            stores[REDIS] = given_redis(options.redis)
            say(f"stores: Redis at {options.redis} (--redis)")
        else:
            stores[REDIS] = resources.enter_context(throwaway_redis(say))
    return stores


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
