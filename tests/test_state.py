"""Backends, the bootstrap stack, several environments in one synth, and stable Terraform addresses."""

import json

import pytest

from constructs_lib.app import StackInput, synthesize
from workers_scan import InputError, load_workers
from workers_scan import SettingsSource, load_all_settings

from .helpers import make_monorepo, one, resources, settings_from

BUCKET = "acme-terraform-state"
S3_SETTINGS = {"STATE_BACKEND": "s3", "STATE_BUCKET": BUCKET, "STATE_LOCK_TABLE": "acme-terraform-locks"}


def all_settings(env, environ=None):
    return load_all_settings(SettingsSource(env, is_example=False), environ=environ or {})


def problems_of(env) -> list[str]:
    with pytest.raises(InputError) as caught:
        all_settings(env)
    return [str(p) for p in caught.value.problems]


@pytest.fixture(scope="module")
def two_environments(tmp_path_factory):
    """ENVIRONMENTS=dev,prod with an S3 backend and a .env.prod overlay, synthesized once."""
    root = tmp_path_factory.mktemp("environments")
    env = make_monorepo(root, ["orders.ts", "billing/"], settings={
        **S3_SETTINGS, "ENVIRONMENT": None, "ENVIRONMENTS": "dev,prod", "STATE_USE_LOCKFILE": "true"})
    (env.parent / ".env.prod").write_text("AZ_COUNT=3\nWAF_RATE_LIMIT=1000\n")
    inputs = [StackInput(s, tuple(load_workers(s))) for s in all_settings(env)]
    result = synthesize(inputs, root / "cdktf.out")
    stacks = {name: json.loads(path.read_text()) for name, path in result.stacks.items()}
    stacks["manifest"] = json.loads((root / "cdktf.out" / "manifest.json").read_text())
    return stacks


def test_one_stack_per_environment_plus_one_bootstrap(two_environments):
    assert sorted(two_environments) == ["acme-dev", "acme-prod", "acme-state", "manifest"]


def test_the_stack_without_the_api_gateway_role_is_applied_after_the_one_with_it(two_environments):
    stacks = two_environments["manifest"]["stacks"]
    assert stacks["acme-dev"]["dependencies"] == ["acme-prod"] and stacks["acme-prod"]["dependencies"] == []
    role = next(r for r in resources(two_environments["acme-prod"], "aws_iam_role").values()
                if r["name"] == "acme-prod-apigateway-cloudwatch")
    assert role["lifecycle"] == {"prevent_destroy": True}  # other stages of the region log through it


@pytest.mark.parametrize("settings, managers", [
    ({"ENVIRONMENTS": "dev,staging"}, {"dev"}),
    ({"ENVIRONMENTS": "dev,prod"}, {"prod"}),
    ({"ENVIRONMENTS": "dev,prod", "MANAGE_API_GATEWAY_ACCOUNT": "false"}, set()),
    ({"ENVIRONMENT": "dev"}, {"dev"}),
])
def test_exactly_one_stack_per_region_manages_the_api_gateway_role(tmp_path, settings, managers):
    env = make_monorepo(tmp_path, ["orders.ts"], settings={"ENVIRONMENT": None, **settings})
    assert {s.environment for s in all_settings(env) if s.manage_api_gateway_account} == managers


def test_two_stacks_claiming_the_api_gateway_role_of_one_region_are_refused(tmp_path):
    env = make_monorepo(tmp_path, ["orders.ts"], settings={"ENVIRONMENT": None, "ENVIRONMENTS": "dev,prod",
                                                            "MANAGE_API_GATEWAY_ACCOUNT": "true"})
    with pytest.raises(InputError) as caught:
        all_settings(env)
    assert "MANAGE_API_GATEWAY_ACCOUNT: is true for acme-dev, acme-prod in account 123456789012, eu-west-1" in \
        str(caught.value)


def test_each_account_of_a_region_gets_its_own_api_gateway_role_manager(tmp_path):
    from .helpers import VALID_ARN

    env = make_monorepo(tmp_path, ["orders.ts"], settings={"ENVIRONMENT": None, "ENVIRONMENTS": "dev,prod"})
    (env.parent / ".env.prod").write_text("APP_RUNNER_CONNECTION_ARN=" + VALID_ARN.replace("123456789012", "210987654321")
                                          + "\n")
    assert {s.environment for s in all_settings(env) if s.manage_api_gateway_account} == {"dev", "prod"}


def test_each_environment_has_its_own_state_key_and_s3_locking(two_environments):
    for environment in ("dev", "prod"):
        backend = two_environments[f"acme-{environment}"]["terraform"]["backend"]["s3"]
        assert backend == {"bucket": BUCKET, "key": f"acme/{environment}/terraform.tfstate", "region": "eu-west-1",
                           "encrypt": True, "dynamodb_table": "acme-terraform-locks", "use_lockfile": True}


def test_environment_overlay_and_production_defaults(two_environments):
    dev, prod = two_environments["acme-dev"], two_environments["acme-prod"]
    assert len(resources(dev, "aws_nat_gateway")) == 1 and len(resources(prod, "aws_nat_gateway")) == 3
    rate = [r for r in one(prod, "aws_wafv2_web_acl")["rule"] if r["name"] == "rate-limit-per-ip"][0]
    assert rate["statement"]["rate_based_statement"]["limit"] == 1000
    assert len(resources(prod, "aws_rds_cluster_instance")) == 2 and len(resources(dev, "aws_rds_cluster_instance")) == 1
    # One stack per region sets the API Gateway account role: the production one.
    assert "aws_api_gateway_account" in prod["resource"] and "aws_api_gateway_account" not in dev["resource"]
    assert {s["service_name"] for s in resources(prod, "aws_apprunner_service").values()} == {
        "acme-prod-billing", "acme-prod-orders"}


def test_bootstrap_creates_a_private_encrypted_versioned_bucket_and_lock_table(two_environments):
    state = two_environments["acme-state"]
    assert state["terraform"]["backend"] == {"local": {"path": "../../../terraform.acme-state.tfstate"}}
    bucket = state["resource"]["aws_s3_bucket"]["state_bucket"]
    assert bucket["bucket"] == BUCKET and bucket["lifecycle"] == {"prevent_destroy": True}
    assert one(state, "aws_s3_bucket_versioning")["versioning_configuration"] == {"status": "Enabled"}
    [rule] = one(state, "aws_s3_bucket_server_side_encryption_configuration")["rule"]
    assert rule["apply_server_side_encryption_by_default"]["sse_algorithm"] == "AES256"
    block = one(state, "aws_s3_bucket_public_access_block")
    assert all(block[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls",
                                          "restrict_public_buckets"))
    policy = json.loads(one(state, "aws_s3_bucket_policy")["policy"])
    assert policy["Statement"][0]["Effect"] == "Deny"
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    table = state["resource"]["aws_dynamodb_table"]["state_lock_table"]
    assert (table["hash_key"], table["billing_mode"]) == ("LockID", "PAY_PER_REQUEST")
    assert table["attribute"] == [{"name": "LockID", "type": "S"}]
    assert table["point_in_time_recovery"] == {"enabled": True}
    assert table["deletion_protection_enabled"] is True  # AWS refuses the delete, not only Terraform
    assert table["lifecycle"] == {"prevent_destroy": True}
    assert {name: output["description"] for name, output in state["output"].items()} == {
        "state_bucket": "S3 bucket of the Terraform state (STATE_BUCKET)",
        "state_lock_table": "DynamoDB table of the state locks (STATE_LOCK_TABLE)"}


def test_state_kms_key_switches_the_bucket_to_sse_kms(tmp_path):
    key = "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-0000-4000-8000-0123456789ab"
    settings = settings_from(make_monorepo(tmp_path, settings={**S3_SETTINGS, "STATE_KMS_KEY_ARN": key}))
    result = synthesize([StackInput(settings, tuple(load_workers(settings)))], tmp_path / "out")
    state = json.loads(result.stacks["acme-state"].read_text())
    [rule] = one(state, "aws_s3_bucket_server_side_encryption_configuration")["rule"]
    assert rule["apply_server_side_encryption_by_default"] == {"sse_algorithm": "aws:kms", "kms_master_key_id": key}
    platform = json.loads(result.stacks["acme-dev"].read_text())
    assert platform["terraform"]["backend"]["s3"]["kms_key_id"] == key


@pytest.mark.parametrize("settings, expected", [
    ({"STATE_BACKEND": "cloud", "TFC_ORGANIZATION": "acme", "TFC_WORKSPACE": "platform-{environment}"},
     {"cloud": {"hostname": "app.terraform.io", "organization": "acme", "workspaces": {"name": "platform-dev"}}}),
    ({"STATE_BACKEND": "s3", "STATE_BUCKET": BUCKET, "STATE_USE_LOCKFILE": "true", "STATE_REGION": "us-east-1",
      "STATE_KEY": "platform/{project}-{environment}.tfstate"},
     {"backend": {"s3": {"bucket": BUCKET, "key": "platform/acme-dev.tfstate", "region": "us-east-1",
                         "encrypt": True, "use_lockfile": True}}}),
    ({"STATE_BACKEND": "cloud", "TFC_ORGANIZATION": "acme", "TFC_WORKSPACE_TAGS": "app:acme,platform",
      "TFC_HOSTNAME": "tfe.acme.internal"},
     {"cloud": {"hostname": "tfe.acme.internal", "organization": "acme",
                "workspaces": {"tags": ["app:acme", "platform"]}}}),
    ({"STATE_BACKEND": "cloud", "TFC_ORGANIZATION": "acme", "TFC_WORKSPACE": "{project}-{environment}",
      "ENVIRONMENT": "qa"},
     {"cloud": {"hostname": "app.terraform.io", "organization": "acme", "workspaces": {"name": "acme-qa"}}}),
    ({"STATE_BACKEND": "local"}, {"backend": {"local": {"path": "../../../terraform.acme-dev.tfstate"}}}),
])
def test_backend_blocks(stack_for, settings, expected):
    terraform = dict(stack_for(("orders.ts",), **settings)["terraform"])
    terraform.pop("required_providers")
    assert terraform == expected


def test_external_backend_writes_no_backend_block(tmp_path):
    settings = settings_from(make_monorepo(tmp_path, settings={"STATE_BACKEND": "external"}))
    result = synthesize([StackInput(settings, tuple(load_workers(settings)))], tmp_path / "out")
    assert sorted(result.stacks) == ["acme-dev"]
    assert "backend" not in json.loads(result.stacks["acme-dev"].read_text())["terraform"]


@pytest.mark.parametrize("settings, expected", [
    ({"STATE_BACKEND": "s3"}, ["STATE_BUCKET: is required with STATE_BACKEND=s3",
                               "STATE_LOCK_TABLE: is required with STATE_BACKEND=s3 unless STATE_USE_LOCKFILE"]),
    ({"STATE_BACKEND": "cloud"}, ["TFC_ORGANIZATION: is required", "TFC_WORKSPACE: give exactly one"]),
    ({"STATE_BACKEND": "cloud", "TFC_ORGANIZATION": "acme", "TFC_WORKSPACE": "a", "TFC_WORKSPACE_TAGS": "b"},
     ["TFC_WORKSPACE: give exactly one"]),
    ({**S3_SETTINGS, "ENVIRONMENTS": "dev,prod", "STATE_KEY": "acme/terraform.tfstate"},
     ["STATE_KEY: environments dev and prod would share one state"]),
    ({"ENVIRONMENTS": "dev,workers"}, ["ENVIRONMENTS: workers cannot be an environment name"]),
    ({"STATE_BACKEND": "cloud", "TFC_ORGANIZATION": "acme", "TFC_WORKSPACE": "platform", "ENVIRONMENTS": "dev,qa"},
     ["TFC_WORKSPACE: environments dev and qa would share one state"]),
    ({"STATE_KEY": "{team}/x.tfstate"}, ["STATE_KEY: may use only the placeholders"]),
    ({"STATE_BACKEND": "consul"}, ["STATE_BACKEND: 'consul' is not one of local, s3, cloud, external"]),
])
def test_state_settings_errors_name_the_key(tmp_path, settings, expected):
    messages = problems_of(make_monorepo(tmp_path, settings=settings))
    for text in expected:
        assert any(text in m for m in messages), (text, messages)
    assert len(messages) == len(expected), messages


def test_problem_in_an_overlay_names_the_overlay_file(tmp_path):
    env = make_monorepo(tmp_path, settings={"ENVIRONMENTS": "dev,prod"})
    (env.parent / ".env.prod").write_text("AZ_COUNT=9\n")
    [message] = problems_of(env)
    assert message.startswith(f"{_rel(env.parent / '.env.prod')}: AZ_COUNT: 9 is out of range")


def _rel(path):
    from workers_scan.errors import display_path
    return display_path(path)


# ----------------------------------------------------------------- stable addresses

STATEFUL_ADDRESSES = {
    "aws_rds_cluster.aurora_cluster", "aws_rds_cluster_instance.aurora_writer",
    "aws_elasticache_replication_group.redis", "aws_vpc.vpc",
    # Their creation times name the final snapshots: a new address would rename them (harmless, but noisy).
    "terraform_data.aurora_created", "terraform_data.redis_created",
    "aws_subnet.private_subnet_0", "aws_subnet.private_subnet_1", "aws_subnet.public_subnet_0",
    "aws_subnet.public_subnet_1",
}


def addresses(stack: dict) -> set[str]:
    return {f"{rtype}.{name}" for rtype, items in stack["resource"].items() for name in items}


def test_stateful_resources_have_pinned_addresses(example_stack, ecs_example_stack, two_environments):
    assert STATEFUL_ADDRESSES <= addresses(example_stack)
    assert STATEFUL_ADDRESSES <= addresses(ecs_example_stack)  # the same on either backend (COMPUTE)
    assert "aws_rds_cluster_instance.aurora_reader" in addresses(two_environments["acme-prod"])
    assert {"aws_s3_bucket.state_bucket", "aws_dynamodb_table.state_lock_table"} <= \
        addresses(two_environments["acme-state"])


def test_adding_removing_and_reordering_workers_moves_no_other_resource(stack_for):
    before = stack_for(("alpha.ts", "bravo.ts", "charlie.ts"))
    after = stack_for(("delta.ts", "charlie.ts", "alpha.ts"))
    kept, gone, added = addresses(before) & addresses(after), addresses(before) - addresses(after), \
        addresses(after) - addresses(before)
    assert gone and all("bravo" in a for a in gone), gone
    assert added and all("delta" in a for a in added), added
    assert STATEFUL_ADDRESSES <= kept
    services = {a for a in kept if a.startswith("aws_apprunner_service.")}
    assert {a.split(".")[1].split("_")[0] for a in services} == {"worker-alpha", "worker-charlie"}
    for address in kept - {a for a in kept if a.startswith("aws_api_gateway_deployment.")}:
        rtype, name = address.split(".")
        if "alpha" in name or "charlie" in name:
            assert before["resource"][rtype][name] == after["resource"][rtype][name], address


def test_adding_a_worker_on_ecs_moves_no_other_resource(stack_for):
    from .helpers import ECS_SETTINGS

    before = stack_for(("alpha.ts", "charlie.ts"), **ECS_SETTINGS)
    after = stack_for(("alpha.ts", "bravo.ts", "charlie.ts"), **ECS_SETTINGS)
    added = addresses(after) - addresses(before)
    assert not addresses(before) - addresses(after)
    assert added and all("bravo" in a for a in added), added
    changed = {f"{rtype}.{name}" for rtype, items in before["resource"].items() for name, body in items.items()
               if after["resource"][rtype][name] != body}
    # The API redeploys, the image build now also rolls the new worker's service, and a new database password
    # redeploys it too (the machine's definition lists the master secret's readers). No policy changes: they name
    # the environment's services, task definitions and roles by patterns.
    assert changed == {"aws_api_gateway_deployment.api_deployment_3C116365",
                       "aws_codebuild_project.image-pipeline_project_084CA4CB",
                       "aws_sfn_state_machine.secret-redeploy_machine_84289C90"}, changed
