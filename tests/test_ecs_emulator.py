"""COMPUTE=ecs applied on the emulator: the example's Fargate services, their ALB and the image pipeline, then day 2.

The same platform and the same rules as tests/test_day2.py (its Platform and step()): synthesized in place,
applied in one run, then planned again, and that plan must be empty. AWS is moto alone (tests/moto_patched.py
mends what it does not read back as written and adds CodeBuild's webhook actions); ECS needs no App Runner
stand-in. Redis is off, as there. The build's roll step runs too, as the applied project holds it, with the AWS CLI
against moto, whose patched deployments fail for FAILING_SHA's image as ECS's circuit breaker would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
import yaml

from constructs_lib.fargate_service import CONTAINER_NAME, worker_host
from workers_scan import load_workers
from workers_scan.environment import SECRET_KEY_RE

from .emulator import CREDENTIALS, moto_server
from .helpers import BOOTSTRAP, CODECONNECTIONS_ARN, ECS_SETTINGS, settings_from
from .replacement_plans import Base, check_the_audit
from .terraform import unavailable
from .test_day2 import DEPLOYMENT, SECOND_FOLDER, Platform, differences, step

pytestmark = pytest.mark.emulator

GOOD_SHA, FAILING_SHA = "600d" * 10, "badc0ffee" * 4 + "badc"


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    root = tmp_path_factory.mktemp("ecs")
    with ExitStack() as stack:
        moto = stack.enter_context(moto_server(root / "moto.log", failing_images=(FAILING_SHA,)))
        platform = Platform(root, {"moto": moto})
        platform.overrides.update(ECS_SETTINGS)
        platform.synth()
        platform.terraform("init", "-no-color", "-input=false")
        created = platform.apply("first")
        assert {c["action"] for c in created} == {"create"}
        # The pipeline is applied in the same run as the services it rolls.
        assert {"aws_codebuild_project", "aws_codebuild_webhook", "aws_ecr_repository"} <= {c["type"] for c in created}
        leftover = [(c["address"], c["change"]["actions"], differences(c)) for c in platform.plan("first-again")]
        assert not leftover, f"the plan after the first apply is not empty: {leftover}"
        platform.base = Base.take(platform, root / "base")   # the applied example, for the replacement audit
        yield platform


def workers_of(platform: Platform):
    return load_workers(settings_from(platform.settings_dir / ".env"))


def services_of(platform: Platform) -> dict[str, dict]:
    """Every applied ECS service as ECS describes it, by name."""
    ecs = platform.client("ecs")
    [cluster] = platform.state()["aws_ecs_cluster"]
    arns = ecs.list_services(cluster=cluster["arn"])["serviceArns"]
    # A deleted service is described as INACTIVE (then DRAINING) for a while: no longer one of the cluster's.
    return {s["serviceName"]: s for s in ecs.describe_services(cluster=cluster["arn"], services=arns)["services"]
            if s["status"] == "ACTIVE"}


def test_every_worker_runs_in_the_private_subnets_without_a_public_ip(platform):
    private = {s["SubnetId"] for s in platform.client("ec2").describe_subnets(
        Filters=[{"Name": "tag:Tier", "Values": ["private"]}])["Subnets"]}
    services = services_of(platform)
    assert sorted(services) == sorted(w.service_name for w in workers_of(platform))
    assert len(private) == 2  # one per zone (AVAILABILITY_ZONES)
    for name, service in services.items():
        network = service["networkConfiguration"]["awsvpcConfiguration"]
        assert network["assignPublicIp"] == "DISABLED", name
        assert set(network["subnets"]) == private, name


def test_task_definitions_hold_secret_references_never_values(platform):
    ecs = platform.client("ecs")
    for name, service in services_of(platform).items():
        task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
        [container] = task["containerDefinitions"]
        assert container["name"] == CONTAINER_NAME
        secrets = {s["name"]: s for s in container["secrets"]}
        assert "STRIPE_API_KEY" in secrets, name  # the example's secret (.env.workers), by reference
        for secret in secrets.values():
            assert set(secret) == {"name", "valueFrom"} and secret["valueFrom"].startswith("arn:aws:"), (name, secret)
        # A secret-looking plain variable may only name a secret the worker reads itself (DB_SECRET_ARN).
        plain = [(v["name"], v["value"]) for v in container["environment"]
                 if SECRET_KEY_RE.search(v["name"].upper()) and not v["value"].startswith("arn:aws:")]
        assert not plain, f"{name}: secret-looking variables in plain text: {plain}"


def test_the_nlb_forwards_to_the_alb_which_routes_each_host_to_its_worker(platform):
    elbv2, state = platform.client("elbv2"), platform.state()
    balancers = {lb["Type"]: lb for lb in elbv2.describe_load_balancers()["LoadBalancers"]}
    nlb, alb = balancers["network"], balancers["application"]
    assert (nlb["Scheme"], alb["Scheme"]) == ("internal", "internal")
    [nlb_listener] = elbv2.describe_listeners(LoadBalancerArn=nlb["LoadBalancerArn"])["Listeners"]
    [forward] = nlb_listener["DefaultActions"]
    [group] = elbv2.describe_target_groups(TargetGroupArns=[forward["TargetGroupArn"]])["TargetGroups"]
    assert group["TargetType"] == "alb"
    targets = elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])["TargetHealthDescriptions"]
    assert [t["Target"]["Id"] for t in targets] == [alb["LoadBalancerArn"]]

    [alb_listener] = elbv2.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]
    assert alb_listener["Port"] == group["Port"]
    rules = [r for r in elbv2.describe_rules(ListenerArn=alb_listener["ListenerArn"])["Rules"] if not r["IsDefault"]]
    services = services_of(platform)
    routed = {}
    for rule in rules:
        [condition], [action] = rule["Conditions"], rule["Actions"]
        [host] = condition["HostHeaderConfig"]["Values"]
        assert (condition["Field"], action["Type"]) == ("host-header", "forward")
        routed[host] = action["TargetGroupArn"]
    assert routed == {worker_host(w.route): services[w.service_name]["loadBalancers"][0]["targetGroupArn"]
                      for w in workers_of(platform) if not w.private}
    # The private consumer runs, and nothing routes to it.
    [private] = [w for w in workers_of(platform) if w.private]
    assert services[private.service_name]["loadBalancers"] == []
    assert len(state["aws_lb_listener_rule"]) == len(rules)


def test_the_data_stores_admit_only_the_tasks_group(platform):
    ec2, rds = platform.client("ec2"), platform.client("rds")
    [cluster] = rds.describe_db_clusters()["DBClusters"]
    [store_group] = [g["VpcSecurityGroupId"] for g in cluster["VpcSecurityGroups"]]
    [group] = ec2.describe_security_groups(GroupIds=[store_group])["SecurityGroups"]
    sources = [(p["FromPort"], pair["GroupId"]) for p in group["IpPermissions"] for pair in p["UserIdGroupPairs"]]
    assert all(not (p["IpRanges"] or p.get("Ipv6Ranges") or p.get("PrefixListIds")) for p in group["IpPermissions"])
    [(port, tasks)] = sources
    assert port == cluster["Port"]
    # ...and that one group is every worker's.
    for name, service in services_of(platform).items():
        assert tasks in service["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"], name


def test_every_log_group_is_encrypted_with_a_retention(platform):
    state = platform.state()
    keys = {key["arn"] for key in state["aws_kms_key"]}
    groups = platform.client("logs").describe_log_groups()["logGroups"]
    names = {g["logGroupName"] for g in groups}
    assert names >= {g["name"] for g in state["aws_cloudwatch_log_group"]}
    assert {f"/ecs/{w.service_name}" for w in workers_of(platform)} | {"/aws/codebuild/acme-dev-workers-image"} <= names
    for group in groups:
        assert group.get("kmsKeyId") in keys and group.get("retentionInDays"), group["logGroupName"]


def assert_the_build_rolls_every_service(platform: Platform) -> None:
    [project] = platform.client("codebuild").batch_get_projects(names=["acme-dev-workers-image"])["projects"]
    variables = {v["name"]: v["value"] for v in project["environment"]["environmentVariables"]}
    assert sorted(variables["ECS_SERVICES"].split()) == sorted(s["serviceArn"] for s in services_of(platform).values())
    assert project["webhook"]["filterGroups"][0][1] == {"type": "HEAD_REF", "pattern": "^refs/heads/main$",
                                                        "excludeMatchedPattern": False}
    # The build clones through the CodeStar connection it was given, not through stored GitHub credentials.
    assert project["source"]["auth"] == {"type": "CODECONNECTIONS", "resource": CODECONNECTIONS_ARN}


def test_the_build_rolls_every_service_of_the_cluster_on_every_push(platform):
    """What the CodeBuild project was given reads back: every service to roll, and its push webhook."""
    assert_the_build_rolls_every_service(platform)


def test_resizing_a_worker_registers_a_revision_and_updates_its_service_in_place(platform):
    toml = platform.settings_dir / "workers.toml"
    toml.write_text(toml.read_text().replace("cpu = 512\nmemory = 1024", "cpu = 1024\nmemory = 2048"))
    changes = step(platform, "resize", api_changes=False)
    by_type = sorted((c["type"], c["action"]) for c in changes)
    assert by_type == [("aws_ecs_service", "update"), ("aws_ecs_task_definition", "replace")], changes
    service = services_of(platform)["acme-dev-email-sender"]
    task = platform.client("ecs").describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    assert (task["cpu"], task["memory"], task["revision"]) == ("1024", "2048", 2)


def test_adding_a_worker_adds_its_service_rule_and_build_target(platform):
    (platform.monorepo / "apps" / "api" / "src" / "workers" / "reports.ts").write_text(BOOTSTRAP)
    changes = step(platform, "add-worker", api_changes=True)
    created = {c["type"] for c in changes if c["action"] == "create"}
    assert {"aws_ecs_service", "aws_ecs_task_definition", "aws_lb_listener_rule", "aws_lb_target_group"} <= created
    assert ("aws_codebuild_project", "update") in {(c["type"], c["action"]) for c in changes}
    assert not [c for c in changes if c["action"] in ("delete", "replace") and c["type"] != DEPLOYMENT], changes
    assert "acme-dev-reports" in services_of(platform)
    assert_the_build_rolls_every_service(platform)


def test_workers_calling_each_other_register_and_admit_each_other_then_let_go(platform):
    """calls on, then off again: in place for the services (a callee gains and loses its registration), a new
    revision for the callers (their addresses), and the namespace gone once nobody is called."""
    toml = platform.settings_dir / "workers.toml"
    before = toml.read_text()
    toml.write_text(before.replace("[billing]\n", '[billing]\ncalls = ["email-sender"]\n')
                    .replace("[email-sender]\n", '[email-sender]\ncalls = ["billing"]\n'))
    changes = step(platform, "calls-on", api_changes=False)
    assert not [c for c in changes if c["type"] == "aws_ecs_service" and c["action"] != "update"], changes
    created = sorted(c["type"] for c in changes if c["action"] == "create")
    assert created.count("aws_service_discovery_service") == 2
    assert created.count("aws_service_discovery_private_dns_namespace") == 1
    discovery = platform.client("servicediscovery")
    [namespace] = discovery.list_namespaces()["Namespaces"]
    assert namespace["Name"] == "acme-dev.calls.internal" and namespace["Type"] == "DNS_PRIVATE"
    registries = {name: s.get("serviceRegistries") for name, s in services_of(platform).items()}
    assert registries["acme-dev-billing"] and registries["acme-dev-email-sender"], registries
    ecs = platform.client("ecs")
    billing = services_of(platform)["acme-dev-billing"]
    [container] = ecs.describe_task_definition(taskDefinition=billing["taskDefinition"])["taskDefinition"][
        "containerDefinitions"]
    assert {e["name"]: e["value"] for e in container["environment"]}["WORKER_EMAIL_SENDER_URL"] == \
        "http://email-sender.acme-dev.calls.internal:3000"
    groups = {g["GroupId"]: g["GroupName"] for g in platform.client("ec2").describe_security_groups()["SecurityGroups"]}
    rules = platform.client("ec2").describe_security_group_rules()["SecurityGroupRules"]
    between = sorted((groups[r["GroupId"]], groups[r["ReferencedGroupInfo"]["GroupId"]], r["FromPort"])
                     for r in rules if not r["IsEgress"] and r.get("ReferencedGroupInfo")
                     and groups[r["GroupId"]].endswith("-tasks")
                     and groups[r["ReferencedGroupInfo"]["GroupId"]].endswith("-tasks"))
    assert between == [("acme-dev-billing-tasks", "acme-dev-email-sender-tasks", 3000),
                       ("acme-dev-email-sender-tasks", "acme-dev-billing-tasks", 3000)]

    toml.write_text(before)
    changes = step(platform, "calls-off", api_changes=False)
    assert not [c for c in changes if c["type"] == "aws_ecs_service" and c["action"] != "update"], changes
    deleted = sorted(c["type"] for c in changes if c["action"] == "delete")
    assert deleted.count("aws_service_discovery_service") == 2 and \
        "aws_service_discovery_private_dns_namespace" in deleted
    assert discovery.list_namespaces()["Namespaces"] == []
    assert not any(s.get("serviceRegistries") for s in services_of(platform).values())


def test_turning_a_worker_private_then_back_updates_its_service_in_place(platform):
    """Its target group, rule, inbound rules and request scaling go, and come back; the service (ForceNew name) is
    updated in place both ways: no load balancer, then its new target group; the stage redeploys each time."""
    toml = platform.settings_dir / "workers.toml"
    original = toml.read_text()
    before = services_of(platform)["acme-dev-billing"]
    toml.write_text(original.replace("[billing]\n", "[billing]\nprivate = true\n"))
    private = step(platform, "private", api_changes=True)
    assert [(c["address"], c["action"]) for c in private if c["type"] == "aws_ecs_service"] == \
        [("aws_ecs_service.ecs-worker-billing_service_6BC44142", "update")]
    gone = sorted((c["type"], c["address"].split(".")[1].split("_")[1]) for c in private
                  if c["action"] == "delete" and "ecs-worker-billing" in c["address"])
    assert gone == [("aws_appautoscaling_policy", "scale-on-requests"), ("aws_lb_listener_rule", "rule"),
                    ("aws_lb_target_group", "target-group"), ("aws_vpc_security_group_egress_rule", "alb-to-tasks"),
                    ("aws_vpc_security_group_ingress_rule", "from-alb")], private
    assert not [c for c in private if c["action"] in ("create", "replace") and c["type"] != DEPLOYMENT], private
    service = services_of(platform)["acme-dev-billing"]
    assert (service["serviceArn"], service["loadBalancers"]) == (before["serviceArn"], [])

    toml.write_text(original)
    back = step(platform, "public-again", api_changes=True)
    assert [c["action"] for c in back if c["type"] == "aws_ecs_service"] == ["update"]
    assert not [c for c in back if c["action"] in ("delete", "replace") and c["type"] != DEPLOYMENT], back
    service = services_of(platform)["acme-dev-billing"]
    [group] = platform.client("elbv2").describe_target_groups(
        TargetGroupArns=[service["loadBalancers"][0]["targetGroupArn"]])["TargetGroups"]
    assert service["serviceArn"] == before["serviceArn"] and group["TargetGroupName"].startswith("acme-dev-billing-")


def test_a_second_worker_folder_joins_the_one_image_cluster_and_alb(platform):
    """The second package's workers get their services beside the others, built into the same image by the same
    project (updated in place: its build command filters both packages, its Dockerfile checks both start
    scripts); nothing already applied is destroyed or replaced but the API's deployment."""
    platform.overrides["WORKERS_DIR"] = SECOND_FOLDER
    try:
        changes = step(platform, "add-worker-folder", api_changes=True)
        assert not [c for c in changes if c["action"] in ("delete", "replace") and c["type"] != DEPLOYMENT], changes
        assert {"aws_ecs_service", "aws_ecs_task_definition", "aws_lb_listener_rule", "aws_lb_target_group"} <= \
            {c["type"] for c in changes if c["action"] == "create"}
        assert ("aws_codebuild_project", "update") in {(c["type"], c["action"]) for c in changes}
        assert not {"aws_ecr_repository", "aws_codebuild_project"} & {c["type"] for c in changes
                                                                      if c["action"] == "create"}
        service = services_of(platform)["acme-dev-scheduler"]
        task = platform.client("ecs").describe_task_definition(taskDefinition=service["taskDefinition"])
        [container] = task["taskDefinition"]["containerDefinitions"]
        assert container["command"] == ["bash", "apps/jobs/scripts/start-worker.sh", "scheduler.worker.js"]
        [project] = platform.client("codebuild").batch_get_projects(names=["acme-dev-workers-image"])["projects"]
        variables = {v["name"]: v["value"] for v in project["environment"]["environmentVariables"]}
        assert "pnpm run build --filter @monorepo/api --filter @monorepo/jobs" in variables["BUILD_COMMAND"]
        assert "test -f apps/jobs/scripts/start-worker.sh" in variables["DOCKERFILE"]
        assert_the_build_rolls_every_service(platform)
    finally:
        del platform.overrides["WORKERS_DIR"]
    removed = step(platform, "remove-worker-folder", api_changes=True)
    assert ("aws_ecs_service", "delete") in {(c["type"], c["action"]) for c in removed}
    assert "acme-dev-scheduler" not in services_of(platform)


def run_roll_step(platform: Platform, folder: Path, sha: str, commit_time: int) -> subprocess.CompletedProcess:
    """The applied build project's roll step (its last command) for a commit, with its variables, through the AWS CLI."""
    if not shutil.which("aws"):
        unavailable("the AWS CLI is not on PATH (the CodeBuild image has it)")
    [project] = platform.client("codebuild").batch_get_projects(names=["acme-dev-workers-image"])["projects"]
    roll = yaml.safe_load(project["source"]["buildspec"])["phases"]["build"]["commands"][-1]
    git = {"GIT_AUTHOR_DATE": f"@{commit_time} +0000", "GIT_COMMITTER_DATE": f"@{commit_time} +0000",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"}
    folder.mkdir()
    for args in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", sha]):
        subprocess.run(["git", *args], cwd=folder, env={**os.environ, **git}, check=True)
    env = {**os.environ, **{v["name"]: v["value"] for v in project["environment"]["environmentVariables"]},
           **CREDENTIALS, "AWS_ENDPOINT_URL": platform.endpoints["moto"], "AWS_REGION": "eu-west-1",
           "AWS_DEFAULT_REGION": "eu-west-1", "AWS_PAGER": "", "CODEBUILD_RESOLVED_SOURCE_VERSION": sha,
           "CODEBUILD_START_TIME": str(int(time.time()) * 1000)}
    return subprocess.run(["bash", "-c", roll], cwd=folder, env=env, capture_output=True, text=True, timeout=600)


def test_a_failed_deployment_leaves_nothing_for_the_next_plan_to_deploy_again(platform, tmp_path):
    """A good build, then a build whose deployments fail and roll back: the parameter and each family's latest
    revision follow the rollback, each service runs that revision, and the next plan is empty (before, it would
    have moved every service back onto the failed image)."""
    ssm, ecs = platform.client("ssm"), platform.client("ecs")
    repository = ssm.get_parameter(Name="/acme-dev/workers/image")["Parameter"]["Value"].rsplit(":", 1)[0]
    first = int(time.time()) - 3600
    good = run_roll_step(platform, tmp_path / "good", GOOD_SHA, first)
    assert good.returncode == 0, good.stdout + good.stderr
    leftover = [(c["address"], differences(c)) for c in platform.plan("after-a-build")]
    assert not leftover, f"the plan after a build is not empty: {leftover}"

    failing = run_roll_step(platform, tmp_path / "failing", FAILING_SHA, first + 60)
    services = services_of(platform)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    [verdict] = [line for line in failing.stderr.splitlines() if line.startswith("Build failed: ")]
    named = verdict.split(f"the deployment of {repository}:{first + 60}-{FAILING_SHA} failed on ")[1].split(".")[0]
    assert sorted(named.split()) == sorted(services), verdict
    image = f"{repository}:{first}-{GOOD_SHA}"
    assert ssm.get_parameter(Name="/acme-dev/workers/image")["Parameter"]["Value"] == image
    for name, service in services.items():
        latest = ecs.describe_task_definition(taskDefinition=name)["taskDefinition"]   # what track_latest reads
        [container] = latest["containerDefinitions"]
        assert (container["image"], service["taskDefinition"]) == (image, latest["taskDefinitionArn"]), name
    leftover = [(c["address"], differences(c)) for c in platform.plan("after-a-failed-build")]
    assert not leftover, f"the plan after a rolled-back build is not empty: {leftover}"


# Where the release before this one kept each example worker's log group: cdktf's address of ecs-worker-<name>/logs
# (constructs_lib/fargate_service.py forgets it there with a removed block).
EARLIER_LOG_GROUPS = {"billing": "ecs-worker-billing_logs_794910BA",
                      "email-sender": "ecs-worker-email-sender_logs_589271E3",
                      "orders": "ecs-worker-orders_logs_4EB4AACC"}


def as_the_previous_release_left_it(platform: Platform) -> None:
    """The state as that release applied it: each worker's group at the worker's address, without skip_destroy."""
    path = platform.out.parent / f"terraform.{platform.stack_dir.name}.tfstate"
    text = path.read_text()
    for worker, earlier in EARLIER_LOG_GROUPS.items():
        text = text.replace(f"ecs_worker_logs_acme-dev-{worker}\"", f'{earlier}"')
    document = json.loads(text)
    for resource in document["resources"]:
        if resource["name"] in EARLIER_LOG_GROUPS.values():
            resource["instances"][0]["attributes"]["skip_destroy"] = False
    assert sum(r["name"] in EARLIER_LOG_GROUPS.values() for r in document["resources"]) == len(EARLIER_LOG_GROUPS)
    document["serial"] += 1
    path.write_text(json.dumps(document))


def log_group_changes(changes: list[dict]) -> dict[str, tuple[str, bool]]:
    return {c["address"].split(".", 1)[1]: (c["action"], c["imported"]) for c in changes
            if c["type"] == "aws_cloudwatch_log_group"}


def test_a_new_route_keeps_the_old_log_group_and_the_old_route_adopts_it_again(platform):
    """A worker's group is named after its service, which a new route renames. The route changes in the first apply
    of this release on a stack the previous one applied (the worst case: the groups move address and lose
    nothing), then changes back."""
    logs = platform.client("logs")
    toml = platform.settings_dir / "workers.toml"
    original = toml.read_text()
    as_the_previous_release_left_it(platform)
    toml.write_text(original.replace("[billing]\n", '[billing]\nroute = "invoices"\n'))
    changes = log_group_changes(step(platform, "route", api_changes=True))
    names = {g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix="/ecs/")["logGroups"]}
    assert {"/ecs/acme-dev-billing", "/ecs/acme-dev-invoices"} <= names, f"the old route's logs are gone: {changes}"
    # Forgotten where the previous release kept them (never deleted), adopted where their names put them now.
    assert changes == {**dict.fromkeys(EARLIER_LOG_GROUPS.values(), ("remove", False)),
                       "ecs_worker_logs_acme-dev-email-sender": ("update", True),
                       "ecs_worker_logs_acme-dev-orders": ("update", True),
                       "ecs_worker_logs_acme-dev-invoices": ("create", False)}

    toml.write_text(original)
    back = log_group_changes(step(platform, "route-back", api_changes=True))
    # The kept group is adopted again; the route's group is left (terraform says delete, skip_destroy keeps it).
    assert back == {"ecs_worker_logs_acme-dev-billing": ("update", True),
                    "ecs_worker_logs_acme-dev-invoices": ("delete", False)}
    names = {g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix="/ecs/")["logGroups"]}
    assert {"/ecs/acme-dev-billing", "/ecs/acme-dev-invoices"} <= names


def test_the_replacement_audit_names_every_input_that_replaces_a_resource(platform, tmp_path):
    """Each input changed alone and planned against the applied example (tests/replacement_plans.py)."""
    check_the_audit(platform, "ecs", tmp_path)
