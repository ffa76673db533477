"""The state backend and the bootstrap stack built alone, from their props: no settings file, no monorepo."""

from __future__ import annotations

import json

import cdktf
import pytest

from constructs_lib.state_backend import (CloudStateProps, LocalStateProps, S3StateProps, StateBootstrap,
                                          StateBootstrapProps, configure_backend)

from .helpers import one

KEY = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-0000-4000-8000-0123456789ab"
S3 = S3StateProps(bucket="globex-tfstate", key="platform/globex-qa.tfstate", region="us-east-1", kms_key_arn=KEY,
                  lock_table="globex-locks", use_lockfile=False)


def terraform_block(props) -> dict:
    stack = cdktf.TerraformStack(cdktf.Testing.app(), "globex-qa")
    configure_backend(stack, props)
    return json.loads(cdktf.Testing.synth(stack))["terraform"]


@pytest.mark.parametrize("props, expected", [
    (S3, {"backend": {"s3": {"bucket": "globex-tfstate", "key": "platform/globex-qa.tfstate", "region": "us-east-1",
                              "encrypt": True, "kms_key_id": KEY, "dynamodb_table": "globex-locks"}}}),
    (S3StateProps(bucket="globex-tfstate", key="qa.tfstate", region="eu-west-1", kms_key_arn=None, lock_table=None,
                  use_lockfile=True),
     {"backend": {"s3": {"bucket": "globex-tfstate", "key": "qa.tfstate", "region": "eu-west-1", "encrypt": True,
                         "use_lockfile": True}}}),
    (CloudStateProps(organization="globex", hostname="tfe.globex.internal", workspace="platform-qa"),
     {"cloud": {"organization": "globex", "hostname": "tfe.globex.internal", "workspaces": {"name": "platform-qa"}}}),
    (CloudStateProps(organization="globex", hostname="app.terraform.io", workspace=None,
                     workspace_tags=("app:globex", "platform")),
     {"cloud": {"organization": "globex", "hostname": "app.terraform.io",
                "workspaces": {"tags": ["app:globex", "platform"]}}}),
    # Beside the output folder, named after the stack: never inside <out>/stacks/<stack>, which synth rewrites.
    (LocalStateProps(), {"backend": {"local": {"path": "../../../terraform.globex-qa.tfstate"}}}),
    (LocalStateProps(external=True), {}),
])
def test_the_stack_keeps_its_state_where_the_props_say(props, expected):
    assert terraform_block(props) == expected


def bootstrap_alone(**overrides) -> dict:
    props = dict(project_name="globex", bucket="globex-tfstate", region="us-east-1", kms_key_arn=KEY,
                 lock_table="globex-locks")
    stack = StateBootstrap(cdktf.Testing.app(), "globex-state", props=StateBootstrapProps(**{**props, **overrides}))
    return json.loads(cdktf.Testing.synth(stack))


@pytest.fixture(scope="module")
def bootstrap() -> dict:
    return bootstrap_alone()


def test_the_bootstrap_keeps_its_own_state_locally_in_the_bucket_s_region(bootstrap):
    assert bootstrap["terraform"]["backend"] == {"local": {"path": "../../../terraform.globex-state.tfstate"}}
    [provider] = bootstrap["provider"]["aws"]
    assert provider["region"] == "us-east-1"
    assert provider["default_tags"][0]["tags"]["Project"] == "globex"


def test_the_bucket_and_table_are_encrypted_with_the_given_key(bootstrap):
    assert bootstrap["resource"]["aws_s3_bucket"]["state_bucket"]["bucket"] == "globex-tfstate"
    [rule] = one(bootstrap, "aws_s3_bucket_server_side_encryption_configuration")["rule"]
    assert rule["apply_server_side_encryption_by_default"] == {"sse_algorithm": "aws:kms", "kms_master_key_id": KEY}
    assert rule["bucket_key_enabled"] is True
    table = bootstrap["resource"]["aws_dynamodb_table"]["state_lock_table"]
    assert (table["name"], table["server_side_encryption"]) == ("globex-locks", {"enabled": True, "kms_key_arn": KEY})


def test_without_a_key_s3_encrypts_and_without_a_table_none_is_made():
    plain = bootstrap_alone(kms_key_arn=None, lock_table=None)
    [rule] = one(plain, "aws_s3_bucket_server_side_encryption_configuration")["rule"]
    assert rule["apply_server_side_encryption_by_default"] == {"sse_algorithm": "AES256"}
    assert "aws_dynamodb_table" not in plain["resource"] and sorted(plain["output"]) == ["state_bucket"]
