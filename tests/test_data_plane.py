"""Aurora, Redis, the connector's reach, and secrets by reference in the synthesized JSON."""

import json

import pytest

from constructs_lib.data_stores import AURORA_CLUSTER_ADDRESS, AURORA_WRITER_ADDRESS, REDIS_ADDRESS

from .helpers import one, plaintext_secrets, resources


def group_name_of(stack, rtype, address) -> str:
    ids = stack["resource"][rtype][address].get("vpc_security_group_ids") or \
        stack["resource"][rtype][address]["security_group_ids"]
    return ids[0].split(".")[1]


def sg_ref(name: str) -> str:
    return f"${{aws_security_group.{name}.id}}"


def connector_group(stack) -> str:
    return one(stack, "aws_apprunner_vpc_connector")["security_groups"][0].split(".")[1]


def test_data_stores_admit_only_the_connector_on_their_port(example_stack):
    connector = sg_ref(connector_group(example_stack))
    for rtype, address, port in (("aws_rds_cluster", AURORA_CLUSTER_ADDRESS, 5432),
                                 ("aws_elasticache_replication_group", REDIS_ADDRESS, 6379)):
        group = sg_ref(group_name_of(example_stack, rtype, address))
        ingress = [r for r in resources(example_stack, "aws_vpc_security_group_ingress_rule").values()
                   if r["security_group_id"] == group]
        assert [(r["ip_protocol"], r["from_port"], r["to_port"], r["referenced_security_group_id"])
                for r in ingress] == [("tcp", port, port, connector)]
        assert all("cidr_ipv4" not in r for r in ingress)


def test_connector_egress_is_the_configured_ports_out_plus_each_store_port_only(example_stack):
    connector = sg_ref(connector_group(example_stack))
    egress = sorted((r["ip_protocol"], r["from_port"], r.get("cidr_ipv4") or r["referenced_security_group_id"])
                    for r in resources(example_stack, "aws_vpc_security_group_egress_rule").values()
                    if r["security_group_id"] == connector)
    aurora = sg_ref(group_name_of(example_stack, "aws_rds_cluster", AURORA_CLUSTER_ADDRESS))
    redis = sg_ref(group_name_of(example_stack, "aws_elasticache_replication_group", REDIS_ADDRESS))
    # the example allows SMTP submission (587) besides HTTPS: WORKER_EGRESS_PORTS=443,587
    assert egress == sorted([("tcp", 443, "0.0.0.0/0"), ("tcp", 587, "0.0.0.0/0"), ("tcp", 5432, aurora),
                             ("tcp", 6379, redis)])


def test_services_wait_for_the_policy_that_lets_them_read_their_secrets(example_stack):
    for service in resources(example_stack, "aws_apprunner_service").values():
        assert any(ref.startswith("aws_iam_role_policy.") and "secrets-policy" in ref
                   for ref in service["depends_on"]), service["depends_on"]


def test_aurora_is_encrypted_serverless_v2_with_a_managed_password(example_stack):
    cluster = example_stack["resource"]["aws_rds_cluster"][AURORA_CLUSTER_ADDRESS]
    assert cluster["engine"] == "aurora-postgresql" and cluster["engine_mode"] == "provisioned"
    assert cluster["storage_encrypted"] is True
    assert cluster["manage_master_user_password"] is True
    assert "master_password" not in cluster and "master_password_wo" not in cluster
    assert cluster["iam_database_authentication_enabled"] is True
    assert cluster["copy_tags_to_snapshot"] is True
    assert cluster["serverlessv2_scaling_configuration"] == {"min_capacity": 0.5, "max_capacity": 4}
    assert cluster["lifecycle"]["ignore_changes"] == ["engine_version"]  # RDS owns minor upgrades
    writer = example_stack["resource"]["aws_rds_cluster_instance"][AURORA_WRITER_ADDRESS]
    assert writer["instance_class"] == "db.serverless" and writer["publicly_accessible"] is False


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_every_environment_protects_the_data_stores_with_uniquely_named_final_snapshots(stack_for, environment):
    stack = stack_for(("orders.ts",), ENVIRONMENT=environment)
    cluster = stack["resource"]["aws_rds_cluster"][AURORA_CLUSTER_ADDRESS]
    assert cluster["deletion_protection"] is True and cluster["skip_final_snapshot"] is False
    assert cluster["lifecycle"]["prevent_destroy"] is True
    cache = stack["resource"]["aws_elasticache_replication_group"][REDIS_ADDRESS]
    assert cache["lifecycle"] == {"prevent_destroy": True}
    for store, identifier in ((cluster, f"acme-{environment}-aurora"), (cache, f"acme-{environment}-cache")):
        # The store's creation time (a pinned terraform_data that ignores later changes) makes the name unique
        # per incarnation: a store created again after a destroy does not collide with the last snapshot.
        address = "aurora_created" if store is cluster else "redis_created"
        assert store["final_snapshot_identifier"] == \
            f'{identifier}-final-${{formatdate("YYYYMMDDhhmmss", terraform_data.{address}.output.at)}}'
        created = stack["resource"]["terraform_data"][address]
        assert created["input"] == {"at": "${timestamp()}"} and created["lifecycle"] == {"ignore_changes": ["input"]}


def test_allow_destroy_data_lifts_every_protection_of_the_stores(stack_for):
    stack = stack_for(("orders.ts",), ALLOW_DESTROY_DATA="true")
    cluster = stack["resource"]["aws_rds_cluster"][AURORA_CLUSTER_ADDRESS]
    assert cluster["deletion_protection"] is False and cluster["skip_final_snapshot"] is True
    assert "final_snapshot_identifier" not in cluster and "prevent_destroy" not in cluster["lifecycle"]
    cache = stack["resource"]["aws_elasticache_replication_group"][REDIS_ADDRESS]
    assert "lifecycle" not in cache and "final_snapshot_identifier" not in cache
    assert "terraform_data" not in stack["resource"]


def test_production_defaults_of_the_data_stores(stack_for):
    stack = stack_for(("orders.ts",), ENVIRONMENT="prod")
    cluster = stack["resource"]["aws_rds_cluster"][AURORA_CLUSTER_ADDRESS]
    assert cluster["backup_retention_period"] == 14
    assert len(resources(stack, "aws_rds_cluster_instance")) == 2  # writer + reader
    cache = stack["resource"]["aws_elasticache_replication_group"][REDIS_ADDRESS]
    assert cache["num_cache_clusters"] == 2
    assert cache["automatic_failover_enabled"] is True and cache["multi_az_enabled"] is True


def test_redis_is_encrypted_at_rest_and_in_transit(example_stack):
    cache = example_stack["resource"]["aws_elasticache_replication_group"][REDIS_ADDRESS]
    assert cache["at_rest_encryption_enabled"] == "true" and cache["transit_encryption_enabled"] is True
    assert cache["engine"] == "valkey" and cache["port"] == 6379
    assert cache["automatic_failover_enabled"] is False and cache["num_cache_clusters"] == 1
    assert "auth_token" not in cache and "kms_key_id" not in cache   # AWS managed key unless REDIS_KMS_KEY_ARN


def test_redis_can_use_a_customer_managed_key(stack_for):
    key = "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-0000-4000-8000-0123456789ab"
    cache = one(stack_for(("orders.ts",), REDIS_KMS_KEY_ARN=key), "aws_elasticache_replication_group")
    assert cache["kms_key_id"] == key and cache["at_rest_encryption_enabled"] == "true"


def test_aurora_instances_have_performance_insights_and_enhanced_monitoring_by_default(example_stack):
    instances = resources(example_stack, "aws_rds_cluster_instance")
    [role] = [r for name, r in resources(example_stack, "aws_iam_role").items() if "monitoring" in name]
    role_ref = "${aws_iam_role." + next(n for n, r in resources(example_stack, "aws_iam_role").items() if r is role)
    for instance in instances.values():
        assert instance["performance_insights_enabled"] is True
        assert (instance["monitoring_interval"], instance["monitoring_role_arn"]) == (60, role_ref + ".arn}")
    [trust] = json.loads(role["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
    identifier = one(example_stack, "aws_rds_cluster")["cluster_identifier"]
    assert all(i["identifier"].startswith(f"{identifier}-") for i in instances.values())
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"},
                                  "ArnLike": {"aws:SourceArn": f"arn:aws:rds:eu-west-1:123456789012:db:{identifier}-*"}}
    [policy] = [p for p in resources(example_stack, "aws_iam_role_policy").values()
                if p["name"] == "write-enhanced-monitoring"]
    group = "arn:aws:logs:eu-west-1:123456789012:log-group:RDSOSMetrics"
    assert sorted(s["Resource"] for s in json.loads(policy["policy"])["Statement"]) == \
        [group, f"{group}:log-stream:*"]


def test_enhanced_monitoring_and_performance_insights_can_be_turned_off(stack_for):
    stack = stack_for(("orders.ts",), AURORA_MONITORING_INTERVAL="0", AURORA_PERFORMANCE_INSIGHTS="false")
    for instance in resources(stack, "aws_rds_cluster_instance").values():
        assert instance["monitoring_interval"] == 0 and "monitoring_role_arn" not in instance
        assert instance["performance_insights_enabled"] is False
    assert not [r for r in resources(stack, "aws_iam_role").values() if r["name"].endswith("-rds-monitoring")]


@pytest.mark.parametrize("stores", [{}, {"REDIS_ENABLED": "false"}, {"AURORA_ENABLED": "false"},
                                    {"AURORA_IAM_USER": "app_worker"},
                                    {"AURORA_ENABLED": "false", "REDIS_ENABLED": "false"}])
def test_every_service_gets_exactly_the_declared_injected_variables(stack_for, tmp_path, stores):
    from workers_scan.injected import injected

    from .helpers import make_monorepo, settings_from

    stack = stack_for(("orders.ts", "billing.ts"), **stores)
    declared = injected(settings_from(make_monorepo(tmp_path, settings=stores)))
    for service in resources(stack, "aws_apprunner_service").values():
        values = service["source_configuration"]["code_repository"]["code_configuration"]["code_configuration_values"]
        assert sorted(values["runtime_environment_variables"]) == sorted(e.key for e in declared if not e.secret)
        assert sorted(values.get("runtime_environment_secrets", {})) == sorted(e.key for e in declared if e.secret)


def test_an_iam_database_user_replaces_the_master_secret_for_workers(stack_for):
    stack = stack_for(("orders.ts", "billing.ts"), AURORA_IAM_USER="app_worker")
    cluster = f"aws_rds_cluster.{AURORA_CLUSTER_ADDRESS}"
    for service in resources(stack, "aws_apprunner_service").values():
        values = service["source_configuration"]["code_repository"]["code_configuration"]["code_configuration_values"]
        variables = values["runtime_environment_variables"]
        assert (variables["DB_USER"], variables["DB_IAM_AUTH"], variables["DB_REGION"]) == \
            ("app_worker", "true", "eu-west-1")
        assert "runtime_environment_secrets" not in values and "DB_SECRET_ARN" not in variables
    policies = {name: json.loads(p["policy"]) for name, p in resources(stack, "aws_iam_role_policy").items()}
    connects = [s for doc in policies.values() for s in doc["Statement"] if "rds-db:connect" in str(s["Action"])]
    assert len(connects) == 2   # one per worker role, exactly this user
    for statement in connects:
        assert statement["Resource"] == ("arn:aws:rds-db:eu-west-1:123456789012:dbuser:"
                                         f"${{{cluster}.cluster_resource_id}}/app_worker")
    assert "master_user_secret" not in json.dumps(policies)   # no worker may read the master password


def test_every_worker_gets_the_infrastructure_keys(example_stack):
    for service in resources(example_stack, "aws_apprunner_service").values():
        values = service["source_configuration"]["code_repository"]["code_configuration"]["code_configuration_values"]
        variables, secrets = values["runtime_environment_variables"], values["runtime_environment_secrets"]
        assert variables["DB_HOST"] == f"${{aws_rds_cluster.{AURORA_CLUSTER_ADDRESS}.endpoint}}"
        assert (variables["DB_PORT"], variables["DB_NAME"], variables["DB_USER"]) == ("5432", "app", "app_admin")
        assert variables["REDIS_HOST"] == f"${{aws_elasticache_replication_group.{REDIS_ADDRESS}.primary_endpoint_address}}"
        assert (variables["REDIS_PORT"], variables["REDIS_TLS"]) == ("6379", "true")
        assert secrets["DB_SECRET"] == f"${{aws_rds_cluster.{AURORA_CLUSTER_ADDRESS}.master_user_secret[0].secret_arn}}"
        assert variables["DB_SECRET_ARN"] == secrets["DB_SECRET"]   # the ARN, never the value
        assert secrets["STRIPE_API_KEY"].startswith("arn:aws:secretsmanager:")
        assert not any(v.startswith("arn:aws:secretsmanager:") or v.startswith("arn:aws:ssm:")
                       for v in variables.values())


def test_instance_role_reads_exactly_the_referenced_secrets(example_stack):
    policies = {p["role"]: json.loads(p["policy"]) for p in resources(example_stack, "aws_iam_role_policy").values()
                if p["name"] == "read-runtime-secrets"}
    roles = {name: r["name"] for name, r in resources(example_stack, "aws_iam_role").items()}
    by_role = {roles[ref.split(".")[1]]: policy for ref, policy in policies.items()}
    db_secret = f"${{aws_rds_cluster.{AURORA_CLUSTER_ADDRESS}.master_user_secret[0].secret_arn}}"
    stripe = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:acme/dev/stripe-AbCdEf"
    smtp = "arn:aws:ssm:eu-west-1:123456789012:parameter/acme/dev/smtp-password"
    assert by_role["acme-dev-orders-instance"]["Statement"] == [
        {"Sid": "ReadSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
         "Resource": sorted([db_secret, stripe])}]
    email = by_role["acme-dev-email-sender-instance"]["Statement"]
    assert {s["Sid"]: s["Resource"] for s in email} == {"ReadSecrets": sorted([db_secret, stripe]),
                                                         "ReadParameters": [smtp]}
    for policy in policies.values():
        for statement in policy["Statement"]:
            assert "*" not in json.dumps(statement["Resource"])


def test_kms_keys_are_granted_decrypt(stack_for):
    key = "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-0000-4000-8000-0123456789ab"
    stack = stack_for(("orders.ts",), SECRETS_KMS_KEY_ARNS=key)
    [policy] = [json.loads(p["policy"]) for p in resources(stack, "aws_iam_role_policy").values()
                if p["name"] == "read-runtime-secrets"]
    assert {"Sid": "DecryptSecrets", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": [key]} in \
        policy["Statement"]


def test_data_stores_can_be_turned_off(stack_for):
    stack = stack_for(("orders.ts",), AURORA_ENABLED="false", REDIS_ENABLED="false")
    for rtype in ("aws_rds_cluster", "aws_rds_cluster_instance", "aws_elasticache_replication_group",
                  "aws_db_subnet_group", "aws_elasticache_subnet_group"):
        assert rtype not in stack["resource"]
    service = one(stack, "aws_apprunner_service")
    values = service["source_configuration"]["code_repository"]["code_configuration"]["code_configuration_values"]
    assert not any(k.startswith(("DB_", "REDIS_")) for k in values["runtime_environment_variables"])
    assert "runtime_environment_secrets" not in values


def test_without_vpc_egress_there_is_no_connector(stack_for):
    stack = stack_for(("orders.ts",), AURORA_ENABLED="false", REDIS_ENABLED="false", WORKER_VPC_EGRESS="false")
    assert "aws_apprunner_vpc_connector" not in stack["resource"]
    service = one(stack, "aws_apprunner_service")
    assert service["network_configuration"]["egress_configuration"] == {"egress_type": "DEFAULT"}
    assert service["network_configuration"]["ingress_configuration"]["is_publicly_accessible"] is False


def test_no_secret_value_anywhere_in_the_json(example_stack):
    assert plaintext_secrets(example_stack) == []
    text = json.dumps(example_stack)
    for forbidden in ("master_password", "auth_token", "hunter2"):
        assert forbidden not in text


def test_the_secret_scan_finds_a_planted_secret(example_stack):
    planted = json.loads(json.dumps(example_stack))
    planted["resource"]["aws_apprunner_service"]["x"] = {"env": {"STRIPE_SECRET_KEY": "sk_live_123"}}
    assert plaintext_secrets(planted) == [("STRIPE_SECRET_KEY", "sk_live_123")]


def test_engine_version_is_managed_by_terraform_without_auto_minor_upgrades(stack_for):
    stack = stack_for(("orders.ts",), AURORA_AUTO_MINOR_UPGRADE="false", AURORA_ENGINE_VERSION="16.8")
    cluster = stack["resource"]["aws_rds_cluster"][AURORA_CLUSTER_ADDRESS]
    assert cluster["engine_version"] == "16.8" and "ignore_changes" not in cluster["lifecycle"]
    writer = stack["resource"]["aws_rds_cluster_instance"][AURORA_WRITER_ADDRESS]
    assert writer["auto_minor_version_upgrade"] is False
