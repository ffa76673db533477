"""Every IAM policy document of the stacks passes parliament, an IAM policy linter, but for reviewed findings
(tests/parliament_accepted.txt, each with its reason), like checkov's skips."""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path

import pytest

from .iam_documents import documents, resolved

ACCEPTED = Path(__file__).parent / "parliament_accepted.txt"


def accepted() -> list[tuple[str, str, str]]:
    entries = []
    for line in ACCEPTED.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            issue, pattern, reason = (part.strip() for part in line.split("|", 2))
            assert reason, f"{ACCEPTED.name}: {issue} {pattern} has no reason"
            entries.append((issue, pattern, reason))
    return entries


def findings(stack: dict) -> list[tuple[str, str, str]]:
    from parliament import analyze_policy_string

    return [(finding.issue, address, str(finding.detail)[:200]) for address, text in documents(stack)
            for finding in analyze_policy_string(text, ignore_private_auditors=True).findings]


@pytest.fixture(scope="module")
def all_findings(example_stack, ecs_example_stack, stack_for) -> list[tuple[str, str, str]]:
    """Both backends, and production (a reader, key settings) with IAM database authentication."""
    production = stack_for(("orders.ts",), ENVIRONMENT="prod", AURORA_IAM_USER="app_worker",
                           STATE_BACKEND="s3", STATE_BUCKET="acme-state", STATE_LOCK_TABLE="acme-locks")
    return [f for stack in (example_stack, ecs_example_stack, production) for f in findings(stack)]


def test_every_policy_finding_is_reviewed_and_every_review_still_matches(all_findings):
    entries = accepted()
    used, unreviewed = set(), []
    for issue, address, detail in all_findings:
        matches = [e for e in entries if e[0] == issue and fnmatch.fnmatchcase(address, e[1])]
        used.update(matches)
        if not matches:
            unreviewed.append(f"{issue} {address}: {detail}")
    assert not unreviewed, "parliament findings not reviewed in tests/parliament_accepted.txt:\n" + "\n".join(
        sorted(set(unreviewed)))
    assert not set(entries) - used, f"reviews that match nothing any more: {sorted(set(entries) - used)}"


def test_the_linter_flags_what_it_is_here_for():
    """A wildcard grant, an unknown action and a malformed ARN, each found: the lint is not a no-op."""
    from parliament import analyze_policy_string

    def issues(statement: dict) -> set[str]:
        policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
        return {f.issue for f in analyze_policy_string(policy, ignore_private_auditors=True).findings}

    assert "RESOURCE_STAR" in issues({"Effect": "Allow", "Action": "ssm:PutParameter", "Resource": "*"})
    assert "UNKNOWN_ACTION" in issues({"Effect": "Allow", "Action": "ssm:PutParamter", "Resource": "*"})
    assert "INVALID_ARN" in issues({"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "arn:aws:ssm"})


def test_references_resolve_to_arns_of_their_service():
    stack = {"resource": {"aws_ssm_parameter": {"repository_image_A434759F": {"name": "/globex/image"}}}}
    text = resolved('{"Resource": "${aws_ssm_parameter.repository_image_A434759F.arn}", '
                    '"A": "${data.aws_caller_identity.x.account_id}"}', stack)
    assert text == ('{"Resource": "arn:aws:ssm:eu-west-1:123456789012:parameter/globex/image", "A": "123456789012"}')
