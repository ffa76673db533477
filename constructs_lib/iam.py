"""IAM policy documents as deterministic JSON strings (Terraform tokens inside are resolved by cdktf)."""

from __future__ import annotations

import json


def policy_json(statements: list[dict]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True, separators=(",", ":"))


def service_trust_policy(service: str, *, source_account: str = "", source_arn: str = "") -> str:
    """A role's trust policy for one AWS service principal.

    `source_account` / `source_arn` guard against the confused deputy (another account's resource making the
    service act with this role); give them where AWS documents that the service sets those keys when it assumes
    the role, since a condition on a key the service does not send denies every assumption.
    """
    statement: dict = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    conditions = {}
    if source_account:
        conditions["StringEquals"] = {"aws:SourceAccount": source_account}
    if source_arn:
        conditions["ArnLike"] = {"aws:SourceArn": source_arn}
    if conditions:
        statement["Condition"] = conditions
    return policy_json([statement])
