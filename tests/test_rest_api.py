"""The REST API built alone, from its props: no settings file, no monorepo, no platform stack."""

from __future__ import annotations

import json

import cdktf
import pytest

from constructs_lib.api_gateway import RestApi, RestApiProps, Route

from .helpers import resources

NLB = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/globex-qa/0123456789abcdef"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-0000-4000-8000-0123456789ab"
ROUTES = (Route(name="orders", path="orders", ingress_domain="abc.eu-west-1.awsapprunner.com"),
          Route(name="report_generator", path="report-generator", ingress_domain="report-generator.workers.internal",
                scheme="http"))
PROPS = dict(name_prefix="globex-qa", stage_name="qa", behind_nlb="the workers ALB", authorization="AWS_IAM",
             throttle_rate_limit=40, throttle_burst_limit=80, manage_account_logging=False, log_retention_days=60,
             nlb_arn=NLB, routes=ROUTES, logs_kms_key_arn=KEY)


def api_alone(**overrides) -> dict:
    stack = cdktf.TerraformStack(cdktf.Testing.app(), "rest-api-alone")
    RestApi(stack, "api", props=RestApiProps(**{**PROPS, **overrides}))
    return json.loads(cdktf.Testing.synth(stack))


@pytest.fixture(scope="module")
def api() -> dict:
    return api_alone()


def test_each_route_is_its_path_and_everything_below_it_sent_to_its_domain_with_its_scheme(api):
    paths = sorted(r["path_part"] for r in resources(api, "aws_api_gateway_resource").values())
    assert paths == ["orders", "report-generator", "{proxy+}", "{proxy+}"]
    uris = sorted(i["uri"] for i in resources(api, "aws_api_gateway_integration").values())
    assert uris == ["http://report-generator.workers.internal/", "http://report-generator.workers.internal/{proxy}",
                    "https://abc.eu-west-1.awsapprunner.com/", "https://abc.eu-west-1.awsapprunner.com/{proxy}"]
    assert {m["authorization"] for m in resources(api, "aws_api_gateway_method").values()} == {"AWS_IAM"}


def test_the_vpc_link_reaches_the_given_nlb_and_says_what_is_behind_it(api):
    [link] = resources(api, "aws_api_gateway_vpc_link").values()
    assert link["target_arns"] == [NLB]
    assert link["description"] == "To the internal NLB in front of the workers ALB"


def test_the_stage_is_named_for_the_environment_and_throttled_as_given(api):
    [stage] = resources(api, "aws_api_gateway_stage").values()
    assert stage["stage_name"] == "qa"
    [settings] = resources(api, "aws_api_gateway_method_settings").values()
    assert (settings["settings"]["throttling_rate_limit"], settings["settings"]["throttling_burst_limit"]) == (40, 80)
    [logs] = resources(api, "aws_cloudwatch_log_group").values()
    assert (logs["name"], logs["retention_in_days"]) == ("/aws/apigateway/globex-qa/access", 60)
    assert logs["kms_key_id"] == KEY


def test_the_account_role_comes_only_with_the_region_s_logging_and_execution_logs_never(api):
    """Execution logs would go to a group API Gateway makes itself, unencrypted and kept forever."""
    [plain] = resources(api, "aws_api_gateway_method_settings").values()
    assert plain["settings"]["logging_level"] == "OFF" and "aws_api_gateway_account" not in api["resource"]
    managing = api_alone(manage_account_logging=True)
    [logged] = resources(managing, "aws_api_gateway_method_settings").values()
    assert logged["settings"]["logging_level"] == "OFF" and not logged["settings"]["data_trace_enabled"]
    [account] = resources(managing, "aws_api_gateway_account").values()
    [role] = resources(managing, "aws_iam_role").values()
    assert role["name"] == "globex-qa-apigateway-cloudwatch" and "aws_iam_role" in account["cloudwatch_role_arn"]


def test_worker_urls_are_keyed_by_worker_name_under_the_stage_url():
    stack = cdktf.TerraformStack(cdktf.Testing.app(), "rest-api-urls")
    api = RestApi(stack, "api", props=RestApiProps(**PROPS))
    assert sorted(api.worker_urls) == ["orders", "report_generator"]
    assert api.worker_urls["report_generator"].endswith("/report-generator") and api.stage_name == "qa"
