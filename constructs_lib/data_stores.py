"""Aurora PostgreSQL Serverless v2 and ElastiCache (Valkey/Redis), reachable only from the VPC connector.

The Terraform addresses of the stateful resources are pinned (`override_logical_id`): moving these
constructs in the tree must never plan a replacement of the database or the cache.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import DataResource, Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.elasticache_replication_group import ElasticacheReplicationGroup
from cdktf_cdktf_provider_aws.elasticache_subnet_group import ElasticacheSubnetGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.rds_cluster import RdsCluster, RdsClusterServerlessv2ScalingConfiguration
from cdktf_cdktf_provider_aws.rds_cluster_instance import RdsClusterInstance
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from workers_scan import Settings
from workers_scan.aws_names import ELASTICACHE_ID_MAX, RDS_IDENTIFIER_MAX, shorten
from workers_scan.ports import POSTGRES_PORT, REDIS_PORT

from .iam import policy_json, service_trust_policy
from .network import Network

# RDS writes Enhanced Monitoring metrics to this one log group of the account and region (RDS User Guide).
ENHANCED_MONITORING_LOG_GROUP = "RDSOSMetrics"

# Pinned Terraform addresses of the stateful resources: never change these strings.
AURORA_CLUSTER_ADDRESS = "aurora_cluster"
AURORA_WRITER_ADDRESS = "aurora_writer"
AURORA_READER_ADDRESS = "aurora_reader"
REDIS_ADDRESS = "redis"


@dataclass(frozen=True)
class DataStoresProps:
    settings: Settings
    network: Network
    client_security_group_id: str | None   # the workers' group (App Runner's connector, ECS's tasks); None: no store
    clients: str = "the App Runner VPC connector"  # who that group is, for the stores' group descriptions


class DataStores(Construct):
    """Exposes `environment` (infrastructure variables for workers), `secrets` (key -> ARN token),
    `kms_key_arns` (keys those secrets are encrypted with), `worker_statements` (IAM statements workers' roles
    need, e.g. rds-db:connect), and the `aurora_*` / `redis_*` attributes."""

    def __init__(self, scope: Construct, id_: str, *, props: DataStoresProps):
        super().__init__(scope, id_)
        self.environment: dict[str, str] = {}
        self.worker_statements: list[dict] = []   # IAM statements every worker's role needs
        self.secrets: dict[str, str] = {}
        self.kms_key_arns: list[str] = []
        settings = props.settings
        if settings.aurora_enabled:
            self._build_aurora(props)
        if settings.redis_enabled:
            self._build_redis(props)

    def _security_group(self, props: DataStoresProps, id_: str, name: str, port: int, what: str):
        prefix = props.settings.name_prefix
        group = SecurityGroup(self, f"{id_}-security-group", name=f"{prefix}-{name}", vpc_id=props.network.vpc_id,
                                  description=f"{what}: port {port} from {props.clients} only",
                                  tags={"Name": f"{prefix}-{name}"},
                                  # A description change replaces a group, which AWS refuses while the store
                                  # uses it (e.g. REDIS_ENGINE redis -> valkey): keep the one it was created with.
                                  lifecycle=TerraformResourceLifecycle(ignore_changes=["description"]))
        VpcSecurityGroupIngressRule(
            self, f"{id_}-from-workers", security_group_id=group.id, ip_protocol="tcp", from_port=port, to_port=port,
            referenced_security_group_id=props.client_security_group_id, description=f"{what} from workers")
        VpcSecurityGroupEgressRule(
            self, f"workers-to-{id_}", security_group_id=props.client_security_group_id, ip_protocol="tcp",
            from_port=port, to_port=port, referenced_security_group_id=group.id, description=f"Workers to {what}")
        return group

    def _build_aurora(self, props: DataStoresProps) -> None:
        settings = props.settings
        prefix = settings.name_prefix
        group = self._security_group(props, "aurora", "aurora", POSTGRES_PORT, "Aurora PostgreSQL")
        subnets = DbSubnetGroup(self, "aurora-subnets", name=f"{prefix}-aurora",
                                            subnet_ids=props.network.private_subnet_ids,
                                            description=f"Private subnets of {prefix} Aurora")
        identifier = shorten(f"{prefix}-aurora", RDS_IDENTIFIER_MAX)
        protected = not settings.allow_destroy_data
        kms = settings.aurora_kms_key_arn or None
        cluster = RdsCluster(
            self, "aurora-cluster", cluster_identifier=identifier, engine="aurora-postgresql", engine_mode="provisioned",
            engine_version=settings.aurora_engine_version, database_name=settings.aurora_database_name,
            master_username=settings.aurora_master_username,
            # RDS generates the password and keeps it in Secrets Manager: it never enters the JSON or the state.
            manage_master_user_password=True, master_user_secret_kms_key_id=kms,
            storage_encrypted=True, kms_key_id=kms, iam_database_authentication_enabled=True,
            db_subnet_group_name=subnets.name, vpc_security_group_ids=[group.id], port=POSTGRES_PORT,
            serverlessv2_scaling_configuration=RdsClusterServerlessv2ScalingConfiguration(
                min_capacity=settings.aurora_min_acu, max_capacity=settings.aurora_max_acu),
            backup_retention_period=settings.aurora_backup_retention_days, preferred_backup_window="02:00-03:00",
            preferred_maintenance_window="sun:04:00-sun:05:00", copy_tags_to_snapshot=True,
            deletion_protection=protected, skip_final_snapshot=not protected,
            final_snapshot_identifier=self._final_snapshot_name("aurora", identifier) if protected else None,
            enabled_cloudwatch_logs_exports=["postgresql"],
            lifecycle=TerraformResourceLifecycle(
                prevent_destroy=protected or None,
                # With automatic minor upgrades RDS owns the minor version; pinning it would plan a downgrade.
                ignore_changes=["engine_version"] if settings.aurora_auto_minor_upgrade else None,
            ) if protected or settings.aurora_auto_minor_upgrade else None,
        )
        cluster.override_logical_id(AURORA_CLUSTER_ADDRESS)
        monitoring = settings.aurora_monitoring_interval
        monitoring_role_arn = self._monitoring_role(settings, identifier) if monitoring else None
        roles = [("writer", AURORA_WRITER_ADDRESS)] + ([("reader", AURORA_READER_ADDRESS)] if settings.aurora_reader else [])
        for role, address in roles:
            instance = RdsClusterInstance(
                self, f"aurora-{role}", identifier=f"{identifier}-{role}"[:RDS_IDENTIFIER_MAX],
                cluster_identifier=cluster.id,
                instance_class="db.serverless", engine=cluster.engine,
                db_subnet_group_name=subnets.name, publicly_accessible=False,
                auto_minor_version_upgrade=settings.aurora_auto_minor_upgrade,
                performance_insights_enabled=settings.aurora_performance_insights,
                performance_insights_kms_key_id=kms if settings.aurora_performance_insights else None,
                promotion_tier=0 if role == "writer" else 1, copy_tags_to_snapshot=True,
                monitoring_interval=monitoring, monitoring_role_arn=monitoring_role_arn,
            )
            instance.override_logical_id(address)
        secret_arn = cluster.master_user_secret.get(0).secret_arn
        self.aurora_endpoint: str = cluster.endpoint
        self.aurora_secret_arn: str = secret_arn
        self.environment.update({
            "DB_HOST": cluster.endpoint, "DB_PORT": str(POSTGRES_PORT), "DB_NAME": settings.aurora_database_name,
            "DB_USER": settings.aurora_iam_user or settings.aurora_master_username,
        })
        if settings.aurora_iam_user:
            # Workers sign a 15-minute token per connection (nothing to rotate); the master secret stays out of
            # their reach, for migrations.
            account, region = settings.account_region
            self.environment.update({"DB_IAM_AUTH": "true", "DB_REGION": region})
            self.worker_statements.append({
                "Sid": "ConnectAsTheWorkersDatabaseUser", "Effect": "Allow", "Action": "rds-db:connect",
                "Resource": f"arn:aws:rds-db:{region}:{account}:dbuser:{cluster.cluster_resource_id}/"
                            f"{settings.aurora_iam_user}"})
            return
        # RDS rotates the password (every 7 days); App Runner reads DB_SECRET only when an instance starts.
        self.environment["DB_SECRET_ARN"] = secret_arn
        # The whole secret (JSON with username and password) is injected as DB_SECRET.
        self.secrets["DB_SECRET"] = secret_arn
        if kms:
            self.kms_key_arns.append(kms)

    def _monitoring_role(self, settings: Settings, identifier: str) -> str:
        """The role RDS assumes to write Enhanced Monitoring metrics: only RDS for these instances may assume it
        (RDS User Guide, "Protecting against the confused deputy problem"), and it may write only their group."""
        account, region = settings.account_region
        role = IamRole(
            self, "aurora-monitoring-role", name=f"{settings.name_prefix}-rds-monitoring",
            description=f"Lets RDS write Enhanced Monitoring metrics of {identifier}",
            assume_role_policy=service_trust_policy(
                "monitoring.rds.amazonaws.com", source_account=account,
                source_arn=f"arn:aws:rds:{region}:{account}:db:{identifier}-*"))
        group = f"arn:aws:logs:{region}:{account}:log-group:{ENHANCED_MONITORING_LOG_GROUP}"
        # AmazonRDSEnhancedMonitoringRole's actions, on RDS's one group instead of every RDS* group.
        IamRolePolicy(self, "aurora-monitoring-policy", name="write-enhanced-monitoring", role=role.id,
                                   policy=policy_json([
                                       {"Effect": "Allow", "Resource": group,
                                        "Action": ["logs:CreateLogGroup", "logs:PutRetentionPolicy"]},
                                       {"Effect": "Allow", "Resource": f"{group}:log-stream:*",
                                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents",
                                                   "logs:DescribeLogStreams", "logs:GetLogEvents"]}]))
        return role.arn

    def _final_snapshot_name(self, id_: str, identifier: str) -> str:
        """`<identifier>-final-<UTC time>`: the time this record was created, i.e. the store's creation (or, for a
        store older than this code, the first apply with it). Stable while the store lives, so plans stay empty,
        and new for a store created again after a destroy, so its final snapshot name is free."""
        created = DataResource(self, f"{id_}-created", input={"at": Fn.timestamp()},
                               lifecycle=TerraformResourceLifecycle(ignore_changes=["input"]))
        created.override_logical_id(f"{id_}_created")  # pinned with its store
        return f"{identifier}-final-{Fn.formatdate('YYYYMMDDhhmmss', Fn.lookup(created.output, 'at'))}"

    def _build_redis(self, props: DataStoresProps) -> None:
        settings = props.settings
        prefix = settings.name_prefix
        group = self._security_group(props, "redis", "redis", REDIS_PORT, settings.redis_engine.capitalize())
        subnets = ElasticacheSubnetGroup(self, "redis-subnets", name=f"{prefix}-redis",
                                                        subnet_ids=props.network.private_subnet_ids,
                                                        description=f"Private subnets of {prefix} cache")
        replicated = settings.redis_nodes > 1
        protected = not settings.allow_destroy_data
        group_id = shorten(f"{prefix}-cache", ELASTICACHE_ID_MAX)
        cache = ElasticacheReplicationGroup(
            self, "redis", replication_group_id=group_id,
            description=f"{prefix} cache for workers", engine=settings.redis_engine,
            engine_version=settings.redis_engine_version, node_type=settings.redis_node_type,
            num_cache_clusters=settings.redis_nodes, port=REDIS_PORT, subnet_group_name=subnets.name,
            security_group_ids=[group.id], at_rest_encryption_enabled="true", transit_encryption_enabled=True,
            kms_key_id=settings.redis_kms_key_arn or None,
            automatic_failover_enabled=replicated, multi_az_enabled=replicated,
            snapshot_retention_limit=settings.redis_snapshot_retention_days, snapshot_window="03:00-04:00",
            maintenance_window="sun:05:00-sun:06:00", auto_minor_version_upgrade="true", apply_immediately=False,
            final_snapshot_identifier=self._final_snapshot_name("redis", group_id) if protected else None,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True) if protected else None,
        )
        cache.override_logical_id(REDIS_ADDRESS)
        self.redis_endpoint: str = cache.primary_endpoint_address
        self.environment.update({"REDIS_HOST": cache.primary_endpoint_address, "REDIS_PORT": str(REDIS_PORT),
                                 "REDIS_TLS": "true"})
