"""The stacks' Terraform outputs are exactly those workers_scan/outputs.py declares, on both backends."""

from __future__ import annotations

from workers_scan.outputs import OUTPUTS, platform_outputs, state_outputs

from .helpers import ECS_SETTINGS, make_monorepo, settings_from


def synthesized(stack: dict) -> dict[str, str]:
    return {name: output["description"] for name, output in stack["output"].items()}


def declared(settings) -> dict[str, str]:
    return {output.name: output.description for output in platform_outputs(settings)}


def test_the_app_runner_example_has_the_declared_outputs_with_their_descriptions(example_stack, example_settings):
    assert synthesized(example_stack) == declared(example_settings)


def test_the_ecs_example_has_the_declared_outputs_with_their_descriptions(ecs_example_stack, ecs_example_settings):
    assert synthesized(ecs_example_stack) == declared(ecs_example_settings)


def test_without_the_data_stores_their_outputs_are_absent(stack_for, tmp_path):
    off = {"AURORA_ENABLED": "false", "REDIS_ENABLED": "false"}
    stack = stack_for(("orders.ts",), **off)
    settings = settings_from(make_monorepo(tmp_path, ["orders.ts"], settings=off))
    assert synthesized(stack) == declared(settings)
    assert not {"database_endpoint", "database_secret_arn", "redis_endpoint"} & set(stack["output"])


def test_an_output_of_both_backends_is_declared_once(tmp_path):
    apprunner = {o.name for o in platform_outputs(settings_from(make_monorepo(tmp_path / "a", ["orders.ts"])))}
    ecs = {o.name for o in platform_outputs(settings_from(make_monorepo(tmp_path / "e", ["orders.ts"],
                                                                        settings=ECS_SETTINGS)))}
    names = [o.name for o in OUTPUTS]
    assert {"invoke_url", "worker_urls", "nlb_arn", "waf_web_acl_arn"} <= apprunner & ecs
    assert all(names.count(name) == 1 for name in apprunner & ecs if name != "service_arns")
    assert apprunner - ecs == {"ingress_domains", "vpc_endpoint_id"}
    assert ecs - apprunner == {"worker_hosts", "ecs_cluster_arn", "image_repository_url", "image_build_project"}


def test_the_state_bootstrap_stack_has_a_table_output_only_with_a_table():
    assert [o.name for o in state_outputs(lock_table=True)] == ["state_bucket", "state_lock_table"]
    assert [o.name for o in state_outputs(lock_table=False)] == ["state_bucket"]
