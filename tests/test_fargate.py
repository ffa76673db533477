"""Fargate's size table, the routing host and the routing quotas (workers_scan/fargate.py): pure Python, no cdktf."""

import pytest

from workers_scan.fargate import (ROUTING_DOMAIN, alb_listener, fargate_memory_for, fargate_size_label, worker_host,
                                  workers_per_load_balancer_problem)
from workers_scan.settings import CPU_MEMORY
from workers_scan.settings_checks import size_problem


@pytest.mark.parametrize("cpu, low, high, count", [
    (256, 512, 2048, 3), (512, 1024, 4096, 4), (1024, 2048, 8192, 7), (2048, 4096, 16384, 13),
    (4096, 8192, 30720, 23), (8192, 16384, 61440, 12), (16384, 32768, 122880, 12)])
def test_each_fargate_cpu_allows_the_documented_memory_range(cpu, low, high, count):
    allowed = fargate_memory_for(cpu)
    assert (allowed[0], allowed[-1], len(allowed)) == (low, high, count)
    assert size_problem("ecs", cpu, low) is None and size_problem("ecs", cpu, high) is None


def test_every_app_runner_size_runs_on_fargate_but_not_the_reverse():
    assert all(size_problem("ecs", cpu, memory) is None for cpu, pairs in CPU_MEMORY.items() for memory in pairs)
    assert size_problem("ecs", 256, 2048) is None and size_problem("apprunner", 256, 2048) is not None
    assert size_problem("ecs", 8192, 16384) is None and size_problem("apprunner", 8192, 16384)[0] == "cpu"
    assert fargate_memory_for(300) == ()


def test_a_refused_pair_names_the_key_and_what_the_backend_accepts_instead():
    assert size_problem("ecs", 256, 4096) == (
        "memory", "4096 MB is not allowed with 256 CPU units for COMPUTE=ecs; use 512 MB or 1024 MB or 2048 MB")
    assert size_problem("ecs", 512, 5120) == (
        "memory", "5120 MB is not allowed with 512 CPU units for COMPUTE=ecs; use 1024 to 4096 MB in steps of 1024")
    assert size_problem("ecs", 8192, 20000)[1].endswith("use 16384 to 61440 MB in steps of 4096")
    assert size_problem("ecs", 300, 1024) == (
        "cpu", "300 is not a CPU size for COMPUTE=ecs; use one of 256, 512, 1024, 2048, 4096, 8192, 16384")
    assert size_problem("ecs", True, 1024)[0] == "cpu"  # toml's true is no CPU size
    # Every message names its backend, and says when the other one runs the pair.
    assert size_problem("apprunner", 1024, 8192) == (
        "memory", "8192 MB is not allowed with 1024 CPU units for COMPUTE=apprunner; use 2048 MB or 3072 MB or 4096 MB "
        "(1024 CPU units with 8192 MB run on COMPUTE=ecs)")
    assert size_problem("apprunner", 8192, 16384) == (
        "cpu", "8192 is not a CPU size for COMPUTE=apprunner; use one of 256, 512, 1024, 2048, 4096 (8192 CPU units "
        "with 16384 MB run on COMPUTE=ecs)")
    assert size_problem("apprunner", 300, 1024)[1].endswith("2048, 4096")  # runs nowhere: no suggestion


def test_the_label_reads_in_vcpu_and_gb():
    assert fargate_size_label(512, 1024) == "0.5 vCPU / 1 GB"
    assert fargate_size_label(256, 512) == "0.25 vCPU / 0.5 GB"
    assert fargate_size_label(4096, 30720) == "4 vCPU / 30 GB"


def test_one_alb_routes_up_to_its_fixed_target_group_quota_and_says_what_to_do_past_it():
    assert workers_per_load_balancer_problem(100) is None
    assert workers_per_load_balancer_problem(101) == (
        "101 workers need 101 listener rules and 101 target groups on the workers' one Application Load Balancer, "
        "which holds 100 ('Rules per Application Load Balancer' and 'Target groups per Application Load Balancer', "
        "the latter a quota AWS does not raise); run at most 100 workers per environment with COMPUTE=ecs "
        "(WORKER_EXCLUDE), or use COMPUTE=apprunner")


def test_a_workers_host_is_its_route_under_the_internal_routing_domain():
    assert worker_host("email-sender") == "email-sender.workers.internal"
    assert ROUTING_DOMAIN.endswith(".internal")  # reserved for private use: never resolves outside the VPC


def test_the_alb_listens_https_only_with_a_certificate():
    assert alb_listener(tls=True) == ("HTTPS", 443)
    assert alb_listener(tls=False) == ("HTTP", 80)


def test_fargates_table_holds_the_documented_edges():
    """Pinned against the ECS Developer Guide's task size table, not derived from the code that builds it."""
    from workers_scan.fargate import FARGATE_CPU_MEMORY as table

    assert {cpu: (m[0], m[-1], len(m)) for cpu, m in table.items()} == {
        256: (512, 2048, 3), 512: (1024, 4096, 4), 1024: (2048, 8192, 7), 2048: (4096, 16384, 13),
        4096: (8192, 30720, 23), 8192: (16384, 61440, 12), 16384: (32768, 122880, 12)}
    assert table[512] == (1024, 2048, 3072, 4096) and table[8192][:2] == (16384, 20480)


def test_a_64_character_route_is_refused_on_ecs_naming_the_worker_and_the_dns_label_limit(tmp_path):
    from workers_scan import InputError, load_workers

    from .helpers import ECS_SETTINGS, make_monorepo, settings_from

    route = "r" * 64
    env = make_monorepo(tmp_path, ["orders.ts", "billing.ts"], settings=ECS_SETTINGS,
                        toml=f'[orders]\nroute = "{route}"\n[billing]\nroute = "{"b" * 63}"\n')
    with pytest.raises(InputError) as refused:
        load_workers(settings_from(env))
    [problem] = refused.value.problems
    assert problem.where.endswith("infra/aws/workers.toml") and problem.key == "[orders].route"
    assert f"with COMPUTE=ecs it is the first label of the host {route}.workers.internal" in problem.message
    assert "a DNS label holds at most 63" in problem.message
    # App Runner has no such host: the same route is fine there
    env = make_monorepo(tmp_path / "apprunner", ["orders.ts"], toml=f'[orders]\nroute = "{route}"\n')
    assert [w.route for w in load_workers(settings_from(env))] == [route]


def test_a_host_longer_than_an_alb_rule_matches_is_refused_with_the_domain_that_leaves_no_room(tmp_path):
    from workers_scan import InputError, load_workers

    from .helpers import ECS_SETTINGS, make_monorepo, settings_from

    domain = ".".join(["d" * 60] * 2) + ".example.com"   # 133 characters
    env = make_monorepo(tmp_path, settings={**ECS_SETTINGS, "ECS_ROUTING_DOMAIN": domain})
    with pytest.raises(InputError, match=r"ECS_ROUTING_DOMAIN: has 133 characters, leaving no room for a route"):
        settings_from(env)
    domain = "d" * 60 + "." + "e" * 50 + ".example.com"   # 123 characters: the host of "orders" has 130
    env = make_monorepo(tmp_path, settings={**ECS_SETTINGS, "ECS_ROUTING_DOMAIN": domain})
    with pytest.raises(InputError) as refused:
        load_workers(settings_from(env))
    [problem] = refused.value.problems
    assert problem.key == "route" and problem.where.endswith("orders.ts")
    assert "has 130 characters, but the ALB rule that routes it (host header) matches at most 128" in problem.message
