"""The private way in: an internal NLB (the REST API's VPC link reaches only an NLB) in front of either the
apprunner.requests interface endpoint (COMPUTE=apprunner) or the workers' internal ALB (COMPUTE=ecs).

Nothing inside the VPC bypasses the front door: the NLB has a security group of its own with no inbound rule, and
`enforce_security_group_inbound_rules_on_private_link_traffic` off, so the VPC link's traffic (PrivateLink, from API
Gateway's side, whose addresses no rule could name) passes and nothing else does; the endpoint's (or the ALB's) group
admits that group only, not the VPC's CIDR.

The NLB keeps its address whatever the backend, so switching COMPUTE never replaces the VPC link (its
description, which names the backend, updates in place). On 443 (App Runner, or an ALB with a certificate) the
listener keeps its address and only changes target group; an ALB without a certificate gets a listener on 80,
and the one on 443 is deleted.

Day 2, from the layout before the NLB had a security group (AWS adds none to an NLB made without one): the NLB, its
listener, target group and attachments are new resources beside the old ones. The VPC link is replaced new-before-old,
the stage moves, and only then (depends_on the stage) does the endpoint's or ALB's rule turn from the VPC's CIDR to
the NLB's group, so the old path serves until the new one does. Then the old link goes, and after it the old NLB
(taking its listener along): its deletion protection must be turned off first, with docs/day-2.md's one command. The
old listener, target group and attachments are forgotten (`removed`, destroy = false): deleted early, they would cut
the old path before the stage moves, and nothing orders their deletion after it. (Forgetting the NLB as well would
leave it running, and Terraform 1.11 finds a cycle between a forgotten object and the link's create_before_destroy.)
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn, TerraformResource, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_network_interface import DataAwsNetworkInterface
from cdktf_cdktf_provider_aws.data_aws_vpc_endpoint import DataAwsVpcEndpoint
from cdktf_cdktf_provider_aws.lb import Lb
from cdktf_cdktf_provider_aws.lb_listener import LbListener, LbListenerDefaultAction
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from cdktf_cdktf_provider_aws.lb_target_group_attachment import LbTargetGroupAttachment
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from workers_scan.aws_names import ELB_NAME_MAX, short_hash, shorten
from workers_scan.ports import HTTPS_PORT as HTTPS

from .network import Network


@dataclass(frozen=True)
class AlbTarget:
    """The workers' internal ALB (COMPUTE=ecs) as the NLB's one target."""
    arn: str
    listener: tuple[TerraformResource, ...]  # the ALB's listener on `port`: AWS attaches the ALB only after it
    port: int
    protocol: str       # of the ALB's listener: HTTP or HTTPS (the health check speaks it)
    security_group_id: str  # the ALB's: the NLB's group may reach it on `port` (the ALB admits the NLB's group)


@dataclass(frozen=True)
class PrivateIngressProps:
    name_prefix: str            # <project>-<env>: names of the endpoint, its group, the NLB and target group
    region: str                 # of the com.amazonaws.<region>.apprunner.requests endpoint service
    # The NLB's. On unless ALLOW_DESTROY_DATA: it outlives COMPUTE switches and goes only with the environment,
    # whose destroy needs that setting anyway while it has a data store (their prevent_destroy).
    deletion_protection: bool
    network: Network
    alb: AlbTarget | None = None  # None: the apprunner.requests endpoint


# The layout before the NLB had a security group: these addresses are forgotten, not destroyed (module docstring).
# Pinned: a `removed` block must name them exactly (their construct paths under "private-ingress"). Its NLB,
# aws_lb.private-ingress_nlb_7A033B02, is destroyed instead.
FORGOTTEN_ADDRESSES = (
    "aws_lb_listener.private-ingress_https-passthrough_953F5098",
    "aws_lb_listener.private-ingress_tcp-80-passthrough_C17FC4E8",
    "aws_lb_target_group.private-ingress_endpoint-targets_3125FA23",
    "aws_lb_target_group.private-ingress_alb-targets_903FCCC7",
    "aws_lb_target_group_attachment.private-ingress_endpoint-target-0_55F603EB",
    "aws_lb_target_group_attachment.private-ingress_endpoint-target-1_B3E71648",
    "aws_lb_target_group_attachment.private-ingress_endpoint-target-2_948759B5",
    "aws_lb_target_group_attachment.private-ingress_alb-target_6FBC1F30",
)


def admission(after: list[TerraformResource]) -> dict:
    """How the rule admitting the NLB's group is made: `after` the API's stage, new before old. Its address is the
    one of the layout that admitted the VPC's CIDR, and a rule's source type is ForceNew: the CIDR rule is replaced
    only once the stage has moved to the new NLB's link (the old path serves until then), and only after its
    successor exists (the new path waits the seconds between the stage's update and the rule's creation)."""
    return dict(depends_on=after, lifecycle=TerraformResourceLifecycle(create_before_destroy=True))


class PrivateIngress(Construct):
    """Exposes `endpoint_id` (None with an ALB), `endpoint_security_group_id` (None with an ALB), `vpc_id`,
    `nlb_arn`, `nlb_dns_name`, `security_group_id` (the NLB's), `port` (the NLB's listener, which API Gateway's
    integration URIs reach) and `forgotten` (addresses for `removed` blocks)."""

    def __init__(self, scope: Construct, id_: str, *, props: PrivateIngressProps):
        super().__init__(scope, id_)
        network = props.network
        prefix = props.name_prefix
        self.vpc_id: str = network.vpc_id
        self.forgotten = FORGOTTEN_ADDRESSES
        # Day 2: name and vpc_id are ForceNew; nothing refers to it but the NLB (replaced with it).
        group = SecurityGroup(
            self, "nlb-security-group", name=f"{prefix}-vpc-link-nlb", vpc_id=network.vpc_id,
            description="Internal NLB behind the API's VPC link: no inbound rule (the link's PrivateLink traffic "
                        "is not filtered), out to its target only",
            tags={"Name": f"{prefix}-vpc-link-nlb"},
        )
        self.security_group_id: str = group.id
        if props.alb is not None:
            nlb = self._build_nlb(props)
            self._build_alb_target(props, nlb, props.alb)
            self.endpoint_id: str | None = None
            self.endpoint_security_group_id: str | None = None
            return

        endpoint_group = SecurityGroup(
            self, "endpoint-security-group", name=f"{prefix}-apprunner-endpoint", vpc_id=network.vpc_id,
            description="App Runner requests endpoint: HTTPS from the internal NLB only",
            tags={"Name": f"{prefix}-apprunner-endpoint"},
        )
        self.endpoint_security_group_id = endpoint_group.id
        VpcSecurityGroupEgressRule(
            self, "nlb-to-endpoint", security_group_id=group.id, ip_protocol="tcp", from_port=HTTPS, to_port=HTTPS,
            referenced_security_group_id=endpoint_group.id, description="To the App Runner requests endpoint",
        )
        # App Runner's requests endpoint takes no endpoint policy and no private DNS.
        endpoint = VpcEndpoint(
            self, "apprunner-requests-endpoint", vpc_id=network.vpc_id,
            service_name=f"com.amazonaws.{props.region}.apprunner.requests",
            vpc_endpoint_type="Interface", subnet_ids=network.private_subnet_ids,
            security_group_ids=[endpoint_group.id], private_dns_enabled=False,
            tags={"Name": f"{prefix}-apprunner-requests"},
        )

        nlb = self._build_nlb(props)
        # Day 2: its name is unique per region and the old layout's group keeps `<prefix>-endpoint`.
        targets = LbTargetGroup(
            self, "vpc-link-endpoint-targets", name=shorten(f"{prefix}-vpc-link-443", ELB_NAME_MAX), port=HTTPS,
            protocol="TCP", target_type="ip", vpc_id=network.vpc_id,
            health_check=LbTargetGroupHealthCheck(enabled=True, protocol="TCP", port="traffic-port",
                                                  healthy_threshold=3, unhealthy_threshold=3, interval=30),
        )
        LbListener(
            self, "vpc-link-https", load_balancer_arn=nlb.arn, port=HTTPS, protocol="TCP",
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
                self, f"vpc-link-endpoint-target-{index}", target_group_arn=targets.arn, target_id=eni.private_ip,
                port=HTTPS,
            )

        self.endpoint_id = endpoint.id
        self.port = HTTPS

    def admit_nlb(self, after: list[TerraformResource]) -> None:
        """The endpoint's one inbound rule: HTTPS from the NLB's group, made as `admission` says."""
        VpcSecurityGroupIngressRule(
            self, "endpoint-https-from-vpc", security_group_id=self.endpoint_security_group_id, ip_protocol="tcp",
            from_port=HTTPS, to_port=HTTPS, referenced_security_group_id=self.security_group_id,
            description="HTTPS from the internal NLB", **admission(after),
        )

    def _build_nlb(self, props: PrivateIngressProps) -> Lb:
        # Day 2: name, subnets removed and a security group list emptied or first given are ForceNew (and AWS
        # refuses to delete an NLB a VPC link uses): docs/day-2.md's table.
        nlb = Lb(
            self, "vpc-link-nlb", name=shorten(f"{props.name_prefix}-vpc-link", ELB_NAME_MAX), internal=True,
            load_balancer_type="network", subnets=props.network.private_subnet_ids,
            security_groups=[self.security_group_id],
            enforce_security_group_inbound_rules_on_private_link_traffic="off",
            enable_cross_zone_load_balancing=True, enable_deletion_protection=props.deletion_protection,
        )
        self.nlb_arn: str = nlb.arn
        self.nlb_dns_name: str = nlb.dns_name
        return nlb

    def _build_alb_target(self, props: PrivateIngressProps, nlb: Lb, alb: AlbTarget) -> None:
        VpcSecurityGroupEgressRule(
            self, "nlb-to-alb", security_group_id=self.security_group_id, ip_protocol="tcp", from_port=alb.port,
            to_port=alb.port, referenced_security_group_id=alb.security_group_id,
            description=f"To the workers' ALB on TCP {alb.port}",
        )
        # Day 2: port, protocol, target_type and vpc_id are ForceNew, the name is unique per region, and a target
        # group a listener forwards to cannot be deleted: the new one is created first under a name hashed from
        # what it is, the listener moves, then the old one goes.
        targets = LbTargetGroup(
            self, "vpc-link-alb-targets", port=alb.port, protocol="TCP", target_type="alb", vpc_id=props.network.vpc_id,
            name=shorten(f"{props.name_prefix}-vpc-link-alb", ELB_NAME_MAX,
                         suffix=f"-{short_hash(alb.port, alb.protocol)}"),
            # The ALB answers a Host no worker claims with its 404: that proves it listens, which is all this
            # group needs to know (each worker's own health is its target group's, on the ALB).
            health_check=LbTargetGroupHealthCheck(enabled=True, protocol=alb.protocol, path="/", matcher="200-499",
                                                  port="traffic-port", healthy_threshold=3, unhealthy_threshold=3,
                                                  interval=30),
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        # AWS refuses an ALB target before the ALB has a listener on the target group's port.
        LbTargetGroupAttachment(self, "vpc-link-alb-target", target_group_arn=targets.arn, target_id=alb.arn,
                                port=alb.port, depends_on=list(alb.listener))
        # The listener on 443 keeps App Runner's construct id, so switching COMPUTE updates it in place instead of
        # creating a second listener on a port the first still holds.
        LbListener(
            self, "vpc-link-https" if alb.port == HTTPS else f"vpc-link-tcp-{alb.port}",
            load_balancer_arn=nlb.arn, port=alb.port, protocol="TCP",
            default_action=[LbListenerDefaultAction(type="forward", target_group_arn=targets.arn)],
        )
        self.port = alb.port
