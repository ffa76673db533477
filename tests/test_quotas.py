"""AWS quotas (workers_scan/quotas.py) measured on the synthesized JSON (constructs_lib/quota_check.py), and the
largest stacks the settings accept on each backend, with the longest names, within every one of them."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from constructs_lib.app import StackInput, synthesize
from constructs_lib.quota_check import check, expanded_length, measures
from workers_scan import InputError, load_workers
from workers_scan.discovery import MAX_WORKERS
from workers_scan.fargate import ALB_RULES_PER_LOAD_BALANCER
from workers_scan.quotas import BY_KEY, QUOTAS, quota

from .helpers import ECS_SETTINGS, make_monorepo, settings_from
from .terraform import assert_valid_without_warnings

LONGEST = {"PROJECT_NAME": "a" * 19 + "z", "ENVIRONMENT": "e" * 10}   # 20 and 10 characters, the most accepted


def test_each_quota_says_where_aws_states_it_and_each_fixed_one_the_way_out():
    for q in QUOTAS:
        assert q.source.startswith("https://docs.aws.amazon.com/") and q.value > 0, q.key
        assert q.adjustable or q.way_out, f"{q.key}: a limit AWS does not raise needs its way out"
        assert q.code is None or q.code.startswith("L-"), q.key
    assert len(BY_KEY) == len(QUOTAS)


def test_a_reference_counts_at_the_length_its_value_reaches_and_iam_counts_no_whitespace():
    assert expanded_length("${aws_apprunner_service.worker_1.arn}") == 140
    assert expanded_length('{"a": "${aws_rds_cluster.x.master_user_secret[0].secret_arn}"}') == 9 + 140
    assert expanded_length("$${HOME}") == len("$${HOME}")   # an escaped ${ is text, not a reference
    assert expanded_length('{"Sid": "A B"}', strip_whitespace=True) == len('{"Sid":"AB"}')


def stack_with(**resources) -> dict:
    return {"resource": resources}


def test_a_role_whose_policies_pass_iams_limit_is_refused_with_the_role_and_the_way_out():
    policy = json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                        "Resource": [f"arn:aws:s3:::bucket-{i:05d}/*" for i in range(400)]}]})
    stack = stack_with(aws_iam_role={"orders": {"assume_role_policy": "{}"}},
                       aws_iam_role_policy={"a": {"role": "${aws_iam_role.orders.id}", "policy": policy}})
    errors, notices = check("acme-dev", stack)
    size = expanded_length(policy, strip_whitespace=True)
    assert size > 10_240 and notices == []
    assert errors == [f"aws_iam_role.orders: {size:,} characters, over the IAM quota 'Role policy size' of 10,240 per all "
                      f"inline policies of one role ({quota('iam-role-inline-policies').source}), which AWS does not "
                      "raise: a worker's role grants each of its secrets: keep several values in one JSON secret"]


def test_an_adjustable_quota_passed_is_a_notice_with_its_code_and_a_target_input_over_8192_an_error():
    stack = stack_with(aws_apprunner_service={f"s{i}": {} for i in range(31)},
                       aws_cloudwatch_event_rule={"r": {"event_pattern": "{}"}},
                       aws_cloudwatch_event_target={"t": {"rule": "${aws_cloudwatch_event_rule.r.name}",
                                                          "input": json.dumps({"services": ["x" * 8200]})}})
    errors, notices = check("acme-dev", stack)
    assert notices == ["acme-dev: this stack: 31 services, over the App Runner quota 'Services' of 30 per account and region "
                       f"(this stack's share) ({quota('apprunner-services').source}); ask AWS to raise it before you "
                       "apply"]
    [error] = errors
    assert error.startswith("aws_cloudwatch_event_target.t: 8,218 characters, over the EventBridge quota 'Target "
                            "Input' of 8,192")


def test_synth_refuses_a_fixed_limit_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setitem(BY_KEY, "sfn-definition", replace(quota("sfn-definition"), value=100))
    settings = settings_from(make_monorepo(tmp_path / "repo", ["orders.ts"]))
    with pytest.raises(InputError) as refused:
        synthesize([StackInput(settings, tuple(load_workers(settings)))], tmp_path / "cdktf.out")
    [problem] = refused.value.problems
    assert (problem.where, problem.key) == ("acme-dev", "AWS quota")
    assert "over the Step Functions quota 'Maximum state machine definition size' of 100" in problem.message
    assert not (tmp_path / "cdktf.out").exists()


def largest(tmp_path, compute: str) -> tuple[object, dict, list[str]]:
    """The most workers a backend accepts, each with the longest route, the longest project and environment names."""
    count, length = (MAX_WORKERS, 64) if compute == "apprunner" else (ALB_RULES_PER_LOAD_BALANCER, 63)
    # (ECS: 63, a DNS label's limit, as its host is <route>.<ECS_ROUTING_DOMAIN>.)
    files = [f"{'a' * (length - 3)}{i:03d}.ts" for i in range(count)]
    settings = settings_from(make_monorepo(tmp_path / "repo", files, settings={
        **LONGEST, **(ECS_SETTINGS if compute == "ecs" else {})}))
    workers = load_workers(settings)
    assert len(workers) == count and max(len(w.route) for w in workers) == length
    result = synthesize([StackInput(settings, tuple(workers))], tmp_path / "cdktf.out")
    path = result.stacks[settings.stack_name]
    return path, json.loads(path.read_text()), result.notices


@pytest.fixture(scope="module", params=["apprunner", "ecs"])
def largest_stack(request, tmp_path_factory):
    return (request.param, *largest(tmp_path_factory.mktemp(request.param), request.param))


def test_the_largest_stacks_stay_within_every_limit_aws_does_not_raise(largest_stack):
    compute, _, stack, notices = largest_stack
    errors, _ = check("largest", stack)
    assert errors == []
    sizes = {}
    for measure in measures(stack):
        sizes[measure.quota.key] = max(sizes.get(measure.quota.key, 0), measure.size)
    # What grew with the workers before: the image build's role (ECS) broke at about 45 workers, the redeploy
    # machine's at about 90, a rule's input at about 80 App Runner workers.
    assert sizes["iam-role-inline-policies"] < 4_000, sizes
    assert sizes["events-target-input"] < 100 and sizes["events-targets-per-rule"] == 1
    assert sizes["sfn-definition"] < quota("sfn-definition").value
    if compute == "apprunner":   # 149 services pass App Runner's default 30 per region: said, with what to do
        assert any("over the App Runner quota 'Services' of 30" in n for n in notices), notices


def test_the_largest_stacks_validate(largest_stack, tmp_path):
    _, path, _, _ = largest_stack
    assert_valid_without_warnings(path.parent, tmp_path)


def test_the_quotas_page_table_is_the_one_the_declarations_render():
    from command_line.reference_docs import begin, end
    from workers_scan.quotas import quota_table

    from .toolchain import ROOT

    page = (ROOT / "docs" / "aws-quotas.md").read_text()
    table = page.split(begin("quotas") + "\n", 1)[1].split("\n" + end("quotas"), 1)[0]
    assert table == quota_table(), "docs/aws-quotas.md's quota table is stale: run python -m command_line.reference_docs"
