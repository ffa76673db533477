"""The build and start commands checked against the monorepo on disk (workers_scan/build_check.py): each problem
names the settings key and where it was set, and what the command would miss."""

from pathlib import Path

from workers_scan.build_check import check_commands, workers_package
from workers_scan.errors import Problems, display_path

from .helpers import make_monorepo, settings_from

BUILD = "pnpm install --frozen-lockfile && pnpm run build --filter {package}"


def problems_of(root: Path, settings: dict | None = None, environ: dict | None = None) -> list[str]:
    env = make_monorepo(root, settings=settings)
    problems = Problems()
    check_commands(settings_from(env, environ), problems)
    return [str(p) for p in problems]


def test_commands_from_the_environment_are_named_there(tmp_path):
    (tmp_path / "apps" / "api" / "scripts").mkdir(parents=True)
    messages = problems_of(tmp_path, environ={"BUILD_COMMAND": "cp missing.txt out/",
                                              "START_COMMAND": "bash scripts/run.sh {worker_file}"})
    assert messages == [
        f"environment variable: BUILD_COMMAND: copies missing.txt, which is not in the monorepo "
        f"({display_path(tmp_path / 'missing.txt')}); add it or change BUILD_COMMAND",
        f"environment variable: START_COMMAND: runs scripts/run.sh, which is not in the monorepo "
        f"({display_path(tmp_path / 'scripts' / 'run.sh')}); add it or change START_COMMAND"]


def test_a_quoted_filter_names_its_package_and_a_filter_one_letter_off_is_refused_listing_every_package(tmp_path):
    assert problems_of(tmp_path / "a", {"BUILD_COMMAND": BUILD.format(package="'@monorepo/api'")}) == []
    root = tmp_path / "b"
    (root / "packages" / "ui").mkdir(parents=True)
    (root / "packages" / "ui" / "package.json").write_text('{"name": "@monorepo/ui"}')
    assert problems_of(root, {"BUILD_COMMAND": BUILD.format(package="@monorepo/apiX")}) == [
        f"{display_path(root / 'infra' / 'aws' / '.env')}: BUILD_COMMAND: filters on the package @monorepo/apiX, "
        "which is not in the monorepo; its packages are: @monorepo/api, @monorepo/ui; the workers are in "
        f"@monorepo/api: set BUILD_COMMAND={BUILD.format(package='@monorepo/api')}"]


def test_no_package_hint_when_the_workers_package_is_too_deep_to_be_a_workspace_package(tmp_path):
    deep = "apps/team/api/service/src/workers"
    env = make_monorepo(tmp_path, settings={"WORKERS_DIR": deep, "BUILD_COMMAND": BUILD.format(package="@x/y")})
    (tmp_path / deep).mkdir(parents=True)
    (tmp_path / deep / "orders.ts").write_text("export {};\n")
    (tmp_path / "apps/team/api/service/package.json").write_text('{"name": "@monorepo/service"}')
    settings = settings_from(env)
    assert workers_package(settings) == "@monorepo/service"
    problems = Problems()
    check_commands(settings, problems)
    [message] = [str(p) for p in problems]
    assert message.endswith("filters on the package @x/y, which is not in the monorepo; its packages are: "
                            "@monorepo/api"), message


def test_the_workers_package_is_looked_for_inside_the_monorepo_only(tmp_path):
    outside = tmp_path / "outside"
    (outside / "workers").mkdir(parents=True)
    (outside / "workers" / "orders.ts").write_text("export {};\n")
    (outside / "package.json").write_text('{"name": "@elsewhere/pkg"}')
    root = tmp_path / "repo"
    env = make_monorepo(root, [])
    (root / "apps" / "api" / "src" / "workers").rmdir()
    (root / "apps" / "api" / "src" / "workers").symlink_to(outside / "workers", target_is_directory=True)
    assert workers_package(settings_from(env)) is None


def test_cp_sources_are_checked_after_an_unparsable_part_and_without_options(tmp_path):
    command = 'echo "unbalanced && cp LICENSE.TXT out/ && cp -R apps/api/src/i18n out/'
    assert problems_of(tmp_path, {"BUILD_COMMAND": command}) == [
        f"{display_path(tmp_path / 'infra' / 'aws' / '.env')}: BUILD_COMMAND: copies LICENSE.TXT, which is not in "
        f"the monorepo ({display_path(tmp_path / 'LICENSE.TXT')}); add it or change BUILD_COMMAND"]


def test_absolute_cp_sources_and_a_placeholder_script_are_not_checked(tmp_path):
    assert problems_of(tmp_path, {"BUILD_COMMAND": "cp /opt/no-such-file.txt out/",
                                  "START_COMMAND": "bash {worker_file}"}) == []


def test_a_start_script_run_without_arguments_after_the_last_and_is_checked(tmp_path):
    assert problems_of(tmp_path, {"START_COMMAND": "export W={worker_file} && bash scripts/run.sh"}) == [
        f"{display_path(tmp_path / 'infra' / 'aws' / '.env')}: START_COMMAND: runs scripts/run.sh, which is not in "
        f"the monorepo ({display_path(tmp_path / 'scripts' / 'run.sh')}); add it or change START_COMMAND"]
