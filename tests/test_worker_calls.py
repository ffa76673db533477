"""`calls` in workers.toml: named workers call each other inside the VPC, and only they (off by default)."""

import pytest

from workers_scan import InputError, load_workers
from workers_scan.calls import call_url_key, callees_first, namespace_name
from workers_scan.injected import CALL_URL

from .conftest import synth_stack
from .helpers import ECS_SETTINGS, make_monorepo, resources, settings_from

THREE = ["orders.ts", "billing.ts", "emailSender.ts"]


def problems_of(env) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_workers(settings_from(env))
    return [str(p) for p in caught.value.problems]


def by_name(workers):
    return {w.name: w for w in workers}


def test_a_caller_names_its_callees_and_nobody_calls_by_default(tmp_path):
    env = make_monorepo(tmp_path, THREE, toml='[orders]\ncalls = ["email-sender", "billing"]\n')
    workers = by_name(load_workers(settings_from(env)))
    assert workers["orders"].calls == ("billing", "email-sender")
    assert workers["billing"].calls == () and workers["email-sender"].calls == ()


@pytest.mark.parametrize("value, expected", [
    ('["order"]', "'order' names no discovered worker; did you mean 'orders'?"),
    ('["billing"]', "'billing' is this worker itself"),
    ('["orders", "orders"]', "'orders' is listed twice"),
    ('"orders"', "'orders' is not a list of worker names"),
])
def test_bad_calls_name_file_and_key(tmp_path, value, expected):
    env = make_monorepo(tmp_path, THREE, toml=f"[billing]\ncalls = {value}\n")
    [problem] = problems_of(env)
    assert "workers.toml: [billing].calls: " in problem and expected in problem


def test_app_runner_refuses_a_call_to_a_private_worker_which_ecs_registers(tmp_path):
    toml = '[orders]\ncalls = ["billing"]\n[billing]\nprivate = true\n'
    [problem] = problems_of(make_monorepo(tmp_path / "apprunner", THREE, toml=toml))
    assert "[orders].calls: 'billing' is private: on App Runner a worker is called through its ingress " \
           "connection" in problem
    settings = settings_from(make_monorepo(tmp_path / "ecs", THREE, settings=ECS_SETTINGS, toml=toml))
    workers = by_name(load_workers(settings))
    assert workers["orders"].calls == ("billing",)
    stack = synth_stack(settings, list(workers.values()))
    assert sorted(s["name"] for s in resources(stack, "aws_service_discovery_service").values()) == ["billing"]
    assert "service_registries" in ecs_service(stack, "billing") and "load_balancer" not in ecs_service(stack, "billing")


def test_ecs_refuses_a_callee_whose_route_is_too_long_for_a_dns_label(tmp_path):
    route = "b" * 64
    env = make_monorepo(tmp_path, THREE, settings={**ECS_SETTINGS, "ECS_ROUTING_DOMAIN": "w.internal"},
                        toml=f'[orders]\ncalls = ["billing"]\n[billing]\nprivate = true\n')
    (env.parent.parent.parent / "apps/api/src/workers/billing.ts").rename(
        env.parent.parent.parent / f"apps/api/src/workers/{route}.ts")
    (env.parent / "workers.toml").write_text(f'[orders]\ncalls = ["{route}"]\n[{route}]\nprivate = true\n')
    [problem] = problems_of(env)
    assert f"[orders].calls: '{route}' has a route of 64 characters" in problem


def test_app_runner_refuses_calls_in_a_circle_and_says_why(tmp_path):
    env = make_monorepo(tmp_path, THREE, toml='[orders]\ncalls = ["billing"]\n[billing]\ncalls = ["email-sender"]\n'
                                              '[email-sender]\ncalls = ["orders"]\n')
    [problem] = problems_of(env)
    assert "[billing].calls: calls go in a circle (billing -> email-sender -> orders -> billing)" in problem
    assert "COMPUTE=ecs" in problem


def test_ecs_accepts_workers_calling_each_other(tmp_path):
    env = make_monorepo(tmp_path, THREE, settings=ECS_SETTINGS,
                        toml='[orders]\ncalls = ["billing"]\n[billing]\ncalls = ["orders"]\n')
    workers = by_name(load_workers(settings_from(env)))
    assert workers["orders"].calls == ("billing",) and workers["billing"].calls == ("orders",)


def test_app_runner_calls_need_vpc_egress(tmp_path):
    env = make_monorepo(tmp_path, THREE, settings={"WORKER_VPC_EGRESS": "false", "AURORA_ENABLED": "false",
                                                   "REDIS_ENABLED": "false"},
                        toml='[orders]\ncalls = ["billing"]\n')
    [problem] = problems_of(env)
    assert ".env: WORKER_VPC_EGRESS: is false, but calls in workers.toml" in problem


def test_a_file_setting_a_callers_address_is_refused_naming_it(tmp_path):
    env = make_monorepo(tmp_path, THREE, toml='[orders]\ncalls = ["email-sender"]\n')
    (env.parent / ".env.workers.orders").write_text("WORKER_EMAIL_SENDER_URL=http://elsewhere\n")
    # Another worker (not a caller) may hold such a key: it is its own.
    (env.parent / ".env.workers.billing").write_text("WORKER_EMAIL_SENDER_URL=http://elsewhere\n")
    [problem] = problems_of(env)
    assert ".env.workers.orders: WORKER_EMAIL_SENDER_URL: is set by the infrastructure: orders calls " \
           "email-sender" in problem


def test_callees_come_before_their_callers_otherwise_names_in_order(tmp_path):
    env = make_monorepo(tmp_path, THREE, toml='[billing]\ncalls = ["orders"]\n[orders]\ncalls = ["email-sender"]\n')
    ordered = callees_first(load_workers(settings_from(env)))
    assert [w.name for w in ordered] == ["email-sender", "orders", "billing"]
    plain = load_workers(settings_from(make_monorepo(tmp_path / "plain", THREE)))
    assert [w.name for w in callees_first(plain)] == sorted(w.name for w in plain)


def test_the_address_key_is_declared_once():
    assert call_url_key("email-sender") == "WORKER_EMAIL_SENDER_URL"
    assert CALL_URL.key == call_url_key("<name>")


def env_of_apprunner(stack, worker):
    service = next(s for s in resources(stack, "aws_apprunner_service").values()
                   if s["service_name"].endswith(f"-{worker}"))
    values = service["source_configuration"]["code_repository"]["code_configuration"]["code_configuration_values"]
    return service, values["runtime_environment_variables"]


@pytest.fixture(scope="module")
def apprunner_stacks(tmp_path_factory):
    root = tmp_path_factory.mktemp("calls")
    calling = settings_from(make_monorepo(root / "calling", THREE, toml='[orders]\ncalls = ["email-sender"]\n'))
    plain = settings_from(make_monorepo(root / "plain", THREE))
    return (synth_stack(calling, load_workers(calling)), synth_stack(plain, load_workers(plain)))


def test_app_runner_caller_gets_the_callees_domain_and_its_own_connector(apprunner_stacks):
    stack, _ = apprunner_stacks
    orders, orders_env = env_of_apprunner(stack, "orders")
    billing, billing_env = env_of_apprunner(stack, "billing")
    [callee_ingress] = [k for k, v in resources(stack, "aws_apprunner_vpc_ingress_connection").items()
                        if v["service_arn"].startswith("${aws_apprunner_service.worker-email-sender")]
    assert orders_env["WORKER_EMAIL_SENDER_URL"] == \
        f"https://${{aws_apprunner_vpc_ingress_connection.{callee_ingress}.domain_name}}"
    assert not any(k.startswith("WORKER_") and k.endswith("_URL") for k in billing_env)
    connectors = resources(stack, "aws_apprunner_vpc_connector")
    callers = next(k for k, v in connectors.items() if v["vpc_connector_name"].startswith("acme-dev-callers-"))
    workers = next(k for k in connectors if k != callers)
    egress = lambda service: service["network_configuration"]["egress_configuration"]["vpc_connector_arn"]
    assert egress(orders) == f"${{aws_apprunner_vpc_connector.{callers}.arn}}"
    assert egress(billing) == f"${{aws_apprunner_vpc_connector.{workers}.arn}}"
    # The callers' group holds the workers' group's egress too, and the endpoint admits it (and only it) on 443.
    groups = connectors[callers]["security_groups"]
    assert connectors[workers]["security_groups"][0] in groups and len(groups) == 2
    endpoint_rules = [r for r in resources(stack, "aws_vpc_security_group_ingress_rule").values()
                      if "endpoint-security-group" in r["security_group_id"]]
    admitted = sorted(r["referenced_security_group_id"] for r in endpoint_rules)
    assert [g for g in admitted if "worker-callers" in g] == [groups[1]]
    assert all(r["from_port"] == 443 == r["to_port"] for r in endpoint_rules)


def test_without_calls_the_stack_holds_none_of_it(apprunner_stacks):
    _, plain = apprunner_stacks
    assert len(resources(plain, "aws_apprunner_vpc_connector")) == 1
    assert not [k for k in resources(plain, "aws_security_group") if "callers" in k]
    assert "aws_service_discovery_private_dns_namespace" not in plain["resource"]


@pytest.fixture(scope="module")
def ecs_stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("ecs-calls")
    settings = settings_from(make_monorepo(root, THREE, settings=ECS_SETTINGS,
                                           toml='[orders]\ncalls = ["billing"]\n[billing]\ncalls = ["orders"]\n'))
    return synth_stack(settings, load_workers(settings))


def ecs_service(stack, worker):
    return next(s for s in resources(stack, "aws_ecs_service").values() if s["name"].endswith(f"-{worker}"))


def container_environment(stack, worker) -> dict[str, str]:
    import json
    family = ecs_service(stack, worker)["task_definition"].split(".")[1]
    [container] = json.loads(resources(stack, "aws_ecs_task_definition")[family]["container_definitions"])
    return {e["name"]: e["value"] for e in container["environment"]}


def test_ecs_callees_register_in_a_private_namespace_and_callers_get_their_names(ecs_stack):
    [namespace] = resources(ecs_stack, "aws_service_discovery_private_dns_namespace").values()
    assert namespace["name"] == namespace_name("acme-dev") == "acme-dev.calls.internal"
    discovery = resources(ecs_stack, "aws_service_discovery_service")
    assert sorted(s["name"] for s in discovery.values()) == ["billing", "orders"]
    for worker in ("orders", "billing"):
        [address] = [k for k, v in discovery.items() if v["name"] == worker]
        assert ecs_service(ecs_stack, worker)["service_registries"]["registry_arn"] == \
            f"${{aws_service_discovery_service.{address}.arn}}"
    assert "service_registries" not in ecs_service(ecs_stack, "email-sender")
    assert container_environment(ecs_stack, "orders")["WORKER_BILLING_URL"] == \
        "http://billing.acme-dev.calls.internal:3000"
    assert container_environment(ecs_stack, "billing")["WORKER_ORDERS_URL"] == \
        "http://orders.acme-dev.calls.internal:3000"
    assert "WORKER_ORDERS_URL" not in container_environment(ecs_stack, "email-sender")


def test_ecs_callee_admits_its_callers_tasks_only_on_port(ecs_stack):
    groups = {k: v["name"] for k, v in resources(ecs_stack, "aws_security_group").items()}
    group_of = lambda reference: groups[reference.split(".")[1]]
    pairs = sorted((group_of(r["referenced_security_group_id"]), group_of(r["security_group_id"]), r["from_port"],
                    r["to_port"])
                   for r in resources(ecs_stack, "aws_vpc_security_group_ingress_rule").values()
                   if "${aws_security_group.worker-calls" not in r["security_group_id"]
                   and r["referenced_security_group_id"].split(".")[1] in groups
                   and group_of(r["referenced_security_group_id"]).endswith("-tasks")
                   and group_of(r["security_group_id"]).endswith("-tasks"))
    assert pairs == [("acme-dev-billing-tasks", "acme-dev-orders-tasks", 3000, 3000),
                     ("acme-dev-orders-tasks", "acme-dev-billing-tasks", 3000, 3000)]
    email = next(k for k, v in groups.items() if v == "acme-dev-email-sender-tasks")
    assert not [r for r in resources(ecs_stack, "aws_vpc_security_group_ingress_rule").values()
                if r["security_group_id"] == f"${{aws_security_group.{email}.id}}"
                and "tasks" in group_of(r["referenced_security_group_id"])]


def test_workers_lists_who_calls_whom_and_counts_the_addresses(tmp_path, capsys):
    import json

    import main

    env = make_monorepo(tmp_path, THREE, toml='[orders]\ncalls = ["email-sender", "billing"]\n')
    assert main.main(["workers", "--env-file", str(env)]) == main.EXIT_OK
    out = capsys.readouterr().out
    assert "Calls inside the VPC (calls in workers.toml): orders -> billing, orders -> email-sender" in out
    assert main.main(["workers", "--env-file", str(env), "--json"]) == main.EXIT_OK
    [stack] = json.loads(capsys.readouterr().out)
    rows = {w["name"]: w for w in stack["workers"]}
    assert rows["orders"]["calls"] == ["billing", "email-sender"] and rows["billing"]["calls"] == []
    # Two more variables than a worker that calls nobody: the callees' addresses.
    assert rows["orders"]["environment_variables"] == rows["billing"]["environment_variables"] + 2
