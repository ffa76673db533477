"""Fargate's task sizes and the load balancer quotas that bound one ECS environment, declared once.

Source: Amazon ECS Developer Guide, "Amazon ECS task definition parameters for Fargate" > "Task size" (the CPU
and memory table for Linux tasks; 8 and 16 vCPU need platform version 1.4.0, the default LATEST). App Runner's
table is another one (workers_scan/settings.py CPU_MEMORY): every App Runner pair runs on Fargate, not the reverse.
"""

from __future__ import annotations


def _steps(low: int, high: int, step: int) -> tuple[int, ...]:
    return tuple(range(low, high + 1, step))


# Task CPU units -> the memory (MiB) Fargate accepts with it.
FARGATE_CPU_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: _steps(1024, 4096, 1024),
    1024: _steps(2048, 8192, 1024),
    2048: _steps(4096, 16384, 1024),
    4096: _steps(8192, 30720, 1024),
    8192: _steps(16384, 61440, 4096),
    16384: _steps(32768, 122880, 8192),
}

# Elastic Load Balancing quotas for Application Load Balancers (adjustable in Service Quotas, these are the
# defaults): "Rules per Application Load Balancer (not counting default rules)" and "Target groups per Application
# Load Balancer". One worker takes one rule and one target group on the workers' ALB.
ALB_RULES_PER_LOAD_BALANCER = 100
ALB_TARGET_GROUPS_PER_LOAD_BALANCER = 100
# Elastic Load Balancing: "Listeners per Network Load Balancer" (why a listener per worker on the NLB cannot
# reach API Gateway's 149 workers per REST API).
NLB_LISTENERS_PER_LOAD_BALANCER = 50


def fargate_memory_for(cpu: int) -> tuple[int, ...]:
    """The memory sizes (MiB) Fargate allows with `cpu` units; () when `cpu` is not a Fargate size."""
    return FARGATE_CPU_MEMORY.get(cpu, ())


def fargate_size_problem(cpu: int, memory: int) -> str | None:
    """Why Fargate refuses this pair, naming what it accepts instead; None when it runs."""
    if isinstance(cpu, bool) or cpu not in FARGATE_CPU_MEMORY:
        return f"{cpu!r} is not a Fargate CPU size; use one of {', '.join(map(str, FARGATE_CPU_MEMORY))}"
    allowed = fargate_memory_for(cpu)
    if memory not in allowed:
        return (f"{memory!r} MB is not allowed with {cpu} CPU units on Fargate; use {allowed[0]} to {allowed[-1]} MB"
                f" in steps of {allowed[1] - allowed[0]}" if len(allowed) > 3 else
                f"{memory!r} MB is not allowed with {cpu} CPU units on Fargate; use "
                + " or ".join(f"{m} MB" for m in allowed))
    return None


def fargate_size_label(cpu: int, memory: int) -> str:
    """How the command line shows a Fargate size, e.g. "0.5 vCPU / 1 GB"."""
    return f"{cpu / 1024:g} vCPU / {memory / 1024:g} GB"


def workers_per_load_balancer_problem(workers: int, rules_quota: int = ALB_RULES_PER_LOAD_BALANCER,
                                      target_groups_quota: int = ALB_TARGET_GROUPS_PER_LOAD_BALANCER) -> str | None:
    """Why one ALB cannot route `workers` workers under these quotas; None when it can."""
    limit = min(rules_quota, target_groups_quota)
    if workers <= limit:
        return None
    return (f"{workers} workers need {workers} listener rules and target groups on one Application Load Balancer; "
            f"the account allows {limit} (raise 'Rules per Application Load Balancer' and 'Target groups per "
            f"Application Load Balancer' in Service Quotas, then give the raised quotas)")
