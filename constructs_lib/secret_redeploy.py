"""Redeploy the workers that read a secret when its value changes, so no worker keeps a rotated password.

App Runner and ECS read a runtime secret only when an instance or task starts, and RDS rotates the Aurora master
password every 7 days. Secrets Manager sends `Secret Label Updated` to the default event bus when AWSCURRENT moves
to a new version (a rotation, or a value put by hand), with no CloudTrail trail needed. One EventBridge rule per
secret starts one state machine with the services that read that secret; the machine redeploys each through Step
Functions' AWS SDK integration, so there is no function code to maintain.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.sfn_state_machine import (SfnStateMachine, SfnStateMachineLoggingConfiguration,
                                                        SfnStateMachineTracingConfiguration)
from constructs import Construct

from workers_scan.aws_names import EVENT_RULE_NAME_MAX, IAM_ROLE_NAME_MAX, shorten

from .iam import policy_json, service_trust_policy

STATES = "states.amazonaws.com"
EVENTS = "events.amazonaws.com"
# App Runner refuses a deployment while another operation (a push's deployment) runs: wait it out, about an hour
# in all (6 retries after 60 s, doubling). Any other error is retried alike; it costs nothing but time.
RETRY = {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 60, "BackoffRate": 2, "MaxAttempts": 6}
# Step Functions writes its logs through CloudWatch Logs log deliveries, which take no resource ARN; X-Ray likewise.
LOG_DELIVERY_ACTIONS = ["logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups",
                        "logs:DescribeResourcePolicies", "logs:GetLogDelivery", "logs:ListLogDeliveries",
                        "logs:PutResourcePolicy", "logs:UpdateLogDelivery"]
TRACING_ACTIONS = ["xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords",
                   "xray:PutTraceSegments"]


@dataclass(frozen=True)
class RedeployAction:
    """How a backend redeploys one service with the same configuration (so it reads its secrets again)."""

    sdk_action: str        # Step Functions' AWS SDK integration, "<service>:<apiAction>"
    iam_action: str
    service_parameter: str  # the API parameter that names the service (an ARN is given)
    # The environment's services, as one ARN pattern: the machine's policy does not grow with the workers.
    resource: str
    parameters: tuple[tuple[str, object], ...] = ()  # the other parameters, the same for every service
    condition: tuple[tuple[str, str, str], ...] = ()  # (operator, key, value) conditions of the grant


def apprunner_redeploy(region: str, account_id: str, name_prefix: str) -> RedeployAction:
    # Service ARNs are service/<name>/<id>, and every worker's name is <prefix>-<route> (discovery.service_name).
    return RedeployAction("apprunner:startDeployment", "apprunner:StartDeployment", "ServiceArn",
                          f"arn:aws:apprunner:{region}:{account_id}:service/{name_prefix.lower()}-*/*")


def ecs_redeploy(region: str, account_id: str, cluster_arn: str, cluster_name: str) -> RedeployAction:
    # The cluster holds this environment's workers only.
    return RedeployAction("ecs:updateService", "ecs:UpdateService", "Service",
                          f"arn:aws:ecs:{region}:{account_id}:service/{cluster_name}/*",
                          (("Cluster", cluster_arn), ("ForceNewDeployment", True)),
                          (("ArnEquals", "ecs:cluster", cluster_arn),))


@dataclass(frozen=True)
class SecretReaders:
    label: str                        # stable, short: part of the rule's construct id and name
    secret_arn: str                   # may be a Terraform reference
    service_arns: tuple[str, ...]     # the services that read it
    exact: bool = True                # False: the ARN may lack Secrets Manager's 6-character suffix (match a prefix)


@dataclass(frozen=True)
class SecretRedeployProps:
    name_prefix: str
    region: str
    account_id: str
    action: RedeployAction
    secrets: tuple[SecretReaders, ...]
    logs_kms_key_arn: str
    log_retention_days: int


def state_machine_definition(action: RedeployAction, secrets: tuple[SecretReaders, ...]) -> dict:
    """Redeploys, side by side, every service that reads the input's `secret` (a label).

    The readers live here, not in each rule's target input: an input holds 8,192 characters (EventBridge), which
    about 80 service ARNs fill; a definition holds 1 MB."""
    parameters = {**dict(action.parameters), f"{action.service_parameter}.$": "$"}
    readers = {f"ReadersOf-{s.label}": {"Type": "Pass", "Result": list(s.service_arns), "ResultPath": "$.services",
                                        "Next": "Redeploy"} for s in secrets}
    return {
        "Comment": "Redeploys the services that read a secret whose value changed",
        "StartAt": "ReadersOfTheSecret",
        "States": {**readers, "ReadersOfTheSecret": {
            "Type": "Choice", "Default": "UnknownSecret",
            "Choices": [{"Variable": "$.secret", "StringEquals": s.label, "Next": f"ReadersOf-{s.label}"}
                        for s in secrets]},
            "UnknownSecret": {"Type": "Fail", "Error": "UnknownSecret",
                              "Cause": "The input's secret is none of the labels this machine knows"},
            "Redeploy": {
            "Type": "Map", "ItemsPath": "$.services",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "RedeployService",
                "States": {"RedeployService": {
                    "Type": "Task", "Resource": f"arn:aws:states:::aws-sdk:{action.sdk_action}",
                    # ECS answers with the whole service (its last 100 events...): kept, a few services would pass
                    # a state's 256 KiB output limit and fail an execution whose redeploys all started.
                    "Parameters": parameters, "ResultPath": None, "Retry": [RETRY], "End": True,
                }},
            },
            "ResultPath": None,
            "End": True,
        }},
    }


def event_pattern(secret: SecretReaders) -> dict:
    resource = secret.secret_arn if secret.exact else {"prefix": secret.secret_arn}
    return {"source": ["aws.secretsmanager"], "detail-type": ["Secret Label Updated"],
            "resources": [resource], "detail": {"labelUpdated": ["AWSCURRENT"]}}


class SecretRedeploy(Construct):
    """Exposes `state_machine_arn` and `rule_names` (label -> rule name)."""

    def __init__(self, scope: Construct, id_: str, *, props: SecretRedeployProps):
        super().__init__(scope, id_)
        if not props.secrets:
            raise ValueError("SecretRedeployProps.secrets is empty: build nothing instead")
        prefix, region, account = props.name_prefix.lower(), props.region, props.account_id
        # Day 2: names are ForceNew (rules, machine, roles, group), and all of it is stateless: a new prefix
        # replaces it. The definition, the policies and the rules' patterns and inputs update in place.
        machine_name = f"{prefix}-secret-redeploy"
        machine_arn = f"arn:aws:states:{region}:{account}:stateMachine:{machine_name}"
        rule_name_prefix = f"{prefix}-redeploy-"
        logs = CloudwatchLogGroup(self, "logs", name=f"/aws/vendedlogs/states/{machine_name}",
                                  retention_in_days=props.log_retention_days, kms_key_id=props.logs_kms_key_arn)

        # Step Functions documents both keys for its execution role (confused deputy prevention).
        machine_role = IamRole(self, "machine-role", name=shorten(f"{prefix}-secret-redeploy", IAM_ROLE_NAME_MAX),
                               description=f"Redeploys the {prefix} workers when a secret they read changes",
                               assume_role_policy=service_trust_policy(STATES, source_account=account,
                                                                       source_arn=machine_arn))
        redeploy = {"Sid": "RedeployTheWorkers", "Effect": "Allow", "Action": props.action.iam_action,
                    "Resource": props.action.resource}
        for operator, key, value in props.action.condition:
            redeploy.setdefault("Condition", {}).setdefault(operator, {})[key] = value
        machine_policy = IamRolePolicy(self, "machine-policy", name="redeploy", role=machine_role.id,
                                       policy=policy_json([
                                           redeploy,
                                           {"Sid": "DeliverLogs", "Effect": "Allow", "Action": LOG_DELIVERY_ACTIONS,
                                            "Resource": "*"},
                                           {"Sid": "Trace", "Effect": "Allow", "Action": TRACING_ACTIONS,
                                            "Resource": "*"},
                                       ]))
        machine = SfnStateMachine(
            self, "machine", name=machine_name, role_arn=machine_role.arn,
            definition=json.dumps(state_machine_definition(props.action, props.secrets), sort_keys=True),
            # Its data is service ARNs (results are dropped): nothing secret, and what a failure needs to be read.
            logging_configuration=SfnStateMachineLoggingConfiguration(
                level="ERROR", include_execution_data=True, log_destination=f"{logs.arn}:*"),
            tracing_configuration=SfnStateMachineTracingConfiguration(enabled=True),
            depends_on=[machine_policy],  # creating the machine checks that its role may deliver logs
        )

        # EventBridge documents both keys for the roles of its targets; the ARN covers this stack's rules only.
        events_role = IamRole(self, "events-role", name=shorten(f"{prefix}-secret-redeploy-events",
                                                                 IAM_ROLE_NAME_MAX),
                              description=f"Lets the {prefix} secret rules start the redeploy state machine",
                              assume_role_policy=service_trust_policy(
                                  EVENTS, source_account=account,
                                  source_arn=f"arn:aws:events:{region}:{account}:rule/{rule_name_prefix}*"))
        IamRolePolicy(self, "events-policy", name="start-redeploy", role=events_role.id, policy=policy_json([
            {"Sid": "StartTheRedeploy", "Effect": "Allow", "Action": "states:StartExecution",
             "Resource": machine.arn}]))

        self.rule_names: dict[str, str] = {}
        for secret in props.secrets:
            name = shorten(f"{rule_name_prefix}{secret.label}", EVENT_RULE_NAME_MAX)
            rule = CloudwatchEventRule(
                self, f"rule-{secret.label}", name=name,
                description="A new value of a secret the workers read (a rotation): redeploy them",
                event_pattern=json.dumps(event_pattern(secret), sort_keys=True))
            CloudwatchEventTarget(self, f"target-{secret.label}", rule=rule.name, target_id="redeploy",
                                  arn=machine.arn, role_arn=events_role.arn,
                                  input=json.dumps({"secret": secret.label}))
            self.rule_names[secret.label] = name
        self.state_machine_arn: str = machine.arn
