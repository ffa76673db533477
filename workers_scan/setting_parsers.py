"""Parsers of the settings values: each turns the text of one key into its value, or raises Invalid saying what
would be accepted. workers_scan/settings.py names one per key."""

from __future__ import annotations

import difflib
import functools
import ipaddress
import re
from pathlib import Path
from typing import Any, Callable

from .waf_rules import MANAGED_RULES, group_of

ENVIRONMENT_RE = re.compile(r"^[a-z][a-z0-9]{1,9}$")
# Suffixes of other files beside the settings file (.env.worker: a misspelt .env.workers, refused as such).
RESERVED_ENVIRONMENTS = ("workers", "worker", "example", "sample", "template")


class Invalid(ValueError):
    """A value that cannot be accepted; the message says what would be."""


# ---------------------------------------------------------------- value parsers

def parse_text(value: str) -> str:
    if not value.strip():
        raise Invalid("is empty")
    return value.strip()


def parse_matching(pattern: str, accepted: str) -> Callable[[str], str]:
    regex = re.compile(pattern)

    def parse(value: str) -> str:
        if not regex.match(value):
            raise Invalid(f"{value!r} is not {accepted}")
        return value

    return parse


def parse_int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value.replace("_", ""))
        except ValueError:
            raise Invalid(f"{value!r} is not a whole number; use {low} to {high:,}") from None
        if not low <= number <= high:
            raise Invalid(f"{number:,} is out of range; use {low} to {high:,}")
        return number

    return parse


def parse_one_of(*choices: Any) -> Callable[[str], Any]:
    def parse(value: str) -> Any:
        for choice in choices:
            if value == str(choice):
                return choice
        raise Invalid(f"{value!r} is not one of {', '.join(str(c) for c in choices)}")

    return parse


def parse_size(value: str) -> int:
    """CPU units or MB: which ones the backend runs is checked with COMPUTE (cross_checks)."""
    try:
        number = int(value.replace("_", ""))
    except ValueError:
        raise Invalid(f"{value!r} is not a whole number") from None
    if number < 1:
        raise Invalid(f"{number} is not a size; give a positive whole number")
    return number


def parse_waf_rules(value: str) -> tuple[str, ...]:
    rules = parse_csv(value)
    known = [rule for group in MANAGED_RULES.values() for rule in group]
    unknown = [rule for rule in rules if group_of(rule) is None]
    if unknown:
        hints = [f"{rule!r} (did you mean {close[0]}?)" if (close := difflib.get_close_matches(rule, known, 1))
                 else repr(rule) for rule in unknown]
        raise Invalid(f"names no rule of {' or '.join(MANAGED_RULES)}: {', '.join(hints)}; rule names are "
                      "case-sensitive, e.g. SizeRestrictions_BODY, NoUserAgent_HEADER")
    return tuple(dict.fromkeys(rules))


def parse_boolean(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise Invalid(f"{value!r} is not a boolean; use true or false")


def parse_csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def parse_csv_matching(pattern: str, accepted: str) -> Callable[[str], tuple[str, ...]]:
    regex = re.compile(pattern)

    def parse(value: str) -> tuple[str, ...]:
        items = parse_csv(value)
        bad = [item for item in items if not regex.match(item)]
        if bad:
            raise Invalid(f"{', '.join(repr(b) for b in bad)} {'is' if len(bad) == 1 else 'are'} not {accepted}")
        if len(set(items)) != len(items):
            raise Invalid("lists a value twice")
        return items

    return parse


def parse_cidr(value: str) -> ipaddress.IPv4Network:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise Invalid(f"{value!r} is not an IPv4 CIDR block like 10.0.0.0/16 ({exc})") from None
    if not 16 <= network.prefixlen <= 22:
        raise Invalid(f"{value!r}: the prefix must be /16 to /22 (AWS allows /16 at most, and we need room for 6 subnets)")
    if not network.is_private:
        raise Invalid(f"{value!r} is not a private (RFC 1918) range")
    return network


def parse_ports(value: str) -> tuple[int, ...]:
    parse = parse_int_between(1, 65535)
    ports = tuple(sorted({parse(part) for part in parse_csv(value)}))
    if not ports:
        raise Invalid("lists no port; give at least 443")
    return ports


def _acu(value: str, low: float) -> float:
    """Aurora Serverless v2 capacity: `low` to 256 ACUs in steps of 0.5 (RDS: the maximum is at least 1)."""
    try:
        number = float(value)
    except ValueError:
        raise Invalid(f"{value!r} is not a number of ACUs like 0.5 or 4") from None
    if not low <= number <= 256 or number * 2 != int(number * 2):
        raise Invalid(f"{value!r} must be {low:g} to 256 in steps of 0.5")
    return number


def parse_acu_from(low: float) -> Callable[[str], float]:
    # A module-level parser with `low` bound (not a closure), so mutation testing reaches its body.
    return functools.partial(_acu, low=low)


def parse_state_key(value: str) -> str:
    value = parse_text(value)
    try:
        value.format(project="p", environment="e")
    except (KeyError, IndexError, ValueError):
        raise Invalid("may use only the placeholders {project} and {environment}") from None
    if value.startswith("/") or ".." in value.split("/"):
        raise Invalid(f"{value!r} must be a relative object key like acme/dev/terraform.tfstate")
    return value


def parse_workspace(value: str) -> str:
    value = parse_state_key(value)
    if not re.match(r"^[A-Za-z0-9_{}-]+$", value):
        raise Invalid(f"{value!r}: workspace names hold letters, digits, - and _ (plus {{project}}/{{environment}})")
    return value


def parse_start_command(value: str) -> str:
    value = parse_text(value)
    if "{worker_file}" not in value:
        raise Invalid("must contain the placeholder {worker_file}, e.g. 'bash {package}/scripts/start-worker.sh {worker_file}'")
    try:
        value.format(worker_file="x", package="x")
    except (KeyError, IndexError, ValueError):
        raise Invalid("may contain no placeholder but {worker_file} and {package} (write {{ and }} for literal "
                      "braces)") from None
    return value


def parse_relative_dir(value: str) -> str:
    value = parse_text(value).strip("/")
    if not value or ".." in Path(value).parts or Path(value).is_absolute():
        raise Invalid(f"{value!r} must be a relative folder inside the monorepo, e.g. apps/api/src/workers")
    return value


def parse_relative_dirs(value: str) -> tuple[str, ...]:
    """One or more comma-separated folders inside the monorepo, each listed once."""
    folders = tuple(parse_relative_dir(part) for part in value.split(",") if part.strip())
    if not folders:
        raise Invalid("is empty")
    seen: dict[str, str] = {}
    for folder in folders:
        normal = Path(folder).as_posix()
        if normal in seen:
            raise Invalid(f"lists the folder {folder!r} twice ({seen[normal]!r}); list each workers folder once")
        seen[normal] = folder
    return folders


def parse_source_directory(value: str) -> str:
    value = parse_text(value)
    if not value.startswith("/") or ".." in value.split("/"):
        raise Invalid(f"{value!r} must be an absolute path inside the repository, e.g. / or /backend")
    return value


KMS_KEY_ARN_RE = r"^arn:aws:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}$"
parse_kms_key_arn = parse_matching(KMS_KEY_ARN_RE, "a KMS key ARN")


def parse_environments(value: str) -> tuple[str, ...]:
    names = parse_csv_matching(ENVIRONMENT_RE.pattern, "an environment name (2-10 lowercase letters/digits)")(value)
    reserved = [n for n in names if n in RESERVED_ENVIRONMENTS]
    if reserved:
        raise Invalid(f"{', '.join(reserved)} cannot be an environment name (file names .env.<environment> "
                      f"would clash with {', '.join('.env.' + r for r in RESERVED_ENVIRONMENTS)})")
    if not names:
        raise Invalid("lists no environment")
    return names
