"""The App Runner worker platform and one worker's service, built alone from their props: no settings file, no
monorepo, no platform stack."""

from __future__ import annotations

import json
from dataclasses import replace

import cdktf
import pytest

from constructs_lib.worker_service import (SourceProps, VpcEgressProps, WorkerPlatform, WorkerPlatformProps,
                                           WorkerService, WorkerServiceProps)

from .helpers import one, resources

ACCOUNT = "123456789012"
VPC = "vpc-0bbbbbbbbbbbbbbb1"
SUBNETS = ("subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2")
EGRESS = VpcEgressProps(vpc_id=VPC, private_subnet_ids=SUBNETS, egress_ports=(443, 587),
                        placement=(VPC, *SUBNETS, "10.20.0.0/16", 2))
PROFILES = ((1, 3, 100), (2, 6, 80), (1, 3, 100))

SECRET = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:globex/qa/payments-AbCdEf"
PARAMETER = f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/globex/qa/flags"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/0a1b2c3d-0000-4000-8000-0123456789ab"
CONNECTOR = f"arn:aws:apprunner:eu-west-1:{ACCOUNT}:vpcconnector/globex-qa-workers-a1b2c3/1/0123456789abcdef"
SOURCE = SourceProps(repository_url="https://github.com/globex/platform", branch="release/1.x",
                     source_directory="/", connection_arn=f"arn:aws:apprunner:eu-west-1:{ACCOUNT}:connection/gh/0a1b",
                     auto_deployments=False, runtime="NODEJS_22", build_command="pnpm install && echo ${HOME}",
                     port=8080)
SERVICE = WorkerServiceProps(
    service_name="globex-qa-payments", worker_name="payments", cpu=1024, memory=2048,
    start_command="bash apps/api/scripts/start-worker.sh payments.ts", health_check_path="/health", source=SOURCE,
    auto_scaling_configuration_arn=f"arn:aws:apprunner:eu-west-1:{ACCOUNT}:autoscalingconfiguration/globex-qa-1-3",
    observability_configuration_arn=f"arn:aws:apprunner:eu-west-1:{ACCOUNT}:observabilityconfiguration/tracing",
    connector_arn=CONNECTOR, ingress_vpc_id=VPC, ingress_endpoint_id="vpce-0ddddddddddddddd1",
    environment={"NODE_ENV": "production", "PORT": "8080", "WORKER_NAME": "payments", "LOG_LEVEL": "debug"},
    # A Secrets Manager reference to one JSON key: App Runner's value keeps the suffix, IAM names the secret.
    secrets={"PAYMENTS_TOKEN": f"{SECRET}:token::", "FEATURE_FLAGS": PARAMETER}, kms_key_arns=(KEY,),
    statements=({"Sid": "ConnectAsWorker", "Effect": "Allow", "Action": "rds-db:connect", "Resource": "*"},))


def platform_alone(**overrides) -> tuple[WorkerPlatform, dict]:
    stack = cdktf.TerraformStack(cdktf.Testing.app(), "worker-platform-alone")
    props = dict(name_prefix="globex-qa", vpc_egress=EGRESS, scaling_profiles=PROFILES)
    platform = WorkerPlatform(stack, "worker-platform", props=WorkerPlatformProps(**{**props, **overrides}))
    return platform, json.loads(cdktf.Testing.synth(stack))


def service_alone(props: WorkerServiceProps = SERVICE) -> dict:
    stack = cdktf.TerraformStack(cdktf.Testing.app(), "worker-service-alone")
    WorkerService(stack, "worker-payments", props=props)
    return json.loads(cdktf.Testing.synth(stack))


@pytest.fixture(scope="module")
def platform() -> tuple[WorkerPlatform, dict]:
    return platform_alone()


@pytest.fixture(scope="module")
def service() -> dict:
    return service_alone()


def test_the_connector_sits_in_the_given_subnets_and_its_group_opens_only_the_given_ports(platform):
    _, stack = platform
    connector = one(stack, "aws_apprunner_vpc_connector")
    assert connector["subnets"] == list(SUBNETS)
    assert one(stack, "aws_security_group")["vpc_id"] == VPC
    ports = sorted((r["from_port"], r["cidr_ipv4"]) for r in resources(stack, "aws_vpc_security_group_egress_rule")
                   .values())
    assert ports == [(443, "0.0.0.0/0"), (587, "0.0.0.0/0")]


def test_a_connector_placed_elsewhere_gets_a_new_name():
    name = one(platform_alone()[1], "aws_apprunner_vpc_connector")["vpc_connector_name"]
    moved = replace(EGRESS, placement=(VPC, *SUBNETS, "10.20.0.0/16", 3))
    assert one(platform_alone(vpc_egress=moved)[1], "aws_apprunner_vpc_connector")["vpc_connector_name"] != name
    assert name.startswith("globex-qa-workers-")


def test_without_vpc_egress_there_is_no_connector_nor_group():
    platform, stack = platform_alone(vpc_egress=None)
    assert platform.connector_arn is None and platform.connector_security_group_id is None
    assert not {"aws_apprunner_vpc_connector", "aws_security_group"} & set(stack["resource"])


def test_workers_alike_share_one_scaling_configuration_named_after_its_values(platform):
    built, stack = platform
    configurations = {c["auto_scaling_configuration_name"]: (c["min_size"], c["max_size"], c["max_concurrency"])
                      for c in resources(stack, "aws_apprunner_auto_scaling_configuration_version").values()}
    assert configurations == {"globex-qa-1-3-100": (1, 3, 100), "globex-qa-2-6-80": (2, 6, 80)}
    assert sorted(built.scaling_arns) == [(1, 3, 100), (2, 6, 80)]


def test_the_service_is_private_and_leaves_through_the_given_connector(service):
    network = one(service, "aws_apprunner_service")["network_configuration"]
    assert network["ingress_configuration"] == {"is_publicly_accessible": False}
    assert network["egress_configuration"] == {"egress_type": "VPC", "vpc_connector_arn": CONNECTOR}
    connection = one(service, "aws_apprunner_vpc_ingress_connection")
    assert connection["ingress_vpc_configuration"] == {"vpc_id": VPC, "vpc_endpoint_id": "vpce-0ddddddddddddddd1"}
    direct = one(service_alone(replace(SERVICE, connector_arn=None)), "aws_apprunner_service")
    assert direct["network_configuration"]["egress_configuration"] == {"egress_type": "DEFAULT"}


def test_the_service_builds_the_given_source_and_runs_the_given_worker(service):
    body = one(service, "aws_apprunner_service")
    source = body["source_configuration"]
    assert source["auto_deployments_enabled"] is False
    repository = source["code_repository"]
    assert repository["source_code_version"] == {"type": "BRANCH", "value": "release/1.x"}
    values = repository["code_configuration"]["code_configuration_values"]
    assert (values["runtime"], values["port"]) == ("NODEJS_22", "8080")
    assert values["build_command"] == "pnpm install && echo $${HOME}"  # Terraform would read ${HOME} as a reference
    assert values["start_command"] == "bash apps/api/scripts/start-worker.sh payments.ts"
    assert values["runtime_environment_variables"] == SERVICE.environment
    assert values["runtime_environment_secrets"] == SERVICE.secrets
    assert (body["instance_configuration"]["cpu"], body["instance_configuration"]["memory"]) == ("1024", "2048")
    assert body["tags"] == {"Worker": "payments"}


def test_the_health_check_is_http_on_the_given_path_else_tcp(service):
    assert one(service, "aws_apprunner_service")["health_check_configuration"]["path"] == "/health"
    tcp = one(service_alone(replace(SERVICE, health_check_path=None)), "aws_apprunner_service")
    assert tcp["health_check_configuration"]["protocol"] == "TCP" and "path" not in tcp["health_check_configuration"]


def test_the_instance_role_reads_exactly_the_given_secrets_and_runs_the_given_statements(service):
    policies = {p["name"]: json.loads(p["policy"])["Statement"]
                for p in resources(service, "aws_iam_role_policy").values()}
    read = {s["Sid"]: s["Resource"] for s in policies["read-runtime-secrets"]}
    assert read == {"ReadSecrets": [SECRET], "ReadParameters": [PARAMETER], "DecryptSecrets": [KEY]}
    assert policies["data-access"] == list(SERVICE.statements)
    bare = service_alone(replace(SERVICE, secrets={}, statements=()))
    assert [p["name"] for p in resources(bare, "aws_iam_role_policy").values()] == ["xray-tracing"]


def test_a_private_service_has_no_ingress_connection_and_is_otherwise_the_same_service():
    private = service_alone(replace(SERVICE, private=True))
    assert "aws_apprunner_vpc_ingress_connection" not in private["resource"]
    routed = one(service_alone(), "aws_apprunner_service")
    # Nothing of the service itself changes: turning private, or back, updates no argument of it.
    assert one(private, "aws_apprunner_service") == routed
    assert routed["network_configuration"]["ingress_configuration"] == {"is_publicly_accessible": False}


def test_a_private_service_without_a_health_path_gets_app_runners_tcp_check_on_its_port():
    check = one(service_alone(replace(SERVICE, private=True, health_check_path=None)),
                "aws_apprunner_service")["health_check_configuration"]
    assert check["protocol"] == "TCP" and "path" not in check
