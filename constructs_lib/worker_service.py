"""One private App Runner service per worker, plus what they share (VPC connector, tracing)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.apprunner_auto_scaling_configuration_version import \
    ApprunnerAutoScalingConfigurationVersion
from cdktf_cdktf_provider_aws.apprunner_observability_configuration import (
    ApprunnerObservabilityConfiguration, ApprunnerObservabilityConfigurationTraceConfiguration)
from cdktf_cdktf_provider_aws.apprunner_service import (
    ApprunnerService, ApprunnerServiceHealthCheckConfiguration, ApprunnerServiceInstanceConfiguration,
    ApprunnerServiceNetworkConfiguration, ApprunnerServiceNetworkConfigurationEgressConfiguration,
    ApprunnerServiceNetworkConfigurationIngressConfiguration, ApprunnerServiceObservabilityConfiguration,
    ApprunnerServiceSourceConfiguration, ApprunnerServiceSourceConfigurationAuthenticationConfiguration,
    ApprunnerServiceSourceConfigurationCodeRepository,
    ApprunnerServiceSourceConfigurationCodeRepositoryCodeConfiguration,
    ApprunnerServiceSourceConfigurationCodeRepositoryCodeConfigurationCodeConfigurationValues,
    ApprunnerServiceSourceConfigurationCodeRepositorySourceCodeVersion)
from cdktf_cdktf_provider_aws.apprunner_vpc_connector import ApprunnerVpcConnector
from cdktf_cdktf_provider_aws.apprunner_vpc_ingress_connection import (
    ApprunnerVpcIngressConnection, ApprunnerVpcIngressConnectionIngressVpcConfiguration)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from constructs import Construct

from workers_scan.aws_names import APPRUNNER_CONFIG_NAME_MAX, APPRUNNER_NAME_MAX, short_hash, shorten
from workers_scan.environment import policy_resource

from .iam import policy_json, service_trust_policy
from .terraform_text import terraform_literal

APPRUNNER_TASKS = "tasks.apprunner.amazonaws.com"
# App Runner name limits: services, connectors and ingress connections 40; scaling and observability configs 32.


@dataclass(frozen=True)
class VpcEgressProps:
    """Workers' outbound traffic through the VPC (a VPC connector): to the data stores, and through NAT."""
    vpc_id: str
    private_subnet_ids: tuple[str, ...]
    egress_ports: tuple[int, ...]       # open to the internet (WORKER_EGRESS_PORTS)
    # Plain (synth-time) values that say where the connector sits (VPC id, subnets, CIDR, zones): the ids may be
    # tokens, and a connector moved elsewhere needs a new name.
    placement: tuple[str | int, ...]


@dataclass(frozen=True)
class WorkerPlatformProps:
    name_prefix: str                    # <project>-<env>: names of the connector, its group and the configurations
    vpc_egress: VpcEgressProps | None   # None: workers reach the internet directly, and no data store
    scaling_profiles: tuple[tuple[int, int, int], ...] = ()  # Worker.scaling of every worker


class WorkerPlatform(Construct):
    """Shared by every worker: the VPC connector (and its security group), the X-Ray observability config and
    one auto scaling configuration per scaling profile.

    Exposes `connector_arn` and `connector_security_group_id` (None without `vpc_egress`),
    `observability_arn`, `scaling_arns` (Worker.scaling -> ARN).
    """

    def __init__(self, scope: Construct, id_: str, *, props: WorkerPlatformProps):
        super().__init__(scope, id_)
        prefix = props.name_prefix
        egress = props.vpc_egress
        self.connector_arn: str | None = None
        self.connector_security_group_id: str | None = None
        if egress is not None:
            group = SecurityGroup(
                self, "connector-security-group", name=f"{prefix}-workers", vpc_id=egress.vpc_id,
                description="App Runner workers (VPC connector): outbound only", tags={"Name": f"{prefix}-workers"},
            )
            # Once a connector is set, all egress goes through the VPC: these ports to the internet via NAT.
            # The data stores add their own port to their own group; DNS to the VPC resolver is not filtered.
            for port in egress.egress_ports:
                VpcSecurityGroupEgressRule(
                    self, "egress-https" if port == 443 else f"egress-{port}", security_group_id=group.id,
                    ip_protocol="tcp", from_port=port, to_port=port, cidr_ipv4="0.0.0.0/0",
                    description=f"Workers to the internet on TCP {port} through NAT",
                )
            # Subnets and groups replace the connector; App Runner refuses to delete one in use and allows one
            # revision per name: the new one gets a new name (a hash of what places it), then the old one goes.
            placement = short_hash(*egress.placement)
            connector = ApprunnerVpcConnector(
                self, "vpc-connector",
                vpc_connector_name=shorten(f"{prefix}-workers", APPRUNNER_NAME_MAX, suffix=f"-{placement}"),
                subnets=list(egress.private_subnet_ids), security_groups=[group.id],
                lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            )
            self.connector_arn = connector.arn
            self.connector_security_group_id = group.id
        observability = ApprunnerObservabilityConfiguration(
            self, "tracing", observability_configuration_name=shorten(f"{prefix}-tracing", APPRUNNER_CONFIG_NAME_MAX),
            trace_configuration=ApprunnerObservabilityConfigurationTraceConfiguration(vendor="AWSXRAY"),
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),  # in use until services move
        )
        self.observability_arn: str = observability.arn
        self.scaling_arns: dict[tuple[int, int, int], str] = {}
        for low, high, concurrency in sorted(set(props.scaling_profiles)):
            # Named after its values, so a worker that is resized moves to another configuration (App Runner
            # refuses to delete one in use); workers alike share one (10 names per region by default).
            suffix = f"-{low}-{high}-{concurrency}"
            scaling = ApprunnerAutoScalingConfigurationVersion(
                self, f"scaling{suffix}",
                auto_scaling_configuration_name=shorten(prefix, APPRUNNER_CONFIG_NAME_MAX, suffix),
                min_size=low, max_size=high, max_concurrency=concurrency,
                lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            )
            self.scaling_arns[(low, high, concurrency)] = scaling.arn


@dataclass(frozen=True)
class SourceProps:
    """What App Runner builds every worker from: one repository, one build, one runtime."""
    repository_url: str
    branch: str
    source_directory: str
    connection_arn: str                 # App Runner's connection to the repository's host
    auto_deployments: bool              # a push to the branch deploys
    runtime: str                        # NODEJS_<major>
    build_command: str
    port: int                           # where workers listen (PORT)


@dataclass(frozen=True)
class WorkerServiceProps:
    service_name: str                   # unique, <= 40: the service, its ingress connection and instance role
    worker_name: str                    # the Worker tag
    cpu: int
    memory: int
    start_command: str
    health_check_path: str | None       # None: a TCP health check
    source: SourceProps
    auto_scaling_configuration_arn: str  # WorkerPlatform.scaling_arns of the worker's profile
    observability_configuration_arn: str
    connector_arn: str | None           # None: egress straight to the internet
    ingress_vpc_id: str                 # where the private ingress endpoint is
    ingress_endpoint_id: str
    environment: dict[str, str] = field(default_factory=dict)   # plain variables, values already Terraform text
    secrets: dict[str, str] = field(default_factory=dict)       # key -> Secrets Manager or SSM parameter reference
    kms_key_arns: tuple[str, ...] = ()  # keys of those secrets (kms:Decrypt)
    statements: tuple[dict, ...] = ()   # more IAM statements for the instance role (data access)
    private: bool = False               # no ingress connection: reachable by nothing (a queue consumer)


class WorkerService(Construct):
    """An App Runner service reachable only through the VPC ingress connection, or by nothing when private.

    Exposes `service_arn`, `service_name`, `ingress_domain` (None when private) and `instance_role_name`.
    """

    def __init__(self, scope: Construct, id_: str, *, props: WorkerServiceProps):
        super().__init__(scope, id_)
        name, source = props.service_name, props.source

        role, role_policies = self._build_instance_role(props)
        code_values = ApprunnerServiceSourceConfigurationCodeRepositoryCodeConfigurationCodeConfigurationValues(
            runtime=source.runtime, build_command=terraform_literal(source.build_command),
            start_command=terraform_literal(props.start_command),
            port=str(source.port),
            runtime_environment_variables=props.environment,
            runtime_environment_secrets=props.secrets or None,
        )
        service = ApprunnerService(
            self, "service", service_name=name,
            source_configuration=ApprunnerServiceSourceConfiguration(
                auto_deployments_enabled=source.auto_deployments,
                authentication_configuration=ApprunnerServiceSourceConfigurationAuthenticationConfiguration(
                    connection_arn=source.connection_arn),
                code_repository=ApprunnerServiceSourceConfigurationCodeRepository(
                    repository_url=source.repository_url, source_directory=source.source_directory,
                    source_code_version=ApprunnerServiceSourceConfigurationCodeRepositorySourceCodeVersion(
                        type="BRANCH", value=source.branch),
                    code_configuration=ApprunnerServiceSourceConfigurationCodeRepositoryCodeConfiguration(
                        configuration_source="API", code_configuration_values=code_values),
                ),
            ),
            instance_configuration=ApprunnerServiceInstanceConfiguration(
                cpu=str(props.cpu), memory=str(props.memory), instance_role_arn=role.arn),
            network_configuration=ApprunnerServiceNetworkConfiguration(
                ingress_configuration=ApprunnerServiceNetworkConfigurationIngressConfiguration(
                    is_publicly_accessible=False),
                egress_configuration=self._egress(props.connector_arn),
            ),
            health_check_configuration=self._health_check(props.health_check_path),
            auto_scaling_configuration_arn=props.auto_scaling_configuration_arn,
            observability_configuration=ApprunnerServiceObservabilityConfiguration(
                observability_enabled=True, observability_configuration_arn=props.observability_configuration_arn),
            tags={"Worker": props.worker_name},
            # App Runner reads the secrets with the instance role as it deploys: grant first.
            depends_on=role_policies,
            # A new name (route, project, environment) is a new service: it serves before the old one goes.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        # A private worker keeps its service (is_publicly_accessible stays false) and only loses this connection:
        # turning private, or back, deletes or creates it beside the unchanged service.
        self.ingress_domain: str | None = None
        if not props.private:
            connection = ApprunnerVpcIngressConnection(
                self, "ingress-connection", name=name, service_arn=service.arn,
                ingress_vpc_configuration=ApprunnerVpcIngressConnectionIngressVpcConfiguration(
                    vpc_id=props.ingress_vpc_id, vpc_endpoint_id=props.ingress_endpoint_id),
                lifecycle=TerraformResourceLifecycle(create_before_destroy=True),  # follows its service's name
            )
            self.ingress_domain = connection.domain_name
        self.service_arn: str = service.arn
        self.service_name = name
        self.instance_role_name: str = role.name

    @staticmethod
    def _egress(connector_arn: str | None):
        if connector_arn is None:
            return ApprunnerServiceNetworkConfigurationEgressConfiguration(egress_type="DEFAULT")
        return ApprunnerServiceNetworkConfigurationEgressConfiguration(
            egress_type="VPC", vpc_connector_arn=connector_arn)

    @staticmethod
    def _health_check(path: str | None):
        common = dict(interval=10, timeout=5, healthy_threshold=1, unhealthy_threshold=5)
        if path:
            return ApprunnerServiceHealthCheckConfiguration(protocol="HTTP", path=path, **common)
        return ApprunnerServiceHealthCheckConfiguration(protocol="TCP", **common)

    def _build_instance_role(self, props: WorkerServiceProps):
        name = props.service_name
        role = IamRole(
            self, "instance-role", name=f"{name}-instance",
            description=f"Runtime identity of the App Runner service {name}",
            assume_role_policy=service_trust_policy(APPRUNNER_TASKS),
        )
        # X-Ray accepts no resource-level permissions for these actions.
        tracing = IamRolePolicy(
            self, "tracing-policy", name="xray-tracing", role=role.id,
            policy=policy_json([{
                "Effect": "Allow", "Resource": "*",
                "Action": ["xray:GetSamplingRules", "xray:GetSamplingStatisticSummaries", "xray:GetSamplingTargets",
                           "xray:PutTelemetryRecords", "xray:PutTraceSegments"],
            }]),
        )
        statements = secret_read_statements(list(props.secrets.values()), list(props.kms_key_arns))
        policies = [tracing]
        if props.statements:
            policies.append(IamRolePolicy(self, "data-access-policy", name="data-access", role=role.id,
                                                       policy=policy_json(list(props.statements))))
        if statements:
            # App Runner reads runtime_environment_secrets with the instance role: exactly these ARNs.
            policies.append(IamRolePolicy(self, "secrets-policy", name="read-runtime-secrets",
                                                       role=role.id, policy=policy_json(statements)))
        return role, policies


def secret_read_statements(references: list[str], kms_key_arns: list[str]) -> list[dict]:
    """Read exactly these secrets and parameters: `references` as workers name them (a Secrets Manager reference
    may end in :<json-key>:<stage>:<version>, which IAM does not know: the policy names the secret itself)."""
    arns = [policy_resource(reference) for reference in references]
    secrets = sorted({a for a in arns if not a.startswith("arn:aws:ssm:")})
    parameters = sorted({a for a in arns if a.startswith("arn:aws:ssm:")})
    statements: list[dict] = []
    if secrets:
        statements.append({"Sid": "ReadSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                           "Resource": secrets})
    if parameters:
        statements.append({"Sid": "ReadParameters", "Effect": "Allow", "Action": "ssm:GetParameters",
                           "Resource": parameters})
    if statements and kms_key_arns:
        statements.append({"Sid": "DecryptSecrets", "Effect": "Allow", "Action": "kms:Decrypt",
                           "Resource": sorted(set(kms_key_arns))})
    return statements
