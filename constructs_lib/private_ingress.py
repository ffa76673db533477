"""The private way in: an internal NLB (the REST API's VPC link reaches only an NLB) in front of either the
apprunner.requests interface endpoint (COMPUTE=apprunner) or the workers' internal ALB (COMPUTE=ecs).

The NLB keeps its address whatever the backend, so switching COMPUTE never replaces the VPC link (its
description, which names the backend, updates in place). On 443 (App Runner, or an ALB with a certificate) the
listener keeps its address and only changes target group; an ALB without a certificate gets a listener on 80,
and the one on 443 is deleted."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn, TerraformIterator, TerraformResource, TerraformResourceLifecycle, Token
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


@dataclass(frozen=True)
class PrivateIngressProps:
    name_prefix: str            # <project>-<env>: names of the endpoint, its group, the NLB and target group
    region: str                 # of the com.amazonaws.<region>.apprunner.requests endpoint service
    # The NLB's. On unless ALLOW_DESTROY_DATA: it outlives COMPUTE switches and goes only with the environment,
    # whose destroy needs that setting anyway while it has a data store (their prevent_destroy).
    deletion_protection: bool
    network: Network
    alb: AlbTarget | None = None  # None: the apprunner.requests endpoint


class PrivateIngress(Construct):
    """Exposes `endpoint_id` (None with an ALB), `vpc_id`, `nlb_arn`, `nlb_dns_name` and `port` (the NLB's
    listener, which API Gateway's integration URIs reach)."""

    def __init__(self, scope: Construct, id_: str, *, props: PrivateIngressProps):
        super().__init__(scope, id_)
        network = props.network
        prefix = props.name_prefix
        self.vpc_id: str = network.vpc_id
        if props.alb is not None:
            nlb = self._build_nlb(props)
            self._build_alb_target(props, nlb, props.alb)
            self.endpoint_id: str | None = None
            return

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

        nlb = self._build_nlb(props)
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

        self.endpoint_id = endpoint.id
        self.port = HTTPS

    def _build_nlb(self, props: PrivateIngressProps) -> Lb:
        nlb = Lb(
            self, "nlb", name=shorten(f"{props.name_prefix}-ingress", ELB_NAME_MAX), internal=True,
            load_balancer_type="network", subnets=props.network.private_subnet_ids,
            enable_cross_zone_load_balancing=True, enable_deletion_protection=props.deletion_protection,
        )
        self.nlb_arn: str = nlb.arn
        self.nlb_dns_name: str = nlb.dns_name
        return nlb

    def _build_alb_target(self, props: PrivateIngressProps, nlb: Lb, alb: AlbTarget) -> None:
        # Day 2: port, protocol, target_type and vpc_id are ForceNew, the name is unique per region, and a target
        # group a listener forwards to cannot be deleted: the new one is created first under a name hashed from
        # what it is, the listener moves, then the old one goes.
        targets = LbTargetGroup(
            self, "alb-targets", port=alb.port, protocol="TCP", target_type="alb", vpc_id=props.network.vpc_id,
            name=shorten(f"{props.name_prefix}-alb", ELB_NAME_MAX, suffix=f"-{short_hash(alb.port, alb.protocol)}"),
            # The ALB answers a Host no worker claims with its 404: that proves it listens, which is all this
            # group needs to know (each worker's own health is its target group's, on the ALB).
            health_check=LbTargetGroupHealthCheck(enabled=True, protocol=alb.protocol, path="/", matcher="200-499",
                                                  port="traffic-port", healthy_threshold=3, unhealthy_threshold=3,
                                                  interval=30),
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        # AWS refuses an ALB target before the ALB has a listener on the target group's port.
        LbTargetGroupAttachment(self, "alb-target", target_group_arn=targets.arn, target_id=alb.arn, port=alb.port,
                                depends_on=list(alb.listener))
        # The listener on 443 keeps App Runner's construct id, so switching COMPUTE updates it in place instead of
        # creating a second listener on a port the first still holds.
        LbListener(
            self, "https-passthrough" if alb.port == HTTPS else f"tcp-{alb.port}-passthrough",
            load_balancer_arn=nlb.arn, port=alb.port, protocol="TCP",
            default_action=[LbListenerDefaultAction(type="forward", target_group_arn=targets.arn)],
        )
        self.port = alb.port
