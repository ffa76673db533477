"""Fargate's task sizes, the workers' routing host and listener, and the load balancer quotas of one ECS environment.

Source: Amazon ECS Developer Guide, "Amazon ECS task definition parameters for Fargate" > "Task size" (the CPU
and memory table for Linux tasks; 8 and 16 vCPU need platform version 1.4.0, the default LATEST). App Runner's
table is another one (workers_scan/settings.py CPU_MEMORY): every App Runner pair runs on Fargate, not the reverse.
"""

from __future__ import annotations

from .ports import HTTP_PORT, HTTPS_PORT
from .quotas import quota


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

# Elastic Load Balancing quotas of an Application Load Balancer ("Quotas for your Application Load Balancers"):
# "Rules per Application Load Balancer (not counting default rules)" and "Target groups per Application Load
# Balancer", the latter not adjustable. One worker takes one rule and one target group on the workers' ALB.
ALB_RULES_PER_LOAD_BALANCER = quota("alb-rules").value
ALB_TARGET_GROUPS_PER_LOAD_BALANCER = quota("alb-target-groups").value
# Elastic Load Balancing: "Listeners per Network Load Balancer" (why a listener per worker on the NLB cannot
# reach API Gateway's 149 workers per REST API).
NLB_LISTENERS_PER_LOAD_BALANCER = quota("nlb-listeners").value


# API Gateway sends each worker's request with Host <route>.workers.internal (the host of its integration URI), and
# the ALB rule of that worker matches it. `.internal` is reserved for private use (ICANN, 2024): it never leaves
# the VPC.
ROUTING_DOMAIN = "workers.internal"


# The worker image's build context leaves these out (.dockerignore): a settings .env stays out of images, and what
# workers read comes from the task definition. `.git` and node_modules are rebuilt or unneeded.
IMAGE_IGNORED = (".git", "**/node_modules", "**/.env", "**/.env.*")
# The file names those patterns leave out of every folder (worker environment files among them).
LEFT_OUT_OF_IMAGE = (".env", ".env.*")


def worker_host(route: str, domain: str = ROUTING_DOMAIN) -> str:
    """The Host header API Gateway sends for this worker (the host of its integration URI), and its rule matches."""
    return f"{route}.{domain}"


# DNS (RFC 1035, 2.3.4): a label holds at most 63 characters. Elastic Load Balancing ("Add a listener rule for your
# Application Load Balancer", host header): a host-header condition's value holds at most 128 characters.
DNS_LABEL_MAX = 63
HOST_HEADER_MAX = 128


def worker_host_problem(route: str, domain: str) -> str | None:
    """Why `<route>.<domain>` cannot be a worker's host (a label or the whole name too long); None when it can."""
    host = worker_host(route, domain)
    if len(route) > DNS_LABEL_MAX:
        return (f"{route!r} has {len(route)} characters, but with COMPUTE=ecs it is the first label of the host "
                f"{host}, and a DNS label holds at most {DNS_LABEL_MAX}; set a shorter route in workers.toml")
    if len(host) > HOST_HEADER_MAX:
        return (f"the host {host} has {len(host)} characters, but the ALB rule that routes it (host header) "
                f"matches at most {HOST_HEADER_MAX}; set a shorter route in workers.toml or ECS_ROUTING_DOMAIN")
    return None


def routing_domain_problem(domain: str) -> str | None:
    """Why `domain` cannot end the workers' hosts; None when it can (one character of route and its dot left).
    Its labels are checked by the setting's parser."""
    if len(domain) + 2 > HOST_HEADER_MAX:
        return (f"has {len(domain)} characters, leaving no room for a route in a worker's host: an ALB rule's host "
                f"header holds at most {HOST_HEADER_MAX}")
    return None


def alb_listener(tls: bool) -> tuple[str, int]:
    """(protocol, port) of the workers' ALB listener, which the NLB passes TCP through to: HTTPS with a
    certificate (ECS_CERTIFICATE_ARN), else plain HTTP inside the VPC."""
    return ("HTTPS", HTTPS_PORT) if tls else ("HTTP", HTTP_PORT)


def fargate_memory_for(cpu: int) -> tuple[int, ...]:
    """The memory sizes (MiB) Fargate allows with `cpu` units; () when `cpu` is not a Fargate size."""
    return FARGATE_CPU_MEMORY.get(cpu, ())


def fargate_size_label(cpu: int, memory: int) -> str:
    """How the command line shows a Fargate size, e.g. "0.5 vCPU / 1 GB"."""
    return f"{cpu / 1024:g} vCPU / {memory / 1024:g} GB"


def workers_per_load_balancer_problem(workers: int) -> str | None:
    """Why the one ALB of an ECS environment cannot route `workers` workers; None when it can."""
    limit = min(ALB_RULES_PER_LOAD_BALANCER, ALB_TARGET_GROUPS_PER_LOAD_BALANCER)
    if workers <= limit:
        return None
    return (f"{workers} workers need {workers} listener rules and {workers} target groups on the workers' one "
            f"Application Load Balancer, which holds {limit} ('Rules per Application Load Balancer' and 'Target "
            "groups per Application Load Balancer', the latter a quota AWS does not raise); run at most "
            f"{limit} workers per environment with COMPUTE=ecs (WORKER_EXCLUDE), or use COMPUTE=apprunner")
