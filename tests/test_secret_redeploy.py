"""A secret's new value redeploys exactly the workers that read it (constructs_lib/secret_redeploy.py)."""

from __future__ import annotations

import json

import pytest

from workers_scan import load_workers

from .conftest import synth_stack
from .helpers import make_monorepo, settings_from

STRIPE = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:acme/dev/stripe-AbCdEf"
PARTIAL = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:acme/dev/orders-signing"
SSM = "arn:aws:ssm:eu-west-1:123456789012:parameter/acme/dev/smtp-password"
OTHER_ACCOUNT = "arn:aws:secretsmanager:eu-west-1:210987654321:secret:partner/token-AbCdEf"


def resources(stack: dict, rtype: str) -> dict:
    return stack["resource"].get(rtype, {})


def rules_by_name(stack: dict) -> dict[str, tuple[dict, dict]]:
    """Rule name -> (its event pattern, its target's input)."""
    rules = resources(stack, "aws_cloudwatch_event_rule")
    result = {}
    for target in resources(stack, "aws_cloudwatch_event_target").values():
        address = target["rule"].removeprefix("${aws_cloudwatch_event_rule.").removesuffix(".name}")
        rule = rules[address]
        result[rule["name"]] = (json.loads(rule["event_pattern"]), json.loads(target["input"]))
    return result


def definition(stack: dict) -> dict:
    (machine,) = resources(stack, "aws_sfn_state_machine").values()
    return json.loads(machine["definition"])


def readers(stack: dict, target_input: dict) -> list[str]:
    """The services the machine redeploys for a rule's input: its Choice on `secret`, then that branch's list."""
    states = definition(stack)["States"]
    choice = states[definition(stack)["StartAt"]]
    (branch,) = [c["Next"] for c in choice["Choices"]
                 if c["Variable"] == "$.secret" and c["StringEquals"] == target_input["secret"]]
    assert states[branch]["Next"] == "Redeploy" and states[branch]["ResultPath"] == "$.services"
    return states[branch]["Result"]


def redeploy_task(stack: dict) -> dict:
    return definition(stack)["States"]["Redeploy"]["ItemProcessor"]["States"]["RedeployService"]


def role_named(stack: dict, suffix: str) -> dict:
    (role,) = [r for r in resources(stack, "aws_iam_role").values() if r["name"].endswith(suffix)]
    return role


def policy_of(stack: dict, name: str) -> list[dict]:
    (policy,) = [p for p in resources(stack, "aws_iam_role_policy").values() if p["name"] == name]
    return json.loads(policy["policy"])["Statement"]


# How each backend's service is referred to: its construct id prefix and the attribute that is its ARN.
SERVICE = {"aws_apprunner_service": ("worker", "arn"), "aws_ecs_service": ("ecs-worker", "id")}


def service_ref(stack: dict, rtype: str, worker: str) -> str:
    construct, attribute = SERVICE[rtype]
    (address,) = [a for a in resources(stack, rtype) if a.startswith(f"{construct}-{worker}_")]
    return f"${{{rtype}.{address}.{attribute}}}"


def test_the_database_secret_redeploys_every_worker_that_reads_it(example_stack, example_workers):
    rules = rules_by_name(example_stack)
    pattern, target_input = rules["acme-dev-redeploy-db-secret"]
    assert pattern == {"source": ["aws.secretsmanager"], "detail-type": ["Secret Label Updated"],
                       "detail": {"labelUpdated": ["AWSCURRENT"]},
                       "resources": ["${aws_rds_cluster.aurora_cluster.master_user_secret[0].secret_arn}"]}
    assert target_input == {"secret": "db-secret"}
    assert readers(example_stack, target_input) == [service_ref(example_stack, "aws_apprunner_service", w.name)
                                                    for w in sorted(example_workers, key=lambda w: w.name)]


def test_a_rule_input_names_its_secret_and_an_unknown_one_fails_the_execution(example_stack):
    """The readers are in the definition (1 MB), not in each target's input (8,192 characters)."""
    states = definition(example_stack)["States"]
    choice = states[definition(example_stack)["StartAt"]]
    assert states[choice["Default"]] == {"Type": "Fail", "Error": "UnknownSecret",
                                         "Cause": "The input's secret is none of the labels this machine knows"}
    inputs = [target_input for _, target_input in rules_by_name(example_stack).values()]
    assert sorted(i["secret"] for i in inputs) == sorted(c["StringEquals"] for c in choice["Choices"])
    assert all(len(i) == 1 for i in inputs)


def test_a_secret_from_the_workers_files_gets_its_own_rule_and_ssm_parameters_none(example_stack):
    rules = rules_by_name(example_stack)
    assert len(rules) == 2, sorted(rules)  # the database's and Stripe's; the SSM parameter does not rotate
    (stripe,) = [pattern for name, (pattern, _) in rules.items() if name != "acme-dev-redeploy-db-secret"]
    assert stripe["resources"] == [STRIPE]  # a complete ARN: that secret only
    assert not any(SSM in json.dumps(rule) for rule in resources(example_stack, "aws_cloudwatch_event_rule").values())


def test_app_runner_redeploys_with_start_deployment_retrying_while_busy(example_stack):
    task = redeploy_task(example_stack)
    assert task["Resource"] == "arn:aws:states:::aws-sdk:apprunner:startDeployment"
    assert task["Parameters"] == {"ServiceArn.$": "$"}
    # Results are dropped: ECS returns whole services, and a state's output is limited to 256 KiB.
    assert task["ResultPath"] is None and definition(example_stack)["States"]["Redeploy"]["ResultPath"] is None
    (retry,) = task["Retry"]
    assert retry["MaxAttempts"] >= 3 and retry["IntervalSeconds"] >= 30
    assert definition(example_stack)["States"]["Redeploy"]["ItemsPath"] == "$.services"


def test_ecs_forces_a_new_deployment_of_the_service_in_its_cluster(ecs_example_stack, ecs_example_workers):
    task = redeploy_task(ecs_example_stack)
    assert task["Resource"] == "arn:aws:states:::aws-sdk:ecs:updateService"
    (cluster,) = resources(ecs_example_stack, "aws_ecs_cluster")
    assert task["Parameters"] == {"Cluster": f"${{aws_ecs_cluster.{cluster}.arn}}", "Service.$": "$",
                                  "ForceNewDeployment": True}
    _, target_input = rules_by_name(ecs_example_stack)["acme-dev-redeploy-db-secret"]
    assert readers(ecs_example_stack, target_input) == [service_ref(ecs_example_stack, "aws_ecs_service", w.name)
                                                        for w in sorted(ecs_example_workers, key=lambda w: w.name)]
    (statement, *_) = policy_of(ecs_example_stack, "redeploy")
    assert statement["Action"] == "ecs:UpdateService"
    # Every service of the environment's own cluster: the grant does not grow with the workers.
    assert statement["Resource"] == "arn:aws:ecs:eu-west-1:123456789012:service/acme-dev/*"
    assert statement["Condition"] == {"ArnEquals": {"ecs:cluster": f"${{aws_ecs_cluster.{cluster}.arn}}"}}


def test_the_machine_may_only_redeploy_the_workers_and_deliver_its_logs(example_stack):
    statements = {s["Sid"]: s for s in policy_of(example_stack, "redeploy")}
    assert statements["RedeployTheWorkers"]["Action"] == "apprunner:StartDeployment"
    # The environment's services by name (<prefix>-<route>), whatever their number.
    assert statements["RedeployTheWorkers"]["Resource"] == "arn:aws:apprunner:eu-west-1:123456789012:service/acme-dev-*/*"
    assert all(s["service_name"].startswith("acme-dev-") for s in resources(example_stack, "aws_apprunner_service").values())
    # "*" only for the log delivery and X-Ray actions, which take no resource ARN.
    assert {a.split(":")[0] for a in statements["DeliverLogs"]["Action"]} == {"logs"}
    assert {a.split(":")[0] for a in statements["Trace"]["Action"]} == {"xray"}
    assert set(statements) == {"RedeployTheWorkers", "DeliverLogs", "Trace"}
    (events,) = policy_of(example_stack, "start-redeploy")
    (machine,) = resources(example_stack, "aws_sfn_state_machine")
    assert events["Action"] == "states:StartExecution"
    assert events["Resource"] == f"${{aws_sfn_state_machine.{machine}.arn}}"


def test_both_roles_are_guarded_against_the_confused_deputy(example_stack):
    machine = json.loads(role_named(example_stack, "-secret-redeploy")["assume_role_policy"])["Statement"][0]
    assert machine["Principal"] == {"Service": "states.amazonaws.com"}
    assert machine["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": "arn:aws:states:eu-west-1:123456789012:stateMachine:acme-dev-secret-redeploy"}}
    events = json.loads(role_named(example_stack, "-secret-redeploy-events")["assume_role_policy"])["Statement"][0]
    assert events["Principal"] == {"Service": "events.amazonaws.com"}
    assert events["Condition"]["ArnLike"] == {"aws:SourceArn": "arn:aws:events:eu-west-1:123456789012:rule/"
                                                               "acme-dev-redeploy-*"}
    assert all(name.startswith("acme-dev-redeploy-") for name in rules_by_name(example_stack))


def test_the_machine_logs_errors_to_an_encrypted_bounded_group(example_stack):
    (machine,) = resources(example_stack, "aws_sfn_state_machine").values()
    groups = resources(example_stack, "aws_cloudwatch_log_group")
    (address,) = [a for a, g in groups.items() if g["name"] == f"/aws/vendedlogs/states/{machine['name']}"]
    assert machine["logging_configuration"] == {"include_execution_data": True, "level": "ERROR",
                                                "log_destination": f"${{aws_cloudwatch_log_group.{address}.arn}}:*"}
    assert groups[address]["kms_key_id"].startswith("${aws_kms_key.") and groups[address]["retention_in_days"] > 0
    assert machine["tracing_configuration"] == {"enabled": True}


@pytest.fixture(scope="module")
def per_worker_secret_stack(tmp_path_factory):
    """orders alone reads a secret, named without its 6-character suffix; workers sign IAM tokens (no DB secret)."""
    root = tmp_path_factory.mktemp("per-worker")
    env = make_monorepo(root, ["orders.ts", "billing.ts"], settings={"AURORA_IAM_USER": "app_worker"})
    (env.parent / ".env.workers.orders").write_text(f"SIGNING_KEY={PARTIAL}\nSMTP_PASSWORD={SSM}\n"
                                                    f"PARTNER_TOKEN={OTHER_ACCOUNT}\n")
    settings = settings_from(env)
    return synth_stack(settings, load_workers(settings))


def test_a_per_worker_secret_redeploys_only_that_worker(per_worker_secret_stack):
    rules = rules_by_name(per_worker_secret_stack)
    # No master secret with AURORA_IAM_USER; none for the SSM parameter, nor for another account's secret (its
    # events go to that account's bus: a rule here would never fire).
    assert len(rules) == 1, sorted(rules)
    ((pattern, target_input),) = rules.values()
    # A name without its suffix matches the secret's full ARN by prefix, up to the suffix's hyphen (not
    # acme/dev/orders-signing2-..., another secret).
    assert pattern["resources"] == [{"prefix": PARTIAL + "-"}]
    assert readers(per_worker_secret_stack, target_input) == [
        service_ref(per_worker_secret_stack, "aws_apprunner_service", "orders")]
    # Its instance role may read it: IAM matches the full ARN, so the missing suffix is named as wildcards.
    (reads,) = [json.loads(p["policy"]) for p in resources(per_worker_secret_stack, "aws_iam_role_policy").values()
                if p["name"] == "read-runtime-secrets" and "orders" in p["role"]]
    (statement,) = [s for s in reads["Statement"] if s["Sid"] == "ReadSecrets"]
    assert f"{PARTIAL}-??????" in statement["Resource"] and PARTIAL not in statement["Resource"]


@pytest.mark.parametrize("settings", [
    {"AUTO_DEPLOYMENTS": "false"},                       # App Runner would build the branch's latest commit
    {"REDEPLOY_ON_SECRET_CHANGE": "false"},
])
def test_no_redeploy_is_built_when_it_is_off_or_would_deploy_unreleased_code(stack_for, settings):
    stack = stack_for(("orders.ts",), **settings)
    assert resources(stack, "aws_apprunner_service")  # the platform is there
    for rtype in ("aws_sfn_state_machine", "aws_cloudwatch_event_rule", "aws_cloudwatch_event_target"):
        assert not resources(stack, rtype)


def test_the_redeploy_alone_validates_from_plain_values_and_refuses_no_secrets(tmp_path):
    """Built from its props only (ECS's action, one secret read by two services), outside any platform stack."""
    import cdktf
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    from constructs_lib.secret_redeploy import SecretReaders, SecretRedeploy, SecretRedeployProps, ecs_redeploy

    from .terraform import assert_alone_stack_validates

    services = tuple(f"arn:aws:ecs:eu-west-1:123456789012:service/globex-qa/globex-qa-{w}" for w in ("a", "b"))
    props = SecretRedeployProps(
        name_prefix="globex-qa", region="eu-west-1", account_id="123456789012",
        action=ecs_redeploy("eu-west-1", "123456789012", "arn:aws:ecs:eu-west-1:123456789012:cluster/globex-qa",
                            "globex-qa"),
        secrets=(SecretReaders(label="ledger", secret_arn=STRIPE, service_arns=services),),
        logs_kms_key_arn="arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-0000-4000-8000-0123456789ab",
        log_retention_days=30)
    stack = cdktf.TerraformStack(cdktf.Testing.app(), "redeploy-alone")
    AwsProvider(stack, "aws", region="eu-west-1")
    redeploy = SecretRedeploy(stack, "secret-redeploy", props=props)
    assert redeploy.rule_names == {"ledger": "globex-qa-redeploy-ledger"}
    assert_alone_stack_validates(stack, tmp_path)
    with pytest.raises(ValueError, match="secrets is empty"):
        SecretRedeploy(cdktf.TerraformStack(cdktf.Testing.app(), "empty"), "secret-redeploy",
                       props=SecretRedeployProps(**{**props.__dict__, "secrets": ()}))
