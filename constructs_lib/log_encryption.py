"""A customer managed KMS key for the platform's CloudWatch log groups (API access, WAF, VPC flow logs)."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from .iam import policy_json


@dataclass(frozen=True)
class LogEncryptionProps:
    name_prefix: str            # <project>-<env>: the key's description and alias
    region: str                 # CloudWatch Logs of this region may use the key
    existing_key_arn: str = ""  # LOGS_KMS_KEY_ARN: use this key instead of creating one


class LogEncryption(Construct):
    """Uses LOGS_KMS_KEY_ARN when set, else creates a rotating key CloudWatch Logs may use in this region.

    Exposes `key_arn`.
    """

    def __init__(self, scope: Construct, id_: str, *, props: LogEncryptionProps):
        super().__init__(scope, id_)
        if props.existing_key_arn:
            self.key_arn: str = props.existing_key_arn
            return
        account = DataAwsCallerIdentity(self, "account").account_id
        region = props.region
        key = KmsKey(
            self, "key", description=f"{props.name_prefix} CloudWatch log groups", enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=policy_json([
                {"Sid": "AccountAdministersTheKey", "Effect": "Allow",
                 "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"},
                # Only for log groups of this account and region (the encryption context names the group).
                {"Sid": "CloudWatchLogsUsesTheKey", "Effect": "Allow",
                 "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                 "Action": ["kms:Decrypt*", "kms:Describe*", "kms:Encrypt*", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
                 "Resource": "*",
                 "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                           f"arn:aws:logs:{region}:{account}:log-group:*"}}},
            ]),
        )
        KmsAlias(self, "alias", name=f"alias/{props.name_prefix}-logs", target_key_id=key.key_id)
        self.key_arn = key.arn
