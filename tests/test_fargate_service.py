"""The ECS cluster and one worker's Fargate service, built alone from their props (no settings, no platform stack)."""

from __future__ import annotations

import json
import re

import cdktf
import pytest

from constructs_lib.fargate_service import (CONTAINER_NAME, FargateCluster, FargateClusterProps, FargateWorkerService,
                                            FargateWorkerServiceProps)
from workers_scan.fargate import worker_host

from .helpers import one, plaintext_secrets, resources
from .terraform import assert_alone_stack_validates

ACCOUNT = "123456789012"
REGION = "eu-west-1"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/0a1b2c3d-0000-4000-8000-0123456789ab"
SECRETS_KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/5e5e5e5e-0000-4000-8000-0123456789ab"
REPOSITORY = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/globex-qa-workers"
DB_SECRET = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:rds!cluster-0a1b2c3d-AbCdEf"
API_KEY = f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/globex/qa/payments-api-key"
SUBNETS = ("subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2")
VPC = "vpc-0bbbbbbbbbbbbbbb1"
START = ("bash", "apps/api/scripts/start-worker.sh", "report-generator.ts")
DATA_ACCESS = ({"Sid": "ConnectAsWorker", "Effect": "Allow", "Action": "rds-db:connect",
                "Resource": f"arn:aws:rds-db:eu-west-1:{ACCOUNT}:dbuser:cluster-ABC/worker"},)


def build(worker_overrides: dict | None = None, cluster_overrides: dict | None = None) -> cdktf.TerraformStack:
    stack = cdktf.TerraformStack(cdktf.Testing.app(), "fargate-alone")
    cluster = FargateCluster(stack, "ecs", props=FargateClusterProps(**{
        "name_prefix": "globex-qa", "vpc_id": VPC, "private_subnet_ids": SUBNETS,
        "logs_kms_key_arn": KEY, "log_retention_days": 14, **(cluster_overrides or {})}))
    cluster.admit("sg-0ccccccccccccccc1", after=[])   # the NLB's group
    FargateWorkerService(stack, "report-generator", props=FargateWorkerServiceProps(**{
        "name": "globex-qa-report-generator", "route": "report-generator", "region": REGION,
        "account_id": ACCOUNT, "cluster_arn": cluster.cluster_arn, "cluster_name": cluster.cluster_name,
        "vpc_id": VPC, "private_subnet_ids": SUBNETS, "listener_arn": cluster.listener_arn,
        "load_balancer_arn_suffix": cluster.load_balancer_arn_suffix,
        "alb_security_group_id": cluster.security_group_id, "port": 8080, "cpu": 512, "memory": 2048,
        "command": START, "logs_kms_key_arn": KEY, "log_retention_days": 14, "min_tasks": 2, "max_tasks": 6,
        "requests_per_target": 900, "image_parameter_name": "/globex-qa/workers/image", "repository_arn": REPOSITORY,
        "health_check_path": "/health", "environment": {"NODE_ENV": "production", "PORT": "8080"},
        "secrets": {"DB_SECRET": DB_SECRET, "PAYMENTS_API_KEY": API_KEY}, "kms_key_arns": (SECRETS_KEY,),
        "statements": DATA_ACCESS, **(worker_overrides or {})}))
    return stack


def synth(**overrides) -> dict:
    return json.loads(cdktf.Testing.synth(build(**overrides)))


@pytest.fixture(scope="module")
def stack() -> dict:
    return synth()


def ref(stack: dict, rtype: str, attribute: str, construct: str = "") -> str:
    """`${<type>.<name>.<attribute>}` of the one resource of a type (or the one whose name starts with `construct`)."""
    names = [n for n in resources(stack, rtype) if n.startswith(construct)]
    assert len(names) == 1, f"{rtype} {construct}: {names}"
    return f"${{{rtype}.{names[0]}.{attribute}}}"


def by_construct(stack: dict, rtype: str, construct: str) -> dict:
    [(_, value)] = [(n, v) for n, v in resources(stack, rtype).items() if n.startswith(construct)]
    return value


def policy(stack: dict, name: str) -> dict[str, dict]:
    [document] = [json.loads(p["policy"]) for p in resources(stack, "aws_iam_role_policy").values()
                  if p["name"] == name]
    return {s.get("Sid", str(i)): s for i, s in enumerate(document["Statement"])}


def container(stack: dict) -> dict:
    [definition] = json.loads(one(stack, "aws_ecs_task_definition")["container_definitions"])
    return definition


# --- the cluster and the ALB -------------------------------------------------------------------------------------

def test_the_cluster_has_container_insights_on(stack):
    cluster = one(stack, "aws_ecs_cluster")
    assert cluster["name"] == "globex-qa"
    assert cluster["setting"] == [{"name": "containerInsights", "value": "enabled"}]


def test_container_insights_writes_to_a_group_made_first_encrypted_bounded_and_adopted_if_ecs_made_it():
    """ECS would make /aws/ecs/containerinsights/<cluster>/performance itself: unencrypted, kept forever."""
    from constructs_lib.adoption import Adoption

    built = cdktf.TerraformStack(cdktf.Testing.app(), "insights")
    cluster = FargateCluster(built, "ecs", props=FargateClusterProps(
        name_prefix="globex-qa", vpc_id=VPC, private_subnet_ids=SUBNETS, logs_kms_key_arn=KEY, log_retention_days=14))
    synthesized = json.loads(cdktf.Testing.synth(built))
    name = "/aws/ecs/containerinsights/globex-qa/performance"
    group = synthesized["resource"]["aws_cloudwatch_log_group"]["ecs_container_insights_logs"]
    assert (group["name"], group["kms_key_id"], group["retention_in_days"]) == (name, KEY, 14)
    assert "aws_cloudwatch_log_group.ecs_container_insights_logs" in one(synthesized, "aws_ecs_cluster")["depends_on"]
    assert cluster.adoptions == [Adoption(
        to="aws_cloudwatch_log_group.ecs_container_insights_logs", name=name,
        found="data.aws_cloudwatch_log_groups.ecs_container_insights_logs_existing.log_group_names")]
    assert synthesized["data"]["aws_cloudwatch_log_groups"]["ecs_container_insights_logs_existing"] == {
        "log_group_name_prefix": name}


def test_the_alb_is_internal_in_the_private_subnets_behind_its_own_group(stack):
    alb = one(stack, "aws_lb")
    assert (alb["internal"], alb["load_balancer_type"]) == (True, "application")
    assert alb["subnets"] == list(SUBNETS)
    assert alb["security_groups"] == [ref(stack, "aws_security_group", "id", "ecs_")]
    assert alb["drop_invalid_header_fields"] is True
    assert len(alb["name"]) <= 32
    assert alb["enable_deletion_protection"] is False
    assert one(synth(cluster_overrides={"deletion_protection": True}), "aws_lb")["enable_deletion_protection"] is True


def test_the_alb_admits_only_the_group_it_is_given_on_the_listener_port_and_no_cidr(stack):
    alb_group = ref(stack, "aws_security_group", "id", "ecs_")
    ingress = [r for r in resources(stack, "aws_vpc_security_group_ingress_rule").values()
               if r["security_group_id"] == alb_group]
    assert [(r.get("referenced_security_group_id"), r.get("cidr_ipv4"), r["from_port"], r["to_port"],
             r["ip_protocol"]) for r in ingress] == [("sg-0ccccccccccccccc1", None, 80, 80, "tcp")]
    wider = synth(cluster_overrides={"listener_port": 8443})
    assert [(r.get("referenced_security_group_id"), r["from_port"]) for r in
            resources(wider, "aws_vpc_security_group_ingress_rule").values() if r["security_group_id"] == alb_group] \
        == [("sg-0ccccccccccccccc1", 8443)]


def test_a_host_no_worker_claims_gets_a_404_and_tls_needs_a_certificate(stack):
    listener = one(stack, "aws_lb_listener")
    assert (listener["port"], listener["protocol"]) == (80, "HTTP") and "certificate_arn" not in listener
    [default] = listener["default_action"]
    assert default["type"] == "fixed-response" and default["fixed_response"]["status_code"] == "404"
    certificate = f"arn:aws:acm:eu-west-1:{ACCOUNT}:certificate/0a1b2c3d-0000-4000-8000-0123456789ab"
    tls = one(synth(cluster_overrides={"certificate_arn": certificate, "listener_port": 443}), "aws_lb_listener")
    assert (tls["port"], tls["protocol"], tls["certificate_arn"]) == (443, "HTTPS", certificate)
    assert tls["ssl_policy"].startswith("ELBSecurityPolicy-TLS13")


# --- the worker's service ------------------------------------------------------------------------------------------

def test_the_service_runs_on_fargate_in_the_private_subnets_without_a_public_ip(stack):
    service = one(stack, "aws_ecs_service")
    assert (service["launch_type"], service["name"]) == ("FARGATE", "globex-qa-report-generator")
    network = service["network_configuration"]
    assert network["subnets"] == list(SUBNETS) and network["assign_public_ip"] is False
    assert network["security_groups"] == [ref(stack, "aws_security_group", "id", "report-generator_")]
    assert service["cluster"] == ref(stack, "aws_ecs_cluster", "arn")


def test_a_failed_deployment_rolls_back_and_a_rollout_never_drops_below_the_running_count(stack):
    service = one(stack, "aws_ecs_service")
    assert service["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
    assert (service["deployment_minimum_healthy_percent"], service["deployment_maximum_percent"]) == (100, 200)


def test_terraform_leaves_the_task_count_to_auto_scaling_but_ships_its_own_task_definition_changes(stack):
    service = one(stack, "aws_ecs_service")
    assert service["lifecycle"]["ignore_changes"] == ["desired_count"]
    assert service["desired_count"] == 2
    assert service["task_definition"] == ref(stack, "aws_ecs_task_definition", "arn")
    # The pipeline's revisions become the resource's: its next plan compares against the image that runs.
    assert one(stack, "aws_ecs_task_definition")["track_latest"] is True


def test_security_groups_chain_nlb_to_alb_to_tasks_only(stack):
    alb_group = ref(stack, "aws_security_group", "id", "ecs_")
    task_group = ref(stack, "aws_security_group", "id", "report-generator_")
    ingress = resources(stack, "aws_vpc_security_group_ingress_rule").values()
    into_tasks = [r for r in ingress if r["security_group_id"] == task_group]
    assert [(r["referenced_security_group_id"], r["from_port"], r["to_port"]) for r in into_tasks] == [
        (alb_group, 8080, 8080)]
    assert not any("cidr_ipv4" in r for r in into_tasks)
    egress = resources(stack, "aws_vpc_security_group_egress_rule").values()
    out_of_alb = [r for r in egress if r["security_group_id"] == alb_group]
    assert [(r.get("referenced_security_group_id"), r["from_port"]) for r in out_of_alb] == [(task_group, 8080)]
    out_of_tasks = [(r.get("cidr_ipv4"), r["from_port"]) for r in egress if r["security_group_id"] == task_group]
    assert out_of_tasks == [("0.0.0.0/0", 443)]
    assert all("ingress" not in g and "egress" not in g for g in resources(stack, "aws_security_group").values())


def test_the_rule_routes_the_workers_host_to_its_target_group(stack):
    rule = one(stack, "aws_lb_listener_rule")
    assert rule["listener_arn"] == ref(stack, "aws_lb_listener", "arn")
    assert rule["condition"] == [{"host_header": {"values": ["report-generator.workers.internal"]}}]
    assert rule["action"] == [{"type": "forward", "target_group_arn": ref(stack, "aws_lb_target_group", "arn")}]
    assert worker_host("report-generator") == "report-generator.workers.internal"
    # ECS refuses a target group that no listener forwards to yet.
    assert ref(stack, "aws_lb_listener_rule", "")[2:-2] in one(stack, "aws_ecs_service")["depends_on"]


def test_the_target_group_checks_the_workers_health_path_and_is_replaced_beside_the_old(stack):
    group = one(stack, "aws_lb_target_group")
    assert (group["target_type"], group["port"], group["protocol"], group["vpc_id"]) == ("ip", 8080, "HTTP", VPC)
    assert group["health_check"]["path"] == "/health" and group["health_check"]["matcher"] == "200-399"
    assert group["lifecycle"] == {"create_before_destroy": True}
    # Shortened to ELB's 32 characters (with a hash of the full name), then a hash of what replaces it.
    assert re.fullmatch(r"globex-qa-report-g-[0-9a-f]{6}-[0-9a-f]{6}", group["name"]) and len(group["name"]) <= 32
    moved = one(synth(worker_overrides={"port": 3000}), "aws_lb_target_group")["name"]
    assert moved[:-6] == group["name"][:-6] and moved != group["name"]  # old and new coexist while the rule moves
    elsewhere = one(synth(worker_overrides={"network_key": "vpc-0ccc 10.40.0.0/16"}), "aws_lb_target_group")["name"]
    assert elsewhere not in (group["name"], moved)
    service = one(stack, "aws_ecs_service")
    assert service["load_balancer"] == [{"target_group_arn": ref(stack, "aws_lb_target_group", "arn"),
                                         "container_name": "worker", "container_port": 8080}]


def test_without_a_health_path_any_http_answer_on_root_is_healthy():
    check = one(synth(worker_overrides={"health_check_path": None}), "aws_lb_target_group")["health_check"]
    assert (check["path"], check["matcher"]) == ("/", "200-499")


def test_scaling_tracks_requests_per_task_and_cpu_between_min_and_max(stack):
    target = one(stack, "aws_appautoscaling_target")
    assert (target["min_capacity"], target["max_capacity"]) == (2, 6)
    assert target["resource_id"] == (f"service/{one(stack, 'aws_ecs_cluster')['name']}/"
                                     f"{ref(stack, 'aws_ecs_service', 'name')}")
    assert target["scalable_dimension"] == "ecs:service:DesiredCount"
    policies = {p["name"]: p["target_tracking_scaling_policy_configuration"]
                for p in resources(stack, "aws_appautoscaling_policy").values()}
    requests = policies["globex-qa-report-generator-requests"]
    assert requests["target_value"] == 900
    assert requests["predefined_metric_specification"] == {
        "predefined_metric_type": "ALBRequestCountPerTarget",
        "resource_label": f"{ref(stack, 'aws_lb', 'arn_suffix')}/{ref(stack, 'aws_lb_target_group', 'arn_suffix')}"}
    cpu = policies["globex-qa-report-generator-cpu"]
    assert cpu["predefined_metric_specification"] == {"predefined_metric_type": "ECSServiceAverageCPUUtilization"}
    assert cpu["target_value"] == 70
    assert all(p["resource_id"] == ref(stack, "aws_appautoscaling_target", "resource_id")
               for p in resources(stack, "aws_appautoscaling_policy").values())


# --- the task definition -------------------------------------------------------------------------------------------

def test_the_task_is_a_fargate_awsvpc_task_of_the_given_size(stack):
    task = one(stack, "aws_ecs_task_definition")
    assert (task["cpu"], task["memory"], task["network_mode"]) == ("512", "2048", "awsvpc")
    assert task["requires_compatibilities"] == ["FARGATE"] and task["family"] == "globex-qa-report-generator"
    assert task["task_role_arn"] == ref(stack, "aws_iam_role", "arn", "report-generator_task-role")
    assert task["execution_role_arn"] == ref(stack, "aws_iam_role", "arn", "report-generator_execution-role")


def test_the_worker_container_runs_the_start_command_on_the_pipelines_image(stack):
    worker = container(stack)
    assert worker["name"] == CONTAINER_NAME == "worker"  # what the pipeline's build re-points
    assert worker["command"] == list(START)
    assert worker["portMappings"] == [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}]
    [(name, parameter)] = stack["data"]["aws_ssm_parameter"].items()
    assert parameter["name"] == "/globex-qa/workers/image"
    # insecure_value: `value` is sensitive, and would hide the whole container definition from plans.
    assert worker["image"] == f"${{data.aws_ssm_parameter.{name}.insecure_value}}"
    fixed = synth(worker_overrides={"image_parameter_name": None, "image": "public.ecr.aws/x/y:1"})
    assert container(fixed)["image"] == "public.ecr.aws/x/y:1" and "aws_ssm_parameter" not in fixed["data"]
    with pytest.raises(ValueError, match="exactly one of image and image_parameter_name"):
        synth(worker_overrides={"image": "public.ecr.aws/x/y:1"})


def test_variables_are_environment_and_secrets_are_arns_never_values(stack):
    worker = container(stack)
    assert worker["environment"] == [{"name": "NODE_ENV", "value": "production"}, {"name": "PORT", "value": "8080"}]
    assert worker["secrets"] == [{"name": "DB_SECRET", "valueFrom": DB_SECRET},
                                 {"name": "PAYMENTS_API_KEY", "valueFrom": API_KEY}]
    assert plaintext_secrets(stack) == []
    assert "aws_secretsmanager_secret_version" not in stack["resource"]


WORKER_LOGS = "ecs_worker_logs_globex-qa-report-generator"


def test_logs_go_to_the_workers_own_encrypted_group_with_a_retention(stack):
    group = stack["resource"]["aws_cloudwatch_log_group"][WORKER_LOGS]
    assert (group["name"], group["kms_key_id"], group["retention_in_days"]) == (
        "/ecs/globex-qa-report-generator", KEY, 14)
    assert container(stack)["logConfiguration"] == {"logDriver": "awslogs", "options": {
        "awslogs-group": f"${{aws_cloudwatch_log_group.{WORKER_LOGS}.name}}", "awslogs-region": "eu-west-1",
        "awslogs-stream-prefix": "worker"}}


def test_a_workers_log_group_outlives_its_name_and_is_adopted_when_the_name_comes_back():
    """A new route renames the group (ForceNew): skip_destroy keeps the old one and its logs; its address follows
    its name, so the import block that adopts a kept group never meets another group at that address; where the
    previous release kept it (the construct's own address), a removed block forgets it, never destroys it."""
    from constructs_lib.adoption import Adoption, imports_tf

    built = build()
    synthesized = json.loads(cdktf.Testing.synth(built))
    name = "/ecs/globex-qa-report-generator"
    assert synthesized["resource"]["aws_cloudwatch_log_group"][WORKER_LOGS]["skip_destroy"] is True
    [service] = [c for c in built.node.children if isinstance(c, FargateWorkerService)]
    earlier = cdktf.TerraformStack.of(service).get_logical_id(service.node.find_child("logs"))
    assert earlier.startswith("report-generator_logs_")
    assert service.adoptions == [Adoption(
        to=f"aws_cloudwatch_log_group.{WORKER_LOGS}", name=name,
        found=f"data.aws_cloudwatch_log_groups.{WORKER_LOGS}_existing.log_group_names",
        previous_address=f"aws_cloudwatch_log_group.{earlier}")]
    assert synthesized["data"]["aws_cloudwatch_log_groups"][f"{WORKER_LOGS}_existing"] == {"log_group_name_prefix": name}
    text = imports_tf(tuple(service.adoptions))
    assert f"removed {{\n  from = aws_cloudwatch_log_group.{earlier}\n  lifecycle {{\n    destroy = false\n  }}\n}}" in text


# --- the roles -----------------------------------------------------------------------------------------------------

def test_the_execution_role_pulls_its_repository_writes_its_log_group_and_reads_exactly_its_secrets(stack):
    statements = policy(stack, "start-tasks")
    assert {sid: s["Resource"] for sid, s in statements.items()} == {
        "WriteItsLogGroup": f"${{aws_cloudwatch_log_group.{WORKER_LOGS}.arn}}:*",
        "LogInToEcr": "*",  # ecr:GetAuthorizationToken has no resource-level permissions
        "PullFromItsRepository": REPOSITORY,
        "ReadSecrets": [DB_SECRET],
        "ReadParameters": [API_KEY],
        "DecryptSecrets": [SECRETS_KEY],
    }
    assert statements["LogInToEcr"]["Action"] == "ecr:GetAuthorizationToken"
    assert set(statements["PullFromItsRepository"]["Action"]) == {
        "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}
    assert not any("*" in str(s["Action"]) for s in statements.values())
    trust = json.loads(by_construct(stack, "aws_iam_role", "report-generator_execution-role")["assume_role_policy"])
    assert [s["Principal"] for s in trust["Statement"]] == [{"Service": "ecs-tasks.amazonaws.com"}]
    # Tasks start only once the role may read what they need.
    assert ref(stack, "aws_iam_role_policy", "", "report-generator_execution-policy")[2:-2] in \
        one(stack, "aws_ecs_service")["depends_on"]


def test_without_a_repository_the_execution_role_has_no_ecr_permission():
    alone = synth(worker_overrides={"repository_arn": None, "image_parameter_name": None,
                                    "image": "public.ecr.aws/x/y:1"})
    assert not [s for s in policy(alone, "start-tasks").values() if "ecr:" in str(s["Action"])]
    assert {s["Sid"] for s in policy(alone, "start-tasks").values()} == {
        "WriteItsLogGroup", "ReadSecrets", "ReadParameters", "DecryptSecrets"}


def test_the_task_role_is_as_narrow_as_the_app_runner_instance_role(stack):
    role = by_construct(stack, "aws_iam_role", "report-generator_task-role")
    [trust] = json.loads(role["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT},
                                  "ArnLike": {"aws:SourceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:*"}}
    attached = {p["name"] for p in resources(stack, "aws_iam_role_policy").values()
                if p["role"] == ref(stack, "aws_iam_role", "id", "report-generator_task-role")}
    assert attached == {"xray-tracing", "data-access", "read-runtime-secrets"}
    assert [s["Resource"] for s in policy(stack, "xray-tracing").values()] == ["*"]
    assert list(policy(stack, "data-access").values()) == list(DATA_ACCESS)
    assert {sid: s["Resource"] for sid, s in policy(stack, "read-runtime-secrets").items()} == {
        "ReadSecrets": [DB_SECRET], "ReadParameters": [API_KEY], "DecryptSecrets": [SECRETS_KEY]}


def test_the_same_props_synthesize_byte_identical_json():
    assert cdktf.Testing.synth(build()) == cdktf.Testing.synth(build())


# --- terraform -----------------------------------------------------------------------------------------------------

def test_terraform_validates_the_cluster_and_a_worker_without_warnings(tmp_path):
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    stack = build()
    AwsProvider(stack, "aws", region="eu-west-1")
    assert_alone_stack_validates(stack, tmp_path)


def test_a_json_key_reference_is_passed_whole_to_ecs_but_its_roles_name_the_secret_itself():
    """ECS resolves `<secret arn>:<json-key>::` itself; IAM knows only the secret's ARN."""
    reference = f"{DB_SECRET}:password::"
    alone = synth(worker_overrides={"secrets": {"DB_PASSWORD": reference}})
    [container] = json.loads(one(alone, "aws_ecs_task_definition")["container_definitions"])
    assert container["secrets"] == [{"name": "DB_PASSWORD", "valueFrom": reference}]
    for role_policy in ("start-tasks", "read-runtime-secrets"):
        assert policy(alone, role_policy)["ReadSecrets"]["Resource"] == [DB_SECRET], role_policy


# --- a private worker ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def private() -> dict:
    return synth(worker_overrides={"private": True})


def test_a_private_worker_has_no_target_group_rule_or_load_balancer_on_its_service(private):
    for rtype in ("aws_lb_target_group", "aws_lb_listener_rule"):
        assert rtype not in private["resource"], rtype
    service = one(private, "aws_ecs_service")
    assert service.get("load_balancer") in (None, [])
    assert service["depends_on"] == [f"aws_iam_role_policy.{n}" for n in resources(private, "aws_iam_role_policy")
                                     if resources(private, "aws_iam_role_policy")[n]["name"] == "start-tasks"]


def test_a_private_workers_tasks_admit_nothing_and_the_alb_does_not_reach_them(private):
    assert "aws_vpc_security_group_ingress_rule" not in {
        t for t, items in private["resource"].items() if any(n.startswith("report-generator") for n in items)}
    own = ref(private, "aws_security_group", "id", "report-generator")
    rules = {**resources(private, "aws_vpc_security_group_ingress_rule"),
             **resources(private, "aws_vpc_security_group_egress_rule")}
    assert [r for r in rules.values() if r.get("referenced_security_group_id") == own] == []
    assert [r for r in resources(private, "aws_vpc_security_group_ingress_rule").values()
            if r["security_group_id"] == own] == []


def test_a_private_worker_keeps_its_tasks_group_as_is_since_its_description_is_force_new(stack, private):
    assert by_construct(private, "aws_security_group", "report-generator") == \
        by_construct(stack, "aws_security_group", "report-generator")


def test_a_private_worker_scales_on_cpu_alone(private):
    policies = resources(private, "aws_appautoscaling_policy").values()
    assert [p["target_tracking_scaling_policy_configuration"]["predefined_metric_specification"]
            ["predefined_metric_type"] for p in policies] == ["ECSServiceAverageCPUUtilization"]


def test_a_private_workers_health_path_is_its_containers_health_check_through_node(private):
    check = container(private)["healthCheck"]
    assert check["command"][:3] == ["CMD", "node", "-e"]
    assert "fetch('http://127.0.0.1:8080/health',{signal:AbortSignal.timeout(4000)})" in check["command"][3]
    assert (check["interval"], check["timeout"], check["retries"], check["startPeriod"]) == (10, 5, 5, 60)
    assert "healthCheck" not in container(synth(worker_overrides={"private": True, "health_check_path": None}))


def test_a_routed_worker_has_no_container_health_check_its_target_group_checks_it(stack):
    assert "healthCheck" not in container(stack)


def test_the_container_health_check_passes_on_a_2xx_and_fails_on_an_error_or_no_answer():
    import http.server
    import shutil
    import subprocess
    import threading

    from constructs_lib.fargate_service import container_health_check

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/health" else 503)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    node, port = shutil.which("node"), server.server_address[1]   # jsii runs on node: it is here
    try:
        def exit_code(port: int, path: str) -> int:
            command = container_health_check(port, path)["command"]   # ["CMD", "node", "-e", probe]
            return subprocess.run([node, *command[2:]], timeout=30).returncode
        assert exit_code(port, "/health") == 0
        assert exit_code(port, "/other") == 1
        server.shutdown()
        assert exit_code(port, "/health") == 1   # accepted, never answered: its own deadline fails it
    finally:
        server.shutdown()
        server.server_close()
    assert exit_code(port, "/health") == 1   # nothing listens any more


def test_terraform_validates_a_private_worker_without_warnings(tmp_path):
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    stack = build(worker_overrides={"private": True})
    AwsProvider(stack, "aws", region="eu-west-1")
    assert_alone_stack_validates(stack, tmp_path)
