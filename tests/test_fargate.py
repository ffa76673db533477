"""Fargate's size table and the routing quotas (workers_scan/fargate.py): pure Python, no cdktf."""

import pytest

from workers_scan.fargate import (fargate_memory_for, fargate_size_label, fargate_size_problem,
                                  workers_per_load_balancer_problem)
from workers_scan.settings import CPU_MEMORY


@pytest.mark.parametrize("cpu, low, high, count", [
    (256, 512, 2048, 3), (512, 1024, 4096, 4), (1024, 2048, 8192, 7), (2048, 4096, 16384, 13),
    (4096, 8192, 30720, 23), (8192, 16384, 61440, 12), (16384, 32768, 122880, 12)])
def test_each_fargate_cpu_allows_the_documented_memory_range(cpu, low, high, count):
    allowed = fargate_memory_for(cpu)
    assert (allowed[0], allowed[-1], len(allowed)) == (low, high, count)
    assert fargate_size_problem(cpu, low) is None and fargate_size_problem(cpu, high) is None


def test_every_app_runner_size_runs_on_fargate_but_not_the_reverse():
    assert all(fargate_size_problem(cpu, memory) is None for cpu, pairs in CPU_MEMORY.items() for memory in pairs)
    assert fargate_size_problem(256, 2048) is None and 2048 not in CPU_MEMORY[256]
    assert fargate_memory_for(300) == ()


def test_a_refused_pair_names_what_fargate_accepts_instead():
    assert fargate_size_problem(256, 4096) == ("4096 MB is not allowed with 256 CPU units on Fargate; use 512 MB or "
                                               "1024 MB or 2048 MB")
    assert fargate_size_problem(512, 5120) == ("5120 MB is not allowed with 512 CPU units on Fargate; use 1024 to "
                                               "4096 MB in steps of 1024")
    assert fargate_size_problem(8192, 20000).endswith("use 16384 to 61440 MB in steps of 4096")
    assert fargate_size_problem(300, 1024).startswith("300 is not a Fargate CPU size; use one of 256, 512, 1024")
    assert fargate_size_problem(True, 1024) is not None  # toml's true is no CPU size


def test_the_label_reads_in_vcpu_and_gb():
    assert fargate_size_label(512, 1024) == "0.5 vCPU / 1 GB"
    assert fargate_size_label(256, 512) == "0.25 vCPU / 0.5 GB"
    assert fargate_size_label(4096, 30720) == "4 vCPU / 30 GB"


def test_one_alb_routes_up_to_the_smaller_quota_and_names_both_past_it():
    assert workers_per_load_balancer_problem(100) is None
    problem = workers_per_load_balancer_problem(149)
    assert problem and "149 workers" in problem and "allows 100" in problem
    assert "Rules per Application Load Balancer" in problem and "Target groups per Application Load Balancer" in problem
    assert workers_per_load_balancer_problem(149, rules_quota=200, target_groups_quota=150) is None
    assert "allows 120" in workers_per_load_balancer_problem(149, rules_quota=200, target_groups_quota=120)
