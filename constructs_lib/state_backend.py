"""Where each stack keeps its state, and the bootstrap stack that creates the S3 bucket and lock table."""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter

from cdktf import (CloudBackend, LocalBackend, NamedCloudWorkspace, S3Backend, TaggedCloudWorkspaces, TerraformOutput,
                   TerraformResourceLifecycle, TerraformStack)
from cdktf_cdktf_provider_aws.dynamodb_table import (DynamodbTable, DynamodbTableAttribute,
                                                     DynamodbTablePointInTimeRecovery,
                                                     DynamodbTableServerSideEncryption)
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration, S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload, S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (S3BucketOwnershipControls,
                                                                   S3BucketOwnershipControlsRule)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA, S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import S3BucketVersioningA, S3BucketVersioningVersioningConfiguration
from constructs import Construct

from workers_scan.outputs import state_outputs

from .iam import policy_json
from .provider import add_aws_provider

NONCURRENT_STATE_DAYS = 90

# Pinned Terraform addresses of the state's own resources: never change these strings.
STATE_BUCKET_ADDRESS = "state_bucket"
LOCK_TABLE_ADDRESS = "state_lock_table"


@dataclass(frozen=True)
class S3StateProps:
    bucket: str
    key: str                    # the state object's key
    region: str                 # the bucket's
    kms_key_arn: str | None     # None: S3's own key
    lock_table: str | None      # DynamoDB locks; None: S3-native locking only
    use_lockfile: bool          # S3-native locking (Terraform >= 1.10)


@dataclass(frozen=True)
class CloudStateProps:
    organization: str
    hostname: str
    workspace: str | None       # one named workspace...
    workspace_tags: tuple[str, ...] = ()  # ...or (workspace None) the workspaces with these tags


@dataclass(frozen=True)
class LocalStateProps:
    external: bool = False      # the team supplies backend.tf next to cdk.tf.json (see backend.tf.example)


StateBackendProps = S3StateProps | CloudStateProps | LocalStateProps


def configure_backend(stack: TerraformStack, props: StateBackendProps) -> None:
    """Give `stack` the backend `props` describes."""
    if isinstance(props, S3StateProps):
        s3 = S3Backend(
            stack, bucket=props.bucket, key=props.key, region=props.region, encrypt=True,
            kms_key_id=props.kms_key_arn, dynamodb_table=props.lock_table,
        )
        if props.use_lockfile:
            # cdktf 0.21 has no typed field for S3-native locking (Terraform >= 1.10).
            s3.add_override("use_lockfile", True)
    elif isinstance(props, CloudStateProps):
        workspaces = (NamedCloudWorkspace(props.workspace) if props.workspace
                      else TaggedCloudWorkspaces(list(props.workspace_tags)))
        CloudBackend(stack, organization=props.organization, hostname=props.hostname, workspaces=workspaces)
    else:
        local_backend(stack)
        if props.external:
            stack.add_override("terraform.backend", None)


# Local state lives beside the output folder (cdktf's convention: the project root for cdktf.out), never
# inside it: the stack folder is <out>/stacks/<stack>. Relative, so the JSON does not depend on the machine.
LOCAL_STATE_DIR_FROM_STACK = "../../.."


def local_state_file(stack_name: str) -> str:
    return f"terraform.{stack_name}.tfstate"


def local_state_path(stack_name: str) -> str:
    """The local backend's path, relative to the stack folder."""
    return f"{LOCAL_STATE_DIR_FROM_STACK}/{local_state_file(stack_name)}"


def local_backend(stack: TerraformStack) -> None:
    LocalBackend(stack, path=local_state_path(stack.node.id))


def bootstrap_stack_name(project_name: str) -> str:
    return f"{project_name}-state"


@dataclass(frozen=True)
class StateBootstrapProps:
    project_name: str           # the Project tag
    bucket: str
    region: str                 # the bucket's and the lock table's
    kms_key_arn: str | None     # None: S3's and DynamoDB's own keys
    lock_table: str | None      # None: no table (S3-native locking)


class StateBootstrap(TerraformStack):
    """Its own stack with local state: the encrypted, versioned, private S3 bucket and the lock table.

    Apply it once per account, before the first `init` of the platform stacks.
    """

    def __init__(self, scope: Construct, id_: str, *, props: StateBootstrapProps):
        super().__init__(scope, id_)
        add_aws_provider(self, region=props.region, tags={"Project": props.project_name})
        local_backend(self)
        keep = TerraformResourceLifecycle(prevent_destroy=True)

        bucket = S3Bucket(self, "bucket", bucket=props.bucket, lifecycle=keep)
        bucket.override_logical_id(STATE_BUCKET_ADDRESS)
        S3BucketVersioningA(
            self, "versioning", bucket=bucket.id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"))
        kms = props.kms_key_arn
        S3BucketServerSideEncryptionConfigurationA(
            self, "encryption", bucket=bucket.id,
            rule=[S3BucketServerSideEncryptionConfigurationRuleA(
                bucket_key_enabled=bool(kms),
                apply_server_side_encryption_by_default=(
                    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                        sse_algorithm="aws:kms" if kms else "AES256", kms_master_key_id=kms or None)),
            )])
        S3BucketPublicAccessBlock(
            self, "public-access-block", bucket=bucket.id, block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True)
        S3BucketOwnershipControls(
            self, "ownership", bucket=bucket.id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"))
        S3BucketPolicy(self, "tls-only", bucket=bucket.id, policy=policy_json([{
            "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [bucket.arn, f"{bucket.arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }]))
        # Old state revisions are kept 90 days (enough to roll back), then expire.
        S3BucketLifecycleConfiguration(self, "lifecycle", bucket=bucket.id, rule=[
            S3BucketLifecycleConfigurationRule(
                id="expire-old-state-revisions", status="Enabled",
                filter=[S3BucketLifecycleConfigurationRuleFilter()],  # every object
                noncurrent_version_expiration=[
                    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                        noncurrent_days=NONCURRENT_STATE_DAYS)],
                abort_incomplete_multipart_upload=[
                    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                        days_after_initiation=7)],
            )])
        self.bucket_name: str = bucket.bucket

        if props.lock_table:
            table = DynamodbTable(
                self, "lock-table", name=props.lock_table, billing_mode="PAY_PER_REQUEST",
                hash_key="LockID", attribute=[DynamodbTableAttribute(name="LockID", type="S")],
                point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
                server_side_encryption=DynamodbTableServerSideEncryption(
                    enabled=True, kms_key_arn=kms or None),
                deletion_protection_enabled=True, lifecycle=keep,
            )
            table.override_logical_id(LOCK_TABLE_ADDRESS)
            self.lock_table_name: str = table.name
        for output in state_outputs(lock_table=bool(props.lock_table)):
            TerraformOutput(self, output.name, value=attrgetter(output.source)(self), description=output.description)
