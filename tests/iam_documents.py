"""The IAM policy documents of a synthesized stack, with Terraform's references replaced by the values AWS will see
once applied: each ARN built from the referenced resource's own name in the stack, the account id literal."""

from __future__ import annotations

import re

ACCOUNT, REGION = "123456789012", "eu-west-1"
REFERENCE = re.compile(r"(?<!\$)\$\{(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)[^}]*\}")
# Resource type -> (its ARN, the attribute holding its name), for a reference to its ARN (or an id that is one).
ARNS = {
    "aws_cloudwatch_log_group": ("arn:aws:logs:{region}:{account}:log-group:{name}", "name"),
    "aws_ecr_repository": ("arn:aws:ecr:{region}:{account}:repository/{name}", "name"),
    "aws_ecs_cluster": ("arn:aws:ecs:{region}:{account}:cluster/{name}", "name"),
    "aws_ecs_service": ("arn:aws:ecs:{region}:{account}:service/{cluster}/{name}", "name"),
    "aws_ecs_task_definition": ("arn:aws:ecs:{region}:{account}:task-definition/{name}:1", "family"),
    "aws_rds_cluster": ("arn:aws:secretsmanager:{region}:{account}:secret:rds!cluster-{name}-AbCdEf",
                        "cluster_identifier"),
    "aws_sfn_state_machine": ("arn:aws:states:{region}:{account}:stateMachine:{name}", "name"),
    "aws_ssm_parameter": ("arn:aws:ssm:{region}:{account}:parameter{name}", "name"),
    "aws_apprunner_service": ("arn:aws:apprunner:{region}:{account}:service/{name}/0123456789abcdef0123456789abcdef",
                              "service_name"),
    "aws_iam_role": ("arn:aws:iam::{account}:role/{name}", "name"),
    "aws_kms_key": ("arn:aws:kms:{region}:{account}:key/0a1b2c3d-0000-4000-8000-0123456789ab", None),
    "aws_s3_bucket": ("arn:aws:s3:::{name}", "bucket"),
    "aws_dynamodb_table": ("arn:aws:dynamodb:{region}:{account}:table/{name}", "name"),
}
# Resource type -> the fields that hold policy documents.
DOCUMENTS = {"aws_iam_role_policy": "policy", "aws_iam_policy": "policy", "aws_iam_role": "assume_role_policy",
             "aws_kms_key": "policy", "aws_s3_bucket_policy": "policy",
             "aws_cloudwatch_log_resource_policy": "policy_document", "aws_ecr_repository_policy": "policy",
             "aws_secretsmanager_resource_policy": "policy"}


def resolver(stack: dict):
    """A function turning a synthesized string into what AWS gets: every reference replaced by its value's shape."""
    resources = stack.get("resource", {})

    def value(match: re.Match) -> str:
        data, rtype, address, _ = match.groups()
        if data and rtype == "aws_caller_identity":
            return ACCOUNT
        if data:
            return "stand-in"
        if rtype not in ARNS:
            raise AssertionError(f"no stand-in for {match.group(0)}: add its ARN to tests/iam_documents.py")
        template, name_field = ARNS[rtype]
        resource = resources.get(rtype, {}).get(address, {})
        name = resolve(str(resource.get(name_field, address))) if name_field else address
        cluster = ""
        if rtype == "aws_ecs_service":
            cluster = resolve(resource["cluster"]).rsplit("/", 1)[-1]
        return template.format(region=REGION, account=ACCOUNT, name=name, cluster=cluster)

    def resolve(text: str) -> str:
        return REFERENCE.sub(value, text)

    return resolve


def resolved(text: str, stack: dict | None = None) -> str:
    return resolver(stack or {})(text)


def documents(stack: dict) -> list[tuple[str, str]]:
    """(address.field, document) of every policy document in the stack, references resolved."""
    resolve = resolver(stack)
    found = []
    for rtype, field in DOCUMENTS.items():
        for name, resource in stack.get("resource", {}).get(rtype, {}).items():
            if field in resource:
                found.append((f"{rtype}.{name}.{field}", resolve(resource[field])))
    return found
