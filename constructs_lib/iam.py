"""IAM policy documents as deterministic JSON strings (Terraform tokens inside are resolved by cdktf)."""

from __future__ import annotations

import json


def policy_json(statements: list[dict]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True, separators=(",", ":"))
