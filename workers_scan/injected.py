"""What the infrastructure injects into every worker's environment, declared once.

Everything else derives from this table: the check that no `.env.workers*` file sets one of these keys, the values
the constructs give each worker (each entry says where its value comes from), the report's counts, `local`'s
stand-ins and docs/worker-environment.md's list (python -m command_line.reference_docs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .calls import CALLS_KEY, call_url_key
from .ports import POSTGRES_PORT, REDIS_PORT
from .settings import Settings

PLATFORM, AURORA, REDIS = "platform", "Aurora", "Redis"
AURORA_PASSWORD = "Aurora, workers on the master user"            # AURORA_IAM_USER unset
AURORA_IAM = "Aurora and `AURORA_IAM_USER`"                        # IAM database authentication
CALLS = f"`{CALLS_KEY}` in workers.toml"                            # per caller, one per worker it calls


@dataclass(frozen=True)
class Sources:
    """What the injected values come from: the settings, the worker, and the data stores' endpoints and master
    secret (Terraform tokens, known at apply time; None for a store the settings leave out)."""

    settings: Settings
    worker_name: str
    database_endpoint: str | None = None
    database_secret_arn: str | None = None
    cache_endpoint: str | None = None
    calls: dict[str, str] = field(default_factory=dict)   # each worker it calls (workers.toml) -> that one's address


@dataclass(frozen=True)
class Injected:
    key: str
    brought_by: str   # PLATFORM (always), or the data store (and its mode) that brings it
    secret: bool      # an App Runner runtime secret: the value is a Secrets Manager ARN, read at instance start
    holds: str        # what the value is, for people (docs/worker-environment.md)
    value: Callable[[Sources], str | None]   # the value the constructs give the worker


# In the order the synthesized environment has always listed them: the data stores' first, the platform's last.
INJECTED: tuple[Injected, ...] = (
    Injected("DB_HOST", AURORA, False, "the cluster's writer endpoint", lambda s: s.database_endpoint),
    Injected("DB_PORT", AURORA, False, f"`{POSTGRES_PORT}`", lambda s: str(POSTGRES_PORT)),
    Injected("DB_NAME", AURORA, False, "`AURORA_DATABASE_NAME`", lambda s: s.settings.aurora_database_name),
    Injected("DB_USER", AURORA, False, "`AURORA_IAM_USER` if set, else `AURORA_MASTER_USERNAME`",
             lambda s: s.settings.aurora_iam_user or s.settings.aurora_master_username),
    Injected("DB_SECRET", AURORA_PASSWORD, True, "the RDS-managed master secret: JSON with `username` and `password`",
             lambda s: s.database_secret_arn),
    Injected("DB_SECRET_ARN", AURORA_PASSWORD, False,
             "that secret's ARN, to read the password again after RDS rotates it", lambda s: s.database_secret_arn),
    Injected("DB_IAM_AUTH", AURORA_IAM, False, "`true`: sign an authentication token instead of a password",
             lambda s: "true"),
    Injected("DB_REGION", AURORA_IAM, False, "`AWS_REGION`, for the token's signature",
             lambda s: s.settings.account_region[1]),
    Injected("REDIS_HOST", REDIS, False, "the cache's primary endpoint", lambda s: s.cache_endpoint),
    Injected("REDIS_PORT", REDIS, False, f"`{REDIS_PORT}`", lambda s: str(REDIS_PORT)),
    Injected("REDIS_TLS", REDIS, False, "`true`: the cache accepts TLS connections only", lambda s: "true"),
    Injected("NODE_ENV", PLATFORM, False, "`production`", lambda s: "production"),
    Injected("PORT", PLATFORM, False, "the `PORT` setting, where the worker must listen",
             lambda s: str(s.settings.port)),
    Injected("WORKER_NAME", PLATFORM, False, "the worker's name, e.g. `email-sender`", lambda s: s.worker_name),
)

# One per callee, in the environment of each worker whose `calls` names it (workers_scan/calls.py).
# supplied() gives one per entry of Sources.calls.
CALL_URL = Injected(call_url_key("<name>"), CALLS, False,
                    "the address of worker <name>, on each worker that calls it: `http://<route>.<project>-"
                    "<environment>.calls.internal:<PORT>` on ECS, `https://<its private ingress domain>` on App Runner",
                    lambda s: None)


def _brought(settings: Settings) -> set[str]:
    on = {PLATFORM}
    if settings.aurora_enabled:
        on |= {AURORA, AURORA_IAM if settings.aurora_iam_user else AURORA_PASSWORD}
    if settings.redis_enabled:
        on.add(REDIS)
    return on


def injected(settings: Settings) -> tuple[Injected, ...]:
    """The variables these settings inject (values are known only at apply time)."""
    on = _brought(settings)
    return tuple(entry for entry in INJECTED if entry.brought_by in on)


def supplied(sources: Sources) -> tuple[dict[str, str], dict[str, str]]:
    """(variables, secrets) the infrastructure gives one worker: every key these settings inject, with its value.
    A value the sources lack (a store's endpoint not passed while the settings create the store) is an error:
    the worker would miss it at run time."""
    variables: dict[str, str] = {}
    secrets: dict[str, str] = {}
    for entry in injected(sources.settings):
        value = entry.value(sources)
        if value is None:
            raise RuntimeError(f"workers_scan/injected.py: {entry.key} is injected with {entry.brought_by}, but "
                               f"its source was not given")
        (secrets if entry.secret else variables)[entry.key] = value
    variables.update({call_url_key(name): address for name, address in sorted(sources.calls.items())})
    return variables, secrets


def markdown_list() -> str:
    """docs/worker-environment.md's list of injected variables, grouped by what brings them."""
    lines = []
    for source in (PLATFORM, AURORA, AURORA_PASSWORD, AURORA_IAM, REDIS, CALLS):
        entries = [e for e in (*INJECTED, CALL_URL) if e.brought_by == source]
        where = "on every worker" if source == PLATFORM else f"with {source}"
        lines.append(f"- {where}: " + "; ".join(
            f"`{e.key}`{' (secret)' if e.secret else ''}: {e.holds}" for e in entries) + ".")
    return "\n".join(lines)
