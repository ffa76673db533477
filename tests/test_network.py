"""The network built alone, from its props: no settings file, no monorepo, no platform stack."""

from __future__ import annotations

import json
from ipaddress import IPv4Network

import cdktf
import pytest

from constructs_lib.network import ExistingVpcProps, FlowLogsProps, Network, NetworkProps, NewVpcProps

from .helpers import one, resources

ACCOUNT = "123456789012"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/0a1b2c3d-0000-4000-8000-0123456789ab"
ZONES = ("eu-west-1a", "eu-west-1c")
FLOW_LOGS = FlowLogsProps(account_id=ACCOUNT, retention_days=90, kms_key_arn=KEY)


def network_alone(vpc) -> tuple[Network, dict]:
    stack = cdktf.TerraformStack(cdktf.Testing.app(), "network-alone")
    network = Network(stack, "network", props=NetworkProps(name_prefix="globex-qa", region="eu-west-1", vpc=vpc))
    return network, json.loads(cdktf.Testing.synth(stack))


@pytest.fixture(scope="module")
def pinned() -> dict:
    return network_alone(NewVpcProps(cidr=IPv4Network("10.20.0.0/16"), az_count=2, availability_zones=ZONES,
                                      flow_logs=FLOW_LOGS))[1]


def test_subnets_are_carved_from_the_cidr_private_first_public_from_block_eight_in_the_given_zones(pinned):
    subnets = {name: (s["cidr_block"], s["availability_zone"]) for name, s in resources(pinned, "aws_subnet").items()}
    assert subnets == {
        "private_subnet_0": ("10.20.0.0/20", "eu-west-1a"), "private_subnet_1": ("10.20.16.0/20", "eu-west-1c"),
        "public_subnet_0": ("10.20.128.0/20", "eu-west-1a"), "public_subnet_1": ("10.20.144.0/20", "eu-west-1c")}
    assert one(pinned, "aws_vpc")["cidr_block"] == "10.20.0.0/16"
    assert "data" not in pinned  # given zones: nothing looked up


def test_one_nat_gateway_serves_every_zone_unless_one_per_zone_is_asked(pinned):
    assert len(resources(pinned, "aws_nat_gateway")) == 1
    per_zone = network_alone(NewVpcProps(cidr=IPv4Network("10.20.0.0/16"), az_count=3, nat_per_az=True))[1]
    assert len(resources(per_zone, "aws_nat_gateway")) == 3
    assert len({r["nat_gateway_id"] for r in resources(per_zone, "aws_route").values() if "nat_gateway_id" in r}) == 3


def test_flow_logs_go_to_an_encrypted_group_through_a_role_only_this_account_s_flow_logs_assume(pinned):
    group = one(pinned, "aws_cloudwatch_log_group")
    assert (group["name"], group["retention_in_days"], group["kms_key_id"]) == ("/aws/vpc/globex-qa/flow-logs", 90,
                                                                                KEY)
    [statement] = json.loads(one(pinned, "aws_iam_role")["assume_role_policy"])["Statement"]
    assert statement["Condition"]["ArnLike"]["aws:SourceArn"] == f"arn:aws:ec2:eu-west-1:{ACCOUNT}:vpc-flow-log/*"
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT
    without = network_alone(NewVpcProps(cidr=IPv4Network("10.20.0.0/16"), az_count=2, availability_zones=ZONES))[1]
    assert not {"aws_flow_log", "aws_cloudwatch_log_group", "aws_iam_role"} & set(without["resource"])


def test_zones_looked_up_offer_the_requests_endpoint_only_when_app_runner_needs_it():
    for offer, lookups in ((True, {"aws_availability_zones", "aws_vpc_endpoint_service"}),
                           (False, {"aws_availability_zones"})):
        stack = network_alone(NewVpcProps(cidr=IPv4Network("10.20.0.0/16"), az_count=3,
                                          zones_offer_apprunner_requests=offer))[1]
        assert set(stack["data"]) == lookups
    looked_up = network_alone(NewVpcProps(cidr=IPv4Network("10.20.0.0/16"), az_count=3))[1]
    [service] = looked_up["data"]["aws_vpc_endpoint_service"].values()
    assert service["service_name"] == "com.amazonaws.eu-west-1.apprunner.requests"
    [postcondition] = service["lifecycle"]["postcondition"]
    assert postcondition["condition"].endswith(">= 3}") and "AZ_COUNT=3" in postcondition["error_message"]


def test_an_existing_vpc_is_looked_up_and_its_subnets_passed_through_untouched():
    subnets = ("subnet-0123456789abcdef0", "subnet-0123456789abcdef1", "subnet-0123456789abcdef2")
    network, stack = network_alone(ExistingVpcProps(vpc_id="vpc-0123456789abcdef0", private_subnet_ids=subnets))
    assert "resource" not in stack
    assert [v["id"] for v in stack["data"]["aws_vpc"].values()] == ["vpc-0123456789abcdef0"]
    assert (network.private_subnet_ids, network.subnet_count, network.nat_gateway_ids) == (list(subnets), 3, [])
