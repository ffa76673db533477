"""Worker environments: `.env.workers` (shared) < `.env.workers.<worker>` < values from the infrastructure.

Values that are Secrets Manager or SSM Parameter Store ARNs become App Runner secrets; a plain value that looks
secret, by its key's name or by the value itself (workers_scan/secret_values.py), is refused. Keys the
infrastructure sets may not be set by a file.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path

from .envfile import read_env_file
from .errors import Problems, display_path
from .build_check import workers_package_dirs
from .fargate import LEFT_OUT_OF_IMAGE
from .git_files import ignore_rule, tracked_files
from .injected import injected
from .secret_values import SECRET_KEY_RE, advice, key_looks_secret, scan  # noqa: F401 (SECRET_KEY_RE: re-exported)
from .settings import Settings

SHARED_FILE = ".env.workers"
# The files a worker's environment is layered from, lowest precedence first ({worker}: the worker's name).
# Every rule below (reserved keys, secret references, plain secrets) applies to every layer alike.
LAYERS = (SHARED_FILE, SHARED_FILE + ".{worker}")
# Secret names: what Secrets Manager allows, plus the "!" of the secrets AWS services manage (rds!cluster-...).
SECRETS_MANAGER_ARN = re.compile(
    r"^(?P<base>arn:aws:secretsmanager:(?P<region>[a-z0-9-]+):\d{12}:secret:[A-Za-z0-9/_+=.@!-]+)"
    r"(:[^:]*:[^:]*:[^:]*)?$")
SSM_PARAMETER_ARN = re.compile(r"^(?P<base>arn:aws:ssm:(?P<region>[a-z0-9-]+):\d{12}:parameter/[A-Za-z0-9/_.-]+)$")
# App Runner reserves this prefix for its own variables.
RESERVED_PREFIX = "AWSAPPRUNNER"
APPRUNNER_VALUE_MAX = 51_200


@dataclass(frozen=True)
class WorkerEnvironment:
    variables: dict[str, str] = field(default_factory=dict)   # plain values
    secrets: dict[str, str] = field(default_factory=dict)     # key -> Secrets Manager / SSM ARN


def infrastructure_keys(settings: Settings) -> tuple[str, ...]:
    """The keys the infrastructure sets on every worker (workers_scan/injected.py): no file may set them."""
    return tuple(entry.key for entry in injected(settings))


# Secrets Manager ends every secret's ARN with a hyphen and 6 random characters; a reference may leave them out
# (a partial ARN), and a name that itself ends like that is taken for a complete ARN, as AWS does.
SECRET_ARN_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")


def secret_base(arn: str) -> str:
    """A Secrets Manager reference as written, without its json-key/version suffix; any other ARN unchanged."""
    match = SECRETS_MANAGER_ARN.match(arn)
    return match.group("base") if match else arn


def is_partial_secret_arn(arn: str) -> bool:
    return bool(SECRETS_MANAGER_ARN.match(arn)) and not SECRET_ARN_SUFFIX.search(secret_base(arn))


def policy_resource(arn: str) -> str:
    """The ARN an IAM policy names: a Secrets Manager reference without its json-key/version suffix, and a
    partial one with its 6 characters as wildcards (IAM matches the secret's full ARN, never a partial one)."""
    return secret_base(arn) + ("-??????" if is_partial_secret_arn(arn) else "")


def is_secret_reference(value: str) -> bool:
    return bool(SECRETS_MANAGER_ARN.match(value) or SSM_PARAMETER_ARN.match(value))


def load_environments(settings: Settings, worker_names: list[str], problems: Problems) -> dict[str, WorkerEnvironment]:
    """Every worker's file-provided environment, validated; problems are collected."""
    folder = settings.settings_dir
    reserved = set(infrastructure_keys(settings))
    names = set(worker_names)
    for path in _environment_files(folder):
        suffix = path.name[len(SHARED_FILE) + 1:]
        if suffix not in names:
            problems.add(path, "", f"names no discovered worker {suffix!r}; per-worker files are "
                                   f"{SHARED_FILE}.<worker> with a worker of: {', '.join(sorted(names))}")

    _note_unread_places(settings, problems)
    if settings.uses_ecs:
        _note_left_out_of_the_image(settings, problems)

    read: dict[Path, dict[str, str]] = {}   # each file read (and its problems reported) once
    environments: dict[str, WorkerEnvironment] = {}
    for name in sorted(names):
        merged: dict[str, str] = {}
        for layer in LAYERS:
            path = folder / layer.format(worker=name)
            if path not in read:
                read[path] = _read(path, settings, reserved, problems) if path.exists() else {}
            merged.update(read[path])
        variables = {k: v for k, v in merged.items() if not is_secret_reference(v)}
        secrets = {k: v for k, v in merged.items() if is_secret_reference(v)}
        environments[name] = WorkerEnvironment(variables=dict(sorted(variables.items())),
                                               secrets=dict(sorted(secrets.items())))
    return environments


def _read(path: Path, settings: Settings, reserved: set[str], problems: Problems) -> dict[str, str]:
    entries = read_env_file(path, problems) or {}
    values: dict[str, str] = {}
    for key, entry in entries.items():
        where = f"{key} (line {entry.line})"
        value = entry.value
        if key.upper().startswith(RESERVED_PREFIX):
            problems.add(path, where, f"names starting with {RESERVED_PREFIX} are reserved by App Runner; rename it")
            continue
        if key in reserved:
            problems.add(path, where, "is set by the infrastructure (see docs/worker-environment.md); "
                                      "remove it from the file or turn off what provides it")
            continue
        if len(value) > APPRUNNER_VALUE_MAX:
            problems.add(path, where, f"value is longer than App Runner's {APPRUNNER_VALUE_MAX} characters")
            continue
        if value.startswith(("arn:aws:secretsmanager:", "arn:aws:ssm:")):
            match = SECRETS_MANAGER_ARN.match(value) or SSM_PARAMETER_ARN.match(value)
            if not match:
                problems.add(path, where, "looks like a secret reference but is not a Secrets Manager secret ARN "
                                          "(arn:aws:secretsmanager:<region>:<account>:secret:<name>) or an SSM "
                                          "parameter ARN (arn:aws:ssm:<region>:<account>:parameter/<name>)")
                continue
            if match.group("region") != settings.aws_region:
                problems.add(path, where, f"refers to region {match.group('region')}; App Runner reads secrets "
                                          f"from its own region {settings.aws_region}")
                continue
        elif key_looks_secret(key) and key not in settings.secret_key_allowlist and value:
            problems.add(path, where, "looks like a secret but holds a plain value, which would be stored in the "
                                      "Terraform JSON and state: put it in Secrets Manager or SSM Parameter Store "
                                      "and write its ARN here instead (or list the key in SECRET_KEY_ALLOWLIST "
                                      "if it is not secret)")
            continue
        values[key] = value
    plain = [(key, value) for key, value in values.items()
             if not is_secret_reference(value) and key not in settings.secret_key_allowlist]
    for finding in filter(None, scan(plain)):
        problems.add(path, f"{finding.key} (line {entries[finding.key].line})",
                     f"holds a secret in plain text ({finding.kind}: {finding.hint}), which would be stored in the "
                     f"Terraform JSON and state: {advice(finding)} (or list the key in SECRET_KEY_ALLOWLIST if it "
                     "is not secret)")
        del values[finding.key]
    _note_blocked_ports(path, entries, values, settings, problems)
    return values


def _note_unread_places(settings: Settings, problems: Problems) -> None:
    """Without a word, a missing .env.workers, one git ignores (CI would deploy without its variables) or one put
    beside the code would each leave the workers without variables someone meant them to have."""
    folder = settings.settings_dir
    shared = folder / SHARED_FILE
    if not shared.is_file() and not _environment_files(folder):
        problems.note(shared, "", f"not found: the workers get only the variables the infrastructure sets; "
                                  f"{SHARED_FILE} (every worker) and {SHARED_FILE}.<worker> are read beside the "
                                  f"settings file, in {display_path(folder)}")
    for path in ([shared] if shared.is_file() else []) + _environment_files(folder):
        if rule := ignore_rule(path):
            problems.note(path, "", f"is ignored by git ({rule}): a synth in a CI checkout would deploy the "
                                    "workers without these variables; commit it (its secrets are ARNs, never values)")
    root = settings.monorepo_root.resolve()
    # The monorepo's root is refused in workers.py; between it and each workers folder, files are only noted.
    places: dict[Path, None] = {}
    for here in (path.resolve() for path in settings.workers_paths):
        places.update(dict.fromkeys([here, *[p for p in here.parents if root in p.parents]] if root in here.parents
                                    else []))
    for place in places:
        for path in [place / SHARED_FILE, *_environment_files(place)]:
            if path.is_file() and place != folder.resolve():
                problems.note(path, "", f"is not read: worker variables are read from {SHARED_FILE} files beside "
                                        f"the settings file, in {display_path(folder)}; move it there")


def _environment_files(folder: Path) -> list[Path]:
    """The per-worker files .env.workers.<worker> in `folder`, examples left out."""
    return [path for path in sorted(folder.glob(f"{SHARED_FILE}.*"))
            if path.name[len(SHARED_FILE) + 1:] not in ("example", "sample", "template")]


# The port a URL reaches when it names none: the schemes' registered defaults (IANA), for the services workers
# most often call outside the VPC.
DEFAULT_PORTS = {
    "http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21, "sftp": 22, "ssh": 22,
    "postgres": 5432, "postgresql": 5432, "mysql": 3306, "mariadb": 3306, "sqlserver": 1433, "mssql": 1433,
    "mongodb": 27017, "mongodb+srv": 27017, "redis": 6379, "rediss": 6379, "amqp": 5672, "amqps": 5671,
    "smtp": 25, "smtps": 465, "nats": 4222, "kafka": 9092, "ldap": 389, "ldaps": 636,
}
# host:port outside a URL: a domain name (with a dot) or an IPv4 address, so that node:18 or 12:30 are not taken.
HOST_PORT = re.compile(r"^(?P<host>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+):(?P<port>[0-9]{1,5})$")
LOOPBACK = ("localhost", "127.", "::1", "[::1]")


def reached_ports(value: str) -> list[int]:
    """The TCP ports a value names: a URL's (its own, else its scheme's default; every host of a mongodb://a,b
    list) or a comma-separated list of host:port (kafka brokers). Loopback addresses never leave the task."""
    value = value.strip()
    scheme, separator, rest = value.partition("://")
    if separator:
        authority = re.split(r"[/?#]", rest, maxsplit=1)[0].rsplit("@", 1)[-1]
        hosts = authority.split(",")
        default = DEFAULT_PORTS.get(scheme.lower())
    else:
        hosts = [part.strip() for part in value.split(",")]
        if not all(HOST_PORT.match(host) for host in hosts):
            return []
        default = None
    ports = []
    for host in hosts:
        name, port = _host_and_port(host)
        if name.startswith(LOOPBACK):
            continue
        if port is not None:
            ports.append(port)
        elif default is not None:
            ports.append(default)
    return [port for port in dict.fromkeys(ports) if 0 < port < 65536]


def _host_and_port(host: str) -> tuple[str, int | None]:
    """("[::1]", 5432) of "[::1]:5432", ("db.example.com", None) of "db.example.com"."""
    name, colon, port = host.rpartition(":") if not host.endswith("]") else ("", "", "")
    if colon and port.isascii() and port.isdecimal() and not name.endswith(":"):
        return name, int(port)
    return host, None


def _note_blocked_ports(path: Path, entries, values: dict[str, str], settings: Settings, problems: Problems) -> None:
    """A worker reaches the internet only on WORKER_EGRESS_PORTS (and 443 on ECS): a URL on another port passes
    synth and the plan, then times out in AWS."""
    if not settings.uses_ecs and not settings.worker_vpc_egress:
        return   # App Runner's own egress: every port is open
    open_ports = set(settings.worker_egress_ports) | ({443} if settings.uses_ecs else set())
    shown = ",".join(map(str, sorted(open_ports)))
    for key, value in values.items():
        for port in reached_ports(value):
            if port not in open_ports:
                problems.note(path, f"{key} (line {entries[key].line})",
                              f"reaches port {port}, which the workers' egress rules do not open (WORKER_EGRESS_PORTS="
                              f"{shown}): the connection would time out in AWS; add {port} to WORKER_EGRESS_PORTS in "
                              f"{settings.source_of('WORKER_EGRESS_PORTS')} if the service is outside the VPC")


def _note_left_out_of_the_image(settings: Settings, problems: Problems) -> None:
    """App Runner builds from the repository, so it sees the .env files committed in the API package; the ECS image
    leaves every .env and .env.* out (constructs_lib/image_pipeline.py DOCKERIGNORE). The same monorepo would then
    run with two configurations: say which files ECS does not have."""
    for package in workers_package_dirs(settings):
        _note_left_out_of_package(package, problems)


def _note_left_out_of_package(package: Path, problems: Problems) -> None:
    tracked = tracked_files(package)
    left_out = [path for path in tracked or [] if any(fnmatch.fnmatchcase(path.name, name) for name in LEFT_OUT_OF_IMAGE)
                and not path.name.endswith((".example", ".sample", ".template"))
                and not path.name.startswith((".env.test", SHARED_FILE))]   # test runs', and the ones noted above
    if left_out:
        names = ", ".join(display_path(path) for path in left_out)
        problems.note(package, "", f"COMPUTE=ecs: the image leaves out the committed {names}, which App Runner's "
                                   f"build from the repository would keep; give their values as worker variables "
                                   f"({SHARED_FILE} beside the settings file) or as secrets")

