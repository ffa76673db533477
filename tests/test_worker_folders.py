"""Several workers folders (WORKERS_DIR comma-separated), one platform: each folder's package gives its workers'
start command and the build's filters; names, routes and service names stay one namespace; problems name the
file and key (docs/worker-folders.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workers_scan import InputError, load_workers
from workers_scan.errors import display_path
from workers_scan.settings import DEFAULT_BUILD_COMMAND, EXAMPLE_SETTINGS

from .conftest import synth_stack
from .helpers import BOOTSTRAP, ECS_SETTINGS, WORKERS, make_monorepo, settings_from

JOBS = "apps/jobs/src/workers"
TWO_FOLDERS = f"{WORKERS},{JOBS}"
SEED_BUILD = DEFAULT_BUILD_COMMAND.replace("{filters}", "--filter @monorepo/api")


def add_jobs_package(root: Path, workers=("cleanup.ts",), name="@monorepo/jobs", script=True) -> None:
    """A second workspace package, apps/jobs, with its own workers folder and start script."""
    package = root / "apps" / "jobs"
    (package / "src" / "workers").mkdir(parents=True, exist_ok=True)
    (package / "package.json").write_text(f'{{"name": "{name}", "scripts": {{"build": "nest build"}}}}\n')
    if script:
        (package / "scripts").mkdir(exist_ok=True)
        (package / "scripts" / "start-worker.sh").write_text("#!/usr/bin/env bash\n")
    for worker in workers:
        (package / "src" / "workers" / worker).write_text(BOOTSTRAP)


def two_folder_monorepo(root: Path, settings: dict | None = None, jobs=("cleanup.ts",), api=("orders.ts",),
                        toml: str | None = None) -> Path:
    env = make_monorepo(root, list(api), settings={"WORKERS_DIR": TWO_FOLDERS, **(settings or {})}, toml=toml)
    add_jobs_package(root, jobs)
    return env


def problems_of(env: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_workers(settings_from(env))
    return [str(p) for p in caught.value.problems]


def test_each_folders_workers_start_with_their_own_packages_script_and_the_build_filters_both(tmp_path):
    from workers_scan.workers import stack_build_command, stack_start_scripts

    settings = settings_from(two_folder_monorepo(tmp_path))
    workers = load_workers(settings)
    assert [(w.name, w.route, w.service_name, w.start_command, w.package_name) for w in workers] == [
        ("cleanup", "cleanup", "acme-dev-cleanup", "bash apps/jobs/scripts/start-worker.sh cleanup.js", "@monorepo/jobs"),
        ("orders", "orders", "acme-dev-orders", "bash apps/api/scripts/start-worker.sh orders.js", "@monorepo/api")]
    # In WORKERS_DIR's order, whatever the workers' names.
    assert stack_build_command(settings, workers) == DEFAULT_BUILD_COMMAND.replace(
        "{filters}", "--filter @monorepo/api --filter @monorepo/jobs")
    assert stack_start_scripts(workers) == ("apps/jobs/scripts/start-worker.sh", "apps/api/scripts/start-worker.sh")


def test_one_folder_keeps_the_seeds_build_and_start_commands(example_settings, example_workers):
    from workers_scan.workers import stack_build_command

    assert stack_build_command(example_settings, example_workers) == SEED_BUILD
    assert {w.start_command.rsplit(" ", 1)[0] for w in example_workers} == {"bash apps/api/scripts/start-worker.sh"}


def test_the_example_monorepos_second_package_joins_its_platform():
    from workers_scan import SettingsSource, load_settings

    settings = load_settings(SettingsSource(EXAMPLE_SETTINGS, is_example=False), environ={"WORKERS_DIR": TWO_FOLDERS})
    by_name = {w.name: w for w in load_workers(settings)}
    assert sorted(by_name) == ["billing", "email-outbox", "email-sender", "orders", "scheduler"]
    assert by_name["scheduler"].start_command == "bash apps/jobs/scripts/start-worker.sh scheduler.worker.js"


def test_the_entries_no_folder_takes_for_a_worker_are_listed_with_their_folder(tmp_path):
    from command_line.report import skipped

    env = two_folder_monorepo(tmp_path, jobs=("cleanup.ts", "cleanup.spec.ts"))
    assert skipped(settings_from(env)) == [(f"{JOBS}/cleanup.spec.ts", "always excluded (*.spec.ts)")]


def test_a_folder_listed_twice_is_refused_naming_the_file_and_key(tmp_path):
    env = two_folder_monorepo(tmp_path, {"WORKERS_DIR": f"{JOBS},{WORKERS},{JOBS}/"})
    with pytest.raises(InputError) as caught:
        settings_from(env)
    assert [str(p) for p in caught.value.problems] == [
        f"{display_path(env)}: WORKERS_DIR: lists the folder '{JOBS}' twice ('{JOBS}'); list each workers folder once"]


def test_two_folders_of_one_package_are_refused_naming_both_and_its_package_json(tmp_path):
    env = make_monorepo(tmp_path, ["orders.ts"], settings={"WORKERS_DIR": f"{WORKERS},apps/api/src/jobs"})
    (tmp_path / "apps/api/src/jobs").mkdir()
    (tmp_path / "apps/api/src/jobs/cleanup.ts").write_text(BOOTSTRAP)
    assert problems_of(env) == [
        f"{display_path(env)}: WORKERS_DIR: {WORKERS} and apps/api/src/jobs are both in the package @monorepo/api "
        f"({display_path(tmp_path / 'apps/api/package.json')}): a worker's file is passed to its package's start "
        "script relative to its folder, so one package holds one workers folder; list one of them, or give workers "
        "more places through WORKER_FOLDER_ENTRY sub-folders"]


def test_a_folder_without_a_package_is_refused_when_there_are_several(tmp_path):
    env = make_monorepo(tmp_path, ["orders.ts"], settings={"WORKERS_DIR": f"{WORKERS},tools/workers",
                                                           "START_COMMAND": "node {package}/{worker_file}",
                                                           "BUILD_COMMAND": "pnpm install --frozen-lockfile"})
    (tmp_path / "tools/workers").mkdir(parents=True)
    (tmp_path / "tools/workers/cleanup.ts").write_text(BOOTSTRAP)
    [problem] = problems_of(env)
    assert problem.startswith(f"{display_path(env)}: WORKERS_DIR: tools/workers: no package.json with a name above "
                              "it inside the monorepo")
    assert problem.endswith("START_COMMAND needs it ({package} is the package's folder, {filters} filters the build "
                            "on its name). Put the folder inside a workspace package (apps/<name>/src/workers)")


def test_a_start_command_without_package_is_refused_with_several_folders(tmp_path):
    env = two_folder_monorepo(tmp_path, {"START_COMMAND": "'bash apps/api/scripts/start-worker.sh {worker_file}'"})
    assert problems_of(env) == [
        f"{display_path(env)}: START_COMMAND: has no {{package}}, so the workers of every WORKERS_DIR folder "
        f"({WORKERS}, {JOBS}) would run the same command, each with a file relative to its own folder; use "
        "{package} where the package's folder goes, e.g. bash {package}/scripts/start-worker.sh {worker_file}"]


def test_a_worker_name_found_in_two_folders_is_refused_naming_both_files(tmp_path):
    env = two_folder_monorepo(tmp_path, jobs=("orders.ts",))
    assert problems_of(env) == [
        f"{display_path(tmp_path / JOBS / 'orders.ts')}: worker name: 'orders' is also the name of "
        f"{display_path(tmp_path / WORKERS / 'orders.ts')} (WORKERS_DIR {WORKERS}): names are one namespace for the "
        "stack (workers.toml tables, .env.workers.<worker>, routes and service names); rename one of them"]


def test_a_route_claimed_in_two_folders_is_refused_naming_both_files(tmp_path):
    env = two_folder_monorepo(tmp_path, toml='[cleanup]\nroute = "orders"\n')
    [problem] = problems_of(env)
    first, second = sorted([tmp_path / JOBS / "cleanup.ts", tmp_path / WORKERS / "orders.ts"],
                           key=lambda p: p.name)  # the workers are checked by name: cleanup, then orders
    assert problem == (f"{display_path(second)}: route: 'orders' is also the route of {display_path(first)}; set a "
                       "distinct route in workers.toml")


def test_the_workers_of_all_folders_count_against_one_rest_api(tmp_path, monkeypatch):
    import workers_scan.workers as workers_module

    monkeypatch.setattr(workers_module, "MAX_WORKERS", 2)
    env = two_folder_monorepo(tmp_path, jobs=("cleanup.ts", "reports.ts"))
    assert f"{display_path(env)}: WORKERS_DIR: its folders hold 3 workers; one REST API routes at most 2" in \
        "\n".join(problems_of(env))


def test_the_build_check_refuses_a_build_that_leaves_a_folders_package_out(tmp_path):
    env = two_folder_monorepo(tmp_path, {"BUILD_COMMAND": "'pnpm install --frozen-lockfile && pnpm run build "
                                                          "--filter @monorepo/api'"})
    assert problems_of(env) == [
        f"{display_path(env)}: BUILD_COMMAND: builds only @monorepo/api, not @monorepo/jobs, the package of {JOBS} "
        "(WORKERS_DIR): its workers' compiled files would be missing; add --filter @monorepo/jobs, or write "
        "{filters} where the filters go"]


def test_a_build_of_a_packages_dependencies_or_dependents_is_not_second_guessed(tmp_path):
    for selector in ("@monorepo/api...", "...@monorepo/jobs"):
        env = two_folder_monorepo(tmp_path / selector.strip(".^@").replace("/", "-"), {
            "BUILD_COMMAND": f"'pnpm install --frozen-lockfile && pnpm --filter {selector} run build'"})
        assert load_workers(settings_from(env))


def test_the_build_check_looks_for_the_start_script_of_each_package(tmp_path):
    env = make_monorepo(tmp_path, ["orders.ts"], settings={"WORKERS_DIR": TWO_FOLDERS})
    add_jobs_package(tmp_path, script=False)
    script = tmp_path / "apps/jobs/scripts/start-worker.sh"
    assert problems_of(env) == [
        f"{display_path(env)}: START_COMMAND: runs apps/jobs/scripts/start-worker.sh for the workers of {JOBS}, which "
        f"is not in the monorepo ({display_path(script)}); add it or change START_COMMAND"]


@pytest.fixture(scope="module")
def stacks(tmp_path_factory):
    """The same monorepo synthesized with its first folder alone, then with both, on each backend."""
    found = {}
    for compute, extra in (("apprunner", {}), ("ecs", ECS_SETTINGS)):
        for folders in (WORKERS, TWO_FOLDERS):
            root = tmp_path_factory.mktemp(f"{compute}-{folders.count(',') + 1}")
            env = two_folder_monorepo(root, {**extra, "WORKERS_DIR": folders}, api=("orders.ts", "billing/"))
            settings = settings_from(env)
            found[compute, folders] = synth_stack(settings, load_workers(settings))
    return found


def addresses(stack: dict) -> set[str]:
    return {f"{rtype}.{name}" for rtype, named in stack["resource"].items() for name in named}


@pytest.mark.parametrize("compute", ["apprunner", "ecs"])
def test_adding_a_second_folder_keeps_every_address_and_adds_its_workers(stacks, compute):
    one, two = stacks[compute, WORKERS], stacks[compute, TWO_FOLDERS]
    assert addresses(one) < addresses(two)
    added = {address.split(".")[0] for address in addresses(two) - addresses(one)}
    service = "aws_apprunner_service" if compute == "apprunner" else "aws_ecs_service"
    assert service in added and not added & {"aws_vpc", "aws_lb", "aws_api_gateway_rest_api", "aws_rds_cluster",
                                             "aws_codebuild_project", "aws_ecr_repository"}


def test_every_app_runner_service_builds_every_package_and_starts_from_its_own(stacks):
    services = stacks["apprunner", TWO_FOLDERS]["resource"]["aws_apprunner_service"]
    configured = {}
    for service in services.values():
        values = service["source_configuration"]["code_repository"]["code_configuration"][
            "code_configuration_values"]
        configured[service["service_name"]] = (values["build_command"], values["start_command"])
    build = DEFAULT_BUILD_COMMAND.replace("{filters}", "--filter @monorepo/api --filter @monorepo/jobs")
    assert configured == {
        "acme-dev-billing": (build, "bash apps/api/scripts/start-worker.sh billing/main.js"),
        "acme-dev-cleanup": (build, "bash apps/jobs/scripts/start-worker.sh cleanup.js"),
        "acme-dev-orders": (build, "bash apps/api/scripts/start-worker.sh orders.js")}


def test_ecs_builds_one_image_holding_every_packages_start_script(stacks):
    stack = stacks["ecs", TWO_FOLDERS]
    [project] = stack["resource"]["aws_codebuild_project"].values()
    variables = {v["name"]: v["value"] for v in project["environment"]["environment_variable"]}
    assert variables["BUILD_COMMAND"] == DEFAULT_BUILD_COMMAND.replace(
        "{filters}", "--filter @monorepo/api --filter @monorepo/jobs")
    assert "RUN test -f apps/api/scripts/start-worker.sh && test -f apps/jobs/scripts/start-worker.sh\n" in \
        variables["DOCKERFILE"]
    assert len(stack["resource"]["aws_ecr_repository"]) == 1
    commands = {d["family"]: d["container_definitions"] for d in stack["resource"]["aws_ecs_task_definition"].values()}
    [cleanup] = [text for family, text in commands.items() if family.endswith("cleanup")]
    assert '"command":["bash","apps/jobs/scripts/start-worker.sh","cleanup.js"]' in cleanup.replace(" ", "")
