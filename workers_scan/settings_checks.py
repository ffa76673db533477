"""Checks across settings keys and across environments, and the defaults that depend on the environment: run on
the parsed values, before a Settings exists (one environment) or on all of them (the synth)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from .aws_names import bucket_name_problems, project_name_problems
from .errors import Problems, display_path
from .fargate import routing_domain_problem
from .settings import (ARN_RE, BACKEND_ONLY_KEYS, CERTIFICATE_ARN_RE, CODECONNECTIONS_ARN_RE, ENGINE_DEFAULT_VERSIONS, KEYS_BY_NAME,
                       CONNECTION_KEY, PRODUCTION_DEFAULTS, PRODUCTION_ENVIRONMENTS, SIZE_TABLES, Settings)


def assign_api_gateway_account(results: list[Settings], problems: Problems) -> list[Settings]:
    """API Gateway has one CloudWatch role setting per account and region: exactly one stack per account and
    region of this synth manages it (an explicit true, else the production environment, else the first one)."""
    chosen: dict[str, Settings] = {}
    for account_region in dict.fromkeys(s.account_region for s in results):
        stacks = [s for s in results if s.account_region == account_region]
        claims = [s for s in stacks if s.manage_api_gateway_account is True]
        if len(claims) > 1:
            names = ", ".join(s.stack_name for s in claims)
            problems.add(claims[1].source_of("MANAGE_API_GATEWAY_ACCOUNT"), "MANAGE_API_GATEWAY_ACCOUNT", f"is true for {names} in account {account_region[0]}, "
                         f"{account_region[1]}; the role is one setting per account and region, so set it true for "
                         "one environment only (in its .env.<environment>)")
        candidates = [s for s in stacks if s.manage_api_gateway_account is None]
        default = ([s for s in candidates if s.is_production] or candidates)[:1]
        for settings in claims[:1] or default:
            chosen[settings.stack_name] = settings
    return [replace(s, manage_api_gateway_account=s.stack_name in chosen) for s in results]


def check_stacks_apart(results: list[Settings], problems: Problems) -> None:
    """Two environments of one synth must not share a state."""
    seen: dict[tuple, str] = {}
    for settings in results:
        if settings.state_backend == "s3":
            key = ("s3", settings.state_bucket, settings.state_object_key)
        elif settings.state_backend == "cloud" and settings.tfc_workspace:
            key = ("cloud", settings.tfc_hostname, settings.tfc_organization, settings.tfc_workspace_name)
        else:
            continue
        if key in seen:
            name = "STATE_KEY" if settings.state_backend == "s3" else "TFC_WORKSPACE"
            problems.add(settings.source_of(name), name,
                         f"environments {seen[key]} and {settings.environment} would share one state; "
                         "use the {environment} placeholder")
        seen.setdefault(key, settings.environment)


def apply_environment_defaults(values: dict[str, Any]) -> None:
    production = values["environment"] in PRODUCTION_ENVIRONMENTS
    for name, (prod_value, other_value) in PRODUCTION_DEFAULTS.items():
        if values[name] is None:
            values[name] = prod_value if production else other_value
    if values["redis_engine_version"] is None:
        values["redis_engine_version"] = ENGINE_DEFAULT_VERSIONS[values["redis_engine"]]


def cross_checks(values: dict[str, Any], origin: dict[str, str], path: Path, problems: Problems) -> None:
    def where(key: str) -> str:
        return origin.get(key, display_path(path))

    backend = values.get("state_backend")
    if backend == "s3":
        if not values.get("state_bucket"):
            problems.add(where("STATE_BUCKET"), "STATE_BUCKET", "is required with STATE_BACKEND=s3")
        if not values.get("state_lock_table") and not values.get("state_use_lockfile"):
            problems.add(where("STATE_LOCK_TABLE"), "STATE_LOCK_TABLE",
                         "is required with STATE_BACKEND=s3 unless STATE_USE_LOCKFILE=true (state needs a lock)")
    if backend == "cloud":
        if not values.get("tfc_organization"):
            problems.add(where("TFC_ORGANIZATION"), "TFC_ORGANIZATION", "is required with STATE_BACKEND=cloud")
        if bool(values.get("tfc_workspace")) == bool(values.get("tfc_workspace_tags")):
            problems.add(where("TFC_WORKSPACE"), "TFC_WORKSPACE",
                         "give exactly one of TFC_WORKSPACE and TFC_WORKSPACE_TAGS with STATE_BACKEND=cloud")

    for message in project_name_problems(values.get("project_name") or ""):
        problems.add(where("PROJECT_NAME"), "PROJECT_NAME", f"{values['project_name']!r} {message}")
    for message in bucket_name_problems(values.get("state_bucket") or ""):
        problems.add(where("STATE_BUCKET"), "STATE_BUCKET", f"{values['state_bucket']!r} {message}")

    compute = values.get("compute")
    for backend, key in CONNECTION_KEY.items():
        # Absent (not "") when it did not parse: said already.
        if compute == backend and values.get(KEYS_BY_NAME[key].field) == "":
            hint = "".join(f"; {other} is set: is COMPUTE={other_backend} meant?"
                           for other_backend, other in CONNECTION_KEY.items()
                           if other != key and values.get(KEYS_BY_NAME[other].field))
            problems.add(where(key), key, f"is required with COMPUTE={backend} ({KEYS_BY_NAME[key].help}){hint}")
    # A key only the other backend reads, written down, would be ignored: say so instead.
    if compute in BACKEND_ONLY_KEYS:
        other_backend = next(b for b in BACKEND_ONLY_KEYS if b != compute)
        for key in BACKEND_ONLY_KEYS[other_backend]:
            if key in origin and values.get(KEYS_BY_NAME[key].field) not in (None, ""):
                problems.add(where(key), key, f"is read with COMPUTE={other_backend} only, and this stack runs "
                                              f"COMPUTE={compute}; set COMPUTE={other_backend}, or remove {key}")
    for key, field_name, pattern, why in (
            ("CODECONNECTIONS_ARN", "codeconnections_arn", CODECONNECTIONS_ARN_RE,
             "CodeBuild uses a connection of its own region"),
            ("ECS_CERTIFICATE_ARN", "ecs_certificate_arn", CERTIFICATE_ARN_RE,
             "a load balancer takes certificates of its own region")):
        value, region = values.get(field_name), values.get("aws_region")
        if value and region and pattern.match(value).group("region") != region:
            problems.add(where(key), key, f"is in region {pattern.match(value).group('region')} but AWS_REGION is "
                         f"{region} (from {where('AWS_REGION')}); {why}")
    domain = values.get("ecs_routing_domain")
    if compute == "ecs" and domain and (problem := routing_domain_problem(domain)):
        problems.add(where("ECS_ROUTING_DOMAIN"), "ECS_ROUTING_DOMAIN", problem)
    if values.get("ecs_certificate_arn") and domain and domain.endswith(".internal"):
        problems.add(where("ECS_ROUTING_DOMAIN"), "ECS_ROUTING_DOMAIN",
                     f"is {domain}, but ECS_CERTIFICATE_ARN is set: API Gateway trusts only certificates of public "
                     "CAs for its integrations, and none can name a .internal host; set a domain you own whose "
                     "wildcard (*.<domain>) the certificate covers, e.g. workers.example.com (it need not resolve)")
    arn, region = values.get("connection_arn"), values.get("aws_region")
    if arn and region:
        arn_region = ARN_RE.match(arn).group("region")
        if arn_region != region:
            problems.add(where("APP_RUNNER_CONNECTION_ARN"), "APP_RUNNER_CONNECTION_ARN",
                         f"is in region {arn_region} but AWS_REGION is {region} (from {where('AWS_REGION')}); "
                         "App Runner connections are regional, "
                         f"create one in {region} or change AWS_REGION")
    iam_user = values.get("aurora_iam_user")
    if iam_user and iam_user == values.get("aurora_master_username"):
        problems.add(where("AURORA_IAM_USER"), "AURORA_IAM_USER",
                     f"{iam_user!r} is the master user; name a separate user for the workers (the master keeps its "
                     "password for migrations)")
    cpu, memory = values.get("worker_cpu"), values.get("worker_memory")
    if compute and cpu and memory and (problem := size_problem(compute, cpu, memory)):
        key = {"cpu": "WORKER_CPU", "memory": "WORKER_MEMORY"}[problem[0]]
        problems.add(where(key), key, problem[1])
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
    low_acu, high_acu = values.get("aurora_min_acu"), values.get("aurora_max_acu")
    if low_acu is not None and high_acu is not None and low_acu > high_acu:
        problems.add(where("AURORA_MAX_ACU"), "AURORA_MAX_ACU",
                     f"{high_acu:g} must be at least AURORA_MIN_ACU ({low_acu:g})")
    if values.get("worker_vpc_egress") is False and compute == "ecs":
        problems.add(where("WORKER_VPC_EGRESS"), "WORKER_VPC_EGRESS",
                     "is false, but COMPUTE=ecs: ECS tasks always run in the private subnets and reach the internet "
                     "through NAT; remove WORKER_VPC_EGRESS (it is App Runner's)")
    elif values.get("worker_vpc_egress") is False:
        for key, field_name in (("AURORA_ENABLED", "aurora_enabled"), ("REDIS_ENABLED", "redis_enabled")):
            if values.get(field_name):
                problems.add(where("WORKER_VPC_EGRESS"), "WORKER_VPC_EGRESS",
                             f"is false, but {key} is true: workers reach the data stores only through the VPC "
                             f"connector; set {key}=false or WORKER_VPC_EGRESS=true")
    if subnets and not 2 <= len(subnets) <= 3:
        problems.add(where("PRIVATE_SUBNET_IDS"), "PRIVATE_SUBNET_IDS",
                     f"lists {len(subnets)} subnet(s); give 2 or 3, in distinct availability zones")


def size_problem(compute: str, cpu: Any, memory: Any) -> tuple[str, str] | None:
    """("cpu" or "memory", why and what COMPUTE's table accepts) for a size that backend does not run; None when
    it does. When the other backend runs it, the message says so."""
    table = SIZE_TABLES[compute]
    backend = f" for COMPUTE={compute}"
    others = [b for b, t in SIZE_TABLES.items() if b != compute and memory in t.get(cpu, ())]
    elsewhere = "".join(f" ({cpu} CPU units with {memory} MB run on COMPUTE={b})" for b in others)
    if isinstance(cpu, bool) or cpu not in table:
        return "cpu", f"{cpu!r} is not a CPU size{backend}; use one of {', '.join(map(str, table))}{elsewhere}"
    if isinstance(memory, bool) or memory not in table[cpu]:
        return "memory", (f"{memory!r} MB is not allowed with {cpu} CPU units{backend}; use "
                          f"{memory_hint(table[cpu])}{elsewhere}")
    return None


def memory_hint(allowed: tuple[int, ...]) -> str:
    """The memory sizes a CPU size takes: each one, or a range when they are many and evenly spaced."""
    steps = {b - a for a, b in zip(allowed, allowed[1:])}
    if len(allowed) > 3 and len(steps) == 1:
        return f"{allowed[0]} to {allowed[-1]} MB in steps of {steps.pop()}"
    return " or ".join(f"{m} MB" for m in allowed)
