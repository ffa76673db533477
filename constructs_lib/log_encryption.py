"""A customer managed KMS key for the platform's CloudWatch log groups (API access, WAF, VPC flow logs)."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from workers_scan import Settings

from .iam import policy_json


@dataclass(frozen=True)
class LogEncryptionProps:
    settings: Settings


class LogEncryption(Construct):
    """Uses LOGS_KMS_KEY_ARN when set, else creates a rotating key CloudWatch Logs may use in this region.

    Exposes `key_arn`.
    """

    def __init__(self, scope: Construct, id_: str, *, props: LogEncryptionProps):
        super().__init__(scope, id_)
        settings = props.settings
        if settings.logs_kms_key_arn:
            self.key_arn: str = settings.logs_kms_key_arn
            return
        account = DataAwsCallerIdentity(self, "account").account_id
        region = settings.aws_region
        key = KmsKey(
            self, "key", description=f"{settings.name_prefix} CloudWatch log groups", enable_key_rotation=True,
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
        KmsAlias(self, "alias", name=f"alias/{settings.name_prefix}-logs", target_key_id=key.key_id)
        self.key_arn = key.arn
