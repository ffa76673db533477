"""Aurora PostgreSQL Serverless v2 and ElastiCache (Valkey/Redis), reachable only from the VPC connector.

The Terraform addresses of the stateful resources are pinned (`override_logical_id`): moving these
constructs in the tree must never plan a replacement of the database or the cache.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn, TerraformResource, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
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

from workers_scan.aws_names import ELASTICACHE_ID_MAX, RDS_IDENTIFIER_MAX, shorten
from workers_scan.ports import POSTGRES_PORT, REDIS_PORT

from .adoption import Adoption, aws_named_log_group
from .iam import policy_json, service_trust_policy

# RDS writes Enhanced Monitoring metrics to this one log group of the account and region (RDS User Guide).
ENHANCED_MONITORING_LOG_GROUP = "RDSOSMetrics"

# Pinned Terraform addresses of the stateful resources: never change these strings.
AURORA_CLUSTER_ADDRESS = "aurora_cluster"
AURORA_WRITER_ADDRESS = "aurora_writer"
AURORA_READER_ADDRESS = "aurora_reader"
AURORA_LOGS_ADDRESS = "aurora_postgresql_logs"
REDIS_ADDRESS = "redis"


@dataclass(frozen=True)
class AuroraProps:
    engine_version: str
    auto_minor_upgrade: bool        # RDS then owns the minor version (engine_version is ignored after create)
    min_acu: float
    max_acu: float
    database_name: str
    master_username: str
    iam_user: str | None            # the database user workers sign in as with IAM; None: the master user's secret
    reader: bool                    # a second instance, in another zone, promoted on failure
    backup_retention_days: int
    performance_insights: bool
    monitoring_interval: int        # Enhanced Monitoring, seconds; 0: off
    kms_key_arn: str | None         # None: the AWS managed key
    logs_kms_key_arn: str           # of the group the PostgreSQL log is exported to
    log_retention_days: int


@dataclass(frozen=True)
class RedisProps:
    engine: str                     # valkey or redis
    engine_version: str
    node_type: str
    nodes: int                      # more than one: replicated across zones, with automatic failover
    snapshot_retention_days: int
    kms_key_arn: str | None         # None: the AWS managed key


@dataclass(frozen=True)
class DataStoresProps:
    name_prefix: str                # <project>-<env>: the stores' identifiers, groups and roles
    account_id: str                 # of rds-db:connect and the monitoring role's trust policy
    region: str
    vpc_id: str
    private_subnet_ids: tuple[str, ...]
    client_security_group_id: str | None   # the workers' group (App Runner's connector, ECS's tasks); None: no store
    protected: bool                 # deletion protection, prevent_destroy and a final snapshot (not ALLOW_DESTROY_DATA)
    aurora: AuroraProps | None = None
    redis: RedisProps | None = None
    clients: str = "the App Runner VPC connector"  # who that group is, for the stores' group descriptions


class DataStores(Construct):
    """Exposes `aurora_endpoint`, `aurora_secret_arn` and `redis_endpoint` (None without that store; what
    workers_scan/injected.py gives the workers), `kms_key_arns` (keys the master secret is encrypted with),
    `worker_statements` (IAM statements workers' roles need, e.g. rds-db:connect) and `adoptions` (import blocks for
    the stack's imports.tf)."""

    def __init__(self, scope: Construct, id_: str, *, props: DataStoresProps):
        super().__init__(scope, id_)
        self.aurora_endpoint: str | None = None
        self.aurora_secret_arn: str | None = None
        self.redis_endpoint: str | None = None
        self.worker_statements: list[dict] = []   # IAM statements every worker's role needs
        self.adoptions: list[Adoption] = []      # objects AWS may have made before (constructs_lib/adoption.py)
        self.kms_key_arns: list[str] = []
        if (props.aurora or props.redis) and props.client_security_group_id is None:
            raise ValueError("DataStoresProps: a data store needs client_security_group_id, the group of the workers "
                             "it admits (App Runner's VPC connector or ECS's tasks)")
        if props.aurora:
            self._build_aurora(props, props.aurora)
        if props.redis:
            self._build_redis(props, props.redis)

    def _security_group(self, props: DataStoresProps, id_: str, name: str, port: int, what: str):
        prefix = props.name_prefix
        group = SecurityGroup(self, f"{id_}-security-group", name=f"{prefix}-{name}", vpc_id=props.vpc_id,
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

    def _build_aurora(self, props: DataStoresProps, aurora: AuroraProps) -> None:
        prefix = props.name_prefix
        group = self._security_group(props, "aurora", "aurora", POSTGRES_PORT, "Aurora PostgreSQL")
        subnets = DbSubnetGroup(self, "aurora-subnets", name=f"{prefix}-aurora",
                                            subnet_ids=list(props.private_subnet_ids),
                                            description=f"Private subnets of {prefix} Aurora")
        identifier = shorten(f"{prefix}-aurora", RDS_IDENTIFIER_MAX)
        protected = props.protected
        kms = aurora.kms_key_arn
        exports = self._export_log_group(identifier, aurora)
        cluster = RdsCluster(
            self, "aurora-cluster", cluster_identifier=identifier, engine="aurora-postgresql", engine_mode="provisioned",
            engine_version=aurora.engine_version, database_name=aurora.database_name,
            master_username=aurora.master_username,
            # RDS generates the password and keeps it in Secrets Manager: it never enters the JSON or the state.
            manage_master_user_password=True, master_user_secret_kms_key_id=kms,
            storage_encrypted=True, kms_key_id=kms, iam_database_authentication_enabled=True,
            db_subnet_group_name=subnets.name, vpc_security_group_ids=[group.id], port=POSTGRES_PORT,
            serverlessv2_scaling_configuration=RdsClusterServerlessv2ScalingConfiguration(
                min_capacity=aurora.min_acu, max_capacity=aurora.max_acu),
            backup_retention_period=aurora.backup_retention_days, preferred_backup_window="02:00-03:00",
            preferred_maintenance_window="sun:04:00-sun:05:00", copy_tags_to_snapshot=True,
            deletion_protection=protected, skip_final_snapshot=not protected,
            final_snapshot_identifier=self._final_snapshot_name("aurora", identifier) if protected else None,
            enabled_cloudwatch_logs_exports=["postgresql"],
            depends_on=[exports],  # else RDS creates the group itself: unencrypted, kept forever
            lifecycle=TerraformResourceLifecycle(
                prevent_destroy=protected or None,
                # With automatic minor upgrades RDS owns the minor version; pinning it would plan a downgrade.
                ignore_changes=["engine_version"] if aurora.auto_minor_upgrade else None,
            ) if protected or aurora.auto_minor_upgrade else None,
        )
        cluster.override_logical_id(AURORA_CLUSTER_ADDRESS)
        monitoring = aurora.monitoring_interval
        monitoring_role_arn = self._monitoring_role(props, identifier) if monitoring else None
        roles = [("writer", AURORA_WRITER_ADDRESS)] + ([("reader", AURORA_READER_ADDRESS)] if aurora.reader else [])
        for role, address in roles:
            instance = RdsClusterInstance(
                self, f"aurora-{role}", identifier=f"{identifier}-{role}"[:RDS_IDENTIFIER_MAX],
                cluster_identifier=cluster.id,
                instance_class="db.serverless", engine=cluster.engine,
                db_subnet_group_name=subnets.name, publicly_accessible=False,
                auto_minor_version_upgrade=aurora.auto_minor_upgrade,
                performance_insights_enabled=aurora.performance_insights,
                performance_insights_kms_key_id=kms if aurora.performance_insights else None,
                promotion_tier=0 if role == "writer" else 1, copy_tags_to_snapshot=True,
                monitoring_interval=monitoring, monitoring_role_arn=monitoring_role_arn,
            )
            instance.override_logical_id(address)
        secret_arn = cluster.master_user_secret.get(0).secret_arn
        self.aurora_endpoint = cluster.endpoint
        self.aurora_secret_arn = secret_arn
        if aurora.iam_user:
            # Workers sign a 15-minute token per connection (nothing to rotate); the master secret stays out of
            # their reach, for migrations.
            account, region = props.account_id, props.region
            self.worker_statements.append({
                "Sid": "ConnectAsTheWorkersDatabaseUser", "Effect": "Allow", "Action": "rds-db:connect",
                "Resource": f"arn:aws:rds-db:{region}:{account}:dbuser:{cluster.cluster_resource_id}/"
                            f"{aurora.iam_user}"})
            return
        # Workers on the master user read its secret (DB_SECRET), which this key encrypts.
        if kms:
            self.kms_key_arns.append(kms)

    def _export_log_group(self, identifier: str, aurora: AuroraProps) -> CloudwatchLogGroup:
        """The group RDS exports the PostgreSQL log to, under the name RDS uses; adopted when RDS made it for a
        cluster created before the stack managed the group (constructs_lib/adoption.py)."""
        group, adoption = aws_named_log_group(
            self, "aurora-logs", name=f"/aws/rds/cluster/{identifier}/postgresql", address=AURORA_LOGS_ADDRESS,
            kms_key_arn=aurora.logs_kms_key_arn, retention_days=aurora.log_retention_days)
        self.adoptions.append(adoption)
        return group

    def _monitoring_role(self, props: DataStoresProps, identifier: str) -> str:
        """The role RDS assumes to write Enhanced Monitoring metrics: only RDS for these instances may assume it
        (RDS User Guide, "Protecting against the confused deputy problem"), and it may write only their group."""
        account, region = props.account_id, props.region
        role = IamRole(
            self, "aurora-monitoring-role", name=f"{props.name_prefix}-rds-monitoring",
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
        # A `terraform_data`, built from the base class: cdktf's DataResource adds a validation that runs
        # `terraform version` at every synth, which fails where terraform is not installed (Terraform Cloud users).
        created = TerraformResource(self, f"{id_}-created", terraform_resource_type="terraform_data",
                                    lifecycle=TerraformResourceLifecycle(ignore_changes=["input"]))
        created.add_override("input", {"at": Fn.timestamp()})
        created.override_logical_id(f"{id_}_created")  # pinned with its store
        at = Fn.lookup(created.get_any_map_attribute("output"), "at")
        return f"{identifier}-final-{Fn.formatdate('YYYYMMDDhhmmss', at)}"

    def _build_redis(self, props: DataStoresProps, redis: RedisProps) -> None:
        prefix = props.name_prefix
        group = self._security_group(props, "redis", "redis", REDIS_PORT, redis.engine.capitalize())
        subnets = ElasticacheSubnetGroup(self, "redis-subnets", name=f"{prefix}-redis",
                                                        subnet_ids=list(props.private_subnet_ids),
                                                        description=f"Private subnets of {prefix} cache")
        replicated = redis.nodes > 1
        protected = props.protected
        group_id = shorten(f"{prefix}-cache", ELASTICACHE_ID_MAX)
        cache = ElasticacheReplicationGroup(
            self, "redis", replication_group_id=group_id,
            description=f"{prefix} cache for workers", engine=redis.engine,
            engine_version=redis.engine_version, node_type=redis.node_type,
            num_cache_clusters=redis.nodes, port=REDIS_PORT, subnet_group_name=subnets.name,
            security_group_ids=[group.id], at_rest_encryption_enabled="true", transit_encryption_enabled=True,
            kms_key_id=redis.kms_key_arn,
            automatic_failover_enabled=replicated, multi_az_enabled=replicated,
            snapshot_retention_limit=redis.snapshot_retention_days, snapshot_window="03:00-04:00",
            maintenance_window="sun:05:00-sun:06:00", auto_minor_version_upgrade="true", apply_immediately=False,
            final_snapshot_identifier=self._final_snapshot_name("redis", group_id) if protected else None,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True) if protected else None,
        )
        cache.override_logical_id(REDIS_ADDRESS)
        self.redis_endpoint = cache.primary_endpoint_address
