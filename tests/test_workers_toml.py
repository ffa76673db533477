import pytest

from workers_scan import InputError, load_workers
from workers_scan.errors import Problems, display_path
from workers_scan.workers import TOML_KEYS, check_scaling_configuration_quota

from .helpers import ECS_SETTINGS, WORKERS, make_monorepo, settings_from


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
    assert "infra/aws/workers.toml: [order]: names no discovered worker; did you mean [orders]? workers are: orders" \
        in message


@pytest.mark.parametrize("table", ["billing", "ordrs-x"])
def test_a_table_far_from_every_worker_gets_no_guess(tmp_path, table):
    env = make_monorepo(tmp_path, ["orders.ts"], toml=f"[{table}]\ncpu = 512\nmemory = 1024\n")
    [message] = problems_of(env)
    assert f"[{table}]: names no discovered worker; workers are: orders" in message


@pytest.mark.parametrize("body, key, expected", [
    ("cpu = 512\nmemory = 2048", "[orders].memory", "2048 MB is not allowed with 512 CPU units for COMPUTE=apprunner; use 1024 MB (512 CPU units with 2048 MB run on COMPUTE=ecs)"),
    ("cpu = 3000", "[orders].cpu", "3000 is not a CPU size for COMPUTE=apprunner; use one of 256, 512, 1024, 2048, 4096"),
    ("cpu = true", "[orders].cpu", "True is not a CPU size for COMPUTE=apprunner; use one of 256, 512, 1024, 2048, 4096"),
    ("min_instances = 4\nmax_instances = 2", "[orders].min_instances", "4 is more than max_instances (2)"),
    ("max_instances = 0", "[orders].max_instances", "0 is not a whole number from 1 to 25"),
    ("min_instances = true", "[orders].min_instances", "True is not a whole number from 1 to 25"),
    ("min_instances = '2'", "[orders].min_instances", "'2' is not a whole number from 1 to 25"),
    ("max_concurrency = 500", "[orders].max_concurrency", "500 is not a whole number from 1 to 200"),
    ("health_check_path = 'health'", "[orders].health_check_path", "'health' is not an HTTP path like /health"),
    ("route = 'Orders_API'", "[orders].route",
     "'Orders_API' is not a valid route (1-64 of a-z, 0-9 and '-', not starting or ending with '-')"),
    ("route = 'proxy'", "[orders].route", "'proxy' is reserved; choose another route"),
    ("route = ['orders']", "[orders].route",
     "['orders'] is not a valid route (1-64 of a-z, 0-9 and '-', not starting or ending with '-')"),
    ("cpus = 1024", "[orders].cpus", f"unknown key; use one of {', '.join(TOML_KEYS)}"),
    ("private = 'yes'", "[orders].private", "'yes' is not true or false"),
    ("private = 1", "[orders].private", "1 is not true or false"),
    ("private = true\nroute = 'shop'", "[orders].private",
     "a private worker has no route: remove route = 'shop', or private = true to keep it public"),
])
def test_bad_worker_settings_name_file_and_key(tmp_path, body, key, expected):
    # A routed worker beside it: `private` alone would leave the API without a route (its own error).
    env = make_monorepo(tmp_path, ["orders.ts", "billing.ts"], toml=f"[orders]\n{body}\n")
    [message] = problems_of(env)
    assert message == f"{display_path(env.parent / 'workers.toml')}: {key}: {expected}"


def test_a_private_worker_has_no_route_and_keeps_the_service_name_its_file_gives(tmp_path):
    env = make_monorepo(tmp_path, ["orders.ts", "emailOutbox.worker.ts"], toml="[email-outbox]\nprivate = true\n")
    outbox, orders = load_workers(settings_from(env))
    assert (outbox.private, outbox.route, outbox.service_name) == (True, "email-outbox", "acme-dev-email-outbox")
    assert not orders.private


def test_private_false_is_a_routed_worker_and_may_set_its_route(tmp_path):
    env = make_monorepo(tmp_path, ["orders.ts"], toml="[orders]\nprivate = false\nroute = 'shop'\n")
    [orders] = load_workers(settings_from(env))
    assert (orders.private, orders.route, orders.service_name) == (False, "shop", "acme-dev-shop")


def test_a_private_workers_service_name_colliding_with_a_route_names_both_files(tmp_path):
    env = make_monorepo(tmp_path, ["orders.ts", "billing.ts"],
                        toml="[orders]\nprivate = true\n[billing]\nroute = 'orders'\n")
    [message] = problems_of(env)
    assert "service name: 'acme-dev-orders' is also the service name of" in message
    assert "billing.ts" in message and "orders.ts" in message


def test_every_worker_private_is_refused_the_api_needs_a_route(tmp_path):
    env = make_monorepo(tmp_path, ["orders.ts"], toml="[orders]\nprivate = true\n")
    assert problems_of(env) == [f"{display_path(env.parent / 'workers.toml')}: private: every worker is private, "
                                "but the REST API needs at least one route: remove private = true from one "
                                "worker's table"]


def test_a_private_worker_skips_the_ecs_host_length_check_of_routes(tmp_path):
    name = "a" * 64   # one over a DNS label: a routed worker on ECS is refused (its host's first label)
    env = make_monorepo(tmp_path, ["orders.ts", f"{name}.ts"], settings=ECS_SETTINGS,
                        toml=f"[{name}]\nprivate = true\n")
    workers = load_workers(settings_from(env))
    assert [w.name for w in workers if w.private] == [name]


def test_out_of_range_min_instances_is_reported_once_not_also_against_max_instances(tmp_path):
    env = make_monorepo(tmp_path, ["orders.ts"], toml="[orders]\nmin_instances = 26\nmax_instances = 25\n")
    assert problems_of(env) == [f"{display_path(env.parent / 'workers.toml')}: [orders].min_instances: "
                                "26 is not a whole number from 1 to 25"]


def test_worker_settings_accept_their_upper_bounds_and_equal_min_and_max(tmp_path):
    env = make_monorepo(tmp_path, ["orders.ts", "billing.ts"], toml=(
        "[orders]\nmin_instances = 25\nmax_instances = 25\nmax_concurrency = 200\n"
        "[billing]\nmin_instances = 1\nmax_instances = 1\nmax_concurrency = 1\n"))
    billing, orders = load_workers(settings_from(env))
    assert orders.scaling == (25, 25, 200) and billing.scaling == (1, 1, 1)


def test_workers_without_a_table_take_cpu_and_memory_from_the_settings(tmp_path):
    env = make_monorepo(tmp_path, ["orders.ts"], settings={"WORKER_CPU": "1024", "WORKER_MEMORY": "4096"})
    [orders] = load_workers(settings_from(env))
    assert (orders.cpu, orders.memory) == (1024, 4096)


def test_reserved_route_from_a_file_name_names_the_file(tmp_path):
    env = make_monorepo(tmp_path, ["proxy.ts"])
    assert problems_of(env) == [f"{display_path(tmp_path / WORKERS / 'proxy.ts')}: route: "
                                "'proxy' is reserved; choose another route"]


def test_route_override_colliding_with_another_worker_names_both(tmp_path):
    env = make_monorepo(tmp_path, ["orders.ts", "billing.ts"], toml="[billing]\nroute = 'orders'\n")
    [message] = problems_of(env)
    assert "'orders' is also the route of" in message and "billing.ts" in message and "orders.ts" in message


def test_invalid_toml_is_reported(tmp_path):
    env = make_monorepo(tmp_path, toml="[orders\ncpu = 1\n")
    [message] = problems_of(env)
    assert "workers.toml: is not valid TOML" in message


def test_example_workers_toml_is_valid():
    from workers_scan import SettingsSource, load_settings
    from workers_scan.settings import EXAMPLE_SETTINGS
    workers = load_workers(load_settings(SettingsSource(EXAMPLE_SETTINGS, is_example=True)))
    email = next(w for w in workers if w.name == "email-sender")
    assert (email.cpu, email.memory, email.health_check_path) == (512, 1024, "/health")


def test_more_scaling_configurations_than_the_app_runner_quota_are_refused_naming_the_quota(tmp_path):
    from workers_scan.errors import Problems
    from workers_scan.workers import TOML_KEYS, check_scaling_configuration_quota, scaling_configuration_count

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
    assert problem.where == display_path(stacks[0][0].settings_file)  # not set: the file it would go in
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


def test_scaling_quota_keeps_exactly_one_name_free_and_names_where_the_quota_is_set(tmp_path):
    names = [f"w{i:02d}.ts" for i in range(4)]
    toml = "".join(f"[w{i:02d}]\nmax_instances = {i + 2}\n" for i in range(4))  # 4 distinct profiles
    env = make_monorepo(tmp_path, names, toml=toml)
    for quota, refused in (("5", False), ("4", True)):
        settings = settings_from(env, {"APPRUNNER_SCALING_CONFIGURATION_QUOTA": quota})
        problems = Problems()
        check_scaling_configuration_quota([(settings, load_workers(settings))], problems)
        assert [str(p) for p in problems] == ([
            "environment variable: APPRUNNER_SCALING_CONFIGURATION_QUOTA: the stacks of this synth need 4 App Runner "
            "auto scaling configurations in account 123456789012, eu-west-1 (one per environment and distinct "
            "min_instances/max_instances/max_concurrency), plus one free for a resize, but the quota is 4; give "
            "workers the same scaling values in workers.toml, or have AWS raise the quota 'Auto scaling "
            "configurations' (Service Quotas > AWS App Runner) and set this key to the new value"] if refused else [])


def test_every_collision_is_reported_route_then_service_name(tmp_path):
    # The last two routes differ, but their shortened service names share prefix and 6-hex hash.
    long_routes = ["notification-dispatcher-worker-1913", "notification-dispatcher-worker-2610"]
    env = make_monorepo(tmp_path, ["audit.ts", "billing.ts", *(f"{r}.ts" for r in long_routes)],
                        toml="[billing]\nroute = 'audit'\n")
    rel = {name: display_path(tmp_path / WORKERS / f"{name}.ts") for name in ["audit", "billing", *long_routes]}
    assert problems_of(env) == [
        f"{rel['billing']}: route: 'audit' is also the route of {rel['audit']}; set a distinct route in workers.toml",
        f"{rel[long_routes[1]]}: service name: 'acme-dev-notification-dispatcher-0431ff' is also the service name "
        f"of {rel[long_routes[0]]}",
    ]


def test_unknown_table_lists_every_worker(tmp_path):
    env = make_monorepo(tmp_path, ["orders.ts", "billing.ts"], toml="[order]\n")
    assert problems_of(env) == [f"{display_path(env.parent / 'workers.toml')}: [order]: names no discovered "
                                "worker; did you mean [orders]? workers are: billing, orders"]


def test_workers_toml_that_is_not_utf8_is_reported(tmp_path):
    env = make_monorepo(tmp_path, ["orders.ts"])
    (env.parent / "workers.toml").write_bytes("[orders]\nroute = 'caf\xe9'\n".encode("latin-1"))
    assert problems_of(env) == [f"{display_path(env.parent / 'workers.toml')}: is not UTF-8 text"]


def test_top_level_keys_of_workers_toml_must_be_tables_each_reported(tmp_path):
    env = make_monorepo(tmp_path, ["orders.ts"], toml="cpu = 512\nmemory = 1024\n")
    toml = display_path(env.parent / "workers.toml")
    assert problems_of(env) == [f"{toml}: {key}: must be a table: [worker-name] followed by key = value lines"
                                for key in ("cpu", "memory")]


def test_unreadable_workers_toml_is_reported(tmp_path):
    env = make_monorepo(tmp_path, ["orders.ts"])
    (env.parent / "workers.toml").mkdir()
    assert problems_of(env) == [f"{display_path(env.parent / 'workers.toml')}: cannot be read (Is a directory)"]


@pytest.mark.parametrize("body, key, expected", [
    ("cpu = 256\nmemory = 4096", "[orders].memory",
     "4096 MB is not allowed with 256 CPU units for COMPUTE=ecs; use 512 MB or 1024 MB or 2048 MB"),
    ("cpu = 2048\nmemory = 2048", "[orders].memory",
     "2048 MB is not allowed with 2048 CPU units for COMPUTE=ecs; use 4096 to 16384 MB in steps of 1024"),
    ("cpu = 3000", "[orders].cpu",
     "3000 is not a CPU size for COMPUTE=ecs; use one of 256, 512, 1024, 2048, 4096, 8192, 16384"),
    ("cpu = true", "[orders].cpu",
     "True is not a CPU size for COMPUTE=ecs; use one of 256, 512, 1024, 2048, 4096, 8192, 16384"),
])
def test_on_ecs_worker_sizes_are_checked_against_fargates_table_naming_file_and_key(tmp_path, body, key, expected):
    env = make_monorepo(tmp_path, ["orders.ts"], settings=ECS_SETTINGS, toml=f"[orders]\n{body}\n")
    assert problems_of(env) == [f"{display_path(env.parent / 'workers.toml')}: {key}: {expected}"]


def test_fargate_only_sizes_run_on_ecs_and_are_refused_on_app_runner(tmp_path):
    toml = "[orders]\ncpu = 256\nmemory = 2048\n[billing]\ncpu = 8192\n"
    ecs = make_monorepo(tmp_path / "ecs", ["orders.ts", "billing.ts"], settings=ECS_SETTINGS, toml=toml)
    billing, orders = load_workers(settings_from(ecs))
    assert (orders.cpu, orders.memory) == (256, 2048)
    assert (billing.cpu, billing.memory) == (8192, 16384)  # cpu alone: its smallest memory on Fargate
    apprunner = make_monorepo(tmp_path / "apprunner", ["orders.ts", "billing.ts"], toml=toml)
    toml_file = display_path(apprunner.parent / "workers.toml")
    assert problems_of(apprunner) == [
        f"{toml_file}: [billing].cpu: 8192 is not a CPU size for COMPUTE=apprunner; use one of 256, 512, 1024, 2048, 4096",
        f"{toml_file}: [orders].memory: 2048 MB is not allowed with 256 CPU units for COMPUTE=apprunner; use 512 MB or 1024 MB "
        "(256 CPU units with 2048 MB run on COMPUTE=ecs)"]


def test_on_ecs_more_workers_than_one_alb_routes_are_refused_naming_the_quota(tmp_path):
    names = [f"w{i:03d}.ts" for i in range(101)]
    env = make_monorepo(tmp_path / "ecs", names, settings=ECS_SETTINGS)
    [message] = problems_of(env)
    assert message.startswith(f"{display_path(tmp_path / 'ecs' / WORKERS)}: WORKERS_DIR: 101 workers need 101 "
                              "listener rules and 101 target groups")
    assert "'Target groups per Application Load Balancer'" in message
    assert len(load_workers(settings_from(make_monorepo(tmp_path / "ecs100", names[:100], settings=ECS_SETTINGS)))) \
        == 100
    # App Runner has no ALB: the same monorepo is fine there.
    assert len(load_workers(settings_from(make_monorepo(tmp_path / "apprunner", names)))) == 101


def test_ecs_stacks_need_no_app_runner_scaling_configuration(tmp_path):
    from workers_scan.workers import scaling_configuration_count

    names = [f"w{i:02d}.ts" for i in range(4)]
    toml = "".join(f"[w{i:02d}]\nmax_instances = {i + 2}\n" for i in range(4))  # 4 distinct profiles
    stacks = []
    for environment in ("dev", "qa", "prod"):
        backend = ECS_SETTINGS if environment == "prod" else {}
        settings = settings_from(make_monorepo(tmp_path / environment, names, toml=toml,
                                               settings={**backend, "ENVIRONMENT": environment}))
        stacks.append((settings, load_workers(settings)))
    # 12 with three App Runner stacks (test above); the ECS one counts none, and 8 and one free fit in 10.
    assert scaling_configuration_count(stacks) == {("123456789012", "eu-west-1"): 8}
    assert scaling_configuration_count(stacks[::-1]) == {("123456789012", "eu-west-1"): 8}  # ECS first: still counted
    problems = Problems()
    check_scaling_configuration_quota(stacks, problems)
    assert not problems
    assert scaling_configuration_count(stacks[2:]) == {}


def test_misplaced_worker_files_are_each_refused_and_example_files_at_the_root_left_alone(tmp_path):
    env = make_monorepo(tmp_path)
    folder = env.parent
    for name in ("workers.tml", "workers.yaml", "workers.yml", "workers.json"):
        (folder / name).write_text("")
    for name in (".env.workers.example", ".env.workers.orders", ".env.workers.sample", ".env.workers.template",
                 ".env.workers.zz", "workers.toml"):
        (tmp_path / name).write_text("")
    (folder / ".env.workers.zz").write_text("")  # read there: it names no worker, and the root's copy is merged
    messages = problems_of(env)
    here = display_path(folder)
    assert messages == [
        *(f"{display_path(folder / name)}: is not read: per-worker settings are workers.toml next to the settings "
          "file; rename it" for name in ("workers.tml", "workers.yaml", "workers.yml", "workers.json")),
        f"{display_path(tmp_path / '.env.workers.orders')}: is not read: .env.workers.orders belongs next to the "
        f"settings file, in {here}; move it there",
        f"{display_path(tmp_path / '.env.workers.zz')}: is not read: .env.workers.zz belongs next to the settings "
        f"file, in {here}; {display_path(folder / '.env.workers.zz')} exists and is the one read: merge what this "
        "one adds into it, then delete this one",
        f"{display_path(tmp_path / 'workers.toml')}: is not read: workers.toml belongs next to the settings file, "
        f"in {here}; move it there",
        f"{display_path(folder / '.env.workers.zz')}: names no discovered worker 'zz'; per-worker files are "
        ".env.workers.<worker> with a worker of: orders"]


def test_an_invalid_route_for_a_worker_whose_file_name_is_reserved_reports_both(tmp_path):
    env = make_monorepo(tmp_path, ["proxy.ts"], toml='[proxy]\nroute = "Shop Proxy"\n')
    toml = display_path(tmp_path / "infra" / "aws" / "workers.toml")
    assert problems_of(env) == [
        f"{toml}: [proxy].route: 'Shop Proxy' is not a valid route (1-64 of a-z, 0-9 and '-', not starting or "
        "ending with '-')",
        f"{toml}: [proxy].route: 'proxy' is reserved; choose another route"]


def test_on_ecs_app_runners_scaling_key_is_kept_and_announced_as_not_read(tmp_path, capsys):
    """One workers.toml serves both backends (and a switch between them): max_concurrency is no error on ECS,
    but synth says it is not read."""
    import main

    toml = "[orders]\nmax_concurrency = 50\n[billing]\nmax_instances = 3\n"
    ecs = make_monorepo(tmp_path / "ecs", ["orders.ts", "billing.ts"], settings=ECS_SETTINGS, toml=toml)
    assert main.main(["workers", "--env-file", str(ecs)]) == main.EXIT_OK
    assert (f"acme-dev: [orders].max_concurrency in {display_path(ecs.parent / 'workers.toml')} not read with "
            "COMPUTE=ecs (docs/workers.md)") in capsys.readouterr().err
    app_runner = make_monorepo(tmp_path / "apprunner", ["orders.ts", "billing.ts"], toml=toml)
    assert main.main(["workers", "--env-file", str(app_runner)]) == main.EXIT_OK
    assert "not read with" not in capsys.readouterr().err
