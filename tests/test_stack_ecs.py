"""The example on COMPUTE=ecs: the same private request path, ending in one Fargate service per worker.

Built once per session (conftest's ecs_example_stack); the App Runner stack of the same example is the reference
for everything COMPUTE must not move.
"""

from __future__ import annotations

import json

import pytest

from constructs_lib.compute import container_command
from constructs_lib.data_stores import (AURORA_CLUSTER_ADDRESS, AURORA_READER_ADDRESS, AURORA_WRITER_ADDRESS,
                                        REDIS_ADDRESS)
from constructs_lib.fargate_service import CONTAINER_NAME
from workers_scan.fargate import worker_host

from .helpers import plaintext_secrets, resources
from .terraform import assert_valid_without_warnings

STATEFUL = {"aws_rds_cluster": AURORA_CLUSTER_ADDRESS, "aws_elasticache_replication_group": REDIS_ADDRESS}


def by(stack: dict, rtype: str, key: str) -> dict[str, dict]:
    return {body[key]: body for body in resources(stack, rtype).values()}


def address_of(stack: dict, rtype: str, body: dict) -> str:
    [name] = [n for n, b in resources(stack, rtype).items() if b is body]
    return f"{rtype}.{name}"


def test_nothing_of_app_runner_is_created(ecs_example_stack):
    types = set(ecs_example_stack["resource"]) | set(ecs_example_stack.get("data", {}))
    assert not [t for t in types if "apprunner" in t]
    endpoints = resources(ecs_example_stack, "aws_vpc_endpoint")
    assert not [e for e in endpoints.values() if "apprunner" in e["service_name"]]
    # ...nor is the zone lookup limited to zones offering App Runner's endpoint (a region may have no App Runner).
    assert "aws_vpc_endpoint_service" not in ecs_example_stack.get("data", {})


def test_one_fargate_service_per_worker_in_the_private_subnets(ecs_example_stack, ecs_example_workers):
    services = by(ecs_example_stack, "aws_ecs_service", "name")
    assert sorted(services) == sorted(w.service_name for w in ecs_example_workers)
    for service in services.values():
        assert service["launch_type"] == "FARGATE"
        assert service["network_configuration"]["assign_public_ip"] is False
        assert service["deployment_circuit_breaker"] == {"enable": True, "rollback": True}


def test_each_task_runs_the_start_command_of_its_worker_file_on_the_port_contract(ecs_example_stack,
                                                                                    ecs_example_workers):
    tasks = by(ecs_example_stack, "aws_ecs_task_definition", "family")
    for worker in ecs_example_workers:
        task = tasks[worker.service_name]
        [container] = json.loads(task["container_definitions"])
        assert container["name"] == CONTAINER_NAME
        assert container["command"] == ["bash", "apps/api/scripts/start-worker.sh", worker.worker_file]
        assert container["portMappings"] == [{"containerPort": 3000, "hostPort": 3000, "protocol": "tcp"}]
        variables = {v["name"]: v["value"] for v in container["environment"]}
        assert variables["PORT"] == "3000" and variables["WORKER_NAME"] == worker.name
        assert variables["DB_HOST"] == f"${{aws_rds_cluster.{AURORA_CLUSTER_ADDRESS}.endpoint}}"
        secrets = {s["name"]: s["valueFrom"] for s in container["secrets"]}
        assert secrets.keys() == {*worker.environment.secrets, "DB_SECRET"}
        assert (task["cpu"], task["memory"]) == (str(worker.cpu), str(worker.memory))
        # Every worker runs the one image the build last pushed, read once from its parameter.
        [read] = ecs_example_stack["data"]["aws_ssm_parameter"]
        assert container["image"] == f"${{data.aws_ssm_parameter.{read}.insecure_value}}"


def test_no_secret_value_is_in_the_ecs_json(ecs_example_stack):
    assert plaintext_secrets(ecs_example_stack) == []


def test_a_start_command_with_shell_syntax_runs_through_bash_and_plain_words_run_exec_form():
    assert container_command("bash apps/api/scripts/start-worker.sh orders.ts") == (
        "bash", "apps/api/scripts/start-worker.sh", "orders.ts")
    assert container_command("node 'dist/my worker.js'") == ("node", "dist/my worker.js")
    for shell in ("cd apps/api && node dist/orders.js", "node dist/$WORKER.js", "node a.js > /tmp/log"):
        assert container_command(shell) == ("bash", "-c", shell)


def test_the_api_reaches_each_worker_by_host_through_the_same_vpc_link(ecs_example_stack, ecs_example_workers):
    integrations = resources(ecs_example_stack, "aws_api_gateway_integration")
    uris = sorted(i["uri"] for i in integrations.values())
    assert uris == sorted(f"http://{worker_host(w.route)}{path}" for w in ecs_example_workers if not w.private
                          for path in ("/", "/{proxy}"))
    [link] = resources(ecs_example_stack, "aws_api_gateway_vpc_link").values()
    assert {i["connection_type"] for i in integrations.values()} == {"VPC_LINK"}
    [nlb] = [lb for lb in resources(ecs_example_stack, "aws_lb").values() if lb["load_balancer_type"] == "network"]
    assert link["target_arns"] == [f"${{{address_of(ecs_example_stack, 'aws_lb', nlb)}.arn}}"]
    assert nlb["internal"] is True


def test_the_nlb_forwards_tcp_to_the_internal_alb_on_its_listener_port(ecs_example_stack):
    [alb_targets] = [g for g in resources(ecs_example_stack, "aws_lb_target_group").values()
                     if g["target_type"] == "alb"]
    assert (alb_targets["protocol"], alb_targets["port"]) == ("TCP", 80)
    [attachment] = resources(ecs_example_stack, "aws_lb_target_group_attachment").values()
    [alb] = [lb for lb in resources(ecs_example_stack, "aws_lb").values() if lb["load_balancer_type"] == "application"]
    assert attachment["target_id"] == f"${{{address_of(ecs_example_stack, 'aws_lb', alb)}.arn}}"
    assert alb["internal"] is True and alb["drop_invalid_header_fields"] is True
    listeners = {l["protocol"]: l for l in resources(ecs_example_stack, "aws_lb_listener").values()}
    assert listeners["TCP"]["port"] == listeners["HTTP"]["port"] == 80
    # AWS takes an ALB as a target only once it listens on that port.
    assert any("aws_lb_listener" in d for d in attachment["depends_on"])


def test_each_routed_worker_has_one_host_rule_to_its_own_target_group(ecs_example_stack, ecs_example_workers):
    routed = [w for w in ecs_example_workers if not w.private]
    assert len(routed) < len(ecs_example_workers)   # the private one has neither
    rules = resources(ecs_example_stack, "aws_lb_listener_rule").values()
    hosts = sorted(r["condition"][0]["host_header"]["values"][0] for r in rules)
    assert hosts == sorted(worker_host(w.route) for w in routed)
    targets = {r["action"][0]["target_group_arn"] for r in rules}
    assert len(targets) == len(routed)
    services = resources(ecs_example_stack, "aws_ecs_service")
    assert sorted(s["name"] for s in services.values() if s.get("load_balancer")) == \
        sorted(w.service_name for w in routed)
    assert len(services) == len(ecs_example_workers)


def test_the_data_stores_admit_only_the_tasks_group_on_their_port(ecs_example_stack):
    groups = by(ecs_example_stack, "aws_security_group", "name")
    tasks = address_of(ecs_example_stack, "aws_security_group", groups["acme-dev-ecs-workers"])
    ingress = resources(ecs_example_stack, "aws_vpc_security_group_ingress_rule").values()
    for store, port in (("acme-dev-aurora", 5432), ("acme-dev-redis", 6379)):
        store_group = address_of(ecs_example_stack, "aws_security_group", groups[store])
        rules = [r for r in ingress if r["security_group_id"] == f"${{{store_group}.id}}"]
        assert [(r["referenced_security_group_id"], r["from_port"], r["to_port"]) for r in rules] == [
            (f"${{{tasks}.id}}", port, port)]
    services = resources(ecs_example_stack, "aws_ecs_service").values()
    assert all(f"${{{tasks}.id}}" in s["network_configuration"]["security_groups"] for s in services)


def test_the_tasks_reach_the_internet_only_on_the_egress_ports_and_always_https(ecs_example_stack,
                                                                                ecs_example_settings):
    egress = resources(ecs_example_stack, "aws_vpc_security_group_egress_rule").values()
    open_ports = sorted(r["from_port"] for r in egress if r.get("cidr_ipv4") == "0.0.0.0/0")
    assert open_ports == sorted({443, *ecs_example_settings.worker_egress_ports})


def test_one_build_pipeline_rolls_every_worker_service(ecs_example_stack, ecs_example_workers):
    [project] = resources(ecs_example_stack, "aws_codebuild_project").values()
    env = {v["name"]: v["value"] for v in project["environment"]["environment_variable"]}
    services = resources(ecs_example_stack, "aws_ecs_service")
    assert sorted(env["ECS_SERVICES"].split()) == sorted(f"${{aws_ecs_service.{n}.id}}" for n in services)
    assert project["source"]["auth"]["resource"].startswith("arn:aws:codeconnections:eu-west-1:")
    assert env["BUILD_CONTEXT"] == "."
    assert len(resources(ecs_example_stack, "aws_codebuild_webhook")) == 1
    assert len(resources(ecs_example_stack, "aws_ecr_repository")) == 1


def test_switching_compute_moves_no_stateful_resource_and_changes_none(example_stack, ecs_example_stack):
    for rtype, address in STATEFUL.items():
        apprunner = example_stack["resource"][rtype][address]
        ecs = ecs_example_stack["resource"][rtype][address]
        assert ecs == apprunner, rtype
    for address in (AURORA_WRITER_ADDRESS, AURORA_READER_ADDRESS):
        assert (example_stack["resource"]["aws_rds_cluster_instance"].get(address)
                == ecs_example_stack["resource"]["aws_rds_cluster_instance"].get(address))
    for rtype in ("aws_vpc", "aws_nat_gateway", "aws_wafv2_web_acl", "aws_kms_key"):
        assert example_stack["resource"][rtype] == ecs_example_stack["resource"][rtype], rtype
    # Subnets look their zone up differently (App Runner's only among zones offering its endpoint), but keep
    # the zone they were created in: the switch plans no change to them.
    subnets = resources(example_stack, "aws_subnet")
    assert subnets.keys() == resources(ecs_example_stack, "aws_subnet").keys()
    for name, subnet in resources(ecs_example_stack, "aws_subnet").items():
        assert "availability_zone" in subnet["lifecycle"]["ignore_changes"]
        assert ({k: v for k, v in subnet.items() if k != "availability_zone"}
                == {k: v for k, v in subnets[name].items() if k != "availability_zone"})


def test_the_nlb_and_the_vpc_link_keep_their_addresses_across_backends(example_stack, ecs_example_stack):
    for rtype in ("aws_api_gateway_vpc_link", "aws_api_gateway_rest_api"):
        assert resources(example_stack, rtype).keys() == resources(ecs_example_stack, rtype).keys()
    nlbs = [n for n, lb in resources(example_stack, "aws_lb").items() if lb["load_balancer_type"] == "network"]
    assert set(nlbs) <= resources(ecs_example_stack, "aws_lb").keys()
    assert (example_stack["resource"]["aws_lb"][nlbs[0]]
            == ecs_example_stack["resource"]["aws_lb"][nlbs[0]])


@pytest.mark.parametrize("certificate", [None, "arn:aws:acm:eu-west-1:123456789012:certificate/"
                                               "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"])
def test_a_certificate_moves_the_path_to_https_and_redeploys_the_stage(stack_for, certificate):
    from .helpers import ECS_SETTINGS
    settings = {**ECS_SETTINGS, **({"ECS_CERTIFICATE_ARN": certificate, "ECS_ROUTING_DOMAIN": "workers.acme.dev"}
                                   if certificate else {})}
    stack = stack_for(("orders.ts",), **settings)
    plain = stack_for(("orders.ts",), **ECS_SETTINGS)
    uris = {i["uri"] for i in resources(stack, "aws_api_gateway_integration").values()}
    listeners = {l["protocol"]: l for l in resources(stack, "aws_lb_listener").values()}
    trigger = next(iter(resources(stack, "aws_api_gateway_deployment").values()))["triggers"]
    plain_trigger = next(iter(resources(plain, "aws_api_gateway_deployment").values()))["triggers"]
    if certificate:
        assert uris == {"https://orders.workers.acme.dev/", "https://orders.workers.acme.dev/{proxy}"}
        [rule] = resources(stack, "aws_lb_listener_rule").values()
        assert rule["condition"][0]["host_header"]["values"] == ["orders.workers.acme.dev"]
        assert listeners["HTTPS"]["port"] == listeners["TCP"]["port"] == 443
        assert listeners["HTTPS"]["certificate_arn"] == certificate
        assert trigger != plain_trigger
    else:
        assert uris == {"http://orders.workers.internal/", "http://orders.workers.internal/{proxy}"}
        assert "HTTPS" not in listeners


def test_terraform_validates_the_ecs_example_without_warnings(ecs_example_stack, tmp_path):
    stack_dir = tmp_path / "acme-dev"
    stack_dir.mkdir()
    (stack_dir / "cdk.tf.json").write_text(json.dumps(ecs_example_stack))
    assert_valid_without_warnings(stack_dir, tmp_path)


def test_a_push_builds_once_per_worker_on_app_runner_and_once_on_ecs(example_stack, ecs_example_stack):
    """docs/backends.md's "builds per push", counted from the example's two stacks."""
    from pathlib import Path

    apprunner = [s for s in resources(example_stack, "aws_apprunner_service").values()
                 if s["source_configuration"]["auto_deployments_enabled"]]
    webhooks = resources(ecs_example_stack, "aws_codebuild_webhook")
    [project] = resources(ecs_example_stack, "aws_codebuild_project").values()
    assert len(apprunner) == 4 and len(webhooks) == 1 and project["environment"]["image"].startswith("aws/codebuild")
    page = (Path(__file__).parent.parent / "docs" / "backends.md").read_text()
    assert f"**{len(apprunner)} builds** per push for the example's {len(apprunner)} workers" in page
