"""The Terraform outputs of each stack, declared once for both backends.

The stacks create exactly these (constructs_lib/platform_stack.py and state_backend.py read each value from the
attribute `source` names), and docs/outputs.md is generated from this table (python -m command_line.reference_docs).
"""

from __future__ import annotations

from dataclasses import dataclass

from .settings import COMPUTE_BACKENDS, Settings

PLATFORM_STACK, STATE_STACK = "<project>-<env>", "<project>-state"


@dataclass(frozen=True)
class Output:
    name: str
    description: str
    source: str                                    # attribute path, on the stack's construct, of the value
    backends: tuple[str, ...] = COMPUTE_BACKENDS   # the COMPUTE values whose stacks have it
    needs: str = ""                                # the setting (a Settings field) without which it is absent
    stack: str = PLATFORM_STACK


OUTPUTS: tuple[Output, ...] = (
    Output("invoke_url", "Base URL of the API stage", "api.invoke_url"),
    Output("worker_urls", "Public URL of each worker", "api.worker_urls"),
    Output("service_arns", "App Runner service ARN of each worker", "compute.service_arns", ("apprunner",)),
    Output("service_arns", "ECS service ARN of each worker", "compute.service_arns", ("ecs",)),
    Output("ingress_domains", "Private ingress domain of each routed worker", "compute.ingress_domains", ("apprunner",)),
    Output("worker_hosts", "Host each routed worker's rule matches on the internal ALB", "compute.worker_hosts", ("ecs",)),
    Output("nlb_arn", "Internal NLB behind the VPC link", "ingress.nlb_arn"),
    Output("vpc_endpoint_id", "apprunner.requests interface endpoint", "ingress.endpoint_id", ("apprunner",)),
    Output("ecs_cluster_arn", "The workers' cluster", "compute.cluster.cluster_arn", ("ecs",)),
    Output("image_repository_url", "ECR repository of the worker image (one tag per commit)",
           "compute.images.repository_url", ("ecs",)),
    Output("image_build_project", "CodeBuild project that builds the image and rolls the services",
           "compute.pipeline.project_name", ("ecs",)),
    Output("waf_web_acl_arn", "WAF web ACL of the stage", "waf.web_acl_arn"),
    Output("database_endpoint", "Aurora writer endpoint", "data_stores.aurora_endpoint", needs="aurora_enabled"),
    Output("database_secret_arn", "Secrets Manager secret of the Aurora master user (managed by RDS)",
           "data_stores.aurora_secret_arn", needs="aurora_enabled"),
    Output("redis_endpoint", "Primary endpoint of the cache (TLS)", "data_stores.redis_endpoint",
           needs="redis_enabled"),
    Output("state_bucket", "S3 bucket of the Terraform state (STATE_BUCKET)", "bucket_name", stack=STATE_STACK),
    Output("state_lock_table", "DynamoDB table of the state locks (STATE_LOCK_TABLE)", "lock_table_name",
           needs="state_lock_table", stack=STATE_STACK),
)


def platform_outputs(settings: Settings) -> tuple[Output, ...]:
    """The outputs of one environment's stack with these settings, in the order the stack creates them."""
    return tuple(o for o in OUTPUTS if o.stack == PLATFORM_STACK and settings.compute in o.backends
                 and (not o.needs or getattr(settings, o.needs)))


def state_outputs(*, lock_table: bool) -> tuple[Output, ...]:
    """The outputs of the state bootstrap stack (STATE_BACKEND=s3)."""
    return tuple(o for o in OUTPUTS if o.stack == STATE_STACK and (lock_table or not o.needs))
