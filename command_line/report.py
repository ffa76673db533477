"""What the command line prints: tables, JSON and the Mermaid topology. Pure Python, no jsii."""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence

from workers_scan.calls import CALLS_KEY
from workers_scan.discovery import ENTRY_KEY, WORKERS_TOML, skipped_entries
from workers_scan.fargate import alb_listener, fargate_size_label, worker_host
from workers_scan.injected import injected
from workers_scan.ports import HTTPS_PORT, POSTGRES_PORT, REDIS_PORT
from workers_scan.settings import Settings
from workers_scan.waf_rules import MANAGED_RULE_GROUPS
from workers_scan.workers import Worker


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    rows = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


# What each COMPUTE value is called in headings, and what its copies of a worker are.
BACKEND_NAMES = {"apprunner": "App Runner", "ecs": "ECS Fargate"}
REPLICAS = {"apprunner": "instances", "ecs": "tasks"}


def backend(settings: Settings) -> str:
    return f"{BACKEND_NAMES[settings.compute]} (COMPUTE={settings.compute})"


def size(worker: Worker) -> str:
    """Both backends' sizes read in vCPU and GB, e.g. "0.5 vCPU / 1 GB"."""
    return fargate_size_label(worker.cpu, worker.memory)


def replicas(settings: Settings, worker: Worker) -> str:
    return f"{worker.min_instances}-{worker.max_instances} {REPLICAS[settings.compute]}"


def counts(settings: Settings, worker: Worker) -> tuple[int, int]:
    """(plain variables, secrets) the worker's service gets, files and infrastructure together."""
    infrastructure = injected(settings)
    secrets = len(worker.environment.secrets) + sum(e.secret for e in infrastructure)
    plain = len(worker.environment.variables) + sum(not e.secret for e in infrastructure) + len(worker.calls)
    return plain, secrets


# What the tables say instead of a route or URL for a worker no route serves (workers.toml `private = true`).
PRIVATE = "(private)"
PRIVATE_URL = "none: private (no route)"


def route(worker: Worker) -> str:
    return PRIVATE if worker.private else f"/{worker.route}"


def url_pattern(settings: Settings, worker: Worker) -> str | None:
    """The worker's public URL, with the API's id left out; None for a private worker."""
    if worker.private:
        return None
    return f"https://<api-id>.execute-api.{settings.aws_region}.amazonaws.com/{settings.environment}/{worker.route}"


def workers_table(settings: Settings, workers: Sequence[Worker]) -> str:
    return table(
        ("worker", "route", "service name", "cpu/memory", REPLICAS[settings.compute], "env vars", "secrets"),
        ((w.name, route(w), w.service_name, size(w), f"{w.min_instances}-{w.max_instances}",
          *counts(settings, w)) for w in workers),
    )


def skipped(settings: Settings) -> list[tuple[str, str]]:
    """The workers folders' other entries and why each is not a worker (with several folders, each entry is
    prefixed by its folder)."""
    several = len(settings.workers_dirs) > 1
    return [(f"{folder}/{name}" if several else name, why)
            for folder, path in zip(settings.workers_dirs, settings.workers_paths)
            for name, why in skipped_entries(path, include=settings.worker_include, exclude=settings.worker_exclude,
                                             default_exclusions=settings.worker_default_exclusions,
                                             folder_entry=settings.worker_folder_entry)]


def skipped_table(entries: list[tuple[str, str]]) -> str:
    return table(("not a worker", "why"), entries)


def declared_entries(workers: Sequence[Worker]) -> str:
    """The workers whose file was taken as an entry point on the user's word, not checked; "" if none."""
    names = [w.name for w in workers if w.entry_declared]
    return f"Entry point declared in {WORKERS_TOML} ({ENTRY_KEY} = true), not checked: {', '.join(names)}" if names \
        else ""


def calls_between_workers(workers: Sequence[Worker]) -> str:
    """Who calls whom inside the VPC (`calls` in workers.toml); "" if nobody."""
    pairs = [f"{w.name} -> {callee}" for w in workers for callee in w.calls]
    return f"Calls inside the VPC ({CALLS_KEY} in {WORKERS_TOML}): {', '.join(pairs)}" if pairs else ""


def host(settings: Settings, worker: Worker) -> str | None:
    """The worker's Host on the workers' ALB (ECS), None for a private worker."""
    return None if worker.private else worker_host(worker.route, settings.ecs_routing_domain)


def routes_table(settings: Settings, workers: Sequence[Worker]) -> str:
    if settings.uses_ecs:
        return table(("worker", "public URL", "ALB host", "start command"),
                     ((w.name, url_pattern(settings, w) or PRIVATE_URL, host(settings, w) or "-", w.start_command)
                      for w in workers))
    return table(
        ("worker", "public URL", "start command"),
        ((w.name, url_pattern(settings, w) or PRIVATE_URL, w.start_command) for w in workers),
    )


def workers_json(settings: Settings, workers: Sequence[Worker]) -> dict:
    def entry(w: Worker) -> dict:
        plain, secrets = counts(settings, w)
        # ECS scales on requests per task (ECS_REQUESTS_PER_TARGET), not on App Runner's concurrency.
        # ECS scales a private worker on CPU alone: it gets no requests.
        scaling = ({"requests_per_target": None if w.private else settings.ecs_requests_per_target,
                    "host": host(settings, w)}
                   if settings.uses_ecs else {"max_concurrency": w.max_concurrency})
        return {
            "name": w.name, "route": None if w.private else f"/{w.route}", "private": w.private,
            "service_name": w.service_name, "source": w.source_display,
            "worker_file": w.worker_file, "folder": w.folder, "package": w.package_name,
            "entry": "declared" if w.entry_declared else "detected",
            "start_command": w.start_command, "cpu": w.cpu, "memory": w.memory,
            "min_instances": w.min_instances, "max_instances": w.max_instances,
            **scaling, "health_check_path": w.health_check_path,
            "url_pattern": url_pattern(settings, w), "environment_variables": plain, "secrets": secrets,
            "calls": list(w.calls),
        }

    return {"stack": settings.stack_name, "region": settings.aws_region, "environment": settings.environment,
            "compute": settings.compute, "workers": [entry(w) for w in workers],
            "skipped": [{"entry": name, "why": why} for name, why in skipped(settings)]}


def resources_table(resource_counts: Counter) -> str:
    return table(("resource type", "count"), sorted(resource_counts.items()))


def mermaid(settings: Settings, workers: Sequence[Worker]) -> str:
    """The request path for these inputs, client to data stores, one node per worker service."""
    rule_groups = " + ".join(group.removeprefix("AWSManagedRules").removesuffix("RuleSet")
                             for group in MANAGED_RULE_GROUPS)
    lines = [
        "flowchart LR",
        "  client([Client]) --> waf[\"WAFv2 web ACL<br/>"
        f"{settings.waf_rate_limit} requests / 5 min per IP<br/>{rule_groups} rules\"]",
        f"  waf --> api[\"REST API {settings.name_prefix}<br/>stage {settings.environment}\"]",
        "  api --> link[VPC Link]",
    ]
    if settings.uses_ecs:
        protocol, port = alb_listener(tls=bool(settings.ecs_certificate_arn))
        lines += [f"  link --> nlb[\"Internal NLB<br/>TCP {port} pass-through\"]",
                  f"  nlb --> alb[\"Internal ALB<br/>{protocol} {port}, one host rule per worker\"]"]
        lines += [f"  alb -->|{host(settings, w)}| {worker_box(settings, w)}" for w in workers if not w.private]
        # Tasks run in the VPC whatever WORKER_VPC_EGRESS says: they reach the stores and NAT from their groups.
        egress_node, egress_label = "tasks", "tasks[\"Tasks' security groups\"]"
    else:
        lines += [f"  link --> nlb[\"Internal NLB<br/>TCP {HTTPS_PORT} pass-through\"]",
                  "  nlb --> vpce[\"VPC endpoint<br/>apprunner.requests\"]"]
        lines += [f"  vpce -->|/{w.route}| {worker_box(settings, w)}" for w in workers if not w.private]
        egress_node, egress_label = ("connector", "connector[VPC connector]") if settings.worker_vpc_egress \
            else (None, None)
    # No way in: a private worker stands alone, reaching out like the others.
    lines += [f"  {worker_box(settings, w)}" for w in workers if w.private]
    if egress_node:
        lines += [f"  {worker_node(w)} --> {egress_node}" for w in workers]
        lines.append(f"  {egress_label}")
        if settings.aurora_enabled:
            lines.append(f"  {egress_node} -->|{POSTGRES_PORT}| aurora[(\"Aurora PostgreSQL<br/>Serverless v2\")]")
        if settings.redis_enabled:
            lines.append(f"  {egress_node} -->|{REDIS_PORT} TLS| redis[(\"ElastiCache {settings.redis_engine}\")]")
        egress = ", ".join(map(str, settings.worker_egress_ports))
        lines.append(f"  {egress_node} -->|{egress}| nat[NAT gateway] --> internet((Internet))")
    else:
        lines += [f"  {worker_node(w)} --> internet((Internet))" for w in workers]
    if settings.uses_ecs:
        lines.append(f"  build[\"Image build<br/>CodeBuild, one image per push to {settings.branch}\"] --> "
                     "ecr[(\"ECR repository\")]")
        lines += [f"  ecr -.->|image| {worker_node(w)}" for w in workers]
    return "\n".join(lines) + "\n"


def worker_box(settings: Settings, worker: Worker) -> str:
    private = "<br/>private: no route" if worker.private else ""
    return (f"{worker_node(worker)}[\"{worker.name}<br/>{worker.service_name}<br/>{size(worker)}, "
            f"{replicas(settings, worker)}{private}\"]")


def worker_node(worker: Worker) -> str:
    return "w_" + worker.name.replace("-", "_")
