"""The private way in: the apprunner.requests interface endpoint, fronted by an internal NLB."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn, TerraformIterator, Token
from cdktf_cdktf_provider_aws.data_aws_network_interface import DataAwsNetworkInterface
from cdktf_cdktf_provider_aws.data_aws_vpc_endpoint import DataAwsVpcEndpoint
from cdktf_cdktf_provider_aws.lb import Lb
from cdktf_cdktf_provider_aws.lb_listener import LbListener, LbListenerDefaultAction
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from cdktf_cdktf_provider_aws.lb_target_group_attachment import LbTargetGroupAttachment
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from workers_scan.aws_names import ELB_NAME_MAX, shorten
from workers_scan.ports import HTTPS_PORT as HTTPS

from .network import Network


@dataclass(frozen=True)
class PrivateIngressProps:
    name_prefix: str            # <project>-<env>: names of the endpoint, its group, the NLB and target group
    region: str                 # of the com.amazonaws.<region>.apprunner.requests endpoint service
    deletion_protection: bool   # the NLB's (production)
    network: Network


class PrivateIngress(Construct):
    """Exposes `endpoint_id`, `vpc_id`, `nlb_arn` and `nlb_dns_name`."""

    def __init__(self, scope: Construct, id_: str, *, props: PrivateIngressProps):
        super().__init__(scope, id_)
        network = props.network
        prefix = props.name_prefix

        group = SecurityGroup(
            self, "endpoint-security-group", name=f"{prefix}-apprunner-endpoint", vpc_id=network.vpc_id,
            description="App Runner requests endpoint: HTTPS from the internal NLB only",
            tags={"Name": f"{prefix}-apprunner-endpoint"},
        )
        # The NLB has no security group (REST VPC links reach it over PrivateLink); its traffic to
        # IP targets comes from its own private addresses, inside the VPC CIDR.
        VpcSecurityGroupIngressRule(
            self, "endpoint-https-from-vpc", security_group_id=group.id, ip_protocol="tcp",
            from_port=HTTPS, to_port=HTTPS, cidr_ipv4=network.vpc_cidr, description="HTTPS from the internal NLB",
        )
        if network.vpc_secondary_cidrs is not None:
            secondary = TerraformIterator.from_list(network.vpc_secondary_cidrs)
            VpcSecurityGroupIngressRule(
                self, "endpoint-https-from-vpc-secondary-cidrs", for_each=secondary, security_group_id=group.id,
                ip_protocol="tcp", from_port=HTTPS, to_port=HTTPS, cidr_ipv4=Token.as_string(secondary.value),
                description="HTTPS from the internal NLB (secondary VPC CIDR block)",
            )
        # App Runner's requests endpoint takes no endpoint policy and no private DNS.
        endpoint = VpcEndpoint(
            self, "apprunner-requests-endpoint", vpc_id=network.vpc_id,
            service_name=f"com.amazonaws.{props.region}.apprunner.requests",
            vpc_endpoint_type="Interface", subnet_ids=network.private_subnet_ids,
            security_group_ids=[group.id], private_dns_enabled=False,
            tags={"Name": f"{prefix}-apprunner-requests"},
        )

        nlb = Lb(
            self, "nlb", name=shorten(f"{prefix}-ingress", ELB_NAME_MAX), internal=True, load_balancer_type="network",
            subnets=network.private_subnet_ids, enable_cross_zone_load_balancing=True,
            enable_deletion_protection=props.deletion_protection,
        )
        targets = LbTargetGroup(
            self, "endpoint-targets", name=shorten(f"{prefix}-endpoint", ELB_NAME_MAX), port=HTTPS, protocol="TCP",
            target_type="ip", vpc_id=network.vpc_id,
            health_check=LbTargetGroupHealthCheck(enabled=True, protocol="TCP", port="traffic-port",
                                                      healthy_threshold=3, unhealthy_threshold=3, interval=30),
        )
        LbListener(
            self, "https-passthrough", load_balancer_arn=nlb.arn, port=HTTPS, protocol="TCP",
            default_action=[LbListenerDefaultAction(type="forward", target_group_arn=targets.arn)],
        )
        # The endpoint's ENI addresses are known only after it exists, so a count/for_each over them
        # would not plan on a first apply. The endpoint has one ENI per subnet and the subnet count
        # is known at synth time: one lookup and one attachment per index, each resolved at apply.
        # The provider keeps the endpoint's old network interface list after its subnets change (until the next
        # refresh), so a new zone's address would appear one apply late. A lookup of the endpoint that waits for
        # its update (depends_on) reads the fresh list in the same apply.
        current = DataAwsVpcEndpoint(self, "endpoint-now", id=endpoint.id, depends_on=[endpoint])
        for index in range(network.subnet_count):
            eni = DataAwsNetworkInterface(
                self, f"endpoint-eni-{index}", id=Fn.element(current.network_interface_ids, index),
            )
            LbTargetGroupAttachment(
                self, f"endpoint-target-{index}", target_group_arn=targets.arn, target_id=eni.private_ip, port=HTTPS,
            )

        self.endpoint_id: str = endpoint.id
        self.vpc_id: str = network.vpc_id
        self.nlb_arn: str = nlb.arn
        self.nlb_dns_name: str = nlb.dns_name
