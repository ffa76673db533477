"""checkov on every kind of synthesized stack: each failed check is fixed or reviewed in checkov_skips.txt."""

import json

import pytest

from constructs_lib.app import StackInput, synthesize
from workers_scan import load_workers

from .checkov_scan import load_skips, scan, unreviewed
from .helpers import make_monorepo, settings_from


@pytest.fixture(scope="module")
def scanned(tmp_path_factory, example_settings, example_workers):
    """Example (dev), production with S3 state (hence the bootstrap stack), and an existing VPC."""
    root = tmp_path_factory.mktemp("scan")
    prod = settings_from(make_monorepo(root / "prod", ["orders.ts", "billing/"], settings={
        "ENVIRONMENT": "prod", "STATE_BACKEND": "s3", "STATE_BUCKET": "acme-terraform-state",
        "STATE_LOCK_TABLE": "acme-terraform-locks", "AURORA_PERFORMANCE_INSIGHTS": "true"}))
    existing = settings_from(make_monorepo(root / "existing", ["orders.ts"], settings={
        "ENVIRONMENT": "qa", "VPC_ID": "vpc-0123456789abcdef0",
        "PRIVATE_SUBNET_IDS": "subnet-0123456789abcdef0,subnet-0123456789abcdef1"}))
    inputs = [StackInput(example_settings, tuple(example_workers)),
              StackInput(prod, tuple(load_workers(prod))), StackInput(existing, tuple(load_workers(existing)))]
    result = synthesize(inputs, root / "cdktf.out")
    return {name: (json.loads(path.read_text()), scan(path.parent)) for name, path in result.stacks.items()}


def test_every_failed_check_is_fixed_or_reviewed(scanned):
    skips = load_skips()
    problems, used = [], set()
    for name, (stack, report) in scanned.items():
        missing, matched = unreviewed(report, stack, skips)
        problems += [f"{name}: {m}" for m in missing]
        used |= matched
    assert not problems, "unreviewed checkov findings:\n" + "\n".join(problems)
    stale = [f"{s.check_id} | {s.pattern}" for s in skips if s not in used]
    assert not stale, f"skips that match no finding any more (remove them): {stale}"


def test_production_passes_the_checks_it_turns_on(scanned):
    _, report = scanned["acme-prod"]
    failed = {f["check_id"] for f in report["results"]["failed_checks"]}
    for check in ("CKV_AWS_139", "CKV_AWS_150", "CKV2_AWS_50", "CKV_AWS_353"):
        assert check not in failed, check


def test_state_bootstrap_stack_passes_the_bucket_and_table_hardening_checks(scanned):
    _, report = scanned["acme-state"]
    passed = {f["check_id"] for f in report["results"]["passed_checks"]}
    failed = {f["check_id"] for f in report["results"]["failed_checks"]}
    # versioning, public access block (x4 + resource), TLS-only policy, lifecycle, DynamoDB PITR
    hardening = {"CKV_AWS_21", "CKV2_AWS_6", "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56",
                 "CKV2_AWS_61", "CKV_AWS_28"}
    assert hardening <= passed, hardening - passed
    assert not hardening & failed
