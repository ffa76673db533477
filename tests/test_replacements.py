"""The replacement audit (constructs_lib/replacements.py) against the synthesized JSON and docs/day-2.md."""

import json
from pathlib import Path

import pytest

from constructs_lib.app import StackInput, synthesize
from constructs_lib.replacements import (AUDIT, BACKENDS, IN_PLACE, NEW_BEFORE_OLD, PROTECTED_BY_THEIR_OWNER,
                                         REFUSED, WORKER_INPUTS, markdown_table)
from workers_scan import load_workers
from workers_scan.settings import KEYS_BY_NAME

from .conftest import synth_stack
from .helpers import ECS_SETTINGS, make_monorepo, settings_from
from .replacement_plans import NOT_PLANNED, variants_of

DATA_STORES = {"aws_rds_cluster", "aws_elasticache_replication_group"}


@pytest.fixture(scope="module")
def variants(example_stack, ecs_example_stack, stack_for, tmp_path_factory):
    """Every kind of stack: the example on each backend, production, an existing VPC with explicit zones, workers
    calling each other (ecs), and the state bootstrap."""
    root = tmp_path_factory.mktemp("bootstrap")
    settings = settings_from(make_monorepo(root, ["orders.ts"], settings={
        "STATE_BACKEND": "s3", "STATE_BUCKET": "acme-state", "STATE_LOCK_TABLE": "acme-locks"}))
    result = synthesize([StackInput(settings, tuple(load_workers(settings)))], root / "out")
    calling = settings_from(make_monorepo(root / "calls", ["orders.ts", "billing.ts"], settings=ECS_SETTINGS,
                                          toml='[orders]\ncalls = ["billing"]\n'))
    return {
        "example": example_stack,
        "prod": stack_for(("orders.ts", "billing.ts"), ENVIRONMENT="prod"),
        "existing-vpc": stack_for(("orders.ts",), VPC_ID="vpc-0123456789abcdef0",
                                  PRIVATE_SUBNET_IDS="subnet-0123456789abcdef0,subnet-0123456789abcdef1"),
        "zones": stack_for(("orders.ts",), AVAILABILITY_ZONES="eu-west-1a,eu-west-1b"),
        "ecs": ecs_example_stack,
        "ecs-calls": synth_stack(calling, load_workers(calling)),
        "bootstrap": json.loads(result.stacks["acme-state"].read_text()),
    }


def instances(variants):
    for variant, stack in variants.items():
        for rtype, items in stack.get("resource", {}).items():
            for address, body in items.items():
                yield variant, rtype, address, body


def test_every_synthesized_resource_type_is_audited_and_no_entry_is_stale(variants):
    synthesized = {rtype for _, rtype, _, _ in instances(variants)}
    assert sorted(synthesized - AUDIT.keys()) == [], "audit these in constructs_lib/replacements.py"
    assert sorted(AUDIT.keys() - synthesized) == [], "no stack synthesizes these any more"


def test_new_before_old_types_are_create_before_destroy(variants):
    missing = [(variant, address) for variant, rtype, address, body in instances(variants)
               if AUDIT[rtype].strategy == NEW_BEFORE_OLD and not body.get("lifecycle", {}).get("create_before_destroy")]
    assert not missing


def test_refused_types_are_prevent_destroy_in_every_environment(variants):
    missing = [(variant, address) for variant, rtype, address, body in instances(variants)
               if AUDIT[rtype].strategy == REFUSED and rtype not in PROTECTED_BY_THEIR_OWNER
               and not body.get("lifecycle", {}).get("prevent_destroy")]
    assert not missing
    assert {rtype for _, rtype, _, _ in instances(variants) if AUDIT[rtype].strategy == REFUSED} >= DATA_STORES


def test_allow_destroy_data_lifts_prevent_destroy_of_the_stores_only(stack_for):
    stack = stack_for(("orders.ts",), ALLOW_DESTROY_DATA="true")
    for rtype in DATA_STORES:
        assert all("prevent_destroy" not in body.get("lifecycle", {}) for body in stack["resource"][rtype].values())
    role = stack["resource"]["aws_iam_role_policy_attachment"]
    assert all(body["lifecycle"] == {"prevent_destroy": True} for body in role.values())


def test_subnets_keep_a_looked_up_zone_but_follow_explicit_ones(variants):
    for body in variants["example"]["resource"]["aws_subnet"].values():
        assert body["lifecycle"] == {"ignore_changes": ["availability_zone"]}
    for body in variants["zones"]["resource"]["aws_subnet"].values():
        assert "lifecycle" not in body


def test_the_day_2_page_shows_the_audit_table():
    page = (Path(__file__).parent.parent / "docs" / "day-2.md").read_text()
    assert markdown_table() in page, "run python -m command_line.reference_docs"


def test_every_input_is_planned_against_the_applied_example_or_says_why_not():
    """tests/replacement_plans.py plans each input alone (tests marked emulator); an input that is neither planned
    nor excused would leave its audit entries unchecked."""
    planned = {v.input for backend in BACKENDS for v in variants_of(backend, ("vpc-0123456789abcdef0", []))}
    assert sorted(KEYS_BY_NAME.keys() - planned - NOT_PLANNED.keys()) == [], "plan it, or say why in NOT_PLANNED"
    assert sorted(planned & NOT_PLANNED.keys()) == []
    assert sorted(WORKER_INPUTS.keys() - planned) == []
    named = {i.split(":", 1)[-1] for entry in AUDIT.values() for i in entry.inputs}
    assert sorted(named - KEYS_BY_NAME.keys() - WORKER_INPUTS.keys()) == [], "not an input: a typo?"
    qualified = {i.split(":", 1)[0] for entry in AUDIT.values() for i in entry.inputs if ":" in i}
    assert qualified <= set(BACKENDS)
    assert [t for t, entry in AUDIT.items() if entry.strategy == IN_PLACE and entry.inputs] == []
