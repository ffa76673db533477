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

from workers_scan import Settings, Worker
from workers_scan.aws_names import APPRUNNER_CONFIG_NAME_MAX, APPRUNNER_NAME_MAX, short_hash, shorten
from workers_scan.injected import check_supplied

from .iam import policy_json, service_trust_policy
from .network import Network
from .private_ingress import PrivateIngress
from .terraform_text import terraform_literal

APPRUNNER_TASKS = "tasks.apprunner.amazonaws.com"
# App Runner name limits: services, connectors and ingress connections 40; scaling and observability configs 32.


@dataclass(frozen=True)
class WorkerPlatformProps:
    settings: Settings
    network: Network
    scaling_profiles: tuple[tuple[int, int, int], ...] = ()  # Worker.scaling of every worker


class WorkerPlatform(Construct):
    """Shared by every worker: the VPC connector (and its security group), the X-Ray observability config and
    one auto scaling configuration per scaling profile.

    Exposes `connector_arn` and `connector_security_group_id` (None when WORKER_VPC_EGRESS is off),
    `observability_arn`, `scaling_arns` (Worker.scaling -> ARN).
    """

    def __init__(self, scope: Construct, id_: str, *, props: WorkerPlatformProps):
        super().__init__(scope, id_)
        settings, network = props.settings, props.network
        prefix = settings.name_prefix
        self.connector_arn: str | None = None
        self.connector_security_group_id: str | None = None
        if settings.worker_vpc_egress:
            group = SecurityGroup(
                self, "connector-security-group", name=f"{prefix}-workers", vpc_id=network.vpc_id,
                description="App Runner workers (VPC connector): outbound only", tags={"Name": f"{prefix}-workers"},
            )
            # Once a connector is set, all egress goes through the VPC: these ports to the internet via NAT.
            # The data stores add their own port to their own group; DNS to the VPC resolver is not filtered.
            for port in settings.worker_egress_ports:
                VpcSecurityGroupEgressRule(
                    self, "egress-https" if port == 443 else f"egress-{port}", security_group_id=group.id,
                    ip_protocol="tcp", from_port=port, to_port=port, cidr_ipv4="0.0.0.0/0",
                    description=f"Workers to the internet on TCP {port} through NAT",
                )
            # Subnets and groups replace the connector; App Runner refuses to delete one in use and allows one
            # revision per name: the new one gets a new name (a hash of what places it), then the old one goes.
            placement = short_hash(settings.vpc_id, *settings.private_subnet_ids, str(settings.vpc_cidr),
                                   settings.az_count, *settings.availability_zones)
            connector = ApprunnerVpcConnector(
                self, "vpc-connector",
                vpc_connector_name=shorten(f"{prefix}-workers", APPRUNNER_NAME_MAX, suffix=f"-{placement}"),
                subnets=network.private_subnet_ids, security_groups=[group.id],
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
class InfrastructureEnvironment:
    """What the infrastructure injects into every worker (values may be Terraform tokens)."""

    variables: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)       # key -> secret ARN (also what the role may read)
    kms_key_arns: tuple[str, ...] = ()
    statements: tuple[dict, ...] = ()                           # more IAM statements for the instance role


@dataclass(frozen=True)
class WorkerServiceProps:
    settings: Settings
    worker: Worker
    platform: WorkerPlatform
    ingress: PrivateIngress
    infrastructure: InfrastructureEnvironment = InfrastructureEnvironment()


class WorkerService(Construct):
    """An App Runner service reachable only through the VPC ingress connection.

    Exposes `service_arn`, `service_name`, `ingress_domain` and `instance_role_name`.
    """

    def __init__(self, scope: Construct, id_: str, *, props: WorkerServiceProps):
        super().__init__(scope, id_)
        settings, worker = props.settings, props.worker
        name = worker.service_name

        role, role_policies = self._build_instance_role(name, settings, worker, props.infrastructure)
        code_values = ApprunnerServiceSourceConfigurationCodeRepositoryCodeConfigurationCodeConfigurationValues(
            runtime=settings.runtime, build_command=terraform_literal(settings.build_command),
            start_command=terraform_literal(worker.start_command),
            port=str(settings.port),
            runtime_environment_variables=self.variables(settings, worker, props.infrastructure),
            runtime_environment_secrets=self.secrets(worker, props.infrastructure) or None,
        )
        service = ApprunnerService(
            self, "service", service_name=name,
            source_configuration=ApprunnerServiceSourceConfiguration(
                auto_deployments_enabled=settings.auto_deployments,
                authentication_configuration=ApprunnerServiceSourceConfigurationAuthenticationConfiguration(
                    connection_arn=settings.connection_arn),
                code_repository=ApprunnerServiceSourceConfigurationCodeRepository(
                    repository_url=settings.repository_url, source_directory=settings.source_directory,
                    source_code_version=ApprunnerServiceSourceConfigurationCodeRepositorySourceCodeVersion(
                        type="BRANCH", value=settings.branch),
                    code_configuration=ApprunnerServiceSourceConfigurationCodeRepositoryCodeConfiguration(
                        configuration_source="API", code_configuration_values=code_values),
                ),
            ),
            instance_configuration=ApprunnerServiceInstanceConfiguration(
                cpu=str(worker.cpu), memory=str(worker.memory), instance_role_arn=role.arn),
            network_configuration=ApprunnerServiceNetworkConfiguration(
                ingress_configuration=ApprunnerServiceNetworkConfigurationIngressConfiguration(
                    is_publicly_accessible=False),
                egress_configuration=self._egress(props.platform),
            ),
            health_check_configuration=self._health_check(worker),
            auto_scaling_configuration_arn=props.platform.scaling_arns[worker.scaling],
            observability_configuration=ApprunnerServiceObservabilityConfiguration(
                observability_enabled=True, observability_configuration_arn=props.platform.observability_arn),
            tags={"Worker": worker.name},
            # App Runner reads the secrets with the instance role as it deploys: grant first.
            depends_on=role_policies,
            # A new name (route, project, environment) is a new service: it serves before the old one goes.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        connection = ApprunnerVpcIngressConnection(
            self, "ingress-connection", name=name, service_arn=service.arn,
            ingress_vpc_configuration=ApprunnerVpcIngressConnectionIngressVpcConfiguration(
                vpc_id=props.ingress.vpc_id, vpc_endpoint_id=props.ingress.endpoint_id),
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),  # follows its service's name
        )
        self.service_arn: str = service.arn
        self.service_name = name
        self.ingress_domain: str = connection.domain_name
        self.instance_role_name: str = role.name

    @staticmethod
    def variables(settings: Settings, worker: Worker, infrastructure: InfrastructureEnvironment) -> dict[str, str]:
        """Files first, then the infrastructure's keys (a file setting one of those is refused earlier)."""
        injected = {**infrastructure.variables,
                    "NODE_ENV": "production", "PORT": str(settings.port), "WORKER_NAME": worker.name}
        check_supplied(settings, injected, infrastructure.secrets)
        # The files' values are text; the infrastructure's are Terraform references.
        return {**{k: terraform_literal(v) for k, v in worker.environment.variables.items()}, **injected}

    @staticmethod
    def secrets(worker: Worker, infrastructure: InfrastructureEnvironment) -> dict[str, str]:
        return {**worker.environment.secrets, **infrastructure.secrets}

    @staticmethod
    def _egress(platform: WorkerPlatform):
        if platform.connector_arn is None:
            return ApprunnerServiceNetworkConfigurationEgressConfiguration(egress_type="DEFAULT")
        return ApprunnerServiceNetworkConfigurationEgressConfiguration(
            egress_type="VPC", vpc_connector_arn=platform.connector_arn)

    @staticmethod
    def _health_check(worker: Worker):
        common = dict(interval=10, timeout=5, healthy_threshold=1, unhealthy_threshold=5)
        if worker.health_check_path:
            return ApprunnerServiceHealthCheckConfiguration(protocol="HTTP", path=worker.health_check_path,
                                                                     **common)
        return ApprunnerServiceHealthCheckConfiguration(protocol="TCP", **common)

    def _build_instance_role(self, name: str, settings: Settings, worker: Worker,
                             infrastructure: InfrastructureEnvironment):
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
        statements = secret_read_statements(
            [*worker.environment.secret_arns, *infrastructure.secrets.values()],
            [*settings.secrets_kms_key_arns, *infrastructure.kms_key_arns],
        )
        policies = [tracing]
        if infrastructure.statements:
            policies.append(IamRolePolicy(self, "data-access-policy", name="data-access", role=role.id,
                                                       policy=policy_json(list(infrastructure.statements))))
        if statements:
            # App Runner reads runtime_environment_secrets with the instance role: exactly these ARNs.
            policies.append(IamRolePolicy(self, "secrets-policy", name="read-runtime-secrets",
                                                       role=role.id, policy=policy_json(statements)))
        return role, policies


def secret_read_statements(arns: list[str], kms_key_arns: list[str]) -> list[dict]:
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
