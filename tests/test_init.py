"""`python main.py init`: what it writes into a fresh monorepo, what it keeps, what it refuses, and what doctor says
about it. No synthesis: everything here runs without jsii."""

from __future__ import annotations

import io
import os
import re
import subprocess
from pathlib import Path

import pytest

import main
from command_line import doctor
from workers_scan import SettingsSource, load_settings
from workers_scan.errors import Problems
from workers_scan.settings import EXAMPLE_MONOREPO, KEYS_BY_NAME
from workers_scan.workers import TOML_KEYS, scan_workers

from .helpers import CODECONNECTIONS_ARN, VALID_ARN

SETTINGS = Path("infra/aws/platform.env")
TOML = Path("infra/aws/workers.toml")
SCRIPT = Path("apps/api/scripts/start-worker.sh")
HELLO = Path("apps/api/src/workers/hello.ts")
COMMON = ["--aws-region", "eu-west-1", "--project-name", "acme", "--environment", "dev",
          "--repository-url", "https://github.com/acme/platform"]
APP_RUNNER = ["--app-runner-connection-arn", VALID_ARN, *COMMON]
ECS = ["--compute", "ecs", "--codeconnections-arn", CODECONNECTIONS_ARN, *COMMON]


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A fresh git repository holding a minimal NestJS pnpm monorepo, with no worker and nothing of the platform;
    standard input is not a terminal."""
    root = tmp_path / "monorepo"
    api = root / "apps" / "api"
    (api / "src" / "i18n").mkdir(parents=True)   # the default BUILD_COMMAND copies it
    (api / "src" / "i18n" / "en.json").write_text("{}\n")
    (api / "src" / "main.ts").write_text("export {};\n")
    (api / "package.json").write_text('{"name": "@monorepo/api", "scripts": {"build": "nest build"}}\n')
    (root / "package.json").write_text('{"private": true, "scripts": {"build": "turbo run build"}}\n')
    (root / "pnpm-workspace.yaml").write_text("packages:\n  - 'apps/*'\n")
    (root / "pnpm-lock.yaml").write_text("lockfileVersion: '9.0'\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    monkeypatch.delenv("INFRA_ENV_FILE", raising=False)
    return root


def init(root: Path, *flags: str) -> int:
    return main.main(["init", "--monorepo", str(root), *flags])


def load(root: Path, environ: dict | None = None):
    return load_settings(SettingsSource(root / SETTINGS, is_example=False), environ=environ or {})


def ignored(root: Path, relative: str) -> bool:
    return subprocess.run(["git", "check-ignore", "-q", relative], cwd=root).returncode == 0


def test_init_with_flags_writes_settings_workers_toml_an_executable_start_script_a_first_worker_and_gitignore(
        repo, capsys):
    assert init(repo, *APP_RUNNER) == main.EXIT_OK
    out = capsys.readouterr().out
    for path in (SETTINGS, TOML, SCRIPT, HELLO):
        assert (repo / path).is_file(), path
        assert re.search(rf"^wrote .*{re.escape(path.as_posix())}", out, re.M), path
    assert os.access(repo / SCRIPT, os.X_OK)
    assert (repo / SCRIPT).read_text() == (EXAMPLE_MONOREPO / SCRIPT).read_text()
    hello = (repo / HELLO).read_text()
    assert "NestFactory.create(" in hello and "@Get('health')" in hello and "process.env.PORT" in hello
    assert (repo / ".gitignore").read_text().splitlines()[1:] == ["infra/aws/.env", "infra/aws/secrets.local.env"]
    assert ignored(repo, "infra/aws/.env") and ignored(repo, "infra/aws/secrets.local.env")
    assert not ignored(repo, SETTINGS.as_posix())
    settings = (repo / SETTINGS).read_text()
    assert "\nMONOREPO_ROOT=../..\n" in settings and f"\nAPP_RUNNER_CONNECTION_ARN={VALID_ARN}\n" in settings
    assert "CODECONNECTIONS_ARN" not in settings   # the other backend's connection: an error if set
    next_steps = out.split("Next:")[1]
    assert next_steps.index("python main.py doctor") < next_steps.index("python main.py --env-file")


def test_the_written_settings_load_with_the_products_loader_for_each_backend(repo, tmp_path):
    assert init(repo, *APP_RUNNER) == main.EXIT_OK
    settings = load(repo)
    assert (settings.compute, settings.connection_arn, settings.aws_region, settings.project_name) == \
        ("apprunner", VALID_ARN, "eu-west-1", "acme")
    assert settings.monorepo_root == repo.resolve() and settings.workers_path == repo.resolve() / HELLO.parent
    other = tmp_path / "ecs"
    subprocess.run(["git", "init", "-q", str(other)], check=True)
    assert init(other, *ECS) == main.EXIT_OK
    ecs = load(other)
    assert (ecs.compute, ecs.codeconnections_arn, ecs.connection_arn) == ("ecs", CODECONNECTIONS_ARN, "")
    assert "WORKER_MAX_CONCURRENCY" not in (other / SETTINGS).read_text()   # App Runner's, refused on ecs


@pytest.mark.parametrize("flags", [APP_RUNNER, ECS], ids=["apprunner", "ecs"])
def test_every_commented_default_reads_back_as_the_default_when_uncommented(repo, flags):
    assert init(repo, *flags) == main.EXIT_OK
    written = load(repo)
    path = repo / SETTINGS
    text = path.read_text()
    key_line = r"^# ([A-Z][A-Z0-9_]*)=.*$(?=\n\n|\n\Z)"   # the last line of a block; help lines come above it
    commented = re.findall(key_line, text, re.M)
    assert {"BRANCH", "WORKERS_DIR", "BUILD_COMMAND", "START_COMMAND", "WORKER_CPU"} <= set(commented)
    path.write_text(re.sub(key_line, lambda m: m.group(0)[2:], text, flags=re.M))
    uncommented = load(repo)
    assert set(commented) <= set(uncommented.sources)   # read from the file this time
    assert uncommented == written


def test_the_workers_toml_template_lists_every_table_key_and_reads_back_uncommented(repo):
    assert init(repo, *APP_RUNNER) == main.EXIT_OK
    path = repo / TOML
    text = path.read_text()
    for key in TOML_KEYS:
        assert re.search(rf"^# {key} = ", text, re.M), key
    path.write_text(re.sub(r"^# (\[|[a-z_]+ = )", r"\1", text, flags=re.M))
    problems = Problems()
    [hello] = scan_workers(load(repo), problems)
    assert not problems, list(problems)
    assert (hello.name, hello.health_check_path, hello.cpu, hello.memory) == ("hello", "/health", 1024, 2048)


def test_the_first_worker_is_discovered_and_the_monorepo_passes_the_input_checks(repo, capsys):
    assert init(repo, *APP_RUNNER) == main.EXIT_OK
    capsys.readouterr()
    assert main.main(["workers", "--env-file", str(repo / SETTINGS)]) == main.EXIT_OK, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "hello" in out and "bash apps/api/scripts/start-worker.sh hello.js" in out


def test_a_second_run_overwrites_nothing_and_says_each_file_is_kept(repo, capsys):
    assert init(repo, *APP_RUNNER) == main.EXIT_OK
    for path in (SETTINGS, TOML, SCRIPT, HELLO):
        (repo / path).write_text(f"edited {path}\n")
    gitignore = (repo / ".gitignore").read_text()
    capsys.readouterr()
    assert init(repo, "--compute", "ecs", "--codeconnections-arn", CODECONNECTIONS_ARN) == main.EXIT_OK
    out = capsys.readouterr().out
    for path in (SETTINGS, TOML, SCRIPT, HELLO):
        assert (repo / path).read_text() == f"edited {path}\n", path
    for path in (SETTINGS, TOML, SCRIPT):
        assert re.search(rf"^kept .*{re.escape(path.as_posix())} \(exists\)", out, re.M), path
    assert "no first worker written" in out and "wrote" not in out
    assert "not used: --codeconnections-arn, --compute" in out
    assert (repo / ".gitignore").read_text() == gitignore


@pytest.mark.parametrize("compute, connection, other", [
    ("apprunner", "APP_RUNNER_CONNECTION_ARN", "CODECONNECTIONS_ARN"),
    ("ecs", "CODECONNECTIONS_ARN", "APP_RUNNER_CONNECTION_ARN"),
])
def test_missing_required_keys_without_a_terminal_exit_2_naming_each_key_flag_and_help(repo, capsys, compute,
                                                                                      connection, other):
    assert init(repo, "--compute", compute, "--project-name", "acme") == main.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    for key in (connection, "AWS_REGION", "ENVIRONMENT", "REPOSITORY_URL"):
        flag = "--" + key.lower().replace("_", "-")
        assert f"infra/aws/platform.env: {key} ({flag}): missing: {KEYS_BY_NAME[key].help}" in err, key
    assert "PROJECT_NAME" not in err and other not in err
    assert "nothing was written" in err and not (repo / "infra").exists() and not (repo / "apps/api/scripts").exists()


def test_bad_values_are_refused_together_naming_each_key_and_nothing_is_written(repo, capsys):
    flags = ["--app-runner-connection-arn", "arn:aws:apprunner:eu-west-1:123:connection/x", "--aws-region", "Europe",
             "--project-name", "acme", "--repository-url", "https://github.com/acme/platform"]
    assert init(repo, *flags) == main.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "ENVIRONMENT (--environment): missing" in err   # with the bad ones, in one pass
    assert "infra/aws/platform.env: APP_RUNNER_CONNECTION_ARN (--app-runner-connection-arn): " \
           "'arn:aws:apprunner:eu-west-1:123:connection/x' is not an App Runner connection ARN" in err
    assert "AWS_REGION (--aws-region): 'Europe' is not an AWS region" in err
    assert not (repo / "infra").exists()


def test_values_that_parse_but_disagree_are_refused_by_the_loader_before_writing(repo, capsys):
    flags = [*APP_RUNNER, "--aws-region", "us-east-1", "--codeconnections-arn", CODECONNECTIONS_ARN]
    assert init(repo, *flags) == main.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "APP_RUNNER_CONNECTION_ARN (--app-runner-connection-arn): is in region eu-west-1 but AWS_REGION is " \
           "us-east-1 (from infra/aws/platform.env)" in err.replace(str(repo) + "/", "")
    assert "CODECONNECTIONS_ARN (--codeconnections-arn): is read with COMPUTE=ecs only" in err
    assert "/tmp" not in err.replace(str(repo), "") and not (repo / "infra").exists()


def test_a_secret_given_as_a_setting_is_refused_without_quoting_it(repo, capsys):
    token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    flags = [*APP_RUNNER, "--repository-url", f"https://x:{token}@github.com/acme/platform"]
    assert init(repo, *flags) == main.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "REPOSITORY_URL (--repository-url): holds a secret in plain text" in err and token not in err


def test_prompts_in_a_terminal_ask_again_until_the_schema_takes_the_value(repo, monkeypatch, capsys):
    answers = iter(["", "eu-west-1", "Acme!", "acme", "dev", "https://github.com/acme/platform"])
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    assert init(repo, "--app-runner-connection-arn", VALID_ARN) == main.EXIT_OK   # COMPUTE: the default
    assert next(answers, None) is None
    assert "PROJECT_NAME: 'Acme!' is not 3-20 characters" in capsys.readouterr().err
    assert (load(repo).compute, load(repo).project_name) == ("apprunner", "acme")


def test_gitignore_gets_only_the_lines_git_does_not_ignore_already(repo, capsys):
    (repo / ".gitignore").write_text("node_modules\n**/.env")   # no final newline
    assert init(repo, *APP_RUNNER) == main.EXIT_OK
    lines = (repo / ".gitignore").read_text().splitlines()
    assert lines[:2] == ["node_modules", "**/.env"]
    assert [line for line in lines[2:] if line and not line.startswith("#")] == ["infra/aws/secrets.local.env"]
    assert "appended to" in capsys.readouterr().out


def test_a_rule_that_ignores_the_settings_file_gets_an_appended_negation(repo, capsys):
    (repo / ".gitignore").write_text("*.env\n")
    assert init(repo, *APP_RUNNER) == main.EXIT_OK
    out = capsys.readouterr().out
    assert (repo / ".gitignore").read_text().splitlines()[0] == "*.env"
    assert (repo / ".gitignore").read_text().splitlines()[-1] == "!infra/aws/platform.env"
    assert not ignored(repo, SETTINGS.as_posix()) and ignored(repo, "infra/aws/.env")
    assert "!infra/aws/platform.env (infra/aws/platform.env was ignored by .gitignore:1:*.env" in out


def test_an_ignored_settings_folder_is_reported_with_the_fix_not_patched(repo, capsys):
    (repo / ".gitignore").write_text("infra/\n")
    assert init(repo, *APP_RUNNER) == main.EXIT_OK
    out = capsys.readouterr().out
    assert "WARNING: infra/aws/platform.env is ignored by git" in out and "its folder infra is ignored" in out
    assert "!infra/aws/platform.env" not in (repo / ".gitignore").read_text()


def test_a_rule_in_a_nested_gitignore_is_reported_where_it_is(repo, capsys):
    (repo / "infra").mkdir()
    (repo / "infra" / ".gitignore").write_text("*.env\n")
    assert init(repo, *APP_RUNNER) == main.EXIT_OK
    out = capsys.readouterr().out
    assert "the rule is in infra/.gitignore" in out.replace(str(repo) + "/", "")
    assert "add `!aws/platform.env` to" in out
    assert not (repo / ".gitignore").exists()   # nothing appended: the nested rule ignores the local files too


def test_workers_dir_places_the_first_worker_and_is_written_to_the_settings(repo, capsys):
    assert init(repo, *APP_RUNNER, "--workers-dir", "apps/api/src/jobs") == main.EXIT_OK
    out = capsys.readouterr().out
    assert (repo / "apps/api/src/jobs/hello.ts").is_file() and not (repo / HELLO).exists()
    assert load(repo).workers_dir == "apps/api/src/jobs"
    assert "adapt its last line" in out   # the example's script runs dist/workers


def test_no_first_worker_when_the_workers_folder_holds_typescript(repo, capsys):
    (repo / HELLO.parent / "billing").mkdir(parents=True)
    (repo / HELLO.parent / "billing" / "main.ts").write_text("export {};\n")
    assert init(repo, *APP_RUNNER) == main.EXIT_OK
    assert not (repo / HELLO).exists()
    assert "no first worker written" in capsys.readouterr().out
    assert "# [worker-name]" in (repo / TOML).read_text()


def test_an_existing_settings_file_of_another_name_is_kept_and_not_ignored(repo, capsys):
    existing = repo / "infra" / "aws" / ".env"
    existing.parent.mkdir(parents=True)
    existing.write_text(f"APP_RUNNER_CONNECTION_ARN={VALID_ARN}\nAWS_REGION=eu-west-1\nPROJECT_NAME=acme\n"
                        "ENVIRONMENT=dev\nREPOSITORY_URL=https://github.com/acme/platform\nMONOREPO_ROOT=../..\n")
    assert init(repo) == main.EXIT_OK   # no flag needed: the settings exist
    out = capsys.readouterr().out
    assert not (repo / SETTINGS).exists() and "init writes no second one" in out
    assert (repo / ".gitignore").read_text().splitlines()[1:] == ["infra/aws/secrets.local.env"]
    assert (repo / SCRIPT).is_file() and (repo / HELLO).is_file()


def test_init_outside_a_repository_without_monorepo_exits_2(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main.main(["init", *APP_RUNNER]) == main.EXIT_BAD_INPUT
    assert "no git repository at or above" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_init_refuses_to_write_into_this_apps_own_repository(repo, monkeypatch, capsys):
    monkeypatch.setattr("command_line.init.PROJECT_ROOT", repo)
    monkeypatch.chdir(repo / "apps")
    assert main.main(["init", *APP_RUNNER]) == main.EXIT_BAD_INPUT
    assert "is this app's own repository, not your monorepo" in capsys.readouterr().err
    assert not (repo / "infra").exists()


def test_init_finds_the_repository_root_from_a_folder_inside_it(repo, monkeypatch, capsys):
    monkeypatch.chdir(repo / "apps" / "api")
    assert main.main(["init", *APP_RUNNER]) == main.EXIT_OK
    assert (repo / SETTINGS).is_file() and (repo / SCRIPT).is_file()


def test_the_keys_init_names_are_keys_of_the_schema():
    from command_line.init import COMMON_KEYS, OPTIONAL_FLAG_KEYS

    assert not set(COMMON_KEYS + OPTIONAL_FLAG_KEYS) - set(KEYS_BY_NAME), "a key was renamed: update command_line/init.py"


# --- doctor ---------------------------------------------------------------------------------------------------

@pytest.fixture
def quick_doctor(monkeypatch):
    """doctor without its machine checks (node, terraform...): only the inputs are under test."""
    monkeypatch.setattr(doctor, "environment_checks", lambda: [doctor.Check("machine", doctor.OK, "not checked")])


def test_doctor_points_to_init_when_the_start_script_is_missing(repo, capsys, quick_doctor):
    assert init(repo, *APP_RUNNER) == main.EXIT_OK
    (repo / SCRIPT).unlink()
    capsys.readouterr()
    assert main.main(["doctor", "--env-file", str(repo / SETTINGS)]) == main.EXIT_BAD_INPUT
    out = capsys.readouterr().out.replace(str(repo) + "/", "")
    assert "START_COMMAND: runs apps/api/scripts/start-worker.sh, which is not in the monorepo" in out
    assert f"-> {SCRIPT} is missing: `python main.py init" in out


def test_doctor_points_to_init_when_no_worker_is_found(repo, capsys, quick_doctor):
    assert init(repo, *APP_RUNNER) == main.EXIT_OK
    (repo / HELLO).unlink()
    capsys.readouterr()
    assert main.main(["doctor", "--env-file", str(repo / SETTINGS)]) == main.EXIT_BAD_INPUT
    out = capsys.readouterr().out.replace(str(repo) + "/", "")
    assert "no worker found" in out and f"-> {HELLO} is missing: `python main.py init" in out
    assert f"-> {SCRIPT}" not in out


def test_doctor_points_to_init_without_a_settings_file(repo, capsys, quick_doctor, monkeypatch):
    monkeypatch.chdir(repo)
    assert main.main(["doctor"]) == main.EXIT_BAD_INPUT
    out = capsys.readouterr().out
    assert "settings file: none found" in out
    assert "-> no settings file: `python main.py init` writes infra/aws/platform.env" in out


def test_doctor_gives_no_init_hint_when_the_inputs_are_whole(repo, capsys, quick_doctor):
    assert init(repo, *APP_RUNNER) == main.EXIT_OK
    capsys.readouterr()
    assert main.main(["doctor", "--env-file", str(repo / SETTINGS)]) == main.EXIT_OK
    assert "python main.py init" not in capsys.readouterr().out


def test_a_ci_checkout_of_a_monorepo_set_up_by_init_synthesizes_that_monorepo_not_the_example(repo, tmp_path,
                                                                                            monkeypatch, capsys):
    """Issue #29's end: init, commit, then a fresh clone (tracked files only: no infra/aws/.env, no untracked
    files) under CI=true, run from a subfolder, synthesizes the team's own stack."""
    assert init(repo, *APP_RUNNER) == main.EXIT_OK
    (repo / "infra" / "aws" / ".env").write_text("WORKER_CPU=2048\nWORKER_MEMORY=4096\n")   # local, ignored
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "-C", str(repo), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(repo), "commit", "-qm", "platform"], check=True)
    clone = tmp_path / "ci-checkout"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    assert not (clone / "infra" / "aws" / ".env").exists()
    monkeypatch.setenv("CI", "true")
    monkeypatch.chdir(clone / "apps" / "api")
    capsys.readouterr()
    assert main.main(["synth", "--out", str(tmp_path / "out")]) == main.EXIT_OK, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "acme-dev" in out and "EMBEDDED EXAMPLE" not in out
    import json

    stack = json.loads((tmp_path / "out" / "stacks" / "acme-dev" / "cdk.tf.json").read_text())
    [service] = stack["resource"]["aws_apprunner_service"].values()
    assert service["service_name"] == "acme-dev-hello"   # init's first worker, the team's project and environment
    assert service["instance_configuration"]["cpu"] == "1024"   # the default: the ignored local override is not here
