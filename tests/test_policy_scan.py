"""checkov on every kind of synthesized stack: each failed check is fixed or reviewed in checkov_skips.txt."""

import json
import os

import pytest

from constructs_lib.app import StackInput, synthesize
from workers_scan import load_workers

from . import checkov_scan
from .checkov_scan import find_checkov, load_skips, scan, unreviewed
from .helpers import ECS_SETTINGS, make_monorepo, settings_from


@pytest.fixture(scope="module")
def scanned(tmp_path_factory, example_settings, example_workers):
    """Example (dev), production with S3 state (hence the bootstrap stack), an existing VPC, and ECS."""
    root = tmp_path_factory.mktemp("scan")
    prod = settings_from(make_monorepo(root / "prod", ["orders.ts", "billing/"], settings={
        "ENVIRONMENT": "prod", "STATE_BACKEND": "s3", "STATE_BUCKET": "acme-terraform-state",
        "STATE_LOCK_TABLE": "acme-terraform-locks", "AURORA_PERFORMANCE_INSIGHTS": "true"}))
    existing = settings_from(make_monorepo(root / "existing", ["orders.ts"], settings={
        "ENVIRONMENT": "qa", "VPC_ID": "vpc-0123456789abcdef0",
        "PRIVATE_SUBNET_IDS": "subnet-0123456789abcdef0,subnet-0123456789abcdef1"}))
    ecs = settings_from(make_monorepo(root / "ecs", ["orders.ts", "billing/"], settings={
        **ECS_SETTINGS, "ENVIRONMENT": "ecs"}))
    inputs = [StackInput(example_settings, tuple(example_workers)),
              *(StackInput(s, tuple(load_workers(s))) for s in (prod, existing, ecs))]
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


def executable(path, script: str = "exit 0"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)
    return path


def test_checkov_is_the_pinned_copy_or_checkov_bin_never_one_on_path(tmp_path, monkeypatch):
    on_path = executable(tmp_path / "path" / "checkov")
    monkeypatch.setenv("PATH", f"{on_path.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("CHECKOV_BIN", raising=False)
    tools = tmp_path / "tools"
    pinned = executable(tools / "bin" / "checkov")
    executable(tools / "bin" / "python")  # answers "within the requirement" to the version probe
    monkeypatch.setattr(checkov_scan, "TOOLS_VENV", tools)
    assert find_checkov() == str(pinned)
    chosen = executable(tmp_path / "chosen" / "checkov")
    monkeypatch.setenv("CHECKOV_BIN", str(chosen))
    assert find_checkov() == str(chosen)


def finding_on(check_id: str, address: str) -> tuple[dict, dict]:
    """A checkov report with one failed check on `address` (`[data.]<type>.<name>`), and a stack holding it."""
    rtype, name = address.removeprefix("data.").rsplit(".", 1)
    stack = {"data" if address.startswith("data.") else "resource": {rtype: {name: {}}}}
    report = {"results": {"failed_checks": [{"check_id": check_id, "check_name": "a check", "resource": address}]}}
    return report, stack


@pytest.mark.parametrize("check_id, address, excused", [
    ("CKV_AWS_91", "aws_lb.private-ingress_vpc-link-nlb_539BC38F", True),
    ("CKV_AWS_91", "aws_lb.public-ingress_nlb_0A1B2C3D", False),      # a second load balancer
    ("CKV_AWS_354", "aws_rds_cluster_instance.aurora_writer", True),
    ("CKV_AWS_354", "aws_rds_cluster_instance.reporting_0A1B2C3D", False),
    ("CKV_AWS_59", "aws_api_gateway_method.api_invoices-proxy-method_0A1B2C3D", True),  # any worker's route
    ("CKV_AWS_59", "aws_api_gateway_method.api_admin-get_0A1B2C3D", False),             # not a worker route
])
def test_a_new_resource_with_a_reviewed_finding_is_reported_until_reviewed(check_id, address, excused):
    missing, _ = unreviewed(*finding_on(check_id, address), load_skips())
    assert missing == ([] if excused else [f"{check_id} {address}: a check"])


@pytest.mark.parametrize("skip", load_skips(), ids=lambda s: f"{s.check_id}-{s.pattern}")
def test_each_skip_excuses_its_resources_and_not_a_new_resource_of_the_same_type(skip):
    kind, _, pattern = skip.pattern.rpartition(".")
    covered = f"{kind}.{pattern.replace('*', 'x').replace('?', 'x')}"  # a name the line itself describes
    assert unreviewed(*finding_on(skip.check_id, covered), [skip])[0] == []
    newcomer = f"{kind}.unreviewed_resource_0A1B2C3D"
    assert unreviewed(*finding_on(skip.check_id, newcomer), [skip])[0], f"{skip.pattern} excuses any {kind}"


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
