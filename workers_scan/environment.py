"""Worker environments: `.env.workers` (shared) < `.env.workers.<worker>` < values from the infrastructure.

Values that are Secrets Manager or SSM Parameter Store ARNs become App Runner secrets; a plain value that looks
secret, by its key's name or by the value itself (workers_scan/secret_values.py), is refused. Keys the
infrastructure sets may not be set by a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .envfile import read_env_file
from .errors import Problems
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
    for path in sorted(folder.glob(f"{SHARED_FILE}.*")):
        suffix = path.name[len(SHARED_FILE) + 1:]
        if suffix in ("example", "sample", "template"):
            continue
        if suffix not in names:
            problems.add(path, "", f"names no discovered worker {suffix!r}; per-worker files are "
                                   f"{SHARED_FILE}.<worker> with a worker of: {', '.join(sorted(names))}")

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
            problems.add(path, where, "is set by the infrastructure (see README 'Worker environment'); "
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
    return values
