"""The AWS quotas a stack can reach as its workers, routes, names and environments grow, declared once.

Each has its value, whether AWS raises it, its Service Quotas code where it has one, and the page that states it.
constructs_lib/quota_check.py measures every one of them on the synthesized JSON at each synth (a fixed limit is an
error, an adjustable one a notice naming its code); docs/aws-quotas.md's table is rendered from here (quota_table()).
"""

from __future__ import annotations

from dataclasses import dataclass

IAM_QUOTAS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"
EVENTBRIDGE_QUOTAS = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html"
PUT_TARGETS = "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_Target.html"
APIGATEWAY_QUOTAS = "https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html"
ALB_QUOTAS = "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html"
NLB_QUOTAS = "https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-limits.html"
VPC_QUOTAS = "https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html"
APPRUNNER_QUOTAS = "https://docs.aws.amazon.com/apprunner/latest/dg/architecture.html#architecture.quotas"
SFN_QUOTAS = "https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html"
ECS_QUOTAS = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html"


@dataclass(frozen=True)
class Quota:
    key: str             # how checks and tests name it
    service: str
    name: str            # as AWS names it
    value: int
    unit: str
    scope: str           # what one value applies to
    adjustable: bool
    code: str | None     # Service Quotas code, where the quota is there
    source: str          # the AWS page that states it
    way_out: str = ""    # what to change when a stack passes a limit AWS does not raise


QUOTAS: tuple[Quota, ...] = (
    Quota("iam-role-inline-policies", "IAM", "Role policy size", 10_240, "characters (whitespace not counted)",
          "all inline policies of one role", False, None, IAM_QUOTAS,
          "a worker's role grants each of its secrets: keep several values in one JSON secret"),
    Quota("iam-managed-policy", "IAM", "Managed policy size", 6_144, "characters (whitespace not counted)",
          "one managed policy", False, None, IAM_QUOTAS,
          "keep several values in one JSON secret"),
    Quota("iam-trust-policy", "IAM", "Role trust policy length", 2_048, "characters (whitespace not counted)",
          "one role (4,096 at most when raised)", True, "L-C07B4B0D", IAM_QUOTAS),
    Quota("iam-roles", "IAM", "Roles per account", 1_000, "roles", "account (this stack's share)", True,
          "L-FE177D64", IAM_QUOTAS),
    Quota("events-targets-per-rule", "EventBridge", "Targets per rule", 5, "targets", "one rule", False, None,
          EVENTBRIDGE_QUOTAS, "each rule has one target: report this as a bug"),
    Quota("events-target-input", "EventBridge", "Target Input", 8_192, "characters", "one target's constant input",
          False, None, PUT_TARGETS, "the inputs name one secret: report this as a bug"),
    Quota("events-pattern", "EventBridge", "Event pattern size", 2_048, "characters", "one rule", True,
          "L-664C5505", EVENTBRIDGE_QUOTAS),
    Quota("events-rules", "EventBridge", "Number of rules", 300, "rules", "event bus (this stack's share)", True,
          "L-244521F2", EVENTBRIDGE_QUOTAS),
    Quota("apigateway-resources", "API Gateway", "Resources per API", 300, "resources (root included)",
          "one REST API", True, "L-01C8A9E0", APIGATEWAY_QUOTAS),
    Quota("alb-rules", "Elastic Load Balancing", "Rules per Application Load Balancer", 100,
          "rules (not counting default rules)", "one load balancer", True, "L-7EED9B64", ALB_QUOTAS),
    Quota("alb-target-groups", "Elastic Load Balancing", "Target groups per Application Load Balancer", 100,
          "target groups", "one load balancer", False, None, ALB_QUOTAS,
          "at most 100 workers per environment on ECS (WORKER_EXCLUDE), or COMPUTE=apprunner"),
    Quota("nlb-listeners", "Elastic Load Balancing", "Listeners per Network Load Balancer", 50, "listeners",
          "one load balancer", False, None, NLB_QUOTAS, "the NLB has one listener: report this as a bug"),
    Quota("sg-rules", "Amazon VPC", "Inbound or outbound rules per security group", 60, "rules each way",
          "one security group", True, "L-0EA8095F", VPC_QUOTAS),
    Quota("apprunner-services", "App Runner", "Services", 30, "services", "account and region (this stack's share)",
          True, None, APPRUNNER_QUOTAS),
    Quota("apprunner-auto-scaling-configurations", "App Runner", "Auto scaling configurations", 10, "names",
          "account and region (this stack's share)", True, None, APPRUNNER_QUOTAS),
    Quota("apprunner-vpc-connectors", "App Runner", "VPC connectors", 10, "connectors",
          "account and region (this stack's share)", True, None, APPRUNNER_QUOTAS),
    Quota("sfn-definition", "Step Functions", "Maximum state machine definition size", 1_048_576, "characters",
          "one state machine", False, None, SFN_QUOTAS,
          "the redeploy machine lists each secret's readers: fewer secrets read by every worker, or "
          "REDEPLOY_ON_SECRET_CHANGE=false"),
    Quota("ecs-services-per-cluster", "Amazon ECS", "Services per cluster", 5_000, "services", "one cluster", True,
          "L-9EF96962", ECS_QUOTAS),
    Quota("ecs-task-definition", "Amazon ECS", "Task definition size", 65_536, "bytes", "one task definition", False,
          None, ECS_QUOTAS, "a worker's variables are in its task definition: fewer or shorter values, or keep "
          "them in a JSON secret"),
)
BY_KEY = {q.key: q for q in QUOTAS}


def quota(key: str) -> Quota:
    return BY_KEY[key]


def quota_table() -> str:
    """docs/aws-quotas.md's table of quotas."""
    rows = ["| service | quota | value | per | raisable | code |", "| --- | --- | --- | --- | --- | --- |"]
    for q in QUOTAS:
        rows.append(f"| {q.service} | [{q.name}]({q.source}) | {q.value:,} {q.unit} | {q.scope} | "
                    f"{'yes' if q.adjustable else 'no'} | {q.code or '-'} |")
    return "\n".join(rows)
