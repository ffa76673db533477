"""The App Runner stand-in (tests/apprunner_standin.py): AWS's refusals through boto3, then a real Terraform
apply/plan/update/destroy cycle with hashicorp/aws 5.100.0 against it."""

from __future__ import annotations

import json
import time

import pytest

from .apprunner_standin import (ACCOUNT, ACTIONS, ASC_NAME_QUOTA, ASC_REVISION_QUOTA, apprunner_standin, standin_calls,
                                standin_state)
from .terraform import run, terraform_binary, terraform_env, unavailable

pytestmark = pytest.mark.emulator

REGION = "eu-west-1"
IMAGE = {"ImageRepository": {"ImageIdentifier": "public.ecr.aws/nginx/nginx:latest",
                             "ImageRepositoryType": "ECR_PUBLIC"}}


@pytest.fixture
def standin(tmp_path):
    with apprunner_standin(tmp_path / "apprunner.log") as url:
        yield url


def boto_client(url: str):
    try:
        import boto3
    except ImportError:
        unavailable("boto3 (installed with moto) is missing: pip install -c requirements/app.txt -e '.[test]'")
    return boto3.client("apprunner", endpoint_url=url, region_name=REGION, aws_access_key_id="testing",
                        aws_secret_access_key="testing")


@pytest.fixture
def client(standin):
    return boto_client(standin)


def refused(call, code: str, **kwargs) -> str:
    """Run a boto3 call that must fail with `code`; return AWS's message."""
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    assert caught.value.response["Error"]["Code"] == code, caught.value.response
    return caught.value.response["Error"]["Message"]


def make_service(client, name: str, **extra) -> dict:
    return client.create_service(ServiceName=name, SourceConfiguration=IMAGE, **extra)["Service"]


def test_round_trips_and_arn_formats(client, standin):
    scaling = client.create_auto_scaling_configuration(AutoScalingConfigurationName="workers", MaxSize=4,
                                                       Tags=[{"Key": "team", "Value": "orders"}])
    asc = scaling["AutoScalingConfiguration"]
    assert asc["AutoScalingConfigurationArn"].startswith(
        f"arn:aws:apprunner:{REGION}:{ACCOUNT}:autoscalingconfiguration/workers/1/")
    assert (asc["AutoScalingConfigurationRevision"], asc["Latest"], asc["MaxSize"], asc["MinSize"]) == (1, True, 4, 1)
    observability = client.create_observability_configuration(
        ObservabilityConfigurationName="tracing",
        TraceConfiguration={"Vendor": "AWSXRAY"})["ObservabilityConfiguration"]
    assert "observabilityconfiguration/tracing/1/" in observability["ObservabilityConfigurationArn"]
    connector = client.create_vpc_connector(VpcConnectorName="egress", Subnets=["subnet-0123456789abcdef0"],
                                            SecurityGroups=["sg-0123456789abcdef0"])["VpcConnector"]
    assert "vpcconnector/egress/1/" in connector["VpcConnectorArn"] and connector["Status"] == "ACTIVE"

    created = client.create_service(
        ServiceName="orders", SourceConfiguration=IMAGE, AutoScalingConfigurationArn=asc["AutoScalingConfigurationArn"],
        InstanceConfiguration={"Cpu": "1 vCPU", "Memory": "2 GB"},
        NetworkConfiguration={"EgressConfiguration": {"EgressType": "VPC",
                                                      "VpcConnectorArn": connector["VpcConnectorArn"]},
                              "IngressConfiguration": {"IsPubliclyAccessible": False}},
        ObservabilityConfiguration={"ObservabilityEnabled": True,
                                    "ObservabilityConfigurationArn": observability["ObservabilityConfigurationArn"]})
    assert created["Service"]["Status"] == "OPERATION_IN_PROGRESS" and created["OperationId"]
    arn = created["Service"]["ServiceArn"]
    assert arn == f"arn:aws:apprunner:{REGION}:{ACCOUNT}:service/orders/{created['Service']['ServiceId']}"
    service = client.describe_service(ServiceArn=arn)["Service"]
    assert service["Status"] == "RUNNING"
    assert service["ServiceUrl"].endswith(f".{REGION}.awsapprunner.com")
    assert service["InstanceConfiguration"] == {"Cpu": "1024", "Memory": "2048"}
    assert service["HealthCheckConfiguration"]["Protocol"] == "TCP"
    assert service["AutoScalingConfigurationSummary"]["AutoScalingConfigurationArn"] == asc[
        "AutoScalingConfigurationArn"]
    assert service["NetworkConfiguration"]["IngressConfiguration"] == {"IsPubliclyAccessible": False}
    assert client.list_operations(ServiceArn=arn)["OperationSummaryList"][0]["Status"] == "SUCCEEDED"

    second = client.create_auto_scaling_configuration(AutoScalingConfigurationName="workers", MaxSize=8)
    revision_two = second["AutoScalingConfiguration"]
    assert (revision_two["AutoScalingConfigurationRevision"], revision_two["Latest"]) == (2, True)
    first = client.describe_auto_scaling_configuration(AutoScalingConfigurationArn=asc["AutoScalingConfigurationArn"])
    assert first["AutoScalingConfiguration"]["Latest"] is False
    assert first["AutoScalingConfiguration"]["HasAssociatedService"] is True
    client.update_service(ServiceArn=arn, AutoScalingConfigurationArn=revision_two["AutoScalingConfigurationArn"])
    assert client.describe_service(ServiceArn=arn)["Service"]["AutoScalingConfigurationSummary"][
        "AutoScalingConfigurationRevision"] == 2
    deleted = client.delete_auto_scaling_configuration(AutoScalingConfigurationArn=asc["AutoScalingConfigurationArn"])
    assert deleted["AutoScalingConfiguration"]["Status"] == "inactive"

    ingress = client.create_vpc_ingress_connection(
        ServiceArn=arn, VpcIngressConnectionName="orders-private",
        IngressVpcConfiguration={"VpcId": "vpc-0123456789abcdef0", "VpcEndpointId": "vpce-0123456789abcdef0"})
    ingress_arn = ingress["VpcIngressConnection"]["VpcIngressConnectionArn"]
    assert ingress["VpcIngressConnection"]["Status"] == "PENDING_CREATION"
    assert ingress_arn.startswith(f"arn:aws:apprunner:{REGION}:{ACCOUNT}:vpcingressconnection/orders-private/")
    assert client.describe_vpc_ingress_connection(VpcIngressConnectionArn=ingress_arn)[
        "VpcIngressConnection"]["Status"] == "AVAILABLE"

    client.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    client.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert client.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    assert client.list_tags_for_resource(ResourceArn=revision_two["AutoScalingConfigurationArn"])["Tags"] == []

    client.delete_vpc_ingress_connection(VpcIngressConnectionArn=ingress_arn)
    assert client.delete_service(ServiceArn=arn)["Service"]["Status"] == "OPERATION_IN_PROGRESS"
    assert client.describe_service(ServiceArn=arn)["Service"]["Status"] == "DELETED"
    client.delete_vpc_connector(VpcConnectorArn=connector["VpcConnectorArn"])
    client.delete_auto_scaling_configuration(AutoScalingConfigurationArn=revision_two["AutoScalingConfigurationArn"])
    client.delete_observability_configuration(
        ObservabilityConfigurationArn=observability["ObservabilityConfigurationArn"])
    assert {call[0] for call in standin_calls(standin)} <= set(ACTIONS)


def test_scaling_configuration_in_use_cannot_be_deleted(client):
    asc = client.create_auto_scaling_configuration(AutoScalingConfigurationName="workers")["AutoScalingConfiguration"]
    service = make_service(client, "orders", AutoScalingConfigurationArn=asc["AutoScalingConfigurationArn"])
    message = refused(client.delete_auto_scaling_configuration, "InvalidRequestException",
                      AutoScalingConfigurationArn=asc["AutoScalingConfigurationArn"])
    assert asc["AutoScalingConfigurationArn"] in message and "orders" in message
    # Once the service is gone the revision is free.
    client.delete_service(ServiceArn=service["ServiceArn"])
    client.describe_service(ServiceArn=service["ServiceArn"])
    client.delete_auto_scaling_configuration(AutoScalingConfigurationArn=asc["AutoScalingConfigurationArn"])


def test_vpc_connector_in_use_cannot_be_deleted(client):
    connector = client.create_vpc_connector(VpcConnectorName="egress", Subnets=["subnet-0123456789abcdef0"])
    arn = connector["VpcConnector"]["VpcConnectorArn"]
    make_service(client, "orders", NetworkConfiguration={"EgressConfiguration": {"EgressType": "VPC",
                                                                                 "VpcConnectorArn": arn}})
    message = refused(client.delete_vpc_connector, "InvalidRequestException", VpcConnectorArn=arn)
    assert arn in message and "being used by other services" in message


def test_one_active_vpc_connector_revision_per_name(client):
    first = client.create_vpc_connector(VpcConnectorName="egress", Subnets=["subnet-0123456789abcdef0"])
    message = refused(client.create_vpc_connector, "InvalidRequestException", VpcConnectorName="egress",
                      Subnets=["subnet-0fedcba9876543210"])
    assert "egress" in message and first["VpcConnector"]["VpcConnectorArn"] in message
    client.delete_vpc_connector(VpcConnectorArn=first["VpcConnector"]["VpcConnectorArn"])
    second = client.create_vpc_connector(VpcConnectorName="egress", Subnets=["subnet-0fedcba9876543210"])
    assert second["VpcConnector"]["VpcConnectorRevision"] == 2


def test_scaling_configuration_quotas(client):
    names = [f"scaling-{index}" for index in range(ASC_NAME_QUOTA)]
    arns = [client.create_auto_scaling_configuration(AutoScalingConfigurationName=name)["AutoScalingConfiguration"][
        "AutoScalingConfigurationArn"] for name in names]
    message = refused(client.create_auto_scaling_configuration, "ServiceQuotaExceededException",
                      AutoScalingConfigurationName="one-too-many")
    assert "one-too-many" in message
    # A new revision of an existing name is not a new name...
    for _ in range(ASC_REVISION_QUOTA - 1):
        client.create_auto_scaling_configuration(AutoScalingConfigurationName=names[0])
    # ...but a name holds at most five active revisions.
    message = refused(client.create_auto_scaling_configuration, "ServiceQuotaExceededException",
                      AutoScalingConfigurationName=names[0])
    assert names[0] in message
    # Deleted revisions and names no longer count.
    client.delete_auto_scaling_configuration(AutoScalingConfigurationArn=arns[0])
    sixth = client.create_auto_scaling_configuration(AutoScalingConfigurationName=names[0])
    assert sixth["AutoScalingConfiguration"]["AutoScalingConfigurationRevision"] == 6
    client.delete_auto_scaling_configuration(AutoScalingConfigurationArn=arns[1])
    client.create_auto_scaling_configuration(AutoScalingConfigurationName="one-too-many")


def test_deleting_what_does_not_exist(client):
    missing = f"arn:aws:apprunner:{REGION}:{ACCOUNT}"
    for call, key, arn in [
        (client.delete_service, "ServiceArn", f"{missing}:service/ghost/{'0' * 32}"),
        (client.delete_auto_scaling_configuration, "AutoScalingConfigurationArn",
         f"{missing}:autoscalingconfiguration/ghost/1/{'0' * 32}"),
        (client.delete_vpc_connector, "VpcConnectorArn", f"{missing}:vpcconnector/ghost/1/{'0' * 32}"),
        (client.delete_vpc_ingress_connection, "VpcIngressConnectionArn",
         f"{missing}:vpcingressconnection/ghost/{'0' * 32}"),
        (client.delete_observability_configuration, "ObservabilityConfigurationArn",
         f"{missing}:observabilityconfiguration/ghost/1/{'0' * 32}"),
        (client.describe_service, "ServiceArn", f"{missing}:service/ghost/{'0' * 32}"),
        (client.list_tags_for_resource, "ResourceArn", f"{missing}:service/ghost/{'0' * 32}"),
    ]:
        assert arn in refused(call, "ResourceNotFoundException", **{key: arn})
    # Deleting twice: the second time the connector is gone.
    connector = client.create_vpc_connector(VpcConnectorName="egress", Subnets=["subnet-0123456789abcdef0"])
    client.delete_vpc_connector(VpcConnectorArn=connector["VpcConnector"]["VpcConnectorArn"])
    refused(client.delete_vpc_connector, "ResourceNotFoundException",
            VpcConnectorArn=connector["VpcConnector"]["VpcConnectorArn"])


def test_ingress_connection_names_are_unique(client):
    service = make_service(client, "orders")
    config = {"VpcId": "vpc-0123456789abcdef0", "VpcEndpointId": "vpce-0123456789abcdef0"}
    first = client.create_vpc_ingress_connection(ServiceArn=service["ServiceArn"], VpcIngressConnectionName="private",
                                                 IngressVpcConfiguration=config)["VpcIngressConnection"]
    message = refused(client.create_vpc_ingress_connection, "InvalidRequestException",
                      ServiceArn=service["ServiceArn"], VpcIngressConnectionName="private",
                      IngressVpcConfiguration=config)
    assert "private" in message and first["VpcIngressConnectionArn"] in message


def test_service_busy_while_an_operation_runs(tmp_path):
    """With a settle time the in-progress window is visible: AWS refuses changes until it ends."""
    with apprunner_standin(tmp_path / "apprunner.log", settle_seconds=0.5) as url:
        client = boto_client(url)
        arn = make_service(client, "orders")["ServiceArn"]
        assert client.describe_service(ServiceArn=arn)["Service"]["Status"] == "OPERATION_IN_PROGRESS"
        assert arn in refused(client.update_service, "InvalidStateException", ServiceArn=arn,
                              InstanceConfiguration={"Cpu": "2048"})
        time.sleep(0.6)
        assert client.describe_service(ServiceArn=arn)["Service"]["Status"] == "RUNNING"
        client.update_service(ServiceArn=arn, InstanceConfiguration={"Cpu": "2 vCPU", "Memory": "4 GB"})


# -- Terraform -----------------------------------------------------------------------------------------------
CONNECTION = f"arn:aws:apprunner:{REGION}:{ACCOUNT}:connection/github-acme/0123456789abcdef0123456789abcdef"


def terraform_config(url: str, *, scaling: str = "low", keep_low: bool = True, connector: str = "egress-a",
                     subnets: tuple[str, ...] = ("subnet-0123456789abcdef0", "subnet-0123456789abcdef1"),
                     create_before_destroy: bool = False) -> dict:
    """One observability configuration, two scaling revisions, a connector, a private service and its ingress."""
    ref = "${aws_apprunner_%s.%s.arn}"
    resources = {
        "aws_apprunner_observability_configuration": {"tracing": {
            "observability_configuration_name": "orders-tracing", "trace_configuration": [{"vendor": "AWSXRAY"}]}},
        "aws_apprunner_auto_scaling_configuration_version": {
            "low": {"auto_scaling_configuration_name": "orders-scaling", "max_size": 2, "max_concurrency": 50},
            "high": {"auto_scaling_configuration_name": "orders-scaling", "min_size": 2, "max_size": 10,
                     "tags": {"tier": "high"}}},
        "aws_apprunner_vpc_connector": {"egress": {
            "vpc_connector_name": connector, "subnets": list(subnets), "security_groups": ["sg-0123456789abcdef0"],
            **({"lifecycle": [{"create_before_destroy": True}]} if create_before_destroy else {})}},
        "aws_apprunner_service": {"orders": {
            "service_name": "orders-api",
            "auto_scaling_configuration_arn": ref % ("auto_scaling_configuration_version", scaling),
            "source_configuration": [{
                "auto_deployments_enabled": False,
                "authentication_configuration": [{"connection_arn": CONNECTION}],
                "code_repository": [{
                    "repository_url": "https://github.com/acme/orders",
                    "source_code_version": [{"type": "BRANCH", "value": "main"}],
                    "code_configuration": [{"configuration_source": "API", "code_configuration_values": [{
                        "runtime": "NODEJS_18", "build_command": "npm ci && npm run build",
                        "start_command": "node dist/main.js", "port": "3000",
                        "runtime_environment_variables": {"NODE_ENV": "production"}}]}]}]}],
            "instance_configuration": [{"cpu": "1 vCPU", "memory": "2 GB"}],
            "health_check_configuration": [{"protocol": "HTTP", "path": "/health"}],
            "network_configuration": [{
                "egress_configuration": [{"egress_type": "VPC",
                                          "vpc_connector_arn": ref % ("vpc_connector", "egress")}],
                "ingress_configuration": [{"is_publicly_accessible": False}]}],
            "observability_configuration": [{
                "observability_enabled": True,
                "observability_configuration_arn": ref % ("observability_configuration", "tracing")}],
            "tags": {"team": "orders"}}},
        "aws_apprunner_vpc_ingress_connection": {"orders": {
            "name": "orders-api-ingress", "service_arn": ref % ("service", "orders"),
            "ingress_vpc_configuration": [{"vpc_id": "vpc-0123456789abcdef0",
                                           "vpc_endpoint_id": "vpce-0123456789abcdef0"}]}},
    }
    if not keep_low:
        del resources["aws_apprunner_auto_scaling_configuration_version"]["low"]
    return {
        "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": "5.100.0"}}},
        "provider": {"aws": [{
            "region": REGION, "access_key": "testing", "secret_key": "testing",
            "skip_credentials_validation": True, "skip_requesting_account_id": True,
            "skip_metadata_api_check": "true", "skip_region_validation": True, "max_retries": 1,
            "endpoints": [{"apprunner": url}]}]},
        "resource": resources,
    }


class Stack:
    def __init__(self, tmp_path, url: str):
        self.dir, self.url = tmp_path / "stack", url
        self.dir.mkdir()
        self.env = terraform_env(tmp_path)
        self.timings: dict[str, float] = {}

    def write(self, **options) -> None:
        (self.dir / "main.tf.json").write_text(json.dumps(terraform_config(self.url, **options), indent=2))

    def terraform(self, label: str, *args: str):
        started = time.monotonic()
        result = run([*args, "-no-color"], self.dir, self.env, timeout=600)
        self.timings[label] = round(time.monotonic() - started, 1)
        return result

    def apply(self, label: str, **options) -> None:
        self.write(**options)
        result = self.terraform(label, "apply", "-auto-approve", "-input=false")
        assert result.returncode == 0, f"{label} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        self.assert_no_changes(label)

    def apply_refused(self, label: str, expected: str, **options) -> str:
        self.write(**options)
        result = self.terraform(label, "apply", "-auto-approve", "-input=false")
        assert result.returncode != 0, f"{label} should have been refused:\n{result.stdout[-3000:]}"
        assert expected in result.stderr, result.stderr[-3000:]
        return result.stderr

    def assert_no_changes(self, label: str) -> None:
        plan = self.terraform(f"{label}: plan", "plan", "-detailed-exitcode", "-input=false")
        assert plan.returncode == 0, f"second plan after {label} is not empty:\n{plan.stdout[-4000:]}\n{plan.stderr}"


def records(url: str, kind: str) -> list[dict]:
    return [r for r in standin_state(url)["records"].values() if r["_kind"] == kind]


def test_terraform_applies_updates_and_destroys_against_the_standin(tmp_path, standin):
    terraform_binary()
    stack = Stack(tmp_path, standin)
    stack.write()
    init = stack.terraform("init", "init", "-input=false")
    if init.returncode != 0:
        unavailable(f"terraform init failed (no provider mirror, registry unreachable?):\n{init.stderr[-600:]}")

    stack.apply("create")
    [service] = records(standin, "service")
    scaling = {r["AutoScalingConfigurationArn"]: r for r in records(standin, "autoscalingconfiguration")}
    assert sorted(r["AutoScalingConfigurationRevision"] for r in scaling.values()) == [1, 2]
    assert service["Status"] == "RUNNING"
    assert scaling[service["_asc"]]["MaxSize"] == 2
    assert service["NetworkConfiguration"]["IngressConfiguration"] == {"IsPubliclyAccessible": False}
    [ingress] = records(standin, "vpcingressconnection")
    assert ingress["Status"] == "AVAILABLE" and ingress["ServiceArn"] == service["ServiceArn"]

    # The service moves to the other revision; then the unused one is deleted (AWS would refuse it before).
    stack.apply("switch scaling", scaling="high")
    assert scaling[records(standin, "service")[0]["_asc"]]["MaxSize"] == 10
    stack.apply("drop low scaling", scaling="high", keep_low=False)
    statuses = sorted(r["Status"] for r in records(standin, "autoscalingconfiguration"))
    assert statuses == ["active", "inactive"]

    # Replacing the connector in place is what AWS refuses: destroy-first trips "in use", create-first trips
    # "one active revision per name". Terraform gets it right with a new name created before the old goes.
    stack.apply_refused("replace connector, destroy first", "being used by other services", scaling="high",
                        keep_low=False, subnets=("subnet-0fedcba9876543210",))
    stack.apply_refused("replace connector, same name", "only one active revision", scaling="high",
                        keep_low=False, subnets=("subnet-0fedcba9876543210",), create_before_destroy=True)
    stack.apply("replace connector", scaling="high", keep_low=False, connector="egress-b",
                subnets=("subnet-0fedcba9876543210",), create_before_destroy=True)
    connectors = {r["VpcConnectorName"]: r for r in records(standin, "vpcconnector")}
    assert {name: r["Status"] for name, r in connectors.items()} == {"egress-a": "INACTIVE", "egress-b": "ACTIVE"}
    egress = records(standin, "service")[0]["NetworkConfiguration"]["EgressConfiguration"]
    assert egress["VpcConnectorArn"] == connectors["egress-b"]["VpcConnectorArn"]

    destroy = stack.terraform("destroy", "destroy", "-auto-approve", "-input=false")
    assert destroy.returncode == 0, destroy.stdout[-4000:] + destroy.stderr[-4000:]
    left = {r.get("Status") for r in standin_state(standin)["records"].values()}
    assert left <= {"DELETED", "INACTIVE", "inactive"}, left
    print("terraform timings (s):", stack.timings)
    print("App Runner actions Terraform used:", sorted({action for action, _ in standin_calls(standin)}))
