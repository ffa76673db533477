"""Workers calling each other inside the VPC (`calls` in workers.toml; workers_scan/calls.py says what and why).

Built only when some worker calls another: without calls the stack holds none of this.
- App Runner (`AppRunnerCallers`): a connector of the callers' own, holding the workers' group and one more that
  the apprunner.requests endpoint admits on 443.
- ECS (`EcsCalls`): a private Cloud Map namespace, a discovery service per callee (ECS registers its tasks'
  addresses), and per pair, the callee's tasks admitting the caller's tasks' group on PORT.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.apprunner_vpc_connector import ApprunnerVpcConnector
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.service_discovery_private_dns_namespace import ServiceDiscoveryPrivateDnsNamespace
from cdktf_cdktf_provider_aws.service_discovery_service import (ServiceDiscoveryService,
                                                               ServiceDiscoveryServiceDnsConfig,
                                                               ServiceDiscoveryServiceDnsConfigDnsRecords)
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from workers_scan.aws_names import APPRUNNER_NAME_MAX, short_hash, shorten
from workers_scan.calls import namespace_name
from workers_scan.ports import HTTPS_PORT


@dataclass(frozen=True)
class AppRunnerCallersProps:
    name_prefix: str
    vpc_id: str
    private_subnet_ids: tuple[str, ...]
    placement: tuple[str | int, ...]      # synth-time values that place the connector (as WorkerPlatform's)
    workers_security_group_id: str        # the workers' connector group: egress to the internet and data stores
    endpoint_security_group_id: str       # the apprunner.requests endpoint's


class AppRunnerCallers(Construct):
    """Exposes `connector_arn` (the callers' connector) and `security_group_id` (what the endpoint admits)."""

    def __init__(self, scope: Construct, id_: str, *, props: AppRunnerCallersProps):
        super().__init__(scope, id_)
        prefix = props.name_prefix
        group = SecurityGroup(self, "security-group", name=f"{prefix}-worker-callers", vpc_id=props.vpc_id,
                              description="App Runner workers that call other workers (calls in workers.toml)",
                              tags={"Name": f"{prefix}-worker-callers"})
        VpcSecurityGroupEgressRule(
            self, "to-endpoint", security_group_id=group.id, ip_protocol="tcp", from_port=HTTPS_PORT,
            to_port=HTTPS_PORT, referenced_security_group_id=props.endpoint_security_group_id,
            description="Callers to the App Runner requests endpoint")
        VpcSecurityGroupIngressRule(
            self, "endpoint-from-callers", security_group_id=props.endpoint_security_group_id, ip_protocol="tcp",
            from_port=HTTPS_PORT, to_port=HTTPS_PORT, referenced_security_group_id=group.id,
            description="Workers that call other workers (calls in workers.toml)")
        # As the workers' connector: immutable, one revision per name, refused deletion while in use.
        connector = ApprunnerVpcConnector(
            self, "vpc-connector",
            vpc_connector_name=shorten(f"{prefix}-callers", APPRUNNER_NAME_MAX,
                                       suffix=f"-{short_hash(*props.placement)}"),
            subnets=list(props.private_subnet_ids), security_groups=[props.workers_security_group_id, group.id],
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True))
        self.connector_arn: str = connector.arn
        self.security_group_id: str = group.id


@dataclass(frozen=True)
class EcsCallsProps:
    name_prefix: str
    vpc_id: str
    port: int                             # where workers listen (PORT)
    callees: tuple[tuple[str, str], ...]  # (worker name, route) of each worker some worker calls


class EcsCalls(Construct):
    """Exposes `registry_arns` (callee name -> its discovery service's ARN, for the ECS service) and `urls`
    (callee name -> its address, known at synth time); `admit` opens one pair."""

    def __init__(self, scope: Construct, id_: str, *, props: EcsCallsProps):
        super().__init__(scope, id_)
        self._port = props.port
        name = namespace_name(props.name_prefix)
        # ForceNew: name and vpc. Route 53 refuses to delete it while a discovery service is in it; Terraform
        # deletes the services (after ECS deregisters their tasks) first.
        namespace = ServiceDiscoveryPrivateDnsNamespace(
            self, "namespace", name=name, vpc=props.vpc_id,
            description="Workers that other workers call (calls in workers.toml)")
        self.registry_arns: dict[str, str] = {}
        self.urls: dict[str, str] = {}
        for worker, route in props.callees:
            # Named after the route (a DNS label, <= 63 characters, checked with the routing domain).
            service = ServiceDiscoveryService(
                self, f"callee-{worker}", name=route, force_destroy=True,
                dns_config=ServiceDiscoveryServiceDnsConfig(
                    namespace_id=namespace.id, routing_policy="MULTIVALUE",
                    dns_records=[ServiceDiscoveryServiceDnsConfigDnsRecords(type="A", ttl=10)]))
            self.registry_arns[worker] = service.arn
            self.urls[worker] = f"http://{route}.{name}:{props.port}"

    def admit(self, caller: str, caller_group_id: str, callee: str, callee_group_id: str) -> None:
        """The callee's tasks admit the caller's on PORT, and the caller's may send there."""
        port = self._port
        VpcSecurityGroupIngressRule(
            self, f"{callee}-from-{caller}", security_group_id=callee_group_id, ip_protocol="tcp",
            from_port=port, to_port=port, referenced_security_group_id=caller_group_id,
            description=f"Calls from worker {caller}")
        VpcSecurityGroupEgressRule(
            self, f"{caller}-to-{callee}", security_group_id=caller_group_id, ip_protocol="tcp",
            from_port=port, to_port=port, referenced_security_group_id=callee_group_id,
            description=f"Calls to worker {callee}")
