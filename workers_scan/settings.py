"""Infrastructure settings: one dotenv file (e.g. `infra/aws/.env`) plus the process environment.

Everything is parsed and validated here, before any construct is built, and every problem is
reported at once with the file and key it comes from and what would be accepted.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from .envfile import read_env_file
from .errors import Problems, display_path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_SETTINGS = PROJECT_ROOT / "examples" / "monorepo" / "infra" / "aws" / ".env.example"
DEFAULT_SETTINGS = PROJECT_ROOT / ".env"
SETTINGS_FILE_VARIABLE = "INFRA_ENV_FILE"

DEFAULT_BUILD_COMMAND = (
    "curl -fsSL https://get.pnpm.io/install.sh | sh - && export PATH=$HOME/.local/share/pnpm:$PATH"
    " && pnpm install --frozen-lockfile && pnpm run build --filter @monorepo/api"
    " && cp -R apps/api/src/i18n apps/api/dist/i18n"
)
DEFAULT_START_COMMAND = "bash apps/api/scripts/start-worker.sh {worker_file}"

# App Runner's allowed vCPU (units) -> memory (MB) pairs.
CPU_MEMORY = {
    256: (512, 1024),
    512: (1024,),
    1024: (2048, 3072, 4096),
    2048: (4096, 6144),
    4096: (8192, 10240, 12288),
}
# Runtimes of hashicorp/aws 5.100.0's code_configuration_values.runtime that we support.
RUNTIMES = ("NODEJS_22", "NODEJS_18")
PRODUCTION_ENVIRONMENTS = ("prod", "production")

ARN_RE = re.compile(
    r"^arn:aws:apprunner:(?P<region>[a-z]{2}(-[a-z]+)+-\d):(?P<account>\d{12}):connection/"
    r"(?P<name>[A-Za-z0-9][A-Za-z0-9_-]{3,31})/(?P<id>[0-9a-f]{32})$"
)
REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
REPO_RE = re.compile(r"^https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?(\.git)?$")


class Invalid(ValueError):
    """A value that cannot be accepted; the message says what would be."""


# ---------------------------------------------------------------- value parsers

def _text(value: str) -> str:
    if not value.strip():
        raise Invalid("is empty")
    return value.strip()


def _matching(pattern: str, accepted: str) -> Callable[[str], str]:
    regex = re.compile(pattern)

    def parse(value: str) -> str:
        if not regex.match(value):
            raise Invalid(f"{value!r} is not {accepted}")
        return value

    return parse


def _int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value.replace("_", ""))
        except ValueError:
            raise Invalid(f"{value!r} is not a whole number; use {low} to {high:,}") from None
        if not low <= number <= high:
            raise Invalid(f"{number:,} is out of range; use {low} to {high:,}")
        return number

    return parse


def _one_of(*choices: Any) -> Callable[[str], Any]:
    def parse(value: str) -> Any:
        for choice in choices:
            if value == str(choice):
                return choice
        raise Invalid(f"{value!r} is not one of {', '.join(str(c) for c in choices)}")

    return parse


def _boolean(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise Invalid(f"{value!r} is not a boolean; use true or false")


def _csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _csv_matching(pattern: str, accepted: str) -> Callable[[str], tuple[str, ...]]:
    regex = re.compile(pattern)

    def parse(value: str) -> tuple[str, ...]:
        items = _csv(value)
        bad = [item for item in items if not regex.match(item)]
        if bad:
            raise Invalid(f"{', '.join(repr(b) for b in bad)} {'is' if len(bad) == 1 else 'are'} not {accepted}")
        if len(set(items)) != len(items):
            raise Invalid("lists a value twice")
        return items

    return parse


def _cidr(value: str) -> ipaddress.IPv4Network:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise Invalid(f"{value!r} is not an IPv4 CIDR block like 10.0.0.0/16 ({exc})") from None
    if not 16 <= network.prefixlen <= 22:
        raise Invalid(f"{value!r}: the prefix must be /16 to /22 (AWS allows /16 at most, and we need room for 6 subnets)")
    if not network.is_private:
        raise Invalid(f"{value!r} is not a private (RFC 1918) range")
    return network


def _start_command(value: str) -> str:
    value = _text(value)
    if "{worker_file}" not in value:
        raise Invalid("must contain the placeholder {worker_file}, e.g. 'bash apps/api/scripts/start-worker.sh {worker_file}'")
    try:
        value.format(worker_file="x")
    except (KeyError, IndexError, ValueError):
        raise Invalid("may contain no placeholder but {worker_file} (write {{ and }} for literal braces)") from None
    return value


def _relative_dir(value: str) -> str:
    value = _text(value).strip("/")
    if not value or ".." in Path(value).parts or Path(value).is_absolute():
        raise Invalid(f"{value!r} must be a relative folder inside the monorepo, e.g. apps/api/src/workers")
    return value


def _source_directory(value: str) -> str:
    value = _text(value)
    if not value.startswith("/") or ".." in value.split("/"):
        raise Invalid(f"{value!r} must be an absolute path inside the repository, e.g. / or /backend")
    return value


@dataclass(frozen=True)
class Key:
    name: str
    field: str
    default: str | None  # None: required
    parse: Callable[[str], Any]
    help: str


KEYS: tuple[Key, ...] = (
    Key("APP_RUNNER_CONNECTION_ARN", "connection_arn", None,
        _matching(ARN_RE.pattern, "an App Runner connection ARN like arn:aws:apprunner:<region>:<12-digit account>:connection/<name>/<32-hex id>"),
        "ARN of the App Runner connection to GitHub (App Runner console > Connections)."),
    Key("AWS_REGION", "aws_region", None,
        _matching(REGION_RE.pattern, "an AWS region like eu-west-1"), "Region of every resource; must be the connection's region."),
    Key("PROJECT_NAME", "project_name", None,
        _matching(r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$", "3-20 characters of a-z, 0-9 and -, starting with a letter"),
        "Prefix of every name (service names are <project>-<env>-<route>)."),
    Key("ENVIRONMENT", "environment", None,
        _matching(r"^[a-z][a-z0-9]{1,9}$", "2-10 lowercase letters/digits starting with a letter, e.g. dev, staging, prod"),
        "Environment name; `prod` or `production` turn on production defaults."),
    Key("REPOSITORY_URL", "repository_url", None,
        _matching(REPO_RE.pattern, "an https GitHub repository URL like https://github.com/acme/platform"),
        "GitHub repository App Runner builds from."),
    Key("BRANCH", "branch", "main", _matching(r"^[A-Za-z0-9._/-]+$", "a git branch name"), "Branch App Runner builds and deploys."),
    Key("SOURCE_DIRECTORY", "source_directory", "/", _source_directory, "Monorepo root inside the repository."),
    Key("MONOREPO_ROOT", "monorepo_root", ".", _text, "Local checkout of the monorepo, relative to the settings file."),
    Key("WORKERS_DIR", "workers_dir", "apps/api/src/workers", _relative_dir, "Folder of worker entry points, inside the monorepo."),
    Key("WORKER_INCLUDE", "worker_include", "*.ts", _csv, "Comma-separated glob(s) of worker entry files."),
    Key("WORKER_EXCLUDE", "worker_exclude", "*.spec.ts,*.test.ts,*.d.ts,index.ts,_*,.*", _csv,
        "Comma-separated glob(s) of files and folders that are not workers."),
    Key("WORKER_FOLDER_ENTRY", "worker_folder_entry", "main.ts", _matching(r"^[A-Za-z0-9_.-]+\.ts$", "a .ts file name"),
        "A sub-folder holding this file is a worker named after the folder."),
    Key("BUILD_COMMAND", "build_command", DEFAULT_BUILD_COMMAND, _text, "App Runner build command."),
    Key("START_COMMAND", "start_command", DEFAULT_START_COMMAND, _start_command,
        "Start command template; {worker_file} is the compiled worker path, e.g. email-sender.worker.js."),
    Key("RUNTIME", "runtime", "NODEJS_22", _one_of(*RUNTIMES), "App Runner managed runtime."),
    Key("PORT", "port", "3000", _int_between(1, 65535), "Port the workers listen on."),
    Key("WORKER_CPU", "worker_cpu", "1024", _one_of(*CPU_MEMORY), "Default CPU units per instance (workers.toml overrides)."),
    Key("WORKER_MEMORY", "worker_memory", "2048", _one_of(512, 1024, 2048, 3072, 4096, 6144, 8192, 10240, 12288),
        "Default memory (MB) per instance."),
    Key("WORKER_MIN_INSTANCES", "worker_min_instances", "1", _int_between(1, 25), "Default minimum instances."),
    Key("WORKER_MAX_INSTANCES", "worker_max_instances", "3", _int_between(1, 25), "Default maximum instances."),
    Key("WORKER_MAX_CONCURRENCY", "worker_max_concurrency", "100", _int_between(1, 200),
        "Default concurrent requests per instance before scaling out."),
    Key("AUTO_DEPLOYMENTS", "auto_deployments", "true", _boolean, "Deploy on every push to BRANCH."),
    Key("WAF_RATE_LIMIT", "waf_rate_limit", "2000", _int_between(10, 2_000_000_000),
        "Requests per client IP per 5 minutes before WAF blocks it."),
    Key("API_THROTTLE_RATE_LIMIT", "api_throttle_rate_limit", "1000", _int_between(1, 10_000),
        "Stage-wide steady-state requests per second."),
    Key("API_THROTTLE_BURST_LIMIT", "api_throttle_burst_limit", "2000", _int_between(1, 5_000), "Stage-wide burst."),
    Key("MANAGE_API_GATEWAY_ACCOUNT", "manage_api_gateway_account", "true", _boolean,
        "Set the region's API Gateway CloudWatch role (one per account and region: turn off in all but one stack)."),
    Key("LOG_RETENTION_DAYS", "log_retention_days", "365",
        _one_of(1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653),
        "Retention of API access logs and WAF logs (a CloudWatch Logs value)."),
    Key("VPC_CIDR", "vpc_cidr", "10.0.0.0/16", _cidr, "CIDR of the new VPC (/16 to /22)."),
    Key("AZ_COUNT", "az_count", "2", _int_between(2, 3), "Availability zones to spread over."),
    Key("AVAILABILITY_ZONES", "availability_zones", "",
        _csv_matching(r"^[a-z]{2}(-[a-z]+)+-\d[a-z]$", "an availability zone name like eu-west-1a"),
        "Explicit AZ names (comma-separated); default: the first AZ_COUNT zones of the region."),
    Key("NAT_PER_AZ", "nat_per_az", "", _boolean, "One NAT gateway per AZ; default true for prod, false otherwise."),
    Key("VPC_ID", "vpc_id", "", _matching(r"^vpc-[0-9a-f]{8,17}$", "a VPC id like vpc-0123456789abcdef0"),
        "Use an existing VPC instead of creating one (needs PRIVATE_SUBNET_IDS)."),
    Key("PRIVATE_SUBNET_IDS", "private_subnet_ids", "",
        _csv_matching(r"^subnet-[0-9a-f]{8,17}$", "a subnet id like subnet-0123456789abcdef0"),
        "Private subnets of VPC_ID (2 or 3, in distinct AZs, with a route to a NAT gateway)."),
)
KEYS_BY_NAME = {key.name: key for key in KEYS}


@dataclass(frozen=True)
class Settings:
    settings_file: Path
    is_example: bool
    connection_arn: str
    aws_region: str
    project_name: str
    environment: str
    repository_url: str
    branch: str
    source_directory: str
    monorepo_root: Path
    workers_dir: str
    worker_include: tuple[str, ...]
    worker_exclude: tuple[str, ...]
    worker_folder_entry: str
    build_command: str
    start_command: str
    runtime: str
    port: int
    worker_cpu: int
    worker_memory: int
    worker_min_instances: int
    worker_max_instances: int
    worker_max_concurrency: int
    auto_deployments: bool
    waf_rate_limit: int
    api_throttle_rate_limit: int
    api_throttle_burst_limit: int
    manage_api_gateway_account: bool
    log_retention_days: int
    vpc_cidr: ipaddress.IPv4Network
    az_count: int
    availability_zones: tuple[str, ...]
    nat_per_az: bool
    vpc_id: str
    private_subnet_ids: tuple[str, ...]
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_production(self) -> bool:
        return self.environment in PRODUCTION_ENVIRONMENTS

    @property
    def stack_name(self) -> str:
        return f"{self.project_name}-{self.environment}"

    @property
    def name_prefix(self) -> str:
        return f"{self.project_name}-{self.environment}"

    @property
    def settings_dir(self) -> Path:
        return self.settings_file.parent

    @property
    def workers_path(self) -> Path:
        return self.monorepo_root / self.workers_dir

    @property
    def uses_existing_vpc(self) -> bool:
        return bool(self.vpc_id)


@dataclass(frozen=True)
class SettingsSource:
    path: Path
    is_example: bool


def locate_settings(env_file: str | os.PathLike | None = None, environ: Mapping[str, str] | None = None,
                    default: Path | None = None) -> SettingsSource:
    """--env-file, else $INFRA_ENV_FILE, else .env in the project root, else the embedded example (flagged)."""
    environ = os.environ if environ is None else environ
    default = DEFAULT_SETTINGS if default is None else default
    chosen = env_file or environ.get(SETTINGS_FILE_VARIABLE)
    if chosen:
        return SettingsSource(Path(chosen).absolute(), is_example=False)
    if default.exists():
        return SettingsSource(default.absolute(), is_example=False)
    return SettingsSource(EXAMPLE_SETTINGS, is_example=True)


def load_settings(source: SettingsSource, environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate; raise InputError listing every problem.

    Known keys set in the process environment override the file, except for the embedded
    example, which is synthesized from its own file only so a developer's shell cannot break it.
    """
    environ = {} if source.is_example else (os.environ if environ is None else environ)
    problems = Problems()
    path = source.path
    if not path.is_file():
        problems.add(path, "", f"settings file not found (given by --env-file or ${SETTINGS_FILE_VARIABLE}); "
                               "copy examples/monorepo/infra/aws/.env.example and edit it")
        problems.raise_if_any()
    entries = read_env_file(path, problems)
    if entries is None:  # unreadable: reporting every required key as missing too would only be noise
        problems.raise_if_any()

    for key in entries:
        if key not in KEYS_BY_NAME:
            close = difflib.get_close_matches(key, KEYS_BY_NAME, n=1, cutoff=0.85)
            if close:
                problems.add(path, key, f"unknown key; did you mean {close[0]}?")

    raw: dict[str, str] = {}
    origin: dict[str, str] = {}
    for key in KEYS:
        if key.name in environ:
            raw[key.name], origin[key.name] = environ[key.name], "environment variable"
        elif key.name in entries:
            raw[key.name] = entries[key.name].value
            origin[key.name] = f"{display_path(path)}"
    values: dict[str, Any] = {}
    for key in KEYS:
        text = raw.get(key.name)
        where = origin.get(key.name, display_path(path))
        if text is None or (text.strip() == "" and key.default is None):
            if key.default is None:
                problems.add(where, key.name, f"is required ({key.help})")
                continue
            text = key.default
        if text.strip() == "" and key.default == "":
            values[key.field] = None
            continue
        try:
            values[key.field] = key.parse(text)
        except Invalid as exc:
            problems.add(where, key.name, str(exc))

    _cross_checks(values, origin, path, problems)
    problems.raise_if_any()

    values["monorepo_root"] = (path.parent / values["monorepo_root"]).resolve()
    values["nat_per_az"] = (values["environment"] in PRODUCTION_ENVIRONMENTS
                            if values["nat_per_az"] is None else values["nat_per_az"])
    for optional in ("availability_zones", "private_subnet_ids"):
        values[optional] = values[optional] or ()
    values["vpc_id"] = values["vpc_id"] or ""
    return Settings(settings_file=path, is_example=source.is_example, sources=origin, **values)


def _cross_checks(values: dict[str, Any], origin: dict[str, str], path: Path, problems: Problems) -> None:
    def where(key: str) -> str:
        return origin.get(key, display_path(path))

    arn, region = values.get("connection_arn"), values.get("aws_region")
    if arn and region:
        arn_region = ARN_RE.match(arn).group("region")
        if arn_region != region:
            problems.add(where("APP_RUNNER_CONNECTION_ARN"), "APP_RUNNER_CONNECTION_ARN",
                         f"is in region {arn_region} but AWS_REGION is {region}; App Runner connections are regional, "
                         f"create one in {region} or change AWS_REGION")
    cpu, memory = values.get("worker_cpu"), values.get("worker_memory")
    if cpu and memory and memory not in CPU_MEMORY[cpu]:
        problems.add(where("WORKER_MEMORY"), "WORKER_MEMORY",
                     f"{memory} MB is not allowed with {cpu} CPU units; use {cpu_memory_hint(cpu)}")
    low, high = values.get("worker_min_instances"), values.get("worker_max_instances")
    if low and high and low > high:
        problems.add(where("WORKER_MIN_INSTANCES"), "WORKER_MIN_INSTANCES",
                     f"{low} is more than WORKER_MAX_INSTANCES ({high})")
    zones, count = values.get("availability_zones"), values.get("az_count")
    if zones and count and len(zones) != count:
        problems.add(where("AVAILABILITY_ZONES"), "AVAILABILITY_ZONES",
                     f"lists {len(zones)} zone(s) but AZ_COUNT is {count}")
    if zones and region and any(not z.startswith(region) for z in zones):
        problems.add(where("AVAILABILITY_ZONES"), "AVAILABILITY_ZONES", f"every zone must be in AWS_REGION {region}")
    vpc_id, subnets = values.get("vpc_id"), values.get("private_subnet_ids")
    if vpc_id and not subnets:
        problems.add(where("PRIVATE_SUBNET_IDS"), "PRIVATE_SUBNET_IDS", "is required with VPC_ID (2 or 3 private subnet ids)")
    if subnets and not vpc_id:
        problems.add(where("VPC_ID"), "VPC_ID", "is required with PRIVATE_SUBNET_IDS")
    if subnets and not 2 <= len(subnets) <= 3:
        problems.add(where("PRIVATE_SUBNET_IDS"), "PRIVATE_SUBNET_IDS",
                     f"lists {len(subnets)} subnet(s); give 2 or 3, in distinct availability zones")


def cpu_memory_hint(cpu: int) -> str:
    return " or ".join(f"{m} MB" for m in CPU_MEMORY[cpu])
