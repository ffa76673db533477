"""The compute seam: what runs the workers behind the shared network, API, WAF, data stores and state.

Two backends, picked by COMPUTE. Each builds, into the stack itself, (1) its way in behind the internal NLB and the
security group the data stores admit, then (2) once the stores exist, one service per worker, and says how the API
reaches each worker (`Route`). The stack composes the rest and never looks inside either.

Neither backend is a construct of its own: App Runner's parts keep the stack-level ids (and so the Terraform
addresses) they always had, and ECS's ids differ from them, so both can sit side by side in one state.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Protocol

from cdktf import TerraformResource, TerraformStack

from workers_scan import Settings, Worker
from workers_scan.aws_names import short_hash
from workers_scan.calls import callees_first
from workers_scan.environment import SECRETS_MANAGER_ARN, is_partial_secret_arn, secret_base
from workers_scan.fargate import alb_listener
from workers_scan.injected import Sources, supplied
from workers_scan.ports import HTTPS_PORT
from workers_scan.workers import stack_build_command, stack_start_scripts

from .adoption import Adoption
from .api_gateway import Route
from .fargate_service import (CONTAINER_NAME, EXECUTION_ROLE_SUFFIX, TASK_ROLE_SUFFIX, FargateCluster,
                              FargateClusterProps, FargateWorkerService, FargateWorkerServiceProps)
from .image_pipeline import ImagePipeline, ImagePipelineProps, ImageRepository, ImageRepositoryProps
from .network import Network
from .private_ingress import AlbTarget, PrivateIngress, PrivateIngressProps
from .secret_redeploy import RedeployAction, SecretReaders, apprunner_redeploy, ecs_redeploy
from .terraform_text import terraform_literal
from .worker_calls import AppRunnerCallers, AppRunnerCallersProps, EcsCalls, EcsCallsProps
from .worker_service import (SourceProps, VpcEgressProps, WorkerPlatform, WorkerPlatformProps, WorkerService,
                             WorkerServiceProps)

# Characters that make a start command shell syntax rather than plain words.
SHELL_SYNTAX = set("$`|;&<>(){}*?~!\\\n")


@dataclass(frozen=True)
class InfrastructureEnvironment:
    """Where what the infrastructure injects into every worker comes from (workers_scan/injected.py says which
    key takes which; endpoints and ARNs are Terraform tokens), and what the workers' roles need for it."""

    settings: Settings
    database_endpoint: str | None = None
    database_secret_arn: str | None = None
    cache_endpoint: str | None = None
    kms_key_arns: tuple[str, ...] = ()
    statements: tuple[dict, ...] = ()                           # more IAM statements for the instance role

    def supplied(self, worker_name: str, calls: dict[str, str] | None = None) -> tuple[dict[str, str], dict[str, str]]:
        """(variables, secrets) one worker gets, as workers_scan/injected.py declares them (`calls`: the address of
        each worker it calls)."""
        return supplied(Sources(settings=self.settings, worker_name=worker_name,
                                database_endpoint=self.database_endpoint,
                                database_secret_arn=self.database_secret_arn, cache_endpoint=self.cache_endpoint,
                                calls=calls or {}))

    @property
    def secrets(self) -> dict[str, str]:
        """key -> secret ARN, the same for every worker (also what the roles may read)."""
        return self.supplied("")[1]


def worker_variables(settings: Settings, worker: Worker, infrastructure: InfrastructureEnvironment,
                     addresses: dict[str, str] | None = None) -> dict[str, str]:
    """A worker's plain variables on either backend: files first, then the infrastructure's keys (a file setting
    one of those is refused earlier). `addresses`: each worker's address, for those that call it."""
    # The files' values are text; the infrastructure's are Terraform references.
    return {**{k: terraform_literal(v) for k, v in worker.environment.variables.items()},
            **infrastructure.supplied(worker.name, {c: (addresses or {})[c] for c in worker.calls})[0]}


def worker_secrets(worker: Worker, infrastructure: InfrastructureEnvironment) -> dict[str, str]:
    return {**worker.environment.secrets, **infrastructure.supplied(worker.name)[1]}


def secret_keys(settings: Settings, infrastructure: InfrastructureEnvironment) -> tuple[str, ...]:
    """The KMS keys workers' secrets are encrypted with: the settings' and the data stores'."""
    return tuple(dict.fromkeys((*settings.secrets_kms_key_arns, *infrastructure.kms_key_arns)))


def secret_readers(workers: list[Worker], service_arns: dict[str, str], infrastructure: InfrastructureEnvironment,
                   account_id: str) -> tuple[SecretReaders, ...]:
    """Each Secrets Manager secret of this account the workers read, with the services that read it (SSM
    parameters do not rotate; another account's secret sends its events to that account's bus). The
    infrastructure's secrets are whole ARNs; a file's may lack the 6-character suffix."""
    readers: dict[str, tuple[str, bool, list[str]]] = {}
    # Every worker reads the infrastructure's secrets.
    shared = [(key.lower().replace("_", "-"), arn, True) for key, arn in infrastructure.secrets.items()]
    for worker in sorted(workers, key=lambda w: w.name):
        references = list(shared)
        for reference in worker.environment.secrets.values():
            if SECRETS_MANAGER_ARN.match(reference) and reference.split(":")[4] == account_id:
                base = secret_base(reference)
                # A partial ARN matches its secret's full ARN by prefix, up to the suffix's hyphen.
                partial = is_partial_secret_arn(reference)
                references.append((f"secret-{short_hash(base)}", base + "-" if partial else base, not partial))
        for label, arn, exact in references:
            services = readers.setdefault(label, (arn, exact, []))[2]
            if service_arns[worker.name] not in services:
                services.append(service_arns[worker.name])
    return tuple(SecretReaders(label=label, secret_arn=arn, exact=exact, service_arns=tuple(services))
                 for label, (arn, exact, services) in sorted(readers.items()))


class Compute(Protocol):
    ingress: PrivateIngress
    client_security_group_id: str | None  # what the data stores admit (None: no VPC egress, no stores)
    redeploy_action: RedeployAction       # restarts a service on its current configuration
    adoptions: tuple[Adoption, ...]       # for imports.tf (constructs_lib/adoption.py), complete after build_workers

    def build_workers(self, infrastructure: InfrastructureEnvironment) -> tuple[Route, ...]: ...

    def admit_ingress(self, after: list[TerraformResource]) -> None: ...

    @property
    def service_arns(self) -> dict[str, str]: ...   # worker name -> service ARN (workers_scan/outputs.py)


def build_compute(stack: TerraformStack, *, settings: Settings, workers: list[Worker], network: Network,
                  logs_kms_key_arn: str) -> Compute:
    backend = EcsCompute if settings.uses_ecs else AppRunnerCompute
    return backend(stack, settings=settings, workers=sorted(workers, key=lambda w: w.name), network=network,
                   logs_kms_key_arn=logs_kms_key_arn)


class AppRunnerCompute:
    """Private App Runner services, reached through the apprunner.requests endpoint and ingress connections."""

    def __init__(self, stack: TerraformStack, *, settings: Settings, workers: list[Worker], network: Network,
                 logs_kms_key_arn: str):
        self._stack, self._settings, self._workers, self._network = stack, settings, workers, network
        self._placement = (settings.vpc_id, *settings.private_subnet_ids, str(settings.vpc_cidr), settings.az_count,
                           *settings.availability_zones)
        self.ingress = PrivateIngress(stack, "private-ingress", props=PrivateIngressProps(
            name_prefix=settings.name_prefix, region=settings.aws_region,
            deletion_protection=not settings.allow_destroy_data, network=network))
        self.platform = WorkerPlatform(stack, "worker-platform", props=WorkerPlatformProps(
            name_prefix=settings.name_prefix, scaling_profiles=tuple(w.scaling for w in workers),
            vpc_egress=VpcEgressProps(
                vpc_id=network.vpc_id, private_subnet_ids=tuple(network.private_subnet_ids),
                egress_ports=settings.worker_egress_ports,
                placement=self._placement,
            ) if settings.worker_vpc_egress else None))
        self.client_security_group_id = self.platform.connector_security_group_id
        self.redeploy_action = apprunner_redeploy(settings.aws_region, settings.account_region[0],
                                                  settings.name_prefix)
        self.adoptions: tuple[Adoption, ...] = ()
        self.services: dict[str, WorkerService] = {}

    def build_workers(self, infrastructure: InfrastructureEnvironment) -> tuple[Route, ...]:
        settings, platform = self._settings, self.platform
        source = SourceProps(
            repository_url=settings.repository_url, branch=settings.branch, source_directory=settings.source_directory,
            connection_arn=settings.connection_arn, auto_deployments=settings.auto_deployments,
            runtime=settings.runtime, build_command=stack_build_command(settings, self._workers), port=settings.port)
        callers = self._callers()
        addresses: dict[str, str] = {}
        # Callees first: a caller's environment holds their domains (calls in a circle are refused).
        for worker in callees_first(self._workers):
            # Construct ids carry the worker name, never a position: adding a worker moves nothing else.
            self.services[worker.name] = WorkerService(self._stack, f"worker-{worker.name}", props=WorkerServiceProps(
                service_name=worker.service_name, worker_name=worker.name, cpu=worker.cpu, memory=worker.memory,
                start_command=worker.start_command, health_check_path=worker.health_check_path, source=source,
                auto_scaling_configuration_arn=platform.scaling_arns[worker.scaling],
                observability_configuration_arn=platform.observability_arn,
                connector_arn=callers.connector_arn if callers and worker.calls else platform.connector_arn,
                ingress_vpc_id=self.ingress.vpc_id, ingress_endpoint_id=self.ingress.endpoint_id,
                environment=worker_variables(settings, worker, infrastructure, addresses),
                secrets=worker_secrets(worker, infrastructure), kms_key_arns=secret_keys(settings, infrastructure),
                statements=infrastructure.statements, private=worker.private))
            if not worker.private:   # a private worker has no ingress domain (nobody may call it: checked)
                addresses[worker.name] = f"https://{self.services[worker.name].ingress_domain}"
        return tuple(Route(name=w.name, path=w.route, ingress_domain=self.services[w.name].ingress_domain)
                     for w in self._workers if not w.private)

    def _callers(self) -> AppRunnerCallers | None:
        """The callers' connector, when a worker calls another (WORKER_VPC_EGRESS is checked to be on)."""
        settings, platform = self._settings, self.platform
        if not any(w.calls for w in self._workers) or platform.connector_security_group_id is None:
            return None
        return AppRunnerCallers(self._stack, "worker-callers", props=AppRunnerCallersProps(
            name_prefix=settings.name_prefix, vpc_id=self._network.vpc_id,
            private_subnet_ids=tuple(self._network.private_subnet_ids), placement=self._placement,
            workers_security_group_id=platform.connector_security_group_id,
            endpoint_security_group_id=self.ingress.endpoint_security_group_id))

    def admit_ingress(self, after: list[TerraformResource]) -> None:
        """The endpoint admits the NLB's group, `after` the stage (constructs_lib/private_ingress.py)."""
        self.ingress.admit_nlb(after)

    @property
    def service_arns(self) -> dict[str, str]:
        return {name: service.service_arn for name, service in self.services.items()}

    @property
    def ingress_domains(self) -> dict[str, str]:
        return {name: service.ingress_domain for name, service in self.services.items()
                if service.ingress_domain is not None}


def container_command(start_command: str) -> tuple[str, ...]:
    """The task's command: the start command's words (exec form, so the worker gets ECS's SIGTERM), or the whole
    command through bash when it is shell syntax (`&&`, variables, redirections), as App Runner would run it."""
    if SHELL_SYNTAX & set(start_command):
        return ("bash", "-c", start_command)
    return tuple(shlex.split(start_command))


class EcsCompute:
    """ECS on Fargate: one image per push for every worker, one service per worker behind an internal ALB that
    routes by Host (constructs_lib/fargate_service.py says why), the ALB being the NLB's one target."""

    def __init__(self, stack: TerraformStack, *, settings: Settings, workers: list[Worker], network: Network,
                 logs_kms_key_arn: str):
        self._stack, self._settings, self._workers = stack, settings, workers
        self._network, self._logs_kms_key_arn = network, logs_kms_key_arn
        certificate = settings.ecs_certificate_arn or None
        port = alb_listener(tls=certificate is not None)[1]
        self.cluster = FargateCluster(stack, "ecs-cluster", props=FargateClusterProps(
            name_prefix=settings.name_prefix, vpc_id=network.vpc_id,
            private_subnet_ids=tuple(network.private_subnet_ids),
            logs_kms_key_arn=logs_kms_key_arn, log_retention_days=settings.log_retention_days,
            listener_port=port, certificate_arn=certificate,
            deletion_protection=settings.is_production,
            # Tasks pull their image from ECR and ship logs over HTTPS, through NAT, whatever else they reach.
            worker_egress_ports=tuple(sorted({HTTPS_PORT, *settings.worker_egress_ports}))))
        self.ingress = PrivateIngress(stack, "private-ingress", props=PrivateIngressProps(
            name_prefix=settings.name_prefix, region=settings.aws_region,
            deletion_protection=not settings.allow_destroy_data, network=network,
            alb=AlbTarget(arn=self.cluster.load_balancer_arn, listener=(self.cluster.listener,),
                          port=self.cluster.listener_port, protocol=self.cluster.listener_protocol,
                          security_group_id=self.cluster.security_group_id)))
        self.client_security_group_id = self.cluster.tasks_security_group_id
        self.redeploy_action = ecs_redeploy(settings.aws_region, settings.account_region[0],
                                            self.cluster.cluster_arn, self.cluster.cluster_name)
        self.adoptions = tuple(self.cluster.adoptions)
        self.services: dict[str, FargateWorkerService] = {}

    def build_workers(self, infrastructure: InfrastructureEnvironment) -> tuple[Route, ...]:
        settings, network, cluster = self._settings, self._network, self.cluster
        account, region = settings.account_region
        # Before the services: their task definitions read the image parameter.
        self.images = ImageRepository(self._stack, "image-repository",
                                      props=ImageRepositoryProps(name_prefix=settings.name_prefix))
        called = sorted({callee for w in self._workers for callee in w.calls})
        routes = {w.name: w.route for w in self._workers}
        calls = EcsCalls(self._stack, "worker-calls", props=EcsCallsProps(
            name_prefix=settings.name_prefix, vpc_id=network.vpc_id, port=settings.port,
            callees=tuple((name, routes[name]) for name in called))) if called else None
        for worker in self._workers:
            self.services[worker.name] = FargateWorkerService(self._stack, f"ecs-worker-{worker.name}", props=(
                FargateWorkerServiceProps(
                    name=worker.service_name, route=worker.route, routing_domain=settings.ecs_routing_domain,
                    region=region, account_id=account,
                    cluster_arn=cluster.cluster_arn, cluster_name=cluster.cluster_name, vpc_id=network.vpc_id,
                    private_subnet_ids=tuple(network.private_subnet_ids), listener_arn=cluster.listener_arn,
                    load_balancer_arn_suffix=cluster.load_balancer_arn_suffix,
                    alb_security_group_id=cluster.security_group_id, port=settings.port, cpu=worker.cpu,
                    memory=worker.memory, command=container_command(worker.start_command),
                    logs_kms_key_arn=self._logs_kms_key_arn, log_retention_days=settings.log_retention_days,
                    min_tasks=worker.min_instances, max_tasks=worker.max_instances,
                    requests_per_target=settings.ecs_requests_per_target,
                    image=self.images.current_image,
                    repository_arn=self.images.repository_arn, health_check_path=worker.health_check_path,
                    environment=worker_variables(settings, worker, infrastructure, calls.urls if calls else None),
                    secrets=worker_secrets(worker, infrastructure), kms_key_arns=secret_keys(settings, infrastructure),
                    statements=infrastructure.statements,
                    registry_arn=calls.registry_arns.get(worker.name) if calls else None,
                    egress_ports=(),  # the shared tasks group holds the internet egress
                    shared_security_group_ids=(cluster.tasks_security_group_id,),
                    network_key=":".join((settings.vpc_id, *settings.private_subnet_ids, str(settings.vpc_cidr))),
                    private=worker.private,
                )))
        for worker in self._workers:
            for callee in worker.calls:
                calls.admit(worker.name, self.services[worker.name].security_group_id,
                            callee, self.services[callee].security_group_id)
        services = list(self.services.values())
        self.adoptions = (*self.cluster.adoptions, *(a for service in services for a in service.adoptions))
        # After the services: the build rolls them.
        self.pipeline = ImagePipeline(self._stack, "image-pipeline", props=ImagePipelineProps(
            name_prefix=settings.name_prefix, region=region, account_id=account,
            repository_url=settings.repository_url, branch=settings.branch,
            codeconnections_connection_arn=settings.codeconnections_arn,
            build_command=stack_build_command(settings, self._workers),
            start_scripts=stack_start_scripts(self._workers), source_directory=settings.source_directory,
            node_major=int(settings.runtime.removeprefix("NODEJS_")), build_on_push=settings.auto_deployments,
            logs_kms_key_arn=self._logs_kms_key_arn, log_retention_days=settings.log_retention_days,
            images=self.images, cluster_arn=cluster.cluster_arn, cluster_name=cluster.cluster_name,
            service_arns=tuple(s.service_arn for s in services), container_name=CONTAINER_NAME,
            passed_role_suffixes=(TASK_ROLE_SUFFIX, EXECUTION_ROLE_SUFFIX)))
        scheme = self.cluster.listener_protocol.lower()
        return tuple(Route(name=w.name, path=w.route, ingress_domain=self.services[w.name].host, scheme=scheme)
                     for w in self._workers if not w.private)

    def admit_ingress(self, after: list[TerraformResource]) -> None:
        """The ALB admits the NLB's group, `after` the stage (constructs_lib/private_ingress.py)."""
        self.cluster.admit(self.ingress.security_group_id, after)

    @property
    def service_arns(self) -> dict[str, str]:
        return {name: service.service_arn for name, service in self.services.items()}

    @property
    def worker_hosts(self) -> dict[str, str]:
        return {name: service.host for name, service in self.services.items() if service.host is not None}
