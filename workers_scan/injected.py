"""What the infrastructure injects into every worker's environment, declared once.

Everything else derives from this table: the check that no `.env.workers*` file sets one of these keys, what
the constructs must supply (a synth fails on any difference), the report's counts and the README's list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .calls import CALLS_KEY, call_url_key
from .ports import POSTGRES_PORT, REDIS_PORT
from .settings import Settings

PLATFORM, AURORA, REDIS = "platform", "Aurora", "Redis"
AURORA_PASSWORD = "Aurora, workers on the master user"            # AURORA_IAM_USER unset
AURORA_IAM = "Aurora and `AURORA_IAM_USER`"                        # IAM database authentication
CALLS = f"`{CALLS_KEY}` in workers.toml"                            # per caller, one per worker it calls


@dataclass(frozen=True)
class Injected:
    key: str
    brought_by: str   # PLATFORM (always), or the data store (and its mode) that brings it
    secret: bool      # an App Runner runtime secret: the value is a Secrets Manager ARN, read at instance start
    holds: str        # what the value is, for people (README "Worker environment")


INJECTED: tuple[Injected, ...] = (
    Injected("NODE_ENV", PLATFORM, False, "`production`"),
    Injected("PORT", PLATFORM, False, "the `PORT` setting, where the worker must listen"),
    Injected("WORKER_NAME", PLATFORM, False, "the worker's name, e.g. `email-sender`"),
    Injected("DB_HOST", AURORA, False, "the cluster's writer endpoint"),
    Injected("DB_PORT", AURORA, False, f"`{POSTGRES_PORT}`"),
    Injected("DB_NAME", AURORA, False, "`AURORA_DATABASE_NAME`"),
    Injected("DB_USER", AURORA, False, "`AURORA_IAM_USER` if set, else `AURORA_MASTER_USERNAME`"),
    Injected("DB_SECRET", AURORA_PASSWORD, True, "the RDS-managed master secret: JSON with `username` and `password`"),
    Injected("DB_SECRET_ARN", AURORA_PASSWORD, False,
             "that secret's ARN, to read the password again after RDS rotates it"),
    Injected("DB_IAM_AUTH", AURORA_IAM, False, "`true`: sign an authentication token instead of a password"),
    Injected("DB_REGION", AURORA_IAM, False, "`AWS_REGION`, for the token's signature"),
    Injected("REDIS_HOST", REDIS, False, "the cache's primary endpoint"),
    Injected("REDIS_PORT", REDIS, False, f"`{REDIS_PORT}`"),
    Injected("REDIS_TLS", REDIS, False, "`true`: the cache accepts TLS connections only"),
)

# One per callee, in the environment of each worker whose `calls` names it (workers_scan/calls.py).
CALL_URL = Injected(call_url_key("<name>"), CALLS, False,
                    "the address of worker <name>, on each worker that calls it: `http://<route>.<project>-"
                    "<environment>.calls.internal:<PORT>` on ECS, `https://<its private ingress domain>` on App Runner")


def call_keys(calls: tuple[str, ...]) -> tuple[str, ...]:
    """The CALL_URL keys a worker calling these workers gets."""
    return tuple(call_url_key(callee) for callee in calls)


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


def check_supplied(settings: Settings, variables: Mapping[str, str], secrets: Mapping[str, str],
                   calls: tuple[str, ...] = ()) -> None:
    """What a construct supplies must be exactly the declaration: a key supplied but not declared would
    silently overwrite a file's value, one declared but not supplied would be missing at run time."""
    expected = injected(settings)
    want = ({e.key for e in expected if not e.secret} | set(call_keys(calls)), {e.key for e in expected if e.secret})
    got = (set(variables), set(secrets))
    if got != want:
        raise RuntimeError(f"injected worker variables differ from workers_scan/injected.py: supplied "
                           f"{sorted(got[0])} + secrets {sorted(got[1])}, declared {sorted(want[0])} + "
                           f"secrets {sorted(want[1])}")


def readme_list() -> str:
    """The README's list of injected variables, grouped by what brings them."""
    lines = []
    for source in (PLATFORM, AURORA, AURORA_PASSWORD, AURORA_IAM, REDIS, CALLS):
        entries = [e for e in (*INJECTED, CALL_URL) if e.brought_by == source]
        where = "on every worker" if source == PLATFORM else f"with {source}"
        lines.append(f"- {where}: " + "; ".join(
            f"`{e.key}`{' (secret)' if e.secret else ''}: {e.holds}" for e in entries) + ".")
    return "\n".join(lines)
