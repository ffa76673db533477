"""One environment's stack: composes the parts of the request path and wires them together.

Settings become props here, and otherwise only in compute.py (each backend's constructs) and app.py (the bootstrap
stack): one function per props class, beside the code that builds the construct. Functions rather than
`Props.from_settings` classmethods, so that no construct module imports Settings at all (tests/test_props.py) and
each construct can be built alone from plain values.
"""

from __future__ import annotations

from operator import attrgetter

from cdktf import TerraformOutput, TerraformStack
from constructs import Construct

from workers_scan import Settings, Worker
from workers_scan.outputs import platform_outputs

from .api_gateway import RestApi, RestApiProps, Route
from .compute import InfrastructureEnvironment, build_compute, secret_readers
from .data_stores import AuroraProps, DataStores, DataStoresProps, RedisProps
from .log_encryption import LogEncryption, LogEncryptionProps
from .network import ExistingVpcProps, FlowLogsProps, Network, NetworkProps, NewVpcProps
from .provider import add_aws_provider
from .secret_redeploy import SecretRedeploy, SecretRedeployProps
from .state_backend import (CloudStateProps, LocalStateProps, S3StateProps, StateBackendProps,
                            configure_backend)
from .waf import Waf, WafProps


class PlatformStack(TerraformStack):
    """Exposes `network`, `compute` (the backend COMPUTE picks), `ingress`, `services` (worker name -> the
    backend's service), `data_stores`, `secret_redeploy` (None when no worker reads a secret, or turned off),
    `api`, `waf`, `adoptions` (the import blocks app.synthesize writes to imports.tf) and `forgotten` (its
    `removed` blocks)."""

    def __init__(self, scope: Construct, id_: str, *, settings: Settings, workers: list[Worker]):
        super().__init__(scope, id_)
        self.settings = settings
        add_aws_provider(self, region=settings.aws_region,
                         tags={"Project": settings.project_name, "Environment": settings.environment})
        configure_backend(self, state_backend_props(settings))

        self.log_encryption = LogEncryption(self, "log-encryption", props=LogEncryptionProps(
            name_prefix=settings.name_prefix, region=settings.aws_region, existing_key_arn=settings.logs_kms_key_arn))
        logs_key = self.log_encryption.key_arn
        self.network = Network(self, "network", props=network_props(settings, logs_kms_key_arn=logs_key))
        self.compute = build_compute(self, settings=settings, workers=workers, network=self.network,
                                     logs_kms_key_arn=logs_key)
        self.ingress = self.compute.ingress
        self.data_stores = DataStores(self, "data-stores", props=data_stores_props(
            settings, network=self.network, client_security_group_id=self.compute.client_security_group_id,
            logs_kms_key_arn=logs_key))
        stores = self.data_stores
        infrastructure = InfrastructureEnvironment(
            settings=settings, database_endpoint=stores.aurora_endpoint, database_secret_arn=stores.aurora_secret_arn,
            cache_endpoint=stores.redis_endpoint, kms_key_arns=tuple(stores.kms_key_arns),
            statements=tuple(stores.worker_statements))
        routes = self.compute.build_workers(infrastructure)
        self.adoptions = (*self.compute.adoptions, *self.data_stores.adoptions)
        self.services = self.compute.services
        account = settings.account_region[0]
        readers = secret_readers(workers, {name: s.service_arn for name, s in self.services.items()}, infrastructure,
                                 account_id=account)
        self.secret_redeploy = SecretRedeploy(self, "secret-redeploy", props=SecretRedeployProps(
            name_prefix=settings.name_prefix, region=settings.aws_region, account_id=account,
            action=self.compute.redeploy_action, secrets=readers, logs_kms_key_arn=logs_key,
            log_retention_days=settings.log_retention_days,
        )) if settings.redeploys_on_secret_change and readers else None
        self.api = RestApi(self, "api", props=rest_api_props(
            settings, nlb_arn=self.ingress.nlb_arn, routes=routes, logs_kms_key_arn=logs_key))
        self.compute.admit_ingress([self.api.stage])
        self.forgotten = self.ingress.forgotten
        self.waf = Waf(self, "waf", props=WafProps(
            name_prefix=settings.name_prefix, rate_limit=settings.waf_rate_limit,
            count_rules=settings.waf_count_rules, log_all_requests=settings.waf_log_all_requests,
            log_retention_days=settings.log_retention_days, stage_arn=self.api.stage_arn, logs_kms_key_arn=logs_key))
        self._outputs()

    def _outputs(self) -> None:
        """The outputs workers_scan/outputs.py declares for these settings, each read from the attribute it names."""
        for output in platform_outputs(self.settings):
            TerraformOutput(self, output.name, value=attrgetter(output.source)(self), description=output.description)


def rest_api_props(settings: Settings, *, nlb_arn: str, routes: tuple[Route, ...],
                   logs_kms_key_arn: str) -> RestApiProps:
    return RestApiProps(
        name_prefix=settings.name_prefix, stage_name=settings.environment,
        behind_nlb="the workers ALB" if settings.uses_ecs else "App Runner", authorization=settings.api_authorization,
        throttle_rate_limit=settings.api_throttle_rate_limit, throttle_burst_limit=settings.api_throttle_burst_limit,
        manage_account_logging=bool(settings.manage_api_gateway_account),
        log_retention_days=settings.log_retention_days, nlb_arn=nlb_arn, routes=routes,
        logs_kms_key_arn=logs_kms_key_arn)


def network_props(settings: Settings, *, logs_kms_key_arn: str) -> NetworkProps:
    if settings.uses_existing_vpc:
        vpc = ExistingVpcProps(vpc_id=settings.vpc_id, private_subnet_ids=settings.private_subnet_ids)
    else:
        flow_logs = FlowLogsProps(account_id=settings.account_region[0], retention_days=settings.log_retention_days,
                                  kms_key_arn=logs_kms_key_arn) if settings.vpc_flow_logs else None
        vpc = NewVpcProps(cidr=settings.vpc_cidr, az_count=settings.az_count,
                          availability_zones=settings.availability_zones, nat_per_az=settings.nat_per_az,
                          flow_logs=flow_logs, zones_offer_apprunner_requests=not settings.uses_ecs)
    return NetworkProps(name_prefix=settings.name_prefix, region=settings.aws_region, vpc=vpc)


def data_stores_props(settings: Settings, *, network: Network, client_security_group_id: str | None,
                      logs_kms_key_arn: str) -> DataStoresProps:
    aurora = AuroraProps(
        engine_version=settings.aurora_engine_version, auto_minor_upgrade=settings.aurora_auto_minor_upgrade,
        min_acu=settings.aurora_min_acu, max_acu=settings.aurora_max_acu,
        database_name=settings.aurora_database_name, master_username=settings.aurora_master_username,
        iam_user=settings.aurora_iam_user or None, reader=settings.aurora_reader,
        backup_retention_days=settings.aurora_backup_retention_days,
        performance_insights=settings.aurora_performance_insights,
        monitoring_interval=settings.aurora_monitoring_interval, kms_key_arn=settings.aurora_kms_key_arn or None,
        logs_kms_key_arn=logs_kms_key_arn, log_retention_days=settings.log_retention_days,
    ) if settings.aurora_enabled else None
    redis = RedisProps(
        engine=settings.redis_engine, engine_version=settings.redis_engine_version,
        node_type=settings.redis_node_type, nodes=settings.redis_nodes,
        snapshot_retention_days=settings.redis_snapshot_retention_days, kms_key_arn=settings.redis_kms_key_arn or None,
    ) if settings.redis_enabled else None
    account, region = settings.account_region
    return DataStoresProps(
        name_prefix=settings.name_prefix, account_id=account, region=region, vpc_id=network.vpc_id,
        private_subnet_ids=tuple(network.private_subnet_ids), client_security_group_id=client_security_group_id,
        protected=not settings.allow_destroy_data, aurora=aurora, redis=redis,
        clients="the ECS tasks" if settings.uses_ecs else "the App Runner VPC connector")


def state_backend_props(settings: Settings) -> StateBackendProps:
    if settings.state_backend == "s3":
        return S3StateProps(bucket=settings.state_bucket, key=settings.state_object_key,
                            region=settings.state_bucket_region, kms_key_arn=settings.state_kms_key_arn or None,
                            lock_table=settings.state_lock_table or None, use_lockfile=settings.state_use_lockfile)
    if settings.state_backend == "cloud":
        return CloudStateProps(organization=settings.tfc_organization, hostname=settings.tfc_hostname,
                               workspace=settings.tfc_workspace_name if settings.tfc_workspace else None,
                               workspace_tags=settings.tfc_workspace_tags)
    return LocalStateProps(external=settings.state_backend == "external")
