"""The WAF construct built alone, from its props: no settings file, no monorepo, no platform stack.

The pattern for testing a construct: props are plain values, so a `Testing.app()` stack holds it by itself.
"""

import json

import cdktf
import pytest

from constructs_lib.waf import Waf, WafProps
from workers_scan.waf_rules import MANAGED_RULE_GROUPS

STAGE = "arn:aws:apigateway:eu-west-1::/restapis/abc123/stages/dev"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-0000-4000-8000-0123456789ab"


def waf_alone(**overrides) -> dict:
    props = dict(name_prefix="globex-qa", rate_limit=750, count_rules=(), log_all_requests=True,
                 log_retention_days=30, stage_arn=STAGE, logs_kms_key_arn=KEY)
    stack = cdktf.TerraformStack(cdktf.Testing.app(), "waf-alone")
    Waf(stack, "waf", props=WafProps(**{**props, **overrides}))
    return json.loads(cdktf.Testing.synth(stack))["resource"]


@pytest.fixture(scope="module")
def waf():
    return waf_alone()


def test_the_web_acl_is_named_after_the_prefix_and_limits_each_ip_at_the_given_rate(waf):
    [acl] = waf["aws_wafv2_web_acl"].values()
    assert (acl["name"], acl["scope"]) == ("globex-qa", "REGIONAL")
    [rate] = [r for r in acl["rule"] if "rate_based_statement" in r["statement"]]
    assert rate["statement"]["rate_based_statement"]["limit"] == 750 and rate["action"] == {"block": {}}
    groups = [r["statement"]["managed_rule_group_statement"]["name"] for r in acl["rule"]
              if "managed_rule_group_statement" in r["statement"]]
    assert groups == list(MANAGED_RULE_GROUPS)


def test_it_protects_exactly_the_given_stage_and_logs_encrypted_for_the_given_days(waf):
    [association] = waf["aws_wafv2_web_acl_association"].values()
    assert association["resource_arn"] == STAGE
    [group] = waf["aws_cloudwatch_log_group"].values()
    assert (group["name"], group["retention_in_days"], group["kms_key_id"]) == ("aws-waf-logs-globex-qa", 30, KEY)


def test_only_the_given_rules_count(waf):
    counted = waf_alone(count_rules=("NoUserAgent_HEADER",))
    [acl] = counted["aws_wafv2_web_acl"].values()
    overrides = {r["name"]: r["statement"]["managed_rule_group_statement"].get("rule_action_override")
                 for r in acl["rule"] if "managed_rule_group_statement" in r["statement"]}
    assert overrides == {"AWSManagedRulesCommonRuleSet": [{"name": "NoUserAgent_HEADER",
                                                           "action_to_use": {"count": {}}}],
                         "AWSManagedRulesKnownBadInputsRuleSet": None}
    [plain] = waf["aws_wafv2_web_acl"].values()
    assert all("rule_action_override" not in r["statement"].get("managed_rule_group_statement", {})
               for r in plain["rule"])
