"""examples/deploy-policy.json, the permissions of the principal that runs terraform (docs/plan-and-apply.md)."""

import json
import re
from pathlib import Path

import pytest

from workers_scan import SettingsSource, load_settings
from workers_scan.settings import EXAMPLE_SETTINGS

POLICY = Path(__file__).parent.parent / "examples" / "deploy-policy.json"
# The IAM service prefix of each Terraform resource type family we synthesize.
SERVICE_OF = (
    (r"^aws_apprunner_", "apprunner"), (r"^aws_api_gateway_", "apigateway"), (r"^aws_wafv2_", "wafv2"),
    (r"^aws_lb", "elasticloadbalancing"), (r"^aws_rds_|^aws_db_", "rds"), (r"^aws_elasticache_", "elasticache"),
    (r"^aws_cloudwatch_log_", "logs"), (r"^aws_kms_", "kms"), (r"^aws_iam_", "iam"), (r"^aws_s3_", "s3"),
    (r"^aws_dynamodb_", "dynamodb"), (r"^aws_caller_identity$", "sts"), (r"^aws_ecs_", "ecs"), (r"^aws_ecr_", "ecr"),
    (r"^aws_codebuild_", "codebuild"), (r"^aws_appautoscaling_", "application-autoscaling"), (r"^aws_ssm_", "ssm"),
    (r"^aws_sfn_", "states"), (r"^aws_cloudwatch_event_", "events"),
    (r"^aws_(vpc|subnet|route|eip|nat_gateway|internet_gateway|security_group|default_security_group|flow_log|"
     r"network_interface|availability_zones|vpc_endpoint)", "ec2"),
)


def statements() -> list[dict]:
    document = json.loads(POLICY.read_text())
    assert document["Version"] == "2012-10-17"
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow" and statement["Action"] and statement["Resource"], statement["Sid"]
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource", "Condition"}, statement["Sid"]
    return document["Statement"]


def services(statement: dict) -> set[str]:
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    return {action.split(":")[0] for action in actions}


def test_the_policy_is_valid_json_and_names_each_statement_once():
    sids = [s["Sid"] for s in statements()]
    assert len(sids) == len(set(sids))


@pytest.mark.parametrize("stack_fixture", ["example_stack", "ecs_example_stack"])
def test_every_service_of_the_example_stacks_is_in_the_policy(request, stack_fixture):
    stack = request.getfixturevalue(stack_fixture)
    granted = set().union(*(services(s) for s in statements()))
    types = set(stack["resource"]) | set(stack.get("data", {}))
    needed = set()
    for rtype in types - {"terraform_data"}:
        [service] = [service for pattern, service in SERVICE_OF if re.match(pattern, rtype)] or [None]
        assert service, f"{rtype}: which IAM service creates it? add it to SERVICE_OF and the policy"
        needed.add(service)
    assert needed <= granted, f"the policy lacks {sorted(needed - granted)}"


def test_roles_and_state_are_limited_to_the_example_project():
    project = load_settings(SettingsSource(EXAMPLE_SETTINGS, is_example=True)).project_name
    [roles] = [s for s in statements() if "iam" in services(s) and "iam:PassRole" in s["Action"]]
    assert roles["Resource"] == f"arn:aws:iam::*:role/{project}-*"
    [state] = [s for s in statements() if "s3" in services(s)]
    assert all(f":{project}-" in arn or f"/{project}-" in arn for arn in state["Resource"])
