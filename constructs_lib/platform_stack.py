"""One environment's stack: composes the parts of the request path and wires them together."""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformStack
from constructs import Construct

from workers_scan import Settings, Worker

from .api_gateway import RestApi, RestApiProps, Route
from .data_stores import DataStores, DataStoresProps
from .log_encryption import LogEncryption, LogEncryptionProps
from .network import Network, NetworkProps
from .private_ingress import PrivateIngress, PrivateIngressProps
from .provider import add_aws_provider
from .state_backend import configure_backend
from .waf import Waf, WafProps
from .worker_service import (InfrastructureEnvironment, WorkerPlatform, WorkerPlatformProps, WorkerService,
                             WorkerServiceProps)

class PlatformStack(TerraformStack):
    """Exposes `network`, `ingress`, `platform`, `services` (worker name -> WorkerService), `api`, `waf`."""

    def __init__(self, scope: Construct, id_: str, *, settings: Settings, workers: list[Worker]):
        super().__init__(scope, id_)
        self.settings = settings
        add_aws_provider(self, region=settings.aws_region,
                         tags={"Project": settings.project_name, "Environment": settings.environment})
        configure_backend(self, settings)

        self.log_encryption = LogEncryption(self, "log-encryption", props=LogEncryptionProps(
            name_prefix=settings.name_prefix, region=settings.aws_region, existing_key_arn=settings.logs_kms_key_arn))
        logs_key = self.log_encryption.key_arn
        self.network = Network(self, "network", props=NetworkProps(settings=settings, logs_kms_key_arn=logs_key))
        self.ingress = PrivateIngress(self, "private-ingress", props=PrivateIngressProps(
            name_prefix=settings.name_prefix, region=settings.aws_region,
            deletion_protection=settings.is_production, network=self.network))
        self.platform = WorkerPlatform(self, "worker-platform",
                                       props=WorkerPlatformProps(settings=settings, network=self.network,
                                                                  scaling_profiles=tuple(w.scaling for w in workers)))
        self.data_stores = DataStores(self, "data-stores", props=DataStoresProps(
            settings=settings, network=self.network,
            connector_security_group_id=self.platform.connector_security_group_id))
        infrastructure = InfrastructureEnvironment(
            variables=self.data_stores.environment, secrets=self.data_stores.secrets,
            kms_key_arns=tuple(self.data_stores.kms_key_arns), statements=tuple(self.data_stores.worker_statements))
        self.services: dict[str, WorkerService] = {}
        for worker in sorted(workers, key=lambda w: w.name):
            # Construct ids carry the worker name, never a position: adding a worker moves nothing else.
            self.services[worker.name] = WorkerService(
                self, f"worker-{worker.name}",
                props=WorkerServiceProps(settings=settings, worker=worker, platform=self.platform, ingress=self.ingress,
                                         infrastructure=infrastructure),
            )
        self.api = RestApi(self, "api", props=RestApiProps(
            settings=settings, nlb_arn=self.ingress.nlb_arn, logs_kms_key_arn=logs_key,
            routes=tuple(Route(worker=w, ingress_domain=self.services[w.name].ingress_domain)
                         for w in sorted(workers, key=lambda w: w.name)),
        ))
        self.waf = Waf(self, "waf", props=WafProps(
            name_prefix=settings.name_prefix, rate_limit=settings.waf_rate_limit,
            count_rules=settings.waf_count_rules, log_all_requests=settings.waf_log_all_requests,
            log_retention_days=settings.log_retention_days, stage_arn=self.api.stage_arn, logs_kms_key_arn=logs_key))
        self._outputs()

    def _outputs(self) -> None:
        TerraformOutput(self, "invoke_url", value=self.api.invoke_url, description="Base URL of the API stage")
        TerraformOutput(self, "worker_urls", value=self.api.worker_urls, description="Public URL of each worker")
        TerraformOutput(self, "service_arns", description="App Runner service ARN of each worker",
                        value={name: service.service_arn for name, service in self.services.items()})
        TerraformOutput(self, "ingress_domains", description="Private ingress domain of each worker",
                        value={name: service.ingress_domain for name, service in self.services.items()})
        TerraformOutput(self, "nlb_arn", value=self.ingress.nlb_arn, description="Internal NLB behind the VPC link")
        TerraformOutput(self, "vpc_endpoint_id", value=self.ingress.endpoint_id,
                        description="apprunner.requests interface endpoint")
        TerraformOutput(self, "waf_web_acl_arn", value=self.waf.web_acl_arn, description="WAF web ACL of the stage")
        if self.settings.aurora_enabled:
            TerraformOutput(self, "database_endpoint", value=self.data_stores.aurora_endpoint,
                            description="Aurora writer endpoint")
            TerraformOutput(self, "database_secret_arn", value=self.data_stores.aurora_secret_arn,
                            description="Secrets Manager secret of the Aurora master user (managed by RDS)")
        if self.settings.redis_enabled:
            TerraformOutput(self, "redis_endpoint", value=self.data_stores.redis_endpoint,
                            description="Primary endpoint of the cache (TLS)")
