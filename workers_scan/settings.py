"""Infrastructure settings: the schema (one Key per setting: its field, default, parser and help) and the
Settings it gives.

Read and checked once, before any construct is built, with every problem reported at once, by the modules
beside this one: setting_parsers.py (each value), settings_files.py (where the values come from, in layers) and
settings_checks.py (across keys and environments), which import this module and never the reverse; the package's
__init__ is their public face.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, get_args, get_origin, get_type_hints

from .errors import display_path
from .fargate import FARGATE_CPU_MEMORY, ROUTING_DOMAIN
from .setting_parsers import Invalid as Invalid  # re-exported: the error every parser raises
from .setting_parsers import (KMS_KEY_ARN_RE, parse_acu_from, parse_boolean, parse_cidr, parse_csv, parse_csv_matching, parse_environments,
                              parse_int_between, parse_kms_key_arn, parse_matching, parse_one_of, parse_ports, parse_size,
                              parse_relative_dirs, parse_source_directory, parse_start_command, parse_state_key, parse_text, parse_waf_rules, parse_workspace)
from .setting_parsers import ENVIRONMENT_RE as ENVIRONMENT_RE, RESERVED_ENVIRONMENTS as RESERVED_ENVIRONMENTS

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_MONOREPO = PROJECT_ROOT / "examples" / "monorepo"
EXAMPLE_SETTINGS = EXAMPLE_MONOREPO / "infra" / "aws" / ".env.example"
# The same example on COMPUTE=ecs. Not `.env.ecs`: that is the layer of an environment named ecs (ENVIRONMENTS).
EXAMPLE_ECS_SETTINGS = EXAMPLE_SETTINGS.with_name(".env.ecs.example")
DEFAULT_SETTINGS = PROJECT_ROOT / ".env"
SETTINGS_FILE_VARIABLE = "INFRA_ENV_FILE"
FROM_ENVIRONMENT = "environment variable"   # the source of a key taken from the process environment

# The seed's command, with SHELL given to pnpm's installer: its `pnpm setup` refuses to run without one, which a
# Docker RUN step (ECS's image) does not set, and App Runner's build may not either.
DEFAULT_BUILD_COMMAND = (
    "curl -fsSL https://get.pnpm.io/install.sh | SHELL=/bin/bash sh - && export PATH=$HOME/.local/share/pnpm:$PATH"
    " && pnpm install --frozen-lockfile && pnpm run build {filters}"
    " && cp -R apps/api/src/i18n apps/api/dist/i18n"
)
# {package}: the folder of the package each worker's folder belongs to (apps/api), so each runs its own script.
DEFAULT_START_COMMAND = "bash {package}/scripts/start-worker.sh {worker_file}"

# App Runner's allowed vCPU (units) -> memory (MB) pairs.
CPU_MEMORY = {
    256: (512, 1024),
    512: (1024,),
    1024: (2048, 3072, 4096),
    2048: (4096, 6144),
    4096: (8192, 10240, 12288),
}
# Each backend's table of CPU units -> memory (MB): WORKER_CPU/WORKER_MEMORY and workers.toml sizes are checked
# against the one of COMPUTE.
SIZE_TABLES: dict[str, dict[int, tuple[int, ...]]] = {"apprunner": CPU_MEMORY, "ecs": FARGATE_CPU_MEMORY}
# Runtimes of hashicorp/aws 5.100.0's code_configuration_values.runtime that we support.
RUNTIMES = ("NODEJS_22", "NODEJS_18")
PRODUCTION_ENVIRONMENTS = ("prod", "production")

ARN_RE = re.compile(
    r"^arn:aws:apprunner:(?P<region>[a-z]{2}(-[a-z]+)+-\d):(?P<account>\d{12}):connection/"
    r"(?P<name>[A-Za-z0-9][A-Za-z0-9_-]{3,31})/(?P<id>[0-9a-f]{32})$"
)
CODECONNECTIONS_ARN_RE = re.compile(
    r"^arn:aws:(codeconnections|codestar-connections):(?P<region>[a-z]{2}(-[a-z]+)+-\d):(?P<account>\d{12}):"
    r"connection/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
CERTIFICATE_ARN_RE = re.compile(
    r"^arn:aws:acm:(?P<region>[a-z]{2}(-[a-z]+)+-\d):\d{12}:certificate/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"
    r"[0-9a-f]{4}-[0-9a-f]{12}$"
)
COMPUTE_BACKENDS = tuple(SIZE_TABLES)
# The connection to GitHub each backend builds through: the key is required with that backend.
CONNECTION_KEY = {"apprunner": "APP_RUNNER_CONNECTION_ARN", "ecs": "CODECONNECTIONS_ARN"}
# Keys one backend reads and the other does not (a key of the other backend, set, is an error, never ignored).
BACKEND_ONLY_KEYS: dict[str, tuple[str, ...]] = {
    "apprunner": ("APP_RUNNER_CONNECTION_ARN", "APPRUNNER_SCALING_CONFIGURATION_QUOTA", "WORKER_MAX_CONCURRENCY"),
    "ecs": ("CODECONNECTIONS_ARN", "ECS_CERTIFICATE_ARN", "ECS_ROUTING_DOMAIN", "ECS_REQUESTS_PER_TARGET"),
}
REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
REPO_RE = re.compile(r"^https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?(\.git)?$")


@dataclass(frozen=True)
class Key:
    name: str
    field: str
    default: str | None  # None: required
    parse: Callable[[str], Any]
    help: str           # docs/settings.md's meaning column, init's comments and the errors' hint: Markdown-light text
    shown_default: str = ""   # the default as docs/settings.md states it, where the value alone would not say it


KEYS: tuple[Key, ...] = (
    Key("COMPUTE", "compute", "apprunner", parse_one_of(*COMPUTE_BACKENDS),
        "What runs the workers: `apprunner` (private App Runner services) or `ecs` (ECS on Fargate behind an "
        "internal ALB, one image built per push); see docs/backends.md."),
    Key("APP_RUNNER_CONNECTION_ARN", "connection_arn", "",
        parse_matching(ARN_RE.pattern, "an App Runner connection ARN like arn:aws:apprunner:<region>:<12-digit account>:connection/<name>/<32-hex id>"),
        "ARN of the App Runner connection to GitHub: "
        "`arn:aws:apprunner:<region>:<account>:connection/<name>/<id>`, in `AWS_REGION`."),
    Key("CODECONNECTIONS_ARN", "codeconnections_arn", "",
        parse_matching(CODECONNECTIONS_ARN_RE.pattern, "a CodeConnections connection ARN like arn:aws:codeconnections:<region>:<12-digit account>:connection/<uuid>"),
        "ARN of the CodeConnections connection to GitHub the image build clones through: "
        "`arn:aws:codeconnections:<region>:<account>:connection/<uuid>` (or `codestar-connections`), in "
        "`AWS_REGION`."),
    Key("ECS_CERTIFICATE_ARN", "ecs_certificate_arn", "",
        parse_matching(CERTIFICATE_ARN_RE.pattern, "an ACM certificate ARN like arn:aws:acm:<region>:<12-digit account>:certificate/<uuid>"),
        "`ecs` only: ACM certificate covering `*.<ECS_ROUTING_DOMAIN>` for the workers' internal ALB, so API "
        "Gateway reaches it over TLS; empty: HTTP inside the private subnets. API Gateway trusts only "
        "certificates of public CAs for its integrations, so this needs a public ACM certificate and "
        "`ECS_ROUTING_DOMAIN` set to a domain you own."),
    Key("ECS_ROUTING_DOMAIN", "ecs_routing_domain", ROUTING_DOMAIN,
        parse_matching(r"^(?=.{4,200}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", "a lowercase domain name like workers.example.com"),
        "`ecs` only: each worker's host on the internal ALB is `<route>.<domain>` (API Gateway sends it as Host"
        " and SNI; it is never resolved, the VPC link goes to the NLB). `.internal` is reserved for private "
        "use; with `ECS_CERTIFICATE_ARN`, a domain of yours (e.g. `workers.example.com`) is required."),
    Key("ECS_REQUESTS_PER_TARGET", "ecs_requests_per_target", "1000", parse_int_between(1, 1_000_000),
        "`ecs` only: requests per minute per task above which a worker scales out (target tracking on "
        "`ALBRequestCountPerTarget`, with CPU at 70 %)."),
    Key("AWS_REGION", "aws_region", None,
        parse_matching(REGION_RE.pattern, "an AWS region like eu-west-1"), "Region of every resource; must be "
                                                                           "the connection's region."),
    Key("PROJECT_NAME", "project_name", None,
        parse_matching(r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$", "3-20 characters of a-z, 0-9 and -, starting with a letter"),
        "3-20 of `a-z0-9-`; prefix of every name (service names are `<project>-<env>-<route>`)."),
    Key("ENVIRONMENT", "environment", None,
        parse_matching(ENVIRONMENT_RE.pattern, "2-10 lowercase letters/digits starting with a letter, e.g. dev, staging, prod"),
        "e.g. `dev`, `staging`, `prod`; `prod` or `production` turn on production defaults (production "
        "defaults, below the table)."),
    Key("REPOSITORY_URL", "repository_url", None,
        parse_matching(REPO_RE.pattern, "an https GitHub repository URL like https://github.com/acme/platform"),
        "GitHub repository the workers are built from (App Runner, or the ECS image build): "
        "`https://github.com/<owner>/<repo>`."),
    Key("BRANCH", "branch", "main", parse_matching(r"^[A-Za-z0-9._/-]+$", "a git branch name"), "Branch App "
                                                                                                "Runner builds "
                                                                                                "and deploys."),
    Key("SOURCE_DIRECTORY", "source_directory", "/", parse_source_directory, "Monorepo root inside the "
                                                                             "repository."),
    Key("MONOREPO_ROOT", "monorepo_root", ".", parse_text, "Local checkout of the monorepo, relative to the "
                                                           "settings file."),
    Key("WORKERS_DIR", "workers_dirs", "apps/api/src/workers", parse_relative_dirs,
        "Folder of worker entry points, inside the monorepo; several comma-separated folders (one per package, e.g. "
        "`apps/api/src/workers,apps/jobs/src/workers`) join one platform. Each folder's package is the nearest "
        "package.json with a name above it (docs/worker-folders.md)."),
    Key("WORKER_INCLUDE", "worker_include", "*.ts", parse_csv, "Comma-separated glob(s) of worker entry files."),
    Key("WORKER_EXCLUDE", "worker_exclude", "", parse_csv,
        "More comma-separated glob(s) of files and folders that are not workers, added to those always excluded"
        " (docs/workers.md)."),
    Key("WORKER_DEFAULT_EXCLUSIONS", "worker_default_exclusions", "true", parse_boolean,
        "The built-in exclusions (docs/workers.md); `false` leaves only `WORKER_EXCLUDE`."),
    Key("WORKER_FOLDER_ENTRY", "worker_folder_entry", "main.ts", parse_matching(r"^[A-Za-z0-9_.-]+\.ts$", "a .ts file name"),
        "A sub-folder holding this file is a worker named after the folder."),
    Key("BUILD_COMMAND", "build_command", DEFAULT_BUILD_COMMAND, parse_text,
        "Build command (App Runner's, ECS's image build); `{filters}` becomes `--filter <package>` for the package "
        "of each WORKERS_DIR folder.", shown_default="the seed's, below"),
    Key("START_COMMAND", "start_command", DEFAULT_START_COMMAND, parse_start_command,
        "Start command template; `{worker_file}` is the compiled worker path relative to its workers folder, e.g. "
        "`email-sender.worker.js`; `{package}` is the folder of the worker's package, e.g. `apps/api`."),
    Key("RUNTIME", "runtime", "NODEJS_22", parse_one_of(*RUNTIMES), "App Runner managed runtime (`NODEJS_22` or"
                                                                    " `NODEJS_18`)."),
    Key("PORT", "port", "3000", parse_int_between(1, 65535), "Port the workers listen on."),
    Key("WORKER_CPU", "worker_cpu", "1024", parse_size,
        "Default CPU units per instance (or task), from the backend's table (docs/workers.md)."),
    Key("WORKER_MEMORY", "worker_memory", "2048", parse_size,
        "Default memory (MB) per instance (or task); must fit the CPU in the backend's table."),
    Key("WORKER_MIN_INSTANCES", "worker_min_instances", "1", parse_int_between(1, 25), "Default minimum "
                                                                                       "instances."),
    Key("WORKER_MAX_INSTANCES", "worker_max_instances", "3", parse_int_between(1, 25), "Default maximum "
                                                                                       "instances."),
    Key("WORKER_MAX_CONCURRENCY", "worker_max_concurrency", "100", parse_int_between(1, 200),
        "App Runner: default concurrent requests per instance before scaling out (ecs uses "
        "`ECS_REQUESTS_PER_TARGET`)."),
    Key("APPRUNNER_SCALING_CONFIGURATION_QUOTA", "apprunner_scaling_configuration_quota", "10",
        parse_int_between(1, 1000),
        "Your account's App Runner quota of auto scaling configuration names per region. Workers with the same "
        "`min_instances`/`max_instances`/`max_concurrency` share one configuration per environment; a synth "
        "needing more than this is refused. Raise it only after AWS raised the quota."),
    Key("AUTO_DEPLOYMENTS", "auto_deployments", "true", parse_boolean, "Deploy on every push to `BRANCH`."),
    Key("REDEPLOY_ON_SECRET_CHANGE", "redeploy_on_secret_change", "true", parse_boolean,
        "When a Secrets Manager secret the workers read gets a new value (RDS rotates the database's every 7 "
        "days), redeploy the workers that read it, so they start with it (docs/worker-environment.md, \"The "
        "database password rotates\"). On App Runner only with `AUTO_DEPLOYMENTS=true`: a redeploy builds "
        "`BRANCH`'s latest commit."),
    Key("WAF_RATE_LIMIT", "waf_rate_limit", "2000", parse_int_between(10, 2_000_000_000),
        "Requests per client IP per 5 minutes before WAF blocks it (10 to 2,000,000,000)."),
    Key("WAF_COUNT_RULES", "waf_count_rules", "", parse_waf_rules,
        "Rules of the managed groups that only count instead of blocking, comma-separated "
        "(`SizeRestrictions_BODY,NoUserAgent_HEADER`); each must be a published rule of the two groups, or "
        "synth names it. See docs/what-gets-created.md, \"The WAF and your API\"."),
    Key("WAF_LOG_ALL_REQUESTS", "waf_log_all_requests", "true", parse_boolean,
        "WAF logs every request; `false` keeps only blocked and counted requests, to bound log cost."),
    Key("API_AUTHORIZATION", "api_authorization", "NONE", parse_one_of("NONE", "AWS_IAM"),
        "Authorization of every route: `NONE` (the workers authenticate their callers) or `AWS_IAM` (callers "
        "sign requests with SigV4 and need `execute-api:Invoke`)."),
    Key("API_THROTTLE_RATE_LIMIT", "api_throttle_rate_limit", "1000", parse_int_between(1, 10_000),
        "Stage-wide steady-state requests per second."),
    Key("API_THROTTLE_BURST_LIMIT", "api_throttle_burst_limit", "2000", parse_int_between(1, 5_000), "Stage-wide"
                                                                                                     " burst."),
    Key("MANAGE_API_GATEWAY_ACCOUNT", "manage_api_gateway_account", "", parse_boolean,
        "This stack sets the region's API Gateway CloudWatch role (one setting per account and region). Unset: "
        "in a synth, one stack per region does, the production one, else the first environment; `true` in two "
        "stacks of a region is an error. Every stack's stage writes JSON access logs, which AWS accepts only "
        "once the region has the role: apply the managing stack first (`cdktf deploy` does, the stacks depend "
        "on it). Execution logs stay off (docs/what-gets-created.md, \"Log groups\").",
        shown_default="one stack per region"),
    Key("LOG_RETENTION_DAYS", "log_retention_days", "365",
        parse_one_of(1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653),
        "Retention of every log group the stack makes: API access, WAF, flow logs, the PostgreSQL log, ECS "
        "tasks, builds and Container Insights, the secret redeploy's errors (a CloudWatch Logs value)."),
    Key("WORKER_VPC_EGRESS", "worker_vpc_egress", "true", parse_boolean,
        "App Runner: route worker egress through the VPC connector (required for Aurora and Redis). Off: App "
        "Runner's default internet egress, no connector. On `ecs` tasks always run in the VPC: `false` is an "
        "error."),
    Key("WORKER_EGRESS_PORTS", "worker_egress_ports", "443", parse_ports,
        "TCP ports workers may reach on the internet through the connector and NAT (comma-separated), e.g. "
        "`443,587` for SMTP."),
    Key("AURORA_ENABLED", "aurora_enabled", "true", parse_boolean, "Create the Aurora PostgreSQL Serverless v2 "
                                                                   "cluster (off: bring your own `DB_HOST` "
                                                                   "through `.env.workers`)."),
    Key("AURORA_ENGINE_VERSION", "aurora_engine_version", "16.6",
        parse_matching(r"^1[3-7]\.\d{1,2}$", "an Aurora PostgreSQL version like 16.6"), "Aurora PostgreSQL "
                                                                                        "engine version."),
    Key("AURORA_AUTO_MINOR_UPGRADE", "aurora_auto_minor_upgrade", "true", parse_boolean,
        "RDS applies minor versions in the maintenance window, and Terraform ignores the resulting "
        "`engine_version` drift (else the next plan would try a downgrade). Set `false` to upgrade only by "
        "changing `AURORA_ENGINE_VERSION`."),
    Key("AURORA_MIN_ACU", "aurora_min_acu", "0.5", parse_acu_from(0),
        "Serverless v2 minimum capacity (ACU, 0 to 256 in steps of 0.5)."),
    Key("AURORA_MAX_ACU", "aurora_max_acu", "4", parse_acu_from(1),
        "Serverless v2 maximum capacity (ACU, 1 to 256 in steps of 0.5; at least `AURORA_MIN_ACU`)."),
    Key("AURORA_DATABASE_NAME", "aurora_database_name", "app",
        parse_matching(r"^[a-z][a-z0-9_]{0,62}$", "a PostgreSQL database name (a-z, 0-9, _; starting with a letter)"),
        "Database created in the cluster (`DB_NAME`)."),
    Key("AURORA_MASTER_USERNAME", "aurora_master_username", "app_admin",
        parse_matching(r"^[a-z][a-z0-9_]{0,15}$", "1-16 of a-z, 0-9 and _, starting with a letter"),
        "Master user (`DB_USER`); RDS generates its password and keeps it in Secrets Manager."),
    Key("AURORA_IAM_USER", "aurora_iam_user", "",
        parse_matching(r"^[a-z][a-z0-9_]{0,62}$", "a PostgreSQL user name (a-z, 0-9, _; starting with a letter)"),
        "Workers connect as this IAM-authenticated database user instead of the master user: their roles may "
        "`rds-db:connect` as exactly this user, and they get no master secret (docs/worker-environment.md, \"The"
        " database password rotates\"). Create the user once (docs/worker-environment.md)."),
    Key("AURORA_READER", "aurora_reader", "", parse_boolean, "Add a reader instance."),
    Key("AURORA_BACKUP_RETENTION_DAYS", "aurora_backup_retention_days", "", parse_int_between(1, 35),
        "Automated backup retention (1 to 35 days)."),
    Key("ALLOW_DESTROY_DATA", "allow_destroy_data", "false", parse_boolean,
        "Throwaway environments only. By default, in every environment, Aurora has deletion protection, "
        "`prevent_destroy` and a final snapshot, Redis `prevent_destroy` and a final snapshot, and the NLB "
        "deletion protection (docs/day-2.md). `true` lifts all of it: `terraform destroy`, or a setting that "
        "replaces a store, deletes its data with no snapshot. Synth prints a line while it is on. (Replaces "
        "`AURORA_DELETION_PROTECTION` and `AURORA_PREVENT_DESTROY`, which are now errors.)"),
    Key("AURORA_PERFORMANCE_INSIGHTS", "aurora_performance_insights", "true", parse_boolean,
        "Performance Insights on the instances (7 days of history, AWS's free tier)."),
    Key("AURORA_MONITORING_INTERVAL", "aurora_monitoring_interval", "60", parse_one_of(0, 1, 5, 10, 15, 30, 60),
        "Seconds between Enhanced Monitoring samples (OS metrics, 1 to 60); `0` turns it off. The monitoring "
        "role may write only to RDS's `RDSOSMetrics` log group and only RDS of this account may assume it."),
    Key("AURORA_KMS_KEY_ARN", "aurora_kms_key_arn", "",
        parse_kms_key_arn,
        "Customer managed KMS key for storage, the master secret and Performance Insights; default: AWS managed"
        " keys."),
    Key("REDIS_ENABLED", "redis_enabled", "true", parse_boolean, "Create the ElastiCache replication group."),
    Key("REDIS_ENGINE", "redis_engine", "valkey", parse_one_of("valkey", "redis"), "`valkey` or `redis`."),
    Key("REDIS_ENGINE_VERSION", "redis_engine_version", "",
        parse_matching(r"^\d+\.\d+$", "a version like 8.0 (valkey) or 7.1 (redis)"),
        "Engine version."),
    Key("REDIS_NODE_TYPE", "redis_node_type", "cache.t4g.micro",
        parse_matching(r"^cache\.[a-z0-9]+\.[a-z0-9]+$", "an ElastiCache node type like cache.t4g.small"), "Node"
                                                                                                           " "
                                                                                                           "type."),
    Key("REDIS_NODES", "redis_nodes", "", parse_int_between(1, 6),
        "Primary plus replicas; more than one turns on automatic failover and multi-AZ."),
    Key("REDIS_KMS_KEY_ARN", "redis_kms_key_arn", "", parse_kms_key_arn,
        "Customer managed KMS key for the cache at rest; default: the AWS managed key. Choose before the cache "
        "exists: AWS cannot re-key a cache, so a change replaces it, which `prevent_destroy` refuses "
        "(docs/day-2.md)."),
    Key("REDIS_SNAPSHOT_RETENTION_DAYS", "redis_snapshot_retention_days", "", parse_int_between(0, 35),
        "Daily snapshot retention (0 to 35)."),
    Key("SECRET_KEY_ALLOWLIST", "secret_key_allowlist", "", parse_csv,
        "Keys (of `.env.workers*` or settings) whose names or values look secret but are not; each synth names "
        "them."),
    Key("SECRETS_KMS_KEY_ARNS", "secrets_kms_key_arns", "",
        parse_csv_matching(KMS_KEY_ARN_RE, "a KMS key ARN"),
        "Customer managed KMS keys of the secrets/parameters workers read (`kms:Decrypt` is granted on exactly "
        "these)."),
    Key("ENVIRONMENTS", "environments", "", lambda value: parse_environments(value),
        "Several environments in one synth, e.g. `dev,prod`: one stack each (`<project>-<env>`), settings "
        "overlaid from `<settings file>.<env>` (e.g. `.env.prod`); `ENVIRONMENT` is then not needed."),
    Key("STATE_BACKEND", "state_backend", "local", parse_one_of("local", "s3", "cloud", "external"),
        "`local`, `s3`, `cloud` (HCP Terraform / Terraform Enterprise) or `external` (no backend block: bring "
        "`backend.tf`)."),
    Key("STATE_BUCKET", "state_bucket", "", parse_matching(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", "an S3 bucket name"),
        "S3 bucket of the state (required with `s3`)."),
    Key("STATE_KEY", "state_key", "{project}/{environment}/terraform.tfstate", parse_state_key,
        "Object key of the state; `{project}` and `{environment}` are replaced."),
    Key("STATE_REGION", "state_region", "", parse_matching(REGION_RE.pattern, "an AWS region like eu-west-1"),
        "Region of the state bucket.",
        shown_default="`AWS_REGION`"),
    Key("STATE_LOCK_TABLE", "state_lock_table", "", parse_matching(r"^[A-Za-z0-9_.-]{3,255}$", "a DynamoDB table name"),
        "DynamoDB lock table (hash key `LockID`); required with `s3` unless `STATE_USE_LOCKFILE=true`."),
    Key("STATE_USE_LOCKFILE", "state_use_lockfile", "false", parse_boolean,
        "S3-native locking (`use_lockfile`, Terraform >= 1.10), alone or beside the table."),
    Key("STATE_KMS_KEY_ARN", "state_kms_key_arn", "",
        parse_kms_key_arn,
        "KMS key of the state (backend `kms_key_id`, bucket SSE-KMS); default SSE-S3."),
    Key("STATE_BOOTSTRAP", "state_bootstrap", "true", parse_boolean,
        "With `s3`, also synthesize the `<project>-state` stack that creates the bucket and the table."),
    Key("TFC_ORGANIZATION", "tfc_organization", "", parse_matching(r"^[A-Za-z0-9_-]+$", "an organization name"),
        "HCP Terraform organization (required with `cloud`)."),
    Key("TFC_WORKSPACE", "tfc_workspace", "", parse_workspace,
        "Workspace name, `{project}`/`{environment}` replaced (one of this and `TFC_WORKSPACE_TAGS`)."),
    Key("TFC_WORKSPACE_TAGS", "tfc_workspace_tags", "", parse_csv_matching(r"^[A-Za-z0-9_:-]+$", "a workspace tag"),
        "Select workspaces by tags (comma-separated)."),
    Key("TFC_HOSTNAME", "tfc_hostname", "app.terraform.io",
        parse_matching(r"^[A-Za-z0-9.-]+(:\d+)?$", "a host name like app.terraform.io"),
        "HCP Terraform, or your Terraform Enterprise host."),
    Key("LOGS_KMS_KEY_ARN", "logs_kms_key_arn", "",
        parse_kms_key_arn,
        "KMS key of the log groups (API access, WAF, flow logs); it must allow CloudWatch Logs. Default: the "
        "stack creates a rotating key with that grant (alias `alias/<project>-<env>-logs`)."),
    Key("VPC_FLOW_LOGS", "vpc_flow_logs", "true", parse_boolean, "Flow logs of the new VPC to an encrypted "
                                                                 "CloudWatch log group."),
    Key("VPC_CIDR", "vpc_cidr", "10.0.0.0/16", parse_cidr, "CIDR of the new VPC (/16 to /22, private range); "
                                                           "cut into 16 blocks: private subnets first, public "
                                                           "ones from the 9th."),
    Key("AZ_COUNT", "az_count", "2", parse_int_between(2, 3), "Availability zones to spread over (2 or 3)."),
    Key("AVAILABILITY_ZONES", "availability_zones", "",
        parse_csv_matching(r"^[a-z]{2}(-[a-z]+)+-\d[a-z]$", "an availability zone name like eu-west-1a"),
        "Explicit zone names, comma-separated; default: the first `AZ_COUNT` available zones of the region."),
    Key("NAT_PER_AZ", "nat_per_az", "", parse_boolean, "One NAT gateway per AZ; unset means true for prod, "
                                                       "false otherwise (one NAT)."),
    Key("VPC_ID", "vpc_id", "", parse_matching(r"^vpc-[0-9a-f]{8,17}$", "a VPC id like vpc-0123456789abcdef0"),
        "Use an existing VPC instead of creating one (needs `PRIVATE_SUBNET_IDS`)."),
    Key("PRIVATE_SUBNET_IDS", "private_subnet_ids", "",
        parse_csv_matching(r"^subnet-[0-9a-f]{8,17}$", "a subnet id like subnet-0123456789abcdef0"),
        "2 or 3 private subnets of `VPC_ID`, in distinct AZs, with a route to a NAT gateway."),
)
KEYS_BY_NAME = {key.name: key for key in KEYS}


@dataclass(frozen=True)
class Settings:
    settings_file: Path
    is_example: bool
    compute: str
    connection_arn: str
    codeconnections_arn: str
    ecs_certificate_arn: str
    ecs_routing_domain: str
    ecs_requests_per_target: int
    aws_region: str
    project_name: str
    environment: str
    repository_url: str
    branch: str
    source_directory: str
    monorepo_root: Path
    workers_dirs: tuple[str, ...]
    worker_include: tuple[str, ...]
    worker_exclude: tuple[str, ...]
    worker_default_exclusions: bool
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
    apprunner_scaling_configuration_quota: int
    auto_deployments: bool
    redeploy_on_secret_change: bool
    waf_rate_limit: int
    waf_count_rules: tuple[str, ...]
    waf_log_all_requests: bool
    api_authorization: str
    api_throttle_rate_limit: int
    api_throttle_burst_limit: int
    manage_api_gateway_account: bool | None   # None until _assign_api_gateway_account decides
    worker_vpc_egress: bool
    worker_egress_ports: tuple[int, ...]
    aurora_enabled: bool
    aurora_engine_version: str
    aurora_auto_minor_upgrade: bool
    aurora_min_acu: float
    aurora_max_acu: float
    aurora_database_name: str
    aurora_master_username: str
    aurora_iam_user: str
    aurora_reader: bool
    aurora_backup_retention_days: int
    allow_destroy_data: bool
    aurora_performance_insights: bool
    aurora_kms_key_arn: str
    aurora_monitoring_interval: int
    redis_kms_key_arn: str
    redis_enabled: bool
    redis_engine: str
    redis_engine_version: str
    redis_node_type: str
    redis_nodes: int
    redis_snapshot_retention_days: int
    secret_key_allowlist: tuple[str, ...]
    secrets_kms_key_arns: tuple[str, ...]
    environments: tuple[str, ...]
    state_backend: str
    state_bucket: str
    state_key: str
    state_region: str | None
    state_lock_table: str
    state_use_lockfile: bool
    state_kms_key_arn: str
    state_bootstrap: bool
    tfc_organization: str
    tfc_workspace: str
    tfc_workspace_tags: tuple[str, ...]
    tfc_hostname: str
    log_retention_days: int
    logs_kms_key_arn: str
    vpc_flow_logs: bool
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

    def from_environment(self) -> dict[str, Any]:
        """Keys the process environment set (over the settings files), with their values."""
        return {key: getattr(self, KEYS_BY_NAME[key].field) for key, where in sorted(self.sources.items())
                if where == FROM_ENVIRONMENT and key in KEYS_BY_NAME}

    def source_of(self, key: str) -> str:
        """Where `key` was set (a file or "environment variable"); the settings file when it was not."""
        return self.sources.get(key, display_path(self.settings_file))

    @property
    def account_region(self) -> tuple[str, str]:
        """(account, region) of the stack: its backend's connection's account; account-wide settings and quotas
        are per account and region."""
        if self.uses_ecs:
            return CODECONNECTIONS_ARN_RE.match(self.codeconnections_arn).group("account"), self.aws_region
        return ARN_RE.match(self.connection_arn).group("account"), self.aws_region

    @property
    def uses_ecs(self) -> bool:
        return self.compute == "ecs"

    @property
    def redeploys_on_secret_change(self) -> bool:
        """A redeploy on App Runner builds BRANCH's latest commit, which AUTO_DEPLOYMENTS=false keeps out; on ECS it
        restarts the tasks on the image they run."""
        return self.redeploy_on_secret_change and (self.uses_ecs or self.auto_deployments)

    @property
    def name_prefix(self) -> str:
        return f"{self.project_name}-{self.environment}"

    @property
    def state_object_key(self) -> str:
        return self.state_key.format(project=self.project_name, environment=self.environment)

    @property
    def state_bucket_region(self) -> str:
        return self.state_region or self.aws_region

    @property
    def tfc_workspace_name(self) -> str:
        return self.tfc_workspace.format(project=self.project_name, environment=self.environment)

    @property
    def settings_dir(self) -> Path:
        return self.settings_file.parent

    @property
    def workers_dir(self) -> str:
        """The first WORKERS_DIR folder: the one a single-folder monorepo has."""
        return self.workers_dirs[0]

    @property
    def workers_path(self) -> Path:
        """The first workers folder (workers_paths: all of them)."""
        return self.monorepo_root / self.workers_dir

    @property
    def workers_paths(self) -> tuple[Path, ...]:
        return tuple(self.monorepo_root / folder for folder in self.workers_dirs)

    @property
    def uses_existing_vpc(self) -> bool:
        return bool(self.vpc_id)


@dataclass(frozen=True)
class SettingsSource:
    path: Path
    is_example: bool
    # With the example: the .env files found where the command ran that were taken for an application's.
    skipped: tuple[Path, ...] = ()


# Defaults that differ between production and the other environments, in one place.
PRODUCTION_DEFAULTS: dict[str, tuple[Any, Any]] = {  # field: (production, other)
    "nat_per_az": (True, False),
    "aurora_reader": (True, False),
    "aurora_backup_retention_days": (14, 7),
    "redis_nodes": (2, 1),
    "redis_snapshot_retention_days": (7, 1),
}
ENGINE_DEFAULT_VERSIONS = {"valkey": "8.0", "redis": "7.1"}


# Fields an empty key leaves to _apply_environment_defaults.
DERIVED_DEFAULTS = frozenset(PRODUCTION_DEFAULTS) | {"redis_engine_version"}


def _empty_values() -> dict[str, Any]:
    """What a key left empty gives its field, derived from the field's type; checked when this module loads, so a
    new key cannot be left out: tuples are (), text is "", and anything else needs a derived default or None."""
    hints = get_type_hints(Settings)
    fields = set(hints) - {"settings_file", "is_example", "sources"}
    keyed = [key.field for key in KEYS]
    if sorted(keyed) != sorted(fields):
        raise TypeError(f"Settings fields and KEYS differ: fields without a key {sorted(fields - set(keyed))}, "
                        f"keys without a field {sorted(set(keyed) - fields)}, twice {sorted({f for f in keyed if keyed.count(f) > 1})}")
    empty: dict[str, Any] = {}
    for key in KEYS:
        if key.default != "":
            continue
        hint = hints[key.field]
        if key.field in DERIVED_DEFAULTS or type(None) in get_args(hint):
            empty[key.field] = None
        elif get_origin(hint) is tuple:
            empty[key.field] = ()
        elif hint is str:
            empty[key.field] = ""
        else:
            raise TypeError(f"{key.name} may be left empty, but its field {key.field}: {hint} has no empty value; give "
                            "it a default, a derived default (DERIVED_DEFAULTS) or an optional type")
    return empty


EMPTY = _empty_values()
