"""The data stores built alone, from their props: no settings file, no monorepo, no platform stack."""

from __future__ import annotations

import json
from dataclasses import replace

import cdktf
import pytest

from constructs_lib.adoption import Adoption
from constructs_lib.data_stores import AuroraProps, DataStores, DataStoresProps, RedisProps
from workers_scan.ports import POSTGRES_PORT, REDIS_PORT

from .helpers import one, resources

ACCOUNT = "123456789012"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/0a1b2c3d-0000-4000-8000-0123456789ab"
LOGS_KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/0a1b2c3d-0000-4000-8000-0123456789ac"
WORKERS_GROUP = "sg-0ccccccccccccccc1"
SUBNETS = ("subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2")
AURORA_PROPS = AuroraProps(
    engine_version="16.6", auto_minor_upgrade=True, min_acu=0.5, max_acu=4, database_name="ledger",
    master_username="ledger_admin", iam_user=None, reader=False, backup_retention_days=14,
    performance_insights=True, monitoring_interval=30, kms_key_arn=KEY, logs_kms_key_arn=LOGS_KEY,
    log_retention_days=90)
REDIS_PROPS = RedisProps(engine="valkey", engine_version="8.0", node_type="cache.t4g.small", nodes=2,
                         snapshot_retention_days=5, kms_key_arn=None)


def stores_alone(**overrides) -> tuple[DataStores, dict]:
    props = dict(name_prefix="globex-qa", account_id=ACCOUNT, region="eu-west-1", vpc_id="vpc-0bbbbbbbbbbbbbbb1",
                 private_subnet_ids=SUBNETS, client_security_group_id=WORKERS_GROUP, protected=True,
                 aurora=AURORA_PROPS, redis=REDIS_PROPS, clients="the ECS tasks")
    stack = cdktf.TerraformStack(cdktf.Testing.app(), "data-stores-alone")
    stores = DataStores(stack, "data-stores", props=DataStoresProps(**{**props, **overrides}))
    return stores, json.loads(cdktf.Testing.synth(stack))


@pytest.fixture(scope="module")
def both() -> tuple[DataStores, dict]:
    return stores_alone()


def test_the_stores_expose_the_endpoints_and_secret_the_workers_are_given(both):
    """What workers_scan/injected.py's values read (Sources), each a reference to its store; None without it."""
    stores, _ = both
    assert all(cdktf.Token.is_unresolved(value) for value in (
        stores.aurora_endpoint, stores.aurora_secret_arn, stores.redis_endpoint))
    alone, _ = stores_alone(aurora=None, redis=REDIS_PROPS)
    assert (alone.aurora_endpoint, alone.aurora_secret_arn) == (None, None) and alone.redis_endpoint


def test_workers_on_the_master_user_read_its_secret_with_the_given_key(both):
    stores, _ = both
    assert stores.kms_key_arns == [KEY] and stores.worker_statements == []


def test_workers_on_an_iam_user_may_connect_as_that_user_only():
    stores, _ = stores_alone(aurora=replace(AURORA_PROPS, iam_user="ledger_worker"), redis=None)
    [statement] = stores.worker_statements
    assert statement["Action"] == "rds-db:connect"
    assert statement["Resource"].startswith(f"arn:aws:rds-db:eu-west-1:{ACCOUNT}:dbuser:")
    assert statement["Resource"].endswith("/ledger_worker")
    assert stores.kms_key_arns == []


def test_each_store_admits_only_the_given_workers_group_on_its_port(both):
    _, stack = both
    rules = {(r["from_port"], r["referenced_security_group_id"])
             for r in resources(stack, "aws_vpc_security_group_ingress_rule").values()}
    assert {port for port, _ in rules} == {POSTGRES_PORT, REDIS_PORT}
    assert {group for _, group in rules} == {WORKERS_GROUP}
    egress = resources(stack, "aws_vpc_security_group_egress_rule").values()
    assert {(r["security_group_id"], r["from_port"]) for r in egress} == {(WORKERS_GROUP, POSTGRES_PORT),
                                                                            (WORKERS_GROUP, REDIS_PORT)}
    descriptions = sorted(g["description"] for g in resources(stack, "aws_security_group").values())
    assert descriptions == [f"Aurora PostgreSQL: port {POSTGRES_PORT} from the ECS tasks only",
                            f"Valkey: port {REDIS_PORT} from the ECS tasks only"]


def test_protected_stores_refuse_deletion_and_keep_a_final_snapshot(both):
    _, stack = both
    cluster = one(stack, "aws_rds_cluster")
    assert (cluster["deletion_protection"], cluster["skip_final_snapshot"]) == (True, False)
    assert cluster["lifecycle"]["prevent_destroy"] is True and "final_snapshot_identifier" in cluster
    assert one(stack, "aws_elasticache_replication_group")["lifecycle"] == {"prevent_destroy": True}
    _, open_ = stores_alone(protected=False)
    cluster = one(open_, "aws_rds_cluster")
    assert (cluster["deletion_protection"], cluster["skip_final_snapshot"]) == (False, True)
    assert "final_snapshot_identifier" not in one(open_, "aws_elasticache_replication_group")


def test_aurora_is_built_as_given(both):
    _, stack = both
    cluster = one(stack, "aws_rds_cluster")
    assert (cluster["engine_version"], cluster["database_name"], cluster["kms_key_id"]) == ("16.6", "ledger", KEY)
    assert cluster["serverlessv2_scaling_configuration"] == {"min_capacity": 0.5, "max_capacity": 4}
    assert cluster["lifecycle"]["ignore_changes"] == ["engine_version"]
    [writer] = resources(stack, "aws_rds_cluster_instance").values()
    assert (writer["monitoring_interval"], writer["performance_insights_kms_key_id"]) == (30, KEY)
    _, bigger = stores_alone(aurora=replace(AURORA_PROPS, reader=True, monitoring_interval=0), redis=None)
    assert sorted(resources(bigger, "aws_rds_cluster_instance")) == ["aurora_reader", "aurora_writer"]
    assert "aws_iam_role" not in bigger["resource"]  # no Enhanced Monitoring: no role for it


def test_the_postgresql_log_goes_to_a_group_made_first_encrypted_and_bounded(both):
    """RDS would create the export group itself, unencrypted and kept forever, when the cluster starts exporting."""
    _, stack = both
    group = stack["resource"]["aws_cloudwatch_log_group"]["aurora_postgresql_logs"]
    assert group["name"] == "/aws/rds/cluster/globex-qa-aurora/postgresql"  # the name RDS writes to
    assert (group["kms_key_id"], group["retention_in_days"]) == (LOGS_KEY, 90)
    cluster = one(stack, "aws_rds_cluster")
    assert cluster["enabled_cloudwatch_logs_exports"] == ["postgresql"]
    assert "aws_cloudwatch_log_group.aurora_postgresql_logs" in cluster["depends_on"]


def test_a_group_rds_made_before_is_adopted_not_created_twice(both):
    """An import block (for imports.tf) names exactly the group the data source finds under that name."""
    stores, stack = both
    name = "/aws/rds/cluster/globex-qa-aurora/postgresql"
    assert stores.adoptions == [Adoption(
        to="aws_cloudwatch_log_group.aurora_postgresql_logs", name=name,
        found="data.aws_cloudwatch_log_groups.aurora_postgresql_logs_existing.log_group_names")]
    assert stack["data"]["aws_cloudwatch_log_groups"]["aurora_postgresql_logs_existing"] == {
        "log_group_name_prefix": name}
    # checkov cannot parse an import block nor required_version in Terraform JSON: both go to imports.tf.
    assert "import" not in stack and "required_version" not in stack.get("terraform", {})
    assert stores_alone(aurora=None)[0].adoptions == []


def test_a_cache_of_several_nodes_fails_over_across_zones():
    for nodes, replicated in ((2, True), (1, False)):
        _, stack = stores_alone(aurora=None, redis=replace(REDIS_PROPS, nodes=nodes))
        cache = one(stack, "aws_elasticache_replication_group")
        assert (cache["num_cache_clusters"], cache["automatic_failover_enabled"], cache["multi_az_enabled"]) == (
            nodes, replicated, replicated)
        assert (cache["engine"], cache["node_type"], "kms_key_id" in cache) == ("valkey", "cache.t4g.small", False)


def test_no_store_builds_nothing_and_a_store_without_a_workers_group_is_refused():
    stores, stack = stores_alone(aurora=None, redis=None, client_security_group_id=None)
    assert "resource" not in stack and (stores.aurora_endpoint, stores.redis_endpoint) == (None, None)
    with pytest.raises(ValueError, match="client_security_group_id"):
        stores_alone(redis=None, client_security_group_id=None)
