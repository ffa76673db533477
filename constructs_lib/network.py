"""The VPC: private subnets for the endpoint, NLB, connector and data stores; public ones for NAT."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network

from cdktf import Fn, Postcondition, TerraformLocal, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_availability_zones import (DataAwsAvailabilityZones,
                                                                  DataAwsAvailabilityZonesFilter)
from cdktf_cdktf_provider_aws.data_aws_vpc import DataAwsVpc
from cdktf_cdktf_provider_aws.data_aws_vpc_endpoint_service import DataAwsVpcEndpointService
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from constructs import Construct

from .iam import policy_json, service_trust_policy

# Subnets are carved as 16 equal blocks of the VPC CIDR: private ones first, public ones from block 8.
SUBNET_NEWBITS = 4
PUBLIC_BLOCK_OFFSET = 8
# Pinned Terraform addresses (subnets: private_subnet_<i>, public_subnet_<i>): everything sits in them.
VPC_ADDRESS = "vpc"


@dataclass(frozen=True)
class FlowLogsProps:
    account_id: str         # of the role's trust policy (VPC Flow Logs' confused-deputy keys)
    retention_days: int
    kms_key_arn: str


@dataclass(frozen=True)
class NewVpcProps:
    """A VPC this stack creates: private subnets from the CIDR's first blocks, public ones (for NAT) from block 8."""
    cidr: IPv4Network
    az_count: int
    availability_zones: tuple[str, ...] = ()  # empty: looked up among the region's available zones
    nat_per_az: bool = False                  # else one NAT gateway for every zone
    flow_logs: FlowLogsProps | None = None
    # Zones looked up must offer the apprunner.requests endpoint (App Runner's private ingress); ECS needs none,
    # and its regions need not have App Runner at all.
    zones_offer_apprunner_requests: bool = True


@dataclass(frozen=True)
class ExistingVpcProps:
    vpc_id: str
    private_subnet_ids: tuple[str, ...]


@dataclass(frozen=True)
class NetworkProps:
    name_prefix: str    # <project>-<env>: Name tags, the flow logs' group and role
    region: str         # of the apprunner.requests endpoint service and the flow logs' source ARN
    vpc: NewVpcProps | ExistingVpcProps


class Network(Construct):
    """Creates a VPC (NewVpcProps), or looks up an existing one (ExistingVpcProps).

    Exposes `vpc_id`, `vpc_cidr`, `private_subnet_ids` and `subnet_count` (a Python int, known at synth).
    """

    def __init__(self, scope: Construct, id_: str, *, props: NetworkProps):
        super().__init__(scope, id_)
        vpc = props.vpc
        if isinstance(vpc, ExistingVpcProps):
            existing = DataAwsVpc(self, "existing-vpc", id=vpc.vpc_id)
            self.vpc_id: str = existing.id
            self.vpc_cidr: str = existing.cidr_block
            self.private_subnet_ids: list[str] = list(vpc.private_subnet_ids)
            self.subnet_count = len(vpc.private_subnet_ids)
            self.nat_gateway_ids: list[str] = []
            return
        self.subnet_count = vpc.az_count
        self._build_vpc(props.name_prefix, props.region, vpc)
        if vpc.flow_logs:
            self._build_flow_logs(props.name_prefix, props.region, vpc.flow_logs)

    @staticmethod
    def _zone_kept(vpc: NewVpcProps):
        """Zones looked up keep the zone a subnet was created in: if the region's list of available zones
        changes, the lookup shifts, and AWS refuses to replace a subnet that holds network interfaces."""
        if vpc.availability_zones:
            return None
        return TerraformResourceLifecycle(ignore_changes=["availability_zone"])

    def _zone(self, region: str, vpc: NewVpcProps, index: int) -> str:
        if vpc.availability_zones:
            return vpc.availability_zones[index]
        if not hasattr(self, "_zones"):
            zones = DataAwsAvailabilityZones(
                self, "zones", state="available",
                filter=[DataAwsAvailabilityZonesFilter(name="opt-in-status", values=["opt-in-not-required"])],
            )
            self._zones = (self._offering_requests_endpoint(region, vpc.az_count, zones)
                           if vpc.zones_offer_apprunner_requests else zones.names)
        return Fn.element(self._zones, index)

    def _offering_requests_endpoint(self, region: str, az_count: int, zones: DataAwsAvailabilityZones) -> list[str]:
        """Only zones where the apprunner.requests endpoint service is offered: the endpoint gets a network
        interface in every private subnet, and AWS refuses a subnet in a zone the service lacks."""
        service = f"com.amazonaws.{region}.apprunner.requests"
        offered = DataAwsVpcEndpointService(self, "requests-endpoint-service", service_name=service)
        local = TerraformLocal(
            self, "zones-offering-requests-endpoint",
            f"${{[for zone in {zones.fqn}.names : zone if contains({offered.fqn}.availability_zones, zone)]}}")
        offered.lifecycle = TerraformResourceLifecycle(postcondition=[Postcondition(
            condition=f"${{length([for zone in {zones.fqn}.names : zone if contains(self.availability_zones, "
                      f"zone)]) >= {az_count}}}",
            error_message=f"{service} is offered in fewer than AZ_COUNT={az_count} available zones "
                          f"of {region}; lower AZ_COUNT, or set AVAILABILITY_ZONES to zones "
                          "that offer it (aws ec2 describe-vpc-endpoint-services --service-names "
                          f"{service})")])
        return local.as_list

    def _build_vpc(self, prefix: str, region: str, props: NewVpcProps) -> None:
        blocks = list(props.cidr.subnets(prefixlen_diff=SUBNET_NEWBITS))
        vpc = Vpc(self, "vpc", cidr_block=str(props.cidr), enable_dns_support=True,
                       enable_dns_hostnames=True, tags={"Name": prefix})
        vpc.override_logical_id(VPC_ADDRESS)
        # Takes every rule off the default group, so nothing can use it by accident.
        DefaultSecurityGroup(self, "default-security-group", vpc_id=vpc.id, tags={"Name": f"{prefix}-default-unused"})
        gateway = InternetGateway(self, "internet-gateway", vpc_id=vpc.id, tags={"Name": prefix})
        public_routes = RouteTable(self, "public-routes", vpc_id=vpc.id, tags={"Name": f"{prefix}-public"})
        Route(self, "public-default-route", route_table_id=public_routes.id,
                     destination_cidr_block="0.0.0.0/0", gateway_id=gateway.id)

        nat_count = props.az_count if props.nat_per_az else 1
        public_ids, private_ids, nat_ids = [], [], []
        for index in range(props.az_count):
            zone = self._zone(region, props, index)
            public = Subnet(
                self, f"public-subnet-{index}", vpc_id=vpc.id, availability_zone=zone,
                cidr_block=str(blocks[PUBLIC_BLOCK_OFFSET + index]), map_public_ip_on_launch=False,
                tags={"Name": f"{prefix}-public-{index}", "Tier": "public"}, lifecycle=self._zone_kept(props),
            )
            public.override_logical_id(f"public_subnet_{index}")
            RouteTableAssociation(self, f"public-subnet-{index}-routes", subnet_id=public.id,
                                       route_table_id=public_routes.id)
            public_ids.append(public.id)
            if index < nat_count:
                address = Eip(self, f"nat-address-{index}", domain="vpc", tags={"Name": f"{prefix}-nat-{index}"})
                nat = NatGateway(self, f"nat-gateway-{index}", allocation_id=address.id, subnet_id=public.id,
                                      tags={"Name": f"{prefix}-{index}"}, depends_on=[gateway])
                nat_ids.append(nat.id)

        for index in range(props.az_count):
            private = Subnet(
                self, f"private-subnet-{index}", vpc_id=vpc.id, availability_zone=self._zone(region, props, index),
                cidr_block=str(blocks[index]), tags={"Name": f"{prefix}-private-{index}", "Tier": "private"},
                lifecycle=self._zone_kept(props),
            )
            private.override_logical_id(f"private_subnet_{index}")
            routes = RouteTable(self, f"private-routes-{index}", vpc_id=vpc.id,
                                             tags={"Name": f"{prefix}-private-{index}"})
            Route(self, f"private-default-route-{index}", route_table_id=routes.id,
                         destination_cidr_block="0.0.0.0/0", nat_gateway_id=nat_ids[index % len(nat_ids)])
            RouteTableAssociation(self, f"private-subnet-{index}-routes", subnet_id=private.id,
                                       route_table_id=routes.id)
            private_ids.append(private.id)

        self.vpc_id = vpc.id
        self.vpc_cidr = str(props.cidr)
        self.private_subnet_ids = private_ids
        self.public_subnet_ids = public_ids
        self.nat_gateway_ids = nat_ids

    def _build_flow_logs(self, prefix: str, region: str, props: FlowLogsProps) -> None:
        account = props.account_id
        group = CloudwatchLogGroup(self, "flow-logs", name=f"/aws/vpc/{prefix}/flow-logs",
                                   retention_in_days=props.retention_days, kms_key_id=props.kms_key_arn)
        role = IamRole(
            self, "flow-logs-role", name=f"{prefix}-vpc-flow-logs", description="Lets VPC Flow Logs write its group",
            # VPC Flow Logs documents both keys for its role (VPC User Guide, "IAM role for publishing flow logs").
            assume_role_policy=service_trust_policy(
                "vpc-flow-logs.amazonaws.com", source_account=account,
                source_arn=f"arn:aws:ec2:{region}:{account}:vpc-flow-log/*"))
        IamRolePolicy(self, "flow-logs-policy", name="write-flow-logs", role=role.id, policy=policy_json([{
            "Effect": "Allow", "Resource": [group.arn, f"{group.arn}:*"],
            "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
        }]))
        FlowLog(self, "flow-log", vpc_id=self.vpc_id, traffic_type="ALL",
                          log_destination_type="cloud-watch-logs", log_destination=group.arn, iam_role_arn=role.arn,
                          max_aggregation_interval=60)
