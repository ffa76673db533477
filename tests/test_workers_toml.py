import pytest

from workers_scan import InputError, load_workers

from .helpers import make_monorepo, settings_from


def problems_of(env) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_workers(settings_from(env))
    return [str(p) for p in caught.value.problems]


def test_per_worker_settings_override_defaults(tmp_path):
    env = make_monorepo(tmp_path, ["orders.ts", "billing.ts"], toml="""
[orders]
cpu = 2048
memory = 6144
min_instances = 2
max_instances = 10
max_concurrency = 80
health_check_path = "/health"
route = "shop-orders"
""")
    billing, orders = load_workers(settings_from(env))
    assert (orders.cpu, orders.memory, orders.min_instances, orders.max_instances, orders.max_concurrency) == \
        (2048, 6144, 2, 10, 80)
    assert orders.health_check_path == "/health" and orders.route == "shop-orders"
    assert orders.service_name == "acme-dev-shop-orders"
    assert (billing.cpu, billing.memory, billing.health_check_path, billing.route) == (1024, 2048, None, "billing")


def test_cpu_alone_takes_its_smallest_memory(tmp_path):
    env = make_monorepo(tmp_path, toml="[orders]\ncpu = 4096\n")
    [orders] = load_workers(settings_from(env))
    assert orders.memory == 8192


def test_table_for_unknown_worker_is_a_typo_error(tmp_path):
    env = make_monorepo(tmp_path, ["orders.ts"], toml="[order]\ncpu = 512\nmemory = 1024\n")
    [message] = problems_of(env)
    assert "infra/aws/workers.toml: [order]: names no discovered worker; workers are: orders" in message


@pytest.mark.parametrize("body, key, expected", [
    ("cpu = 512\nmemory = 2048", "[orders].memory", "2048 MB is not allowed with 512 CPU units; use 1024 MB"),
    ("cpu = 3000", "[orders].cpu", "not a CPU size"),
    ("min_instances = 4\nmax_instances = 2", "[orders].min_instances", "4 is more than max_instances (2)"),
    ("max_instances = 0", "[orders].max_instances", "from 1 to 25"),
    ("max_concurrency = 500", "[orders].max_concurrency", "from 1 to 200"),
    ("health_check_path = 'health'", "[orders].health_check_path", "not an HTTP path"),
    ("route = 'Orders_API'", "[orders].route", "not a valid route"),
    ("route = 'proxy'", "[orders].route", "is reserved"),
    ("cpus = 1024", "[orders].cpus", "unknown key"),
])
def test_bad_worker_settings_name_file_and_key(tmp_path, body, key, expected):
    env = make_monorepo(tmp_path, ["orders.ts"], toml=f"[orders]\n{body}\n")
    messages = problems_of(env)
    assert any(f"workers.toml: {key}: " in m and expected in m for m in messages), messages


def test_route_override_colliding_with_another_worker_names_both(tmp_path):
    env = make_monorepo(tmp_path, ["orders.ts", "billing.ts"], toml="[billing]\nroute = 'orders'\n")
    [message] = problems_of(env)
    assert "'orders' is also the route of" in message and "billing.ts" in message and "orders.ts" in message


def test_invalid_toml_is_reported(tmp_path):
    env = make_monorepo(tmp_path, toml="[orders\ncpu = 1\n")
    [message] = problems_of(env)
    assert "workers.toml: is not valid TOML" in message


def test_example_workers_toml_is_valid():
    from workers_scan.settings import EXAMPLE_SETTINGS, SettingsSource, load_settings
    workers = load_workers(load_settings(SettingsSource(EXAMPLE_SETTINGS, is_example=True)))
    email = next(w for w in workers if w.name == "email-sender")
    assert (email.cpu, email.memory, email.health_check_path) == (512, 1024, "/health")


def test_more_scaling_configurations_than_the_app_runner_quota_are_refused_naming_the_quota(tmp_path):
    from workers_scan.errors import Problems
    from workers_scan.workers import check_scaling_configuration_quota, scaling_configuration_count

    names = [f"w{i:02d}.ts" for i in range(4)]
    toml = "".join(f"[w{i:02d}]\nmax_instances = {i + 2}\n" for i in range(4))  # 4 distinct profiles
    stacks = []
    for environment in ("dev", "qa", "prod"):
        settings = settings_from(make_monorepo(tmp_path / environment, names, toml=toml,
                                               settings={"ENVIRONMENT": environment}))
        stacks.append((settings, load_workers(settings)))
    assert scaling_configuration_count(stacks) == {("123456789012", "eu-west-1"): 12}
    problems = Problems()
    check_scaling_configuration_quota(stacks, problems)
    [problem] = list(problems)
    assert problem.key == "APPRUNNER_SCALING_CONFIGURATION_QUOTA"
    assert "need 12 App Runner auto scaling configurations in account 123456789012, eu-west-1" in problem.message
    assert "plus one free for a resize, but the quota is 10" in problem.message
    assert "'Auto scaling configurations'" in problem.message
    problems = Problems()
    check_scaling_configuration_quota(stacks[:2], problems)  # 8, and one free, fit in the default 10
    assert not problems


def test_workers_with_the_same_scaling_values_count_once(tmp_path):
    from workers_scan.workers import scaling_configuration_count

    settings = settings_from(make_monorepo(tmp_path, [f"w{i:02d}.ts" for i in range(15)]))
    assert scaling_configuration_count([(settings, load_workers(settings))]) == {("123456789012", "eu-west-1"): 1}
