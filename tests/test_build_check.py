"""The build and start commands checked against the monorepo on disk (workers_scan/build_check.py): each problem
names the settings key and where it was set, and what the command would miss."""

import json
from pathlib import Path

import pytest

from workers_scan.build_check import check_commands, workers_package
from workers_scan.errors import Problems, display_path

from .helpers import BOOTSTRAP, make_monorepo, settings_from

BUILD = "pnpm install --frozen-lockfile && pnpm run build --filter {package}"


def problems_of(root: Path, settings: dict | None = None, environ: dict | None = None) -> list[str]:
    env = make_monorepo(root, settings=settings)
    problems = Problems()
    check_commands(settings_from(env, environ), problems)
    return [str(p) for p in problems]


def problems_of_env(env: Path) -> list[str]:
    problems = Problems()
    check_commands(settings_from(env), problems)
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
    (tmp_path / deep / "orders.ts").write_text(BOOTSTRAP)
    (tmp_path / "apps/team/api/service/package.json").write_text('{"name": "@monorepo/service"}')
    (tmp_path / "apps/team/api/service/scripts").mkdir()
    (tmp_path / "apps/team/api/service/scripts/start-worker.sh").write_text("#!/usr/bin/env bash\n")
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
    (outside / "workers" / "orders.ts").write_text(BOOTSTRAP)
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


# --- pnpm's rules (checked against pnpm 9: `pnpm run build --filter X` runs the root's build with `--filter X`) ---

SEED = "pnpm install --frozen-lockfile && pnpm run build --filter @monorepo/api && cp -R apps/api/src/i18n out"


def root_scripts(root: Path, **scripts: str) -> None:
    (root / "package.json").write_text(json.dumps({"private": True, "scripts": scripts}))


def test_a_filter_after_run_build_is_refused_with_pnpms_own_filter_when_the_root_build_is_not_turbo(tmp_path):
    env = make_monorepo(tmp_path, settings={"BUILD_COMMAND": SEED})
    root_scripts(tmp_path, build="pnpm -r build")
    assert problems_of_env(env) == [
        f"{display_path(env)}: BUILD_COMMAND: runs `pnpm run build --filter @monorepo/api`: pnpm hands every argument "
        "after the script's name to the script, so `--filter @monorepo/api` goes to the root's `build` script "
        "(`pnpm -r build`), which is not Turborepo's `turbo run` and does not take it. Select the package with pnpm's "
        "own filter, before `run`: BUILD_COMMAND=pnpm install --frozen-lockfile && pnpm --filter @monorepo/api run "
        "build && cp -R apps/api/src/i18n out"]


def test_the_seed_command_is_right_on_a_turbo_root_and_the_fixed_command_on_any_root(tmp_path):
    for name, script in (("turbo", "turbo run build"), ("npx-turbo", "npx turbo build --cache-dir=.turbo")):
        env = make_monorepo(tmp_path / name, settings={"BUILD_COMMAND": SEED})
        root_scripts(tmp_path / name, build=script)
        assert problems_of_env(env) == [], name
    fixed = SEED.replace("pnpm run build --filter @monorepo/api", "pnpm --filter @monorepo/api run build")
    env = make_monorepo(tmp_path / "fixed", settings={"BUILD_COMMAND": fixed})
    root_scripts(tmp_path / "fixed", build="pnpm -r build")
    assert problems_of_env(env) == []


@pytest.mark.parametrize("selector", ["@monorepo/api", "'@monorepo/api'", "@monorepo/api...", "...@monorepo/api",
                                      "...^@monorepo/api", "./apps/api", "{apps/api}", "'{./apps/api}'",
                                      "@monorepo/*", "!@monorepo/web", "[origin/main]"])
def test_selectors_that_name_the_api_package_or_are_not_checked_are_accepted(tmp_path, selector):
    for command in (f"pnpm --filter {selector} run build", f"pnpm -F {selector} build",
                    f"pnpm --filter={selector} run build"):
        env = make_monorepo(tmp_path / str(abs(hash(command))), settings={"BUILD_COMMAND": command})
        assert problems_of_env(env) == [], command


@pytest.mark.parametrize("selector", ["./apps/web", "{apps/web}", "@monorepo/web...", "...@other/*"])
def test_selectors_that_name_no_package_are_refused(tmp_path, selector):
    env = make_monorepo(tmp_path, settings={"BUILD_COMMAND": f"pnpm --filter {selector} run build"})
    [problem] = problems_of_env(env)
    assert f"BUILD_COMMAND: filters on the package {selector}, which is not in the monorepo; its packages are: " \
           "@monorepo/api" in problem


def test_a_script_the_selected_packages_or_the_root_do_not_define_is_refused(tmp_path):
    """pnpm 9 itself exits 0 there ("None of the selected packages has a ... script"): a build that builds nothing."""
    env = make_monorepo(tmp_path / "filtered", settings={"BUILD_COMMAND": "pnpm --filter @monorepo/api run compile"})
    assert problems_of_env(env) == [
        f"{display_path(env)}: BUILD_COMMAND: runs `pnpm --filter @monorepo/api run compile`, but none of the packages "
        "it selects (@monorepo/api) has a `compile` script; add it to their package.json or change BUILD_COMMAND"]
    env = make_monorepo(tmp_path / "root", settings={"BUILD_COMMAND": "pnpm install && pnpm run compile"})
    assert problems_of_env(env) == [
        f"{display_path(env)}: BUILD_COMMAND: runs `pnpm run compile` in the monorepo root, whose "
        f"{display_path(tmp_path / 'root' / 'package.json')} has no `compile` script; add it, or select the package "
        "that has it: `pnpm --filter <package> run compile`"]
    env = make_monorepo(tmp_path / "recursive", settings={"BUILD_COMMAND": "pnpm -r run compile"})
    [problem] = problems_of_env(env)
    assert "runs `pnpm -r run compile`, but none of the packages it selects (@monorepo/api) has a `compile`" in problem


def test_a_frozen_npm_or_any_yarn_install_needs_its_lockfile(tmp_path):
    env = make_monorepo(tmp_path, settings={"BUILD_COMMAND": "npm ci && yarn build"})
    assert problems_of_env(env) == [
        f"{display_path(env)}: BUILD_COMMAND: runs `npm ci`, which fails without "
        f"{display_path(tmp_path / 'package-lock.json')}; run `npm install` and commit the lockfile, or use the "
        "package manager the monorepo locks with",
        f"{display_path(env)}: BUILD_COMMAND: runs `yarn build` without {display_path(tmp_path / 'yarn.lock')}: the "
        "build would resolve every dependency anew; run `yarn install` and commit the lockfile, or use the package "
        "manager the monorepo locks with"]
    (tmp_path / "package-lock.json").write_text("{}")
    (tmp_path / "yarn.lock").write_text("")
    assert problems_of_env(env) == []


def test_options_with_values_before_the_command_and_variables_before_pnpm_are_read_as_pnpm_reads_them():
    from workers_scan.build_check import parse_pnpm, simple_commands

    [(words, text)] = simple_commands("CI=1 pnpm --reporter append-only -F @a/b --workspace-concurrency 2 run "
                                      "--if-present build --watch")
    call = parse_pnpm(words[1:], text)
    assert (call.filters, call.command, call.script, call.script_args) == (["@a/b"], "run", "build", ["--watch"])
    call = parse_pnpm(["install", "--frozen-lockfile"], "pnpm install --frozen-lockfile")
    assert (call.command, call.script, call.options) == ("install", None, ["--frozen-lockfile"])


def test_a_command_that_is_no_script_runs_a_binary_and_options_are_read_where_pnpm_reads_them(tmp_path):
    """`pnpm tsc` without a tsc script is `pnpm exec tsc` (pnpm 6.6+); -C picks the package; --if-present, a /regex/
    of scripts and value options before the command change nothing the check may refuse."""
    for command in ("pnpm turbo run build --filter @monorepo/api", "pnpm tsc -p apps/api",
                    "pnpm -C apps/api run build", "pnpm --dir=apps/api build",
                    "pnpm --store-dir /tmp/store install --frozen-lockfile",
                    "pnpm -r run --if-present lint", "pnpm run --if-present compile", 'pnpm run "/^build/"',
                    "pnpm --filter api run build", "pnpm -F api... build"):
        env = make_monorepo(tmp_path / str(abs(hash(command))), settings={"BUILD_COMMAND": command})
        assert problems_of_env(env) == [], command
    env = make_monorepo(tmp_path / "dir", settings={"BUILD_COMMAND": "pnpm -C apps/api run compile"})
    [problem] = problems_of_env(env)
    assert "runs `pnpm -C apps/api run compile` in apps/api, whose" in problem and "has no `compile` script" in problem


def test_a_name_without_its_scope_must_name_one_package_and_the_fix_changes_only_the_filters_word(tmp_path):
    env = make_monorepo(tmp_path, settings={"BUILD_COMMAND": "pnpm --filter web run build && cp -R apps/api/src/i18n x"})
    [problem] = problems_of_env(env)
    assert problem.endswith("filters on the package web, which is not in the monorepo; its packages are: "
                            "@monorepo/api; the workers are in @monorepo/api: set BUILD_COMMAND=pnpm --filter "
                            "@monorepo/api run build && cp -R apps/api/src/i18n x")
    for scope in ("@a", "@b"):
        (tmp_path / "packages" / scope[1:]).mkdir(parents=True)
        (tmp_path / "packages" / scope[1:] / "package.json").write_text(json.dumps({"name": f"{scope}/ui"}))
    env = make_monorepo(tmp_path, settings={"BUILD_COMMAND": "pnpm --filter ui run build"})
    [problem] = problems_of_env(env)
    assert "filters on the package ui, which is not in the monorepo" in problem   # two scopes: pnpm cannot choose
