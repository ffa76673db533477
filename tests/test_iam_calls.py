"""Every AWS call the stack's automation makes is allowed by its role's synthesized policy, as IAM would evaluate it.

No emulator here enforces IAM resource by resource (moto checks actions against "*" only), so the calls are derived
from what runs them: each `aws <service> <command>` of the image build's scripts, what docker push and the pull of
the base image call, what CodeBuild and Step Functions document for their roles, each Task of the redeploy machine
and each EventBridge target. Every call is evaluated, on the resource it touches (ARNs built from the stack's own
names), with @cloud-copilot/iam-simulate (tests/iam/, pinned by its package-lock.json, installed here by npm).
A call the policy does not allow fails the test with the call, the resource and the role. That the scripts' text
names every call they make is checked by running the build once against a stand-in whose deployment fails, so
the roll step's revert runs too."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from constructs_lib.image_pipeline import BUILD_AND_PUSH, LOGIN, LOGIN_PUBLIC, ROLL

from .iam_documents import ACCOUNT, REGION, resolver
from .test_image_pipeline import EARLIER, IMAGE, pipeline_alone, run_build
from .terraform import unavailable

SIMULATOR = Path(__file__).parent / "iam"
ECS_TASKS = "ecs-tasks.amazonaws.com"
# What a CLI command is to IAM, where its operation's name is not the action's (ecr get-login-password calls
# GetAuthorizationToken; the public registry's token also takes an STS bearer token).
CLI_ACTIONS = {("ecr", "get-login-password"): ("ecr:GetAuthorizationToken",),
               ("ecr-public", "get-login-password"): ("ecr-public:GetAuthorizationToken", "sts:GetServiceBearerToken")}
# docker push to a private repository (Amazon ECR user guide, "Required IAM permissions for pushing an image").
DOCKER_PUSH = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload",
               "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart")
# What Step Functions documents for a machine that logs to CloudWatch Logs and traces with X-Ray.
SFN_LOGGING = ("logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
               "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
               "logs:DescribeLogGroups", "xray:PutTraceSegments", "xray:PutTelemetryRecords",
               "xray:GetSamplingRules", "xray:GetSamplingTargets")


@pytest.fixture(scope="session")
def simulator() -> Path:
    if not shutil.which("npm") or not shutil.which("node"):
        unavailable("node and npm are needed for the IAM evaluator (tests/iam)")
    if not (SIMULATOR / "node_modules" / "@cloud-copilot" / "iam-simulate").is_dir():
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=SIMULATOR,
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            unavailable(f"npm ci in {SIMULATOR} failed: {done.stderr[-600:]}")
    return SIMULATOR / "simulate.mjs"


def evaluate(simulator: Path, role: str, policies: list[dict], calls: list[dict]) -> list[str]:
    """The calls `policies` do not allow, as `call on resource (context): result` lines."""
    request = {"principal": f"arn:aws:iam::{ACCOUNT}:role/{role}", "account": ACCOUNT, "policies": policies,
               "calls": calls}
    done = subprocess.run(["node", str(simulator)], input=json.dumps(request), capture_output=True, text=True,
                          timeout=300, cwd=SIMULATOR)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(done.stdout)
    return [f"{r['action']} on {r['resource']} ({c.get('context', {})}): {r['result']} {r['detail']}".rstrip()
            for r, c in zip(results, calls) if r["result"] != "Allowed"]


def role_policies(stack: dict, role_address: str, resolve) -> tuple[str, list[dict]]:
    """A role's name and its inline policies, as IAM will hold them."""
    resources = stack["resource"]
    role = resources["aws_iam_role"][role_address]
    policies = [json.loads(resolve(p["policy"])) for p in resources["aws_iam_role_policy"].values()
                if p["role"] in (f"${{aws_iam_role.{role_address}.id}}", f"${{aws_iam_role.{role_address}.name}}")]
    return role["name"], policies


def role_of(stack: dict, reference: str) -> str:
    return re.search(r"aws_iam_role\.([^.]+)\.", reference).group(1)


def script_calls(*scripts: str) -> list[str]:
    """Each IAM action an `aws <service> <command>` of the scripts needs, once (the roll step reads the parameter
    before rolling, while it waits and before it reverts: one action on one resource)."""
    actions = [action for script in scripts
               for service, command in re.findall(r"\baws ([a-z0-9-]+) ([a-z0-9-]+)", script)
               for action in cli_actions(service, command)]
    return list(dict.fromkeys(actions))


def cli_actions(service: str, command: str) -> tuple[str, ...]:
    """What `aws <service> <command>` is to IAM."""
    pascal = "".join(part.capitalize() for part in command.split("-"))
    return CLI_ACTIONS.get((service, command), (f"{service}:{pascal}",))


def build_calls(stack: dict, resolve) -> tuple[str, list[dict]]:
    """The image build's role and every call of its buildspec, on the resources the stack gives it."""
    resources = stack["resource"]
    [project] = resources["aws_codebuild_project"].values()
    variables = {v["name"]: v["value"] for v in project["environment"]["environment_variable"]}
    repository = resolve(next(f"${{aws_ecr_repository.{a}.arn}}" for a in resources["aws_ecr_repository"]))
    parameter = resolve(next(f"${{aws_ssm_parameter.{a}.arn}}" for a in resources["aws_ssm_parameter"]))
    cluster = resolve(variables["ECS_CLUSTER"])
    services = [resolve(s) for s in variables["ECS_SERVICES"].split()]
    families = [resolve(f"${{aws_ecs_task_definition.{a}.arn}}") for a in resources["aws_ecs_task_definition"]]
    roles = [resolve(t[key]) for t in resources["aws_ecs_task_definition"].values()
             for key in ("task_role_arn", "execution_role_arn")]
    log_group = resolve(project["logs_config"]["cloudwatch_logs"]["group_name"])
    connection = project["source"]["auth"]["resource"]
    touched = {  # action -> [(resource, context)]
        "ecr:GetAuthorizationToken": [("*", {})], "ecr-public:GetAuthorizationToken": [("*", {})],
        "sts:GetServiceBearerToken": [("*", {})],
        "ecr:DescribeImages": [(repository, {})],
        "ssm:GetParameter": [(parameter, {})], "ssm:PutParameter": [(parameter, {})],
        "ecs:DescribeServices": [(s, {"ecs:cluster": cluster}) for s in services],
        "ecs:UpdateService": [(s, {"ecs:cluster": cluster}) for s in services],
        "ecs:DescribeTaskDefinition": [("*", {})],
        # The copy keeps its revision's tags: registering it tags it too (ecs:CreateAction says so).
        "ecs:RegisterTaskDefinition": [(f, {}) for f in families],
    }
    calls = []
    for action in script_calls(LOGIN, LOGIN_PUBLIC, BUILD_AND_PUSH, ROLL):
        assert action in touched, f"{action}: a command of the buildspec this test does not know: add its resource"
        calls += [{"action": action, "resource": r, "context": c} for r, c in touched[action]]
    calls += [{"action": "ecs:TagResource", "resource": f, "context": {"ecs:CreateAction": "RegisterTaskDefinition"}}
              for f in families]
    calls += [{"action": "iam:PassRole", "resource": r, "context": {"iam:PassedToService": ECS_TASKS}} for r in roles]
    calls += [{"action": a, "resource": repository} for a in DOCKER_PUSH]
    # CodeBuild's service role (CodeBuild user guide): its logs, and the GitHub App connection it clones through.
    service = connection.split(":")[2]
    calls += [{"action": f"logs:{a}", "resource": f"{log_group}:log-stream:build-1"}
              for a in ("CreateLogStream", "PutLogEvents")]
    calls += [{"action": f"{service}:{a}", "resource": connection} for a in ("GetConnection", "GetConnectionToken")]
    return role_of(stack, project["service_role"]), calls


def machine_calls(stack: dict, resolve) -> tuple[str, list[dict]]:
    """The redeploy machine's role and each call of its definition, on every service a secret's readers name."""
    [machine] = stack["resource"]["aws_sfn_state_machine"].values()
    definition = json.loads(resolve(machine["definition"]))
    services = {arn for state in definition["States"].values() if state["Type"] == "Pass" for arn in state["Result"]}
    [task] = definition["States"]["Redeploy"]["ItemProcessor"]["States"].values()
    service, operation = task["Resource"].removeprefix("arn:aws:states:::aws-sdk:").split(":")
    action = f"{service}:{operation[0].upper()}{operation[1:]}"
    context = {"ecs:cluster": task["Parameters"]["Cluster"]} if "Cluster" in task["Parameters"] else {}
    calls = [{"action": action, "resource": arn, "context": context} for arn in sorted(services)]
    calls += [{"action": a, "resource": "*"} for a in SFN_LOGGING]
    return role_of(stack, machine["role_arn"]), calls


def target_calls(stack: dict, resolve) -> list[tuple[str, list[dict]]]:
    """Each EventBridge target's role and its StartExecution of the target."""
    return [(role_of(stack, t["role_arn"]), [{"action": "states:StartExecution", "resource": resolve(t["arn"])}])
            for t in stack["resource"]["aws_cloudwatch_event_target"].values()]


def unallowed(simulator: Path, stack: dict, role_address: str, calls: list[dict]) -> list[str]:
    resolve = resolver(stack)
    name, policies = role_policies(stack, role_address, resolve)
    return [f"role {name}: {line}" for line in evaluate(simulator, name, policies, calls)]


def test_every_call_of_the_image_build_is_allowed(simulator, ecs_example_stack):
    role, calls = build_calls(ecs_example_stack, resolver(ecs_example_stack))
    assert len(calls) > 20 and any(c["action"] == "ssm:GetParameter" for c in calls)
    assert unallowed(simulator, ecs_example_stack, role, calls) == []


@pytest.mark.parametrize("backend", ["example_stack", "ecs_example_stack"])
def test_every_call_of_the_redeploy_machine_and_its_rules_is_allowed(simulator, backend, request):
    stack = request.getfixturevalue(backend)
    resolve = resolver(stack)
    role, calls = machine_calls(stack, resolve)
    assert len({c["resource"] for c in calls}) == 5   # the four workers, and "*" for logs and traces
    problems = unallowed(simulator, stack, role, calls)
    for target_role, target in target_calls(stack, resolve):
        problems += unallowed(simulator, stack, target_role, target)
    assert problems == []


def test_a_call_the_policy_lacks_is_named_with_its_resource_and_role(simulator, ecs_example_stack):
    """The roll step's read of the image parameter, against the policy the build had before (PutParameter only)."""
    resolve = resolver(ecs_example_stack)
    role, calls = build_calls(ecs_example_stack, resolve)
    name, policies = role_policies(ecs_example_stack, role, resolve)
    for statement in policies[0]["Statement"]:
        if statement["Sid"] == "PublishTheImage":
            statement["Action"] = "ssm:PutParameter"
    [problem] = evaluate(simulator, name, policies, [c for c in calls if c["action"].startswith("ssm:")])
    assert problem.startswith(f"ssm:GetParameter on arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/acme-dev/workers/image "
                              "({}): ImplicitlyDenied")


def test_the_calls_checked_include_every_one_the_roll_step_makes_when_it_puts_the_services_back(tmp_path):
    """The calls above are read from the scripts' text; here the build runs (tests/fake_aws.py), its deployment of
    one service fails, and every `aws` command it ran, the revert's included, must be one of them."""
    build = run_build(pipeline_alone(), tmp_path, image_exists=False, live=EARLIER,
                      FAILING_SERVICES="orders", FAILING_IMAGE=IMAGE)
    assert build.returncode != 0 and "is going back to" in build.log
    ran = {tuple(call.split()[1:3]) for call in build.calls if call.startswith("aws ")}
    assert {("ecs", "register-task-definition"), ("ecs", "update-service"), ("ssm", "put-parameter")} <= ran
    unchecked = {a for service, command in ran for a in cli_actions(service, command)} - set(
        script_calls(LOGIN, LOGIN_PUBLIC, BUILD_AND_PUSH, ROLL))
    assert not unchecked
