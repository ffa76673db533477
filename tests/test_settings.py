import subprocess
from pathlib import Path

import pytest

from workers_scan import InputError, load_all_settings, load_settings, locate_settings
from workers_scan.setting_parsers import parse_csv_matching, parse_int_between, parse_matching, parse_one_of
from workers_scan.settings import (DEFAULT_BUILD_COMMAND, DEFAULT_START_COMMAND, EXAMPLE_SETTINGS, KEYS, KEYS_BY_NAME,
                                   Invalid, SettingsSource)

from workers_scan.errors import Problems, display_path

from .helpers import (BASE_SETTINGS, CODECONNECTIONS_ARN, ECS_SETTINGS, VALID_ARN, make_monorepo, settings_from,
                      write_settings)


def problems_of(path: Path, environ=None) -> list[str]:
    with pytest.raises(InputError) as caught:
        settings_from(path, environ)
    return [str(p) for p in caught.value.problems]


def test_valid_settings_apply_documented_defaults(tmp_path):
    settings = settings_from(make_monorepo(tmp_path))
    assert settings.connection_arn == VALID_ARN
    assert settings.build_command == DEFAULT_BUILD_COMMAND
    assert settings.start_command == DEFAULT_START_COMMAND == "bash {package}/scripts/start-worker.sh {worker_file}"
    assert settings.runtime == "NODEJS_22"
    assert settings.port == 3000
    assert settings.waf_rate_limit == 2000
    assert settings.branch == "main" and settings.source_directory == "/"
    assert settings.monorepo_root == tmp_path.resolve()
    assert settings.stack_name == "acme-dev"
    assert settings.nat_per_az is False and not settings.is_production


def test_seed_build_command_is_the_default_with_a_shell_for_pnpm_setup():
    from workers_scan.worker_folders import build_command

    # With the one package of the seed's workers folder, {filters} gives the seed's command.
    assert build_command(DEFAULT_BUILD_COMMAND, ["@monorepo/api"]) == (
        "curl -fsSL https://get.pnpm.io/install.sh | SHELL=/bin/bash sh - && export PATH=$HOME/.local/share/pnpm:$PATH && "
        "pnpm install --frozen-lockfile && pnpm run build --filter @monorepo/api && "
        "cp -R apps/api/src/i18n apps/api/dist/i18n")


def test_all_missing_required_keys_are_reported_together(tmp_path):
    env = write_settings(tmp_path / ".env", {"BRANCH": "main"})
    messages = problems_of(env)
    for key in ("APP_RUNNER_CONNECTION_ARN", "AWS_REGION", "PROJECT_NAME", "ENVIRONMENT", "REPOSITORY_URL"):
        assert any(m.startswith(f".env: {key}: is required") or f"/.env: {key}: is required" in m for m in messages), key
    assert len(messages) == 5


@pytest.mark.parametrize("arn", [
    "arn:aws:apprunner:eu-west-1:12345:connection/acme/0123456789abcdef0123456789abcdef",
    "arn:aws:apprunner:eu-west-1:123456789012:service/acme/0123456789abcdef0123456789abcdef",
    "arn:aws:codestar-connections:eu-west-1:123456789012:connection/0123",
    "not-an-arn",
])
def test_malformed_connection_arn_names_file_key_and_expected_shape(tmp_path, arn):
    env = make_monorepo(tmp_path, settings={"APP_RUNNER_CONNECTION_ARN": arn})
    [message] = problems_of(env)
    assert "infra/aws/.env: APP_RUNNER_CONNECTION_ARN:" in message
    assert "connection/<name>/<32-hex id>" in message


def test_connection_region_must_equal_aws_region(tmp_path):
    env = make_monorepo(tmp_path, settings={"AWS_REGION": "us-east-1"})
    [message] = problems_of(env)
    assert "APP_RUNNER_CONNECTION_ARN" in message and "eu-west-1" in message and "us-east-1" in message


def test_ecs_needs_the_codeconnections_arn_not_the_app_runner_one(tmp_path):
    settings = settings_from(make_monorepo(tmp_path, settings=ECS_SETTINGS))
    assert settings.uses_ecs and settings.compute == "ecs"
    assert settings.connection_arn == "" and settings.codeconnections_arn == CODECONNECTIONS_ARN
    assert settings.account_region == ("123456789012", "eu-west-1")
    [message] = problems_of(make_monorepo(tmp_path / "b", settings={**ECS_SETTINGS, "CODECONNECTIONS_ARN": None}))
    assert "infra/aws/.env: CODECONNECTIONS_ARN: is required with COMPUTE=ecs" in message


def test_app_runner_still_requires_its_connection_and_a_codeconnections_arn_hints_at_ecs(tmp_path):
    [message] = problems_of(make_monorepo(tmp_path, settings={"APP_RUNNER_CONNECTION_ARN": None}))
    assert "infra/aws/.env: APP_RUNNER_CONNECTION_ARN: is required with COMPUTE=apprunner" in message
    messages = problems_of(make_monorepo(tmp_path / "b", settings={
        "APP_RUNNER_CONNECTION_ARN": None, "CODECONNECTIONS_ARN": CODECONNECTIONS_ARN}))
    assert any(m.endswith("CODECONNECTIONS_ARN is set: is COMPUTE=ecs meant?") for m in messages), messages


@pytest.mark.parametrize("compute, key, value", [
    ("apprunner", "CODECONNECTIONS_ARN", CODECONNECTIONS_ARN),
    ("apprunner", "ECS_ROUTING_DOMAIN", "workers.example.com"),
    ("apprunner", "ECS_REQUESTS_PER_TARGET", "50"),
    ("ecs", "APP_RUNNER_CONNECTION_ARN", VALID_ARN),
    ("ecs", "WORKER_MAX_CONCURRENCY", "80"),
])
def test_a_key_only_the_other_backend_reads_is_an_error_not_ignored(tmp_path, compute, key, value):
    base = {} if compute == "apprunner" else ECS_SETTINGS
    [message] = problems_of(make_monorepo(tmp_path, settings={**base, key: value}))
    other = "ecs" if compute == "apprunner" else "apprunner"
    assert message.endswith(f"infra/aws/.env: {key}: is read with COMPUTE={other} only, and this stack runs "
                            f"COMPUTE={compute}; set COMPUTE={other}, or remove {key}")


@pytest.mark.parametrize("key, value, expected", [
    ("CODECONNECTIONS_ARN", "arn:aws:codeconnections:eu-west-1:123456789012:connection/not-a-uuid",
     "connection/<uuid>"),
    ("CODECONNECTIONS_ARN", "arn:aws:codeconnections:us-east-1:123456789012:connection/"
                            "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b", "CodeBuild uses a connection of its own region"),
    ("ECS_CERTIFICATE_ARN", "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
     "a load balancer takes certificates of its own region"),
    ("ECS_CERTIFICATE_ARN", "arn:aws:iam::123456789012:server-certificate/x", "an ACM certificate ARN"),
    ("COMPUTE", "fargate", "'fargate' is not one of apprunner, ecs"),
])
def test_ecs_keys_are_checked_with_file_and_key(tmp_path, key, value, expected):
    settings = {**ECS_SETTINGS, "ECS_ROUTING_DOMAIN": "workers.example.com", key: value}
    messages = problems_of(make_monorepo(tmp_path, settings=settings))
    assert any(f"infra/aws/.env: {key}:" in m for m in messages), messages
    assert any(expected in m for m in messages), messages
    assert len(messages) == 1, messages


def test_key_that_looks_like_a_typo_is_reported_with_suggestion(tmp_path):
    env = make_monorepo(tmp_path, extra_lines="APP_RUNER_CONNECTION_ARN=x\nWAF_RATE_LIMT=100\n")
    messages = problems_of(env)
    assert any("APP_RUNER_CONNECTION_ARN: unknown key; did you mean APP_RUNNER_CONNECTION_ARN?" in m for m in messages)
    assert any("WAF_RATE_LIMT: unknown key; did you mean WAF_RATE_LIMIT?" in m for m in messages)


def test_an_unknown_key_is_never_ignored(tmp_path):
    env = make_monorepo(tmp_path, extra_lines="LOG_LEVEL=debug\n")
    with pytest.raises(InputError) as caught:
        settings_from(env)
    assert "infra/aws/.env: LOG_LEVEL: unknown key: not a setting" in str(caught.value)


def test_a_key_less_alike_than_a_typo_is_unknown_without_a_guess(tmp_path):
    # WAF_LIMIT is like WAF_RATE_LIMIT (difflib ratio 0.78), but less than a typo (0.85): no "did you mean"
    env = make_monorepo(tmp_path, extra_lines="WAF_LIMIT=1\n")
    [problem] = problems_of(env)
    assert problem.startswith(f"{_rel(env)}: WAF_LIMIT: unknown key: not a setting") and "did you mean" not in problem


@pytest.mark.parametrize("value, expected", [
    ("5", "out of range; use 10 to 2,000,000,000"),
    ("2000000001", "out of range"),
    ("lots", "not a whole number"),
])
def test_waf_rate_limit_bounds(tmp_path, value, expected):
    env = make_monorepo(tmp_path, settings={"WAF_RATE_LIMIT": value})
    [message] = problems_of(env)
    assert "WAF_RATE_LIMIT" in message and expected in message


def test_waf_rate_limit_accepts_aws_extremes(tmp_path):
    assert settings_from(make_monorepo(tmp_path, settings={"WAF_RATE_LIMIT": "10"})).waf_rate_limit == 10
    env = make_monorepo(tmp_path, settings={"WAF_RATE_LIMIT": "2000000000"})
    assert settings_from(env).waf_rate_limit == 2_000_000_000


@pytest.mark.parametrize("key, value, expected", [
    ("ENVIRONMENT", "Prod!", "lowercase"),
    ("PROJECT_NAME", "Acme_Corp", "a-z, 0-9 and -"),
    ("REPOSITORY_URL", "git@github.com:acme/platform.git", "https GitHub repository URL"),
    ("RUNTIME", "NODEJS_24", "not one of NODEJS_22"),
    ("PORT", "70000", "out of range"),
    ("AUTO_DEPLOYMENTS", "sometimes", "use true or false"),
    ("START_COMMAND", "node dist/main.js", "{worker_file}"),
    ("START_COMMAND", "run {worker_file} {other}", "no placeholder but {worker_file}"),
    ("SOURCE_DIRECTORY", "backend", "absolute path inside the repository"),
    ("WORKERS_DIR", "../outside", "relative folder inside the monorepo"),
    ("VPC_CIDR", "10.0.0.0/33", "not an IPv4 CIDR"),
    ("VPC_CIDR", "10.0.0.0/8", "/16 to /22"),
    ("VPC_CIDR", "8.8.0.0/16", "private"),
    ("AZ_COUNT", "1", "use 2 to 3"),
    ("WORKER_CPU", "300", "300 is not a CPU size for COMPUTE=apprunner; use one of 256, 512, 1024, 2048, 4096"),
    ("WORKER_CPU", "one", "'one' is not a whole number"),
    ("WORKER_MEMORY", "0", "0 is not a size; give a positive whole number"),
    ("LOG_RETENTION_DAYS", "10", "not one of 1, 3"),
])
def test_invalid_values_name_key_and_what_is_accepted(tmp_path, key, value, expected):
    env = make_monorepo(tmp_path, settings={key: value})
    messages = problems_of(env)
    assert any(f"infra/aws/.env: {key}:" in m and expected in m for m in messages), messages


def test_cross_field_rules_are_all_reported(tmp_path):
    env = make_monorepo(tmp_path, settings={
        "WORKER_CPU": "256", "WORKER_MEMORY": "4096", "WORKER_MIN_INSTANCES": "5", "WORKER_MAX_INSTANCES": "2",
        "AVAILABILITY_ZONES": "eu-west-1a,eu-west-1b,eu-west-1c", "VPC_ID": "vpc-0123456789abcdef0",
    })
    messages = problems_of(env)
    assert any("WORKER_MEMORY: 4096 MB is not allowed with 256 CPU units for COMPUTE=apprunner; use 512 MB or 1024 MB" in m for m in messages)
    assert any("WORKER_MIN_INSTANCES: 5 is more than WORKER_MAX_INSTANCES (2)" in m for m in messages)
    assert any("AVAILABILITY_ZONES: lists 3 zone(s) but AZ_COUNT is 2" in m for m in messages)
    assert any("PRIVATE_SUBNET_IDS: is required with VPC_ID" in m for m in messages)
    assert len(messages) == 4


def test_availability_zones_must_be_in_the_region(tmp_path):
    env = make_monorepo(tmp_path, settings={"AVAILABILITY_ZONES": "us-east-1a,us-east-1b"})
    [message] = problems_of(env)
    assert "AVAILABILITY_ZONES: every zone must be in AWS_REGION eu-west-1" in message


def test_existing_vpc_needs_two_or_three_subnets(tmp_path):
    env = make_monorepo(tmp_path, settings={"VPC_ID": "vpc-0123456789abcdef0",
                                            "PRIVATE_SUBNET_IDS": "subnet-0123456789abcdef0"})
    [message] = problems_of(env)
    assert "PRIVATE_SUBNET_IDS: lists 1 subnet(s); give 2 or 3" in message


def test_process_environment_overrides_the_file_and_is_named_in_errors(tmp_path):
    env = make_monorepo(tmp_path)
    assert settings_from(env, {"ENVIRONMENT": "staging"}).environment == "staging"
    messages = problems_of(env, {"WAF_RATE_LIMIT": "1"})
    assert messages == ["environment variable: WAF_RATE_LIMIT: 1 is out of range; use 10 to 2,000,000,000"]


def test_production_turns_on_nat_per_az_unless_set(tmp_path):
    env = make_monorepo(tmp_path, settings={"ENVIRONMENT": "prod"})
    assert settings_from(env).nat_per_az is True
    env = make_monorepo(tmp_path, settings={"ENVIRONMENT": "prod", "NAT_PER_AZ": "false"})
    assert settings_from(env).nat_per_az is False


def test_malformed_line_and_duplicate_key_are_reported_with_line_numbers(tmp_path):
    env = make_monorepo(tmp_path, extra_lines="BRANCH=main\nBRANCH=develop\nthis is not a setting\n1BAD=x\n")
    messages = problems_of(env)
    assert any("BRANCH (line 8): is set twice (first on line 7)" in m for m in messages), messages
    assert any("line 9: cannot be parsed as KEY=value" in m for m in messages), messages
    assert len(messages) == 3


def test_binary_and_non_utf8_settings_files_are_rejected(tmp_path):
    binary = tmp_path / "binary.env"
    binary.write_bytes(b"AWS_REGION=eu\x00west-1\n")
    assert problems_of(binary) == [f"{_rel(binary)}: is a binary file, not a dotenv file of KEY=value lines"]
    latin = tmp_path / "latin.env"
    latin.write_bytes("PROJECT_NAME=caf\xe9\n".encode("latin-1"))
    [message] = problems_of(latin)
    assert "is not UTF-8 text" in message


def test_missing_explicit_settings_file_is_an_error_not_the_example(tmp_path):
    source = locate_settings(tmp_path / "nope.env", environ={})
    assert source == SettingsSource(tmp_path / "nope.env", is_example=False)
    with pytest.raises(InputError) as caught:
        load_settings(source, environ={})
    assert "settings file not found" in str(caught.value)


def test_settings_file_from_environment_variable(tmp_path):
    env = make_monorepo(tmp_path)
    source = locate_settings(None, environ={"INFRA_ENV_FILE": str(env)}, default=tmp_path / "absent")
    assert source == SettingsSource(env, is_example=False)


def test_settings_file_in_the_default_place_is_used_when_nothing_names_one(tmp_path):
    default = make_monorepo(tmp_path)
    assert locate_settings(None, environ={}, default=default) == SettingsSource(default, is_example=False)


@pytest.mark.parametrize("where", [".", "infra/aws"])
def test_the_settings_file_where_the_command_runs_is_found(tmp_path, where):
    env = make_monorepo(tmp_path / "repo")
    here = tmp_path / "repo" / ("infra/aws" if where == "." else "")
    source = locate_settings(None, environ={}, default=tmp_path / "project" / ".env", cwd=here)
    assert source == SettingsSource(env, is_example=False)


def test_an_applications_env_file_where_the_command_runs_is_not_taken_for_settings(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".env").write_text("DATABASE_URL=postgres://localhost/app\n")
    with pytest.raises(InputError) as refused:
        locate_settings(None, environ={}, default=tmp_path / "project" / ".env", cwd=tmp_path)
    assert f"{tmp_path / '.env'} (no connection key: not a settings file)" in str(refused.value)


@pytest.mark.parametrize("typo", ["APP_RUNNER_CONECTION_ARN", "export CODECONNECTION_ARN"])
def test_a_settings_file_with_a_misspelt_connection_key_is_ours_and_the_typo_is_named(tmp_path, typo):
    env = tmp_path / ".env"
    env.write_text(f"PROJECT_NAME=shop\n{typo}=arn:aws:apprunner:eu-west-1:123456789012:connection/x/y\n")
    source = locate_settings(None, environ={}, default=tmp_path / "project" / ".env", cwd=tmp_path)
    assert source == SettingsSource(env, is_example=False)
    with pytest.raises(InputError) as caught:
        load_settings(source, environ={})
    key = typo.split()[-1]
    assert f"{key}: unknown key; did you mean " in str(caught.value)


def test_an_applications_env_file_passed_over_is_named_when_the_example_is_used(tmp_path, capsys, monkeypatch):
    import main

    (tmp_path / ".env").write_text("DATABASE_URL=postgres://localhost/app\nAWS_REGION=eu-west-1\n")
    monkeypatch.setattr("workers_scan.settings.PROJECT_ROOT", tmp_path)   # in this app's folder, outside CI
    source = locate_settings(None, environ={}, default=tmp_path / "project" / ".env", cwd=tmp_path)
    assert source.is_example and source.skipped == (tmp_path / ".env",)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr("workers_scan.settings.DEFAULT_SETTINGS", tmp_path / "project" / ".env")
    assert main.main(["workers"]) == main.EXIT_OK
    err = capsys.readouterr().err
    assert ".env sets neither APP_RUNNER_CONNECTION_ARN nor CODECONNECTIONS_ARN: taken for an application's .env, " \
           "not read" in err
    assert err.index("taken for an application's") < err.index("EMBEDDED EXAMPLE")


def test_without_any_settings_file_the_embedded_example_is_used_in_this_apps_folder_outside_ci(tmp_path,
                                                                                             monkeypatch):
    monkeypatch.setattr("workers_scan.settings.PROJECT_ROOT", tmp_path)
    source = locate_settings(None, environ={}, default=tmp_path / ".env", cwd=tmp_path / "sub")
    assert source.is_example and source.path == EXAMPLE_SETTINGS
    settings = load_settings(source, environ={"AWS_REGION": "us-east-1"})  # the shell cannot break the example
    assert settings.is_example and settings.aws_region == "eu-west-1"
    assert settings.workers_path.is_dir()
    with pytest.raises(InputError, match="CI=true: the embedded example is never used in CI"):
        locate_settings(None, environ={"CI": "true"}, default=tmp_path / ".env", cwd=tmp_path)
    assert locate_settings(None, environ={"CI": "true"}, default=tmp_path / ".env", example=True).is_example


def test_a_ci_checkout_without_settings_fails_listing_every_place_looked_up_to_the_repository_root(tmp_path):
    """A team's monorepo in CI: its .env is ignored by git, so absent; run from a subfolder (apps/api)."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "apps" / "api").mkdir(parents=True)
    with pytest.raises(InputError) as refused:
        locate_settings(None, environ={"CI": "true"}, default=tmp_path / "app" / ".env", cwd=repo / "apps" / "api")
    message = str(refused.value)
    looked = [folder / name for folder in (repo / "apps" / "api", repo / "apps" / "api" / "infra" / "aws", repo / "apps",
                                           repo / "apps" / "infra" / "aws", repo, repo / "infra" / "aws")
              for name in ("platform.env", ".env")]
    assert ", ".join(f"{p} (absent)" for p in looked) in message
    assert str(tmp_path / ".env") not in message   # not above the repository's root
    assert "--env-file" in message and "--example" in message
    env = make_monorepo(repo)   # infra/aws/.env at the root: found from apps/api
    assert locate_settings(None, environ={"CI": "true"}, default=tmp_path / "app" / ".env",
                           cwd=repo / "apps" / "api") == SettingsSource(env, is_example=False)


def test_the_settings_page_states_each_keys_default_and_help_as_declared():
    from command_line.reference_docs import shown_default

    page = (Path(__file__).parent.parent / "docs" / "settings.md").read_text()
    missing = [key.name for key in KEYS if f"| `{key.name}` | {shown_default(key)} | {key.help} |" not in page]
    assert not missing, f"docs/settings.md is stale for {missing}: run python -m command_line.reference_docs"


def test_each_default_is_shown_as_a_reader_needs_it():
    from command_line.reference_docs import shown_default

    shown = {name: shown_default(KEYS_BY_NAME[name]) for name in (
        "AWS_REGION", "CODECONNECTIONS_ARN", "PORT", "NAT_PER_AZ", "REDIS_ENGINE_VERSION", "VPC_ID", "STATE_REGION")}
    assert shown == {"AWS_REGION": "**required**", "CODECONNECTIONS_ARN": "**required with `ecs`**", "PORT": "`3000`",
                     "NAT_PER_AZ": "prod: `true`, else `false`", "REDIS_ENGINE_VERSION": "`8.0` (valkey), `7.1` (redis)",
                     "VPC_ID": "(unset)", "STATE_REGION": "`AWS_REGION`"}


def _rel(path: Path) -> str:
    from workers_scan.errors import display_path
    return display_path(path)


@pytest.mark.parametrize("key", ["AURORA_DELETION_PROTECTION", "AURORA_PREVENT_DESTROY"])
def test_retired_keys_are_errors_not_silently_ignored(tmp_path, key):
    env = make_monorepo(tmp_path, settings={key: "false"})
    [problem] = problems_of(env)
    assert f"{key}: is no longer read" in problem and "ALLOW_DESTROY_DATA" in problem


@pytest.mark.parametrize("key, value, expected", [
    ("PROJECT_NAME", "acme--shop", "may not contain two consecutive hyphens (RDS and ElastiCache identifiers refuse it)"),
    ("PROJECT_NAME", "internal-tools", "may not start with 'internal-' or be 'internal' (load balancer names refuse it)"),
    ("PROJECT_NAME", "internal", "may not start with 'internal-' or be 'internal' (load balancer names refuse it)"),
    ("PROJECT_NAME", "sg-platform", "may not start with 'sg-' or be 'sg' (security group names refuse it)"),
    ("STATE_BUCKET", "acme..state", "may not contain two adjacent periods"),
    ("STATE_BUCKET", "192.168.10.12", "may not be formatted as an IP address"),
    ("STATE_BUCKET", "xn--acme-state", "may not start with 'xn--' (reserved by S3)"),
    ("STATE_BUCKET", "acme-state-s3alias", "may not end with '-s3alias' (reserved by S3)"),
])
def test_names_aws_refuses_are_refused_when_settings_load_naming_the_key(tmp_path, key, value, expected):
    extra = {"STATE_BACKEND": "s3", "STATE_LOCK_TABLE": "locks"} if key == "STATE_BUCKET" else {}
    env = make_monorepo(tmp_path, settings={key: value, **extra})
    assert problems_of(env) == [f"{_rel(env)}: {key}: {value!r} {expected}"]


@pytest.mark.parametrize("name", ["acme-shop", "internals", "sgx", "a-b-c"])
def test_names_close_to_the_refused_ones_pass(tmp_path, name):
    assert settings_from(make_monorepo(tmp_path, settings={"PROJECT_NAME": name})).project_name == name


def test_retired_keys_in_the_environment_are_errors_too(tmp_path):
    env = make_monorepo(tmp_path)
    [problem] = problems_of(env, {"AURORA_PREVENT_DESTROY": "false"})
    assert problem.startswith("environment variable: AURORA_PREVENT_DESTROY: is no longer read")


def test_waf_rules_to_count_must_be_published_rules_of_the_groups(tmp_path):
    env = make_monorepo(tmp_path, settings={"WAF_COUNT_RULES": "SizeRestrictions_BODY,SizeRestriction_Body,Bogus"})
    with pytest.raises(InputError) as caught:
        settings_from(env)
    [problem] = [str(p) for p in caught.value.problems]
    assert "infra/aws/.env: WAF_COUNT_RULES: names no rule of AWSManagedRulesCommonRuleSet or " in problem
    assert "'SizeRestriction_Body' (did you mean SizeRestrictions_BODY?)" in problem and "'Bogus'" in problem
    assert "'SizeRestrictions_BODY'" not in problem
    assert problem.endswith("AWSManagedRulesCommonRuleSet or AWSManagedRulesKnownBadInputsRuleSet: "
                            "'SizeRestriction_Body' (did you mean SizeRestrictions_BODY?), 'Bogus'; rule names are "
                            "case-sensitive, e.g. SizeRestrictions_BODY, NoUserAgent_HEADER")


def test_waf_rules_to_count_keep_their_order_once_each(tmp_path):
    env = make_monorepo(tmp_path, settings={"WAF_COUNT_RULES": "NoUserAgent_HEADER, Log4JRCE_BODY,NoUserAgent_HEADER"})
    assert settings_from(env).waf_count_rules == ("NoUserAgent_HEADER", "Log4JRCE_BODY")
    assert settings_from(make_monorepo(tmp_path / "default")).waf_count_rules == ()


def test_the_workers_iam_database_user_is_not_the_master_user(tmp_path):
    env = make_monorepo(tmp_path, settings={"AURORA_IAM_USER": "app_admin"})
    with pytest.raises(InputError) as caught:
        settings_from(env)
    assert "infra/aws/.env: AURORA_IAM_USER: 'app_admin' is the master user" in str(caught.value)


def test_every_settings_field_has_one_key_and_every_optional_key_a_typed_empty_value():
    import typing

    from workers_scan import settings as module

    hints = typing.get_type_hints(module.Settings)
    assert sorted(k.field for k in KEYS) == sorted(set(hints) - {"settings_file", "is_example", "sources"})
    for key in KEYS:
        if key.default == "":
            empty = module.EMPTY[key.field]
            assert empty is None or isinstance(empty, typing.get_origin(hints[key.field]) or hints[key.field]), key.name
            assert empty is not None or key.field in module.DERIVED_DEFAULTS or \
                type(None) in typing.get_args(hints[key.field]), key.name


def test_an_optional_key_without_an_empty_value_is_refused_when_the_module_loads(monkeypatch):
    from workers_scan import settings as module

    broken = module.Key("WORKER_TIMEOUT", "worker_timeout", "", module.parse_int_between(1, 60), "A new optional key.")
    monkeypatch.setattr(module, "KEYS", module.KEYS + (broken,))
    with pytest.raises(TypeError, match="fields without a key \\[\\], keys without a field \\['worker_timeout'\\]"):
        module._empty_values()
    hints = dict(module.Settings.__annotations__, worker_timeout="int")
    monkeypatch.setattr(module.Settings, "__annotations__", hints)
    with pytest.raises(TypeError, match="WORKER_TIMEOUT may be left empty, but its field worker_timeout"):
        module._empty_values()


@pytest.mark.parametrize("compute, cpu, memory, expected", [
    ("apprunner", "256", "2048", "WORKER_MEMORY: 2048 MB is not allowed with 256 CPU units for COMPUTE=apprunner; use 512 MB or 1024 MB "
                                     "(256 CPU units with 2048 MB run on COMPUTE=ecs)"),
    ("apprunner", "8192", "16384", "WORKER_CPU: 8192 is not a CPU size for COMPUTE=apprunner; use one of 256, 512, 1024, 2048, 4096 (8192 "
                                       "CPU units with 16384 MB run on COMPUTE=ecs)"),
    ("ecs", "256", "4096",
     "WORKER_MEMORY: 4096 MB is not allowed with 256 CPU units for COMPUTE=ecs; use 512 MB or 1024 MB or 2048 MB"),
    ("ecs", "1024", "1024",
     "WORKER_MEMORY: 1024 MB is not allowed with 1024 CPU units for COMPUTE=ecs; use 2048 to 8192 MB in steps of 1024"),
    ("ecs", "3000", "2048",
     "WORKER_CPU: 3000 is not a CPU size for COMPUTE=ecs; use one of 256, 512, 1024, 2048, 4096, 8192, 16384"),
])
def test_worker_sizes_are_checked_against_the_table_of_the_backend(tmp_path, compute, cpu, memory, expected):
    backend = ECS_SETTINGS if compute == "ecs" else {}
    [message] = problems_of(make_monorepo(tmp_path, settings={**backend, "WORKER_CPU": cpu, "WORKER_MEMORY": memory}))
    assert message.endswith(f"infra/aws/.env: {expected}")


@pytest.mark.parametrize("cpu, memory", [(256, 2048), (8192, 16384), (16384, 122880), (4096, 30720)])
def test_fargate_sizes_app_runner_lacks_are_accepted_on_ecs(tmp_path, cpu, memory):
    settings = settings_from(make_monorepo(tmp_path, settings={
        **ECS_SETTINGS, "WORKER_CPU": str(cpu), "WORKER_MEMORY": str(memory)}))
    assert (settings.worker_cpu, settings.worker_memory) == (cpu, memory)


def test_paths_are_shown_relative_inside_the_working_directory_and_absolute_outside(tmp_path, monkeypatch):
    from workers_scan.errors import display_path

    inside = tmp_path / "repo" / "infra" / "aws" / ".env"
    monkeypatch.chdir(tmp_path / "repo" if (tmp_path / "repo").mkdir() is None else tmp_path)
    assert display_path(inside) == "infra/aws/.env"
    assert display_path(tmp_path / "elsewhere.env") == str(tmp_path / "elsewhere.env")   # not ../elsewhere.env
    monkeypatch.chdir("/")
    assert display_path(inside) == str(inside)                                            # not tmp/.../.env


@pytest.mark.parametrize("value, expected", [
    ("dev,workers", "workers cannot be an environment name (file names .env.<environment> would clash with "
                    ".env.workers, .env.worker, .env.example, .env.sample, .env.template)"),
    ("example,sample", "example, sample cannot be an environment name (file names .env.<environment> would clash "
                       "with .env.workers, .env.worker, .env.example, .env.sample, .env.template)"),
    ("dev,Qa", "'Qa' is not an environment name (2-10 lowercase letters/digits)"),
    ("Dev,Qa", "'Dev', 'Qa' are not an environment name (2-10 lowercase letters/digits)"),
    ("dev,dev", "lists a value twice"),
    (",", "lists no environment"),
])
def test_environments_list_errors_say_what_is_accepted(tmp_path, value, expected):
    env = make_monorepo(tmp_path, settings={"ENVIRONMENTS": value})
    assert problems_of(env) == [f"{_rel(env)}: ENVIRONMENTS: {expected}"]


def test_terraform_cloud_workspace_names_take_letters_digits_dash_underscore_and_placeholders(tmp_path):
    settings = settings_from(make_monorepo(tmp_path, settings={"TFC_WORKSPACE": "Acme_{environment}-1"}))
    assert settings.tfc_workspace_name == "Acme_dev-1"
    env = make_monorepo(tmp_path, settings={"TFC_WORKSPACE": "platform/{environment}"})
    assert problems_of(env) == [f"{_rel(env)}: TFC_WORKSPACE: 'platform/{{environment}}': workspace names hold "
                                "letters, digits, - and _ (plus {project}/{environment})"]


def test_value_parsers_return_the_parsed_value_or_say_what_they_accept():
    # The parser factories build KEYS when settings.py is imported: only a direct call tests their own code.
    assert parse_matching(r"^a+$", "a run of a")("aa") == "aa"
    assert parse_one_of(512, "x")("512") == 512 and parse_one_of(512, "x")("x") == "x"
    assert [parse_int_between(2, 3000)(v) for v in ("2", "3000", "1_000", "1__000")] == [2, 3000, 1000, 1000]
    assert parse_csv_matching(r"^[a-z]+$", "a word")(" b , a ,") == ("b", "a")
    for parse, value, message in (
        (parse_matching(r"^a+$", "a run of a"), "ab", "'ab' is not a run of a"),
        (parse_one_of(512, "x"), "5120", "'5120' is not one of 512, x"),
        (parse_int_between(2, 3000), "1", "1 is out of range; use 2 to 3,000"),
        (parse_int_between(2, 3000), "3001", "3,001 is out of range; use 2 to 3,000"),
        (parse_int_between(2, 3000), "two", "'two' is not a whole number; use 2 to 3,000"),
        (parse_csv_matching(r"^[a-z]+$", "a word"), "a,B", "'B' is not a word"),
        (parse_csv_matching(r"^[a-z]+$", "a word"), "A,a,B", "'A', 'B' are not a word"),
        (parse_csv_matching(r"^[a-z]+$", "a word"), "a,a", "lists a value twice"),
    ):
        with pytest.raises(Invalid) as caught:
            parse(value)
        assert str(caught.value) == message, (value, message)


@pytest.mark.parametrize("value, expected", [
    ("443,70000", "70,000 is out of range; use 1 to 65,535"),
    ("443,https", "'https' is not a whole number; use 1 to 65,535"),
    (",", "lists no port; give at least 443"),
])
def test_egress_ports_name_the_bad_port_and_the_range(tmp_path, value, expected):
    env = make_monorepo(tmp_path, settings={"WORKER_EGRESS_PORTS": value})
    assert problems_of(env) == [f"{_rel(env)}: WORKER_EGRESS_PORTS: {expected}"]


def test_egress_ports_are_sorted_without_repeats_and_take_the_extremes(tmp_path):
    env = make_monorepo(tmp_path, settings={"WORKER_EGRESS_PORTS": "65535, 443,1,443"})
    assert settings_from(env).worker_egress_ports == (1, 443, 65535)


@pytest.mark.parametrize("settings, expected", [
    ({}, "8.0"), ({"REDIS_ENGINE": "redis"}, "7.1"), ({"REDIS_ENGINE_VERSION": "7.2"}, "7.2"),
])
def test_redis_engine_version_defaults_by_engine_unless_set(tmp_path, settings, expected):
    assert settings_from(make_monorepo(tmp_path, settings=settings)).redis_engine_version == expected


@pytest.mark.parametrize("value, expected", [
    ("true", True), ("1", True), ("Yes", True), ("ON", True), ("false", False), ("0", False), ("NO", False),
    ("Off", False),
])
def test_booleans_take_the_usual_spellings_in_any_case(tmp_path, value, expected):
    env = make_monorepo(tmp_path, settings={"AUTO_DEPLOYMENTS": value})
    assert settings_from(env).auto_deployments is expected


def test_empty_value_of_a_key_with_a_default_is_refused_not_defaulted(tmp_path):
    env = make_monorepo(tmp_path, settings={"BUILD_COMMAND": ""})
    assert problems_of(env) == [f"{_rel(env)}: BUILD_COMMAND: is empty"]


@pytest.mark.parametrize("key, value, expected", [
    ("AURORA_MIN_ACU", "half", "'half' is not a number of ACUs like 0.5 or 4"),
    ("AURORA_MIN_ACU", "0.3", "'0.3' must be 0 to 256 in steps of 0.5"),
    ("AURORA_MAX_ACU", "256.5", "'256.5' must be 1 to 256 in steps of 0.5"),
    ("AURORA_MAX_ACU", "0.5", "'0.5' must be 1 to 256 in steps of 0.5"),
    ("VPC_CIDR", "10.0.0.1/16", "'10.0.0.1/16' is not an IPv4 CIDR block like 10.0.0.0/16 (10.0.0.1/16 has host bits set)"),
    ("VPC_CIDR", "10.0.0.0/23", "'10.0.0.0/23': the prefix must be /16 to /22 (AWS allows /16 at most, and we need "
                                "room for 6 subnets)"),
    ("SOURCE_DIRECTORY", "/backend/../secrets", "'/backend/../secrets' must be an absolute path inside the repository, "
                                                "e.g. / or /backend"),
    ("START_COMMAND", "node main.js", "must contain the placeholder {worker_file}, e.g. 'bash {package}/scripts/"
                                      "start-worker.sh {worker_file}'"),
    ("START_COMMAND", "run {worker_file} {other}", "may contain no placeholder but {worker_file} and {package} "
                                                   "(write {{ and }} for literal braces)"),
    ("STATE_KEY", "{team}/x.tfstate", "may use only the placeholders {project} and {environment}"),
    ("STATE_KEY", "/acme/x.tfstate", "'/acme/x.tfstate' must be a relative object key like acme/dev/terraform.tfstate"),
    ("STATE_KEY", "acme/../x.tfstate", "'acme/../x.tfstate' must be a relative object key like "
                                       "acme/dev/terraform.tfstate"),
])
def test_invalid_values_are_refused_with_the_whole_message(tmp_path, key, value, expected):
    env = make_monorepo(tmp_path, settings={key: value})
    assert problems_of(env) == [f"{_rel(env)}: {key}: {expected}"]


def test_values_at_the_edges_of_their_ranges_are_accepted(tmp_path):
    settings = settings_from(make_monorepo(tmp_path, settings={
        "AURORA_MIN_ACU": "0", "AURORA_MAX_ACU": "256", "VPC_CIDR": "10.0.0.0/22", "WORKERS_DIR": "/apps/jobs/X/"}))
    assert (settings.aurora_min_acu, settings.aurora_max_acu, str(settings.vpc_cidr)) == (0, 256, "10.0.0.0/22")
    assert settings.workers_dir == "apps/jobs/X"  # slashes around it are dropped, nothing else


SUBNETS = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1", "subnet-0123456789abcdef2",
           "subnet-0123456789abcdef3"]


@pytest.mark.parametrize("settings, expected", [
    ({"STATE_BACKEND": "s3"}, [
        "STATE_BUCKET: is required with STATE_BACKEND=s3",
        "STATE_LOCK_TABLE: is required with STATE_BACKEND=s3 unless STATE_USE_LOCKFILE=true (state needs a lock)"]),
    ({"STATE_BACKEND": "cloud"}, [
        "TFC_ORGANIZATION: is required with STATE_BACKEND=cloud",
        "TFC_WORKSPACE: give exactly one of TFC_WORKSPACE and TFC_WORKSPACE_TAGS with STATE_BACKEND=cloud"]),
    ({"AWS_REGION": "us-east-1"}, [
        "APP_RUNNER_CONNECTION_ARN: is in region eu-west-1 but AWS_REGION is us-east-1 (from {file}); App Runner "
        "connections are regional, create one in us-east-1 or change AWS_REGION"]),
    ({"VPC_ID": "vpc-0123456789abcdef0"}, ["PRIVATE_SUBNET_IDS: is required with VPC_ID (2 or 3 private subnet ids)"]),
    ({"PRIVATE_SUBNET_IDS": ",".join(SUBNETS[:2])}, ["VPC_ID: is required with PRIVATE_SUBNET_IDS"]),
    ({"VPC_ID": "vpc-0123456789abcdef0", "PRIVATE_SUBNET_IDS": ",".join(SUBNETS)}, [
        "PRIVATE_SUBNET_IDS: lists 4 subnet(s); give 2 or 3, in distinct availability zones"]),
    ({"AURORA_MIN_ACU": "0.5", "AURORA_MAX_ACU": "0.5"}, [
        "AURORA_MAX_ACU: '0.5' must be 1 to 256 in steps of 0.5"]),
    ({"AURORA_MIN_ACU": "4", "AURORA_MAX_ACU": "2"}, ["AURORA_MAX_ACU: 2 must be at least AURORA_MIN_ACU (4)"]),
    ({"WORKER_VPC_EGRESS": "false"}, [
        f"WORKER_VPC_EGRESS: is false, but {key} is true: workers reach the data stores only through the VPC "
        f"connector; set {key}=false or WORKER_VPC_EGRESS=true" for key in ("AURORA_ENABLED", "REDIS_ENABLED")]),
    ({"AZ_COUNT": "3", "AVAILABILITY_ZONES": "eu-west-1a,eu-west-1b"}, [
        "AVAILABILITY_ZONES: lists 2 zone(s) but AZ_COUNT is 3"]),
])
def test_rules_across_keys_give_whole_messages_naming_the_key(tmp_path, settings, expected):
    env = make_monorepo(tmp_path, settings=settings)
    assert problems_of(env) == [f"{_rel(env)}: {message}".replace("{file}", _rel(env)) for message in expected]


@pytest.mark.parametrize("settings", [
    {"WORKER_MIN_INSTANCES": "3", "WORKER_MAX_INSTANCES": "3"},
    {"AURORA_MIN_ACU": "1", "AURORA_MAX_ACU": "1"},
    {"AZ_COUNT": "3", "AVAILABILITY_ZONES": "eu-west-1a,eu-west-1b,eu-west-1c"},
    {"VPC_ID": "vpc-0123456789abcdef0", "PRIVATE_SUBNET_IDS": ",".join(SUBNETS[:2])},
    {"VPC_ID": "vpc-0123456789abcdef0", "PRIVATE_SUBNET_IDS": ",".join(SUBNETS[:3])},
    {"STATE_BACKEND": "s3", "STATE_BUCKET": "acme-state", "STATE_USE_LOCKFILE": "true"},
    {"STATE_BACKEND": "cloud", "TFC_ORGANIZATION": "acme", "TFC_WORKSPACE_TAGS": "platform"},
    {"WORKER_VPC_EGRESS": "false", "AURORA_ENABLED": "false", "REDIS_ENABLED": "false"},
])
def test_rules_across_keys_accept_their_edge_cases(tmp_path, settings):
    assert settings_from(make_monorepo(tmp_path, settings=settings)).stack_name == "acme-dev"


def test_a_required_key_with_an_empty_value_is_reported_as_required(tmp_path):
    env = make_monorepo(tmp_path, settings={"REPOSITORY_URL": ""})
    help_text = KEYS_BY_NAME["REPOSITORY_URL"].help
    assert problems_of(env) == [f"{_rel(env)}: REPOSITORY_URL: is required ({help_text})"]


def test_optional_keys_left_out_are_empty_not_none(tmp_path):
    settings = settings_from(make_monorepo(tmp_path))
    assert (settings.vpc_id, settings.aurora_kms_key_arn, settings.logs_kms_key_arn, settings.state_bucket,
            settings.state_lock_table, settings.state_kms_key_arn, settings.tfc_organization,
            settings.tfc_workspace) == ("",) * 8
    assert (settings.availability_zones, settings.private_subnet_ids, settings.secret_key_allowlist,
            settings.secrets_kms_key_arns, settings.environments, settings.tfc_workspace_tags) == ((),) * 6


OTHER_ACCOUNT_ARN = VALID_ARN.replace("123456789012", "210987654321")


@pytest.mark.parametrize("environments, overlays, managers", [
    ("dev,prod", {}, {"acme-prod"}),                                        # production first
    ("dev,qa", {}, {"acme-dev"}),                                           # else the first environment
    ("dev,qa", {"qa": "MANAGE_API_GATEWAY_ACCOUNT=true\n"}, {"acme-qa"}),     # an explicit true wins
    ("dev,qa", {"dev": "MANAGE_API_GATEWAY_ACCOUNT=false\n"}, {"acme-qa"}),  # an explicit false stands aside
    ("dev,prod", {"prod": f"APP_RUNNER_CONNECTION_ARN={OTHER_ACCOUNT_ARN}\n"}, {"acme-dev", "acme-prod"}),
])
def test_one_stack_per_account_and_region_manages_the_api_gateway_role(tmp_path, environments, overlays, managers):
    env = make_monorepo(tmp_path, settings={"ENVIRONMENTS": environments})
    for environment, text in overlays.items():
        (env.parent / f".env.{environment}").write_text(text)
    stacks = load_all_settings(SettingsSource(env, is_example=False), environ={})
    assert {s.stack_name for s in stacks if s.manage_api_gateway_account} == managers


def test_two_stacks_claiming_the_api_gateway_role_name_the_second_claim(tmp_path):
    env = make_monorepo(tmp_path, settings={"ENVIRONMENTS": "dev,qa,prod"})
    for environment in ("dev", "qa"):
        (env.parent / f".env.{environment}").write_text("MANAGE_API_GATEWAY_ACCOUNT=true\n")
    assert problems_of(env) == [
        f"{_rel(env.parent / '.env.qa')}: MANAGE_API_GATEWAY_ACCOUNT: is true for acme-dev, acme-qa in account "
        "123456789012, eu-west-1; the role is one setting per account and region, so set it true for one "
        "environment only (in its .env.<environment>)"]


S3_STATE = {"STATE_BACKEND": "s3", "STATE_BUCKET": "acme-state", "STATE_USE_LOCKFILE": "true"}
CLOUD_STATE = {"STATE_BACKEND": "cloud", "TFC_ORGANIZATION": "acme"}


@pytest.mark.parametrize("settings, key", [
    ({**S3_STATE, "STATE_KEY": "acme/terraform.tfstate"}, "STATE_KEY"),
    ({**CLOUD_STATE, "TFC_WORKSPACE": "platform"}, "TFC_WORKSPACE"),
])
def test_environments_sharing_one_state_are_each_named_against_the_first(tmp_path, settings, key):
    env = make_monorepo(tmp_path, settings={**settings, "ENVIRONMENTS": "dev,qa,prod"})
    assert problems_of(env) == [f"{_rel(env)}: {key}: environments dev and {other} would share one state; use the "
                                "{environment} placeholder" for other in ("qa", "prod")]


@pytest.mark.parametrize("settings", [
    S3_STATE, {**CLOUD_STATE, "TFC_WORKSPACE": "platform-{environment}"}, {"TFC_WORKSPACE": "platform"},
    {**CLOUD_STATE, "TFC_WORKSPACE_TAGS": "platform"},
])
def test_environments_with_their_own_state_or_without_a_shared_one_pass(tmp_path, settings):
    env = make_monorepo(tmp_path, settings={**settings, "ENVIRONMENTS": "dev,qa"})
    stacks = load_all_settings(SettingsSource(env, is_example=False), environ={})
    assert [s.stack_name for s in stacks] == ["acme-dev", "acme-qa"]


def test_every_bad_line_of_the_settings_file_is_reported_with_its_line(tmp_path):
    env = make_monorepo(tmp_path, extra_lines=(
        "BRANCH=main\nthis is not a setting\n1BAD=x\nNOVALUE\nBRANCH=dev\n" + "broken line " * 10 +
        "\n'unterminated=\nBRANCH_NAME=3\n"))
    where = _rel(env)
    assert problems_of(env) == [
        f"{where}: line 8: cannot be parsed as KEY=value: 'this is not a setting'",
        f"{where}: 1BAD (line 9): is not a valid variable name (letters, digits and _, not starting with a digit)",
        f"{where}: NOVALUE (line 10): has no value; write KEY=value",
        f"{where}: BRANCH (line 11): is set twice (first on line 7); keep one",
        f"{where}: line 12: cannot be parsed as KEY=value: {('broken line ' * 5)!r}",  # the first 60 characters
        f"{where}: line 13: cannot be parsed as KEY=value: \"'unterminated=\"",  # the first line only
        f"{where}: BRANCH_NAME: unknown key: not a setting (docs/settings.md); a worker's variable belongs in "
        ".env.workers (every worker) or .env.workers.<worker>",   # the lines after a bad one are still read
    ]


def test_settings_file_that_is_not_utf8_names_the_byte(tmp_path):
    latin = tmp_path / "latin.env"
    latin.write_bytes("PROJECT_NAME=caf\xe9\n".encode("latin-1"))
    assert problems_of(latin) == [f"{_rel(latin)}: is not UTF-8 text (byte 16); save it as UTF-8"]


def test_retired_keys_say_why_and_what_to_do_in_the_file_and_in_the_environment(tmp_path):
    env = make_monorepo(tmp_path, settings={"AURORA_DELETION_PROTECTION": "false"})
    reason = "Aurora is protected in every environment now; ALLOW_DESTROY_DATA=true lifts it"
    assert problems_of(env, {"AURORA_PREVENT_DESTROY": "false", "AURORA_DELETION_PROTECTION": "false"}) == [
        f"{_rel(env)}: AURORA_DELETION_PROTECTION: is no longer read: {reason}; remove the line",
        f"environment variable: AURORA_DELETION_PROTECTION: is no longer read: {reason}; unset it",
        f"environment variable: AURORA_PREVENT_DESTROY: is no longer read: {reason}; unset it",
    ]


def test_missing_settings_file_says_where_it_was_looked_for_and_what_to_copy(tmp_path):
    source = locate_settings(tmp_path / "nope.env", environ={})
    with pytest.raises(InputError) as caught:
        load_settings(source, environ={})
    assert [str(p) for p in caught.value.problems] == [
        f"{_rel(tmp_path / 'nope.env')}: settings file not found (given by --env-file or $INFRA_ENV_FILE); "
        "`python main.py init` writes one, or copy examples/monorepo/infra/aws/.env.example"]


def test_only_known_keys_of_the_process_environment_are_read(tmp_path):
    env = make_monorepo(tmp_path)
    settings = settings_from(env, {"PORT": "8080", "HOME": "/root", "PROJECT_NAME_X": "y"})
    assert settings.port == 8080 and settings.sources["PORT"] == "environment variable"
    assert settings.sources["PROJECT_NAME"] == _rel(env)


def test_an_overlay_file_overrides_the_settings_file_for_its_environment_only(tmp_path):
    env = make_monorepo(tmp_path, settings={"ENVIRONMENTS": "dev,prod", "WAF_RATE_LIMIT": "500"})
    (env.parent / ".env.prod").write_text("WAF_RATE_LIMIT=900\n")
    dev, prod = load_all_settings(SettingsSource(env, is_example=False), environ={})
    assert (dev.environment, dev.waf_rate_limit, prod.environment, prod.waf_rate_limit) == ("dev", 500, "prod", 900)
    assert prod.sources["WAF_RATE_LIMIT"] == _rel(env.parent / ".env.prod")
    assert prod.sources["ENVIRONMENT"] == _rel(env)  # ENVIRONMENT comes from where ENVIRONMENTS is set


@pytest.mark.parametrize("environ, expected", [
    ({"STATE_BACKEND": "s3", "STATE_BUCKET": "", "STATE_LOCK_TABLE": ""}, [
        "STATE_BUCKET: is required with STATE_BACKEND=s3",
        "STATE_LOCK_TABLE: is required with STATE_BACKEND=s3 unless STATE_USE_LOCKFILE=true (state needs a lock)"]),
    ({"STATE_BACKEND": "cloud", "TFC_ORGANIZATION": "", "TFC_WORKSPACE": ""}, [
        "TFC_ORGANIZATION: is required with STATE_BACKEND=cloud",
        "TFC_WORKSPACE: give exactly one of TFC_WORKSPACE and TFC_WORKSPACE_TAGS with STATE_BACKEND=cloud"]),
    ({"PROJECT_NAME": "acme--shop"}, [
        "PROJECT_NAME: 'acme--shop' may not contain two consecutive hyphens (RDS and ElastiCache identifiers refuse it)"]),
    ({**S3_STATE, "STATE_BUCKET": "acme..state"}, ["STATE_BUCKET: 'acme..state' may not contain two adjacent periods"]),
    ({"APP_RUNNER_CONNECTION_ARN": VALID_ARN.replace("eu-west-1", "us-east-1")}, [
        "APP_RUNNER_CONNECTION_ARN: is in region us-east-1 but AWS_REGION is eu-west-1 (from {file}); App Runner "
        "connections are regional, create one in eu-west-1 or change AWS_REGION"]),
    ({"WORKER_CPU": "256", "WORKER_MEMORY": "4096"}, [
        "WORKER_MEMORY: 4096 MB is not allowed with 256 CPU units for COMPUTE=apprunner; use 512 MB or 1024 MB"]),
    ({"WORKER_MIN_INSTANCES": "5", "WORKER_MAX_INSTANCES": "2"}, [
        "WORKER_MIN_INSTANCES: 5 is more than WORKER_MAX_INSTANCES (2)"]),
    ({"AVAILABILITY_ZONES": "us-east-1a,us-east-1b"}, [
        "AVAILABILITY_ZONES: every zone must be in AWS_REGION eu-west-1"]),
    ({"AZ_COUNT": "3", "AVAILABILITY_ZONES": "eu-west-1a,eu-west-1b"}, [
        "AVAILABILITY_ZONES: lists 2 zone(s) but AZ_COUNT is 3"]),
    ({"VPC_ID": "vpc-0123456789abcdef0", "PRIVATE_SUBNET_IDS": ""}, [
        "PRIVATE_SUBNET_IDS: is required with VPC_ID (2 or 3 private subnet ids)"]),
    ({"VPC_ID": "", "PRIVATE_SUBNET_IDS": ",".join(SUBNETS[:2])}, ["VPC_ID: is required with PRIVATE_SUBNET_IDS"]),
    ({"VPC_ID": "vpc-0123456789abcdef0", "PRIVATE_SUBNET_IDS": ",".join(SUBNETS)}, [
        "PRIVATE_SUBNET_IDS: lists 4 subnet(s); give 2 or 3, in distinct availability zones"]),
    ({"AURORA_MAX_ACU": "0.5"}, ["AURORA_MAX_ACU: '0.5' must be 1 to 256 in steps of 0.5"]),
    ({"WORKER_VPC_EGRESS": "false"}, [
        f"WORKER_VPC_EGRESS: is false, but {key} is true: workers reach the data stores only through the VPC "
        f"connector; set {key}=false or WORKER_VPC_EGRESS=true" for key in ("AURORA_ENABLED", "REDIS_ENABLED")]),
])
def test_rules_across_keys_name_where_the_key_is_set(tmp_path, environ, expected):
    env = make_monorepo(tmp_path)
    assert problems_of(env, environ) == [f"environment variable: {message}".replace("{file}", _rel(env))
                                         for message in expected]


def test_an_empty_environments_list_means_one_environment(tmp_path):
    env = make_monorepo(tmp_path, settings={"ENVIRONMENTS": ""})
    assert [s.stack_name for s in load_all_settings(SettingsSource(env, is_example=False), environ={})] == ["acme-dev"]


def test_a_typo_in_an_overlay_names_the_overlay_file(tmp_path):
    env = make_monorepo(tmp_path, settings={"ENVIRONMENTS": "dev,prod"})
    (env.parent / ".env.prod").write_text("WAF_RATE_LIMT=500\n")
    assert problems_of(env) == [f"{_rel(env.parent / '.env.prod')}: WAF_RATE_LIMT: unknown key; did you mean "
                                "WAF_RATE_LIMIT?"]


def test_an_environment_on_local_state_does_not_hide_two_that_share_one(tmp_path):
    env = make_monorepo(tmp_path, settings={**S3_STATE, "ENVIRONMENTS": "dev,qa,prod"})
    (env.parent / ".env.dev").write_text("STATE_BACKEND=local\n")
    assert problems_of(env, {"STATE_KEY": "acme/terraform.tfstate"}) == [
        "environment variable: STATE_KEY: environments qa and prod would share one state; use the {environment} "
        "placeholder"]


def test_a_certificate_needs_a_routing_domain_a_public_ca_can_name(tmp_path):
    certificate = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
    [message] = problems_of(make_monorepo(tmp_path, settings={**ECS_SETTINGS, "ECS_CERTIFICATE_ARN": certificate}))
    assert "infra/aws/.env: ECS_ROUTING_DOMAIN: is workers.internal, but ECS_CERTIFICATE_ARN is set" in message
    assert "API Gateway trusts only certificates of public CAs" in message
    settings = settings_from(make_monorepo(tmp_path / "b", settings={
        **ECS_SETTINGS, "ECS_CERTIFICATE_ARN": certificate, "ECS_ROUTING_DOMAIN": "workers.acme.dev"}))
    assert settings.ecs_routing_domain == "workers.acme.dev"
    for bad in ("Workers.Acme.dev", "acme", "-x.acme.dev", "a..b.dev"):
        [message] = problems_of(make_monorepo(tmp_path / bad.replace(".", "_"), settings={
            **ECS_SETTINGS, "ECS_ROUTING_DOMAIN": bad}))
        assert "ECS_ROUTING_DOMAIN:" in message and "a lowercase domain name" in message, bad


def test_ecs_refuses_worker_vpc_egress_off_naming_the_key(tmp_path):
    [message] = problems_of(make_monorepo(tmp_path, settings={**ECS_SETTINGS, "WORKER_VPC_EGRESS": "false",
                                                              "AURORA_ENABLED": "false", "REDIS_ENABLED": "false"}))
    assert "infra/aws/.env: WORKER_VPC_EGRESS: is false, but COMPUTE=ecs" in message


def test_the_workers_page_lists_fargates_sizes_as_declared():
    from workers_scan.fargate import FARGATE_CPU_MEMORY

    def pair(cpu, memory):
        if len(memory) <= 3:
            return f"{cpu}: " + ", ".join(map(str, memory[:-1])) + f" or {memory[-1]}"
        return f"{cpu}: {memory[0]} to {memory[-1]}"
    readme = " ".join((Path(__file__).parent.parent / "docs" / "workers.md").read_text().split())
    for cpu, memory in FARGATE_CPU_MEMORY.items():
        assert pair(cpu, memory) in readme, pair(cpu, memory)
    for cpu, memory in FARGATE_CPU_MEMORY.items():
        if len(memory) > 3 and memory[1] - memory[0] != 1024:
            assert f"{pair(cpu, memory)} (steps of {memory[1] - memory[0]})" in readme


def test_only_keys_the_shell_set_are_listed_as_from_the_environment(tmp_path):
    env = make_monorepo(tmp_path, settings={"PORT": "3000"})
    assert settings_from(env, environ={}).from_environment() == {}
    assert settings_from(env, environ={"PORT": "8080", "HOME": "/root"}).from_environment() == {"PORT": 8080}


def test_a_path_outside_the_working_directory_is_shown_absolute(tmp_path, monkeypatch):
    from workers_scan.errors import display_path

    inside = tmp_path / "here"
    inside.mkdir()
    monkeypatch.chdir(inside)
    assert display_path(inside / "infra" / ".env") == str(Path("infra") / ".env")
    assert display_path(tmp_path) == str(tmp_path)                  # the parent itself: not ".."
    assert display_path(tmp_path / "there" / ".env") == str(tmp_path / "there" / ".env")
    assert display_path(inside / ".." / "there" / ".env") == str(tmp_path / "there" / ".env")  # normalised


def test_environments_is_parsed_once_for_all_of_them(tmp_path, monkeypatch):
    import workers_scan.settings as schema
    import workers_scan.settings_files as files

    calls = []

    def counted(value):
        calls.append(value)
        return original(value)

    original = files.parse_environments
    monkeypatch.setattr(files, "parse_environments", counted)
    monkeypatch.setattr(schema, "parse_environments", counted)   # what the key's parser would call
    env = make_monorepo(tmp_path, settings={"ENVIRONMENT": None, "ENVIRONMENTS": "dev,qa,prod"})
    assert [s.environment for s in load_all_settings(SettingsSource(env, is_example=False), environ={})] == [
        "dev", "qa", "prod"]
    assert calls == ["dev,qa,prod"]


def test_a_settings_file_is_recognised_by_its_connection_key_on_any_line(tmp_path):
    """Run where the settings are, a file that sets either backend's connection (after comments) is found."""
    (tmp_path / "infra" / "aws").mkdir(parents=True)
    found = tmp_path / "infra" / "aws" / ".env"
    found.write_text(f"# ours\nCOMPUTE=ecs\nexport CODECONNECTIONS_ARN={CODECONNECTIONS_ARN}\n")
    assert locate_settings(environ={}, default=tmp_path / "none", cwd=tmp_path).path == found.absolute()
    found.write_text("# an application's own .env\nDATABASE_URL=postgres://x\n")
    with pytest.raises(InputError, match="infra/aws/.env \\(no connection key: not a settings file\\)"):
        locate_settings(environ={}, default=tmp_path / "none", cwd=tmp_path)


@pytest.mark.parametrize("compute,auto_deployments,wanted,built", [
    ("apprunner", True, True, True),
    ("apprunner", False, True, False),
    ("apprunner", True, False, False),
    ("ecs", False, True, True),    # ECS restarts the tasks on the image they run
    ("ecs", True, False, False),
])
def test_which_settings_build_the_redeploy(tmp_path, compute, auto_deployments, wanted, built):
    values = {"AUTO_DEPLOYMENTS": str(auto_deployments).lower(), "REDEPLOY_ON_SECRET_CHANGE": str(wanted).lower()}
    if compute == "ecs":
        values.update(ECS_SETTINGS)
    settings = settings_from(make_monorepo(tmp_path, settings=values))
    assert settings.redeploys_on_secret_change is built


CERTIFICATE_ARN = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"


def test_a_missing_backend_connection_says_exactly_what_is_required_and_hints_only_when_the_other_is_set(tmp_path):
    help_text = KEYS_BY_NAME["CODECONNECTIONS_ARN"].help
    required = f"CODECONNECTIONS_ARN: is required with COMPUTE=ecs ({help_text})"
    [message] = problems_of(make_monorepo(tmp_path / "a", settings={**ECS_SETTINGS, "CODECONNECTIONS_ARN": None}))
    assert message.endswith(f"infra/aws/.env: {required}"), message
    messages = problems_of(make_monorepo(tmp_path / "b", settings={
        **ECS_SETTINGS, "CODECONNECTIONS_ARN": None, "APP_RUNNER_CONNECTION_ARN": VALID_ARN}))
    assert any(m.endswith(f"infra/aws/.env: {required}; APP_RUNNER_CONNECTION_ARN is set: is COMPUTE=apprunner "
                          "meant?") for m in messages), messages
    # An empty value given in the environment is named where it was given.
    assert problems_of(make_monorepo(tmp_path / "c", settings={**ECS_SETTINGS, "CODECONNECTIONS_ARN": None}),
                       {"CODECONNECTIONS_ARN": ""}) == [f"environment variable: {required}"]


def test_an_empty_key_of_the_other_backend_is_not_an_error(tmp_path):
    settings = settings_from(make_monorepo(tmp_path, settings={"CODECONNECTIONS_ARN": ""}))
    assert settings.compute == "apprunner" and settings.codeconnections_arn == ""


def test_a_key_of_the_other_backend_from_the_environment_is_named_there(tmp_path):
    assert problems_of(make_monorepo(tmp_path), {"CODECONNECTIONS_ARN": CODECONNECTIONS_ARN}) == [
        "environment variable: CODECONNECTIONS_ARN: is read with COMPUTE=ecs only, and this stack runs "
        "COMPUTE=apprunner; set COMPUTE=ecs, or remove CODECONNECTIONS_ARN"]


def test_ecs_arns_of_another_region_name_both_keys_where_they_were_given(tmp_path):
    env = make_monorepo(tmp_path, settings={**ECS_SETTINGS, "ECS_ROUTING_DOMAIN": "workers.example.com"})
    messages = problems_of(env, {"AWS_REGION": "us-east-1", "CODECONNECTIONS_ARN": CODECONNECTIONS_ARN,
                                 "ECS_CERTIFICATE_ARN": CERTIFICATE_ARN})
    assert messages == [
        "environment variable: CODECONNECTIONS_ARN: is in region eu-west-1 but AWS_REGION is us-east-1 (from "
        "environment variable); CodeBuild uses a connection of its own region",
        "environment variable: ECS_CERTIFICATE_ARN: is in region eu-west-1 but AWS_REGION is us-east-1 (from "
        "environment variable); a load balancer takes certificates of its own region"]


def test_a_certificate_with_an_internal_routing_domain_is_refused_naming_where_the_domain_was_set(tmp_path):
    env = make_monorepo(tmp_path, settings={**ECS_SETTINGS, "ECS_CERTIFICATE_ARN": CERTIFICATE_ARN})
    assert problems_of(env, {"ECS_ROUTING_DOMAIN": "workers.internal"}) == [
        "environment variable: ECS_ROUTING_DOMAIN: is workers.internal, but ECS_CERTIFICATE_ARN is set: API Gateway "
        "trusts only certificates of public CAs for its integrations, and none can name a .internal host; set a "
        "domain you own whose wildcard (*.<domain>) the certificate covers, e.g. workers.example.com (it need not "
        "resolve)"]


def test_the_iam_database_user_from_the_environment_is_named_there(tmp_path):
    assert problems_of(make_monorepo(tmp_path), {"AURORA_IAM_USER": "app_admin"}) == [
        "environment variable: AURORA_IAM_USER: 'app_admin' is the master user; name a separate user for the "
        "workers (the master keeps its password for migrations)"]


def test_worker_vpc_egress_false_on_ecs_is_refused_naming_where_it_was_set(tmp_path):
    env = make_monorepo(tmp_path, settings=ECS_SETTINGS)
    assert problems_of(env, {"WORKER_VPC_EGRESS": "false"}) == [
        "environment variable: WORKER_VPC_EGRESS: is false, but COMPUTE=ecs: ECS tasks always run in the private "
        "subnets and reach the internet through NAT; remove WORKER_VPC_EGRESS (it is App Runner's)"]


def test_sizes_ignore_underscores_between_digits(tmp_path):
    settings = settings_from(make_monorepo(tmp_path, settings={"WORKER_CPU": "2__048", "WORKER_MEMORY": "4_096"}))
    assert (settings.worker_cpu, settings.worker_memory) == (2048, 4096)


def test_a_size_of_one_is_checked_against_the_backends_table_not_refused_as_not_positive(tmp_path):
    [message] = problems_of(make_monorepo(tmp_path, settings={"WORKER_CPU": "1"}))
    assert message.endswith("infra/aws/.env: WORKER_CPU: 1 is not a CPU size for COMPUTE=apprunner; use one of 256, "
                            "512, 1024, 2048, 4096"), message


def test_every_environment_of_a_synth_knows_the_whole_list_of_environments(tmp_path):
    env = make_monorepo(tmp_path, settings={"ENVIRONMENTS": "dev,prod"})
    results = load_all_settings(SettingsSource(env, is_example=False), environ={})
    assert [(s.environment, s.environments) for s in results] == [("dev", ("dev", "prod")), ("prod", ("dev", "prod"))]


def test_a_candidate_settings_file_that_cannot_be_checked_is_not_taken(tmp_path):
    default = make_monorepo(tmp_path)
    too_long = tmp_path / ("x" * 300)   # checking a path with a name over 255 bytes raises OSError
    assert locate_settings(None, environ={}, default=default, cwd=too_long) == SettingsSource(default, is_example=False)
    # Nor named as passed over when the example is used: there is no file to name.
    other = tmp_path / "other"
    (other / ".git").mkdir(parents=True)
    with pytest.raises(InputError) as refused:
        locate_settings(None, environ={}, default=tmp_path / "absent" / ".env", cwd=other / ("x" * 300))
    assert "not a settings file" not in str(refused.value)


@pytest.mark.parametrize("settings, overlay, why", [
    ({"ENVIRONMENT": None, "ENVIRONMENTS": "dev,prod"}, ".env.staging",
     "staging is not in ENVIRONMENTS (dev, prod); add it there"),
    ({}, ".env.dev", "layers .env.<environment> are read for the environments ENVIRONMENTS lists, and it is not "
                     "set; set it"),
])
def test_an_overlay_for_no_listed_environment_is_an_error_not_skipped(tmp_path, settings, overlay, why):
    env = make_monorepo(tmp_path, settings=settings)
    (env.parent / overlay).write_text("AZ_COUNT=3\n")
    # Files of other kinds beside it are not overlays: the example, worker environments, a misspelt one (refused
    # by its own check) and names no environment can have.
    for other in (".env.example", ".env.workers", ".env.workers.orders", ".env.ecs.example", ".env.Prod2"):
        (env.parent / other).write_text("")
    assert [p for p in problems_of(env) if "is not read" in p] == [
        f"{_rel(env.parent / overlay)}: is not read: {why}, or rename or remove the file"]


def test_aurora_max_below_min_names_where_the_maximum_was_set(tmp_path):
    env = make_monorepo(tmp_path, settings={"AURORA_MIN_ACU": "4"})
    assert problems_of(env, environ={"AURORA_MAX_ACU": "2"}) == [
        "environment variable: AURORA_MAX_ACU: 2 must be at least AURORA_MIN_ACU (4)"]


def test_where_the_command_runs_in_the_project_root_its_infra_settings_come_before_the_root_env(tmp_path):
    """./.env is the project root's (the fallback) there: infra/aws/.env, a settings file, is taken first."""
    root_env = make_monorepo(tmp_path / "root")
    infra_env = make_monorepo(tmp_path / "root" / "nested")
    (tmp_path / "root" / ".env").write_text(root_env.read_text())
    (tmp_path / "root" / "infra" / "aws").mkdir(parents=True, exist_ok=True)
    (tmp_path / "root" / "infra" / "aws" / ".env").write_text(infra_env.read_text())
    source = locate_settings(None, environ={}, default=tmp_path / "root" / ".env", cwd=tmp_path / "root")
    assert source == SettingsSource(tmp_path / "root" / "infra" / "aws" / ".env", is_example=False)


def git_repository(root: Path, gitignore: str = "") -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    if gitignore:
        (root / ".gitignore").write_text(gitignore)


def test_a_committed_platform_env_is_found_from_a_subfolder_in_ci_and_a_local_env_beside_it_overrides(tmp_path):
    repo = tmp_path / "repo"
    git_repository(repo)
    committed = make_monorepo(repo).rename(repo / "infra" / "aws" / "platform.env")
    source = locate_settings(None, environ={"CI": "true"}, default=tmp_path / "app" / ".env",
                             cwd=repo / "apps" / "api")
    assert source.path == committed and not source.is_example
    assert load_settings(source, environ={}).worker_cpu == 1024
    # infra/aws/.env: this machine's overrides, no connection key needed; found beside platform.env, never alone
    (committed.parent / ".env").write_text("WORKER_CPU=2048\nWORKER_MEMORY=4096\n")
    assert locate_settings(None, environ={}, default=tmp_path / "app" / ".env", cwd=repo).path == committed
    settings = load_settings(source, environ={})
    assert (settings.worker_cpu, settings.worker_memory) == (2048, 4096)
    assert settings.source_of("WORKER_CPU") == display_path(committed.parent / ".env")
    # the shell still overrides both
    assert load_settings(source, environ={"WORKER_CPU": "512", "WORKER_MEMORY": "1024"}).worker_cpu == 512


def test_local_overrides_are_checked_like_the_settings_file(tmp_path):
    committed = make_monorepo(tmp_path).rename(tmp_path / "infra" / "aws" / "platform.env")
    (committed.parent / ".env").write_text("WORKER_CPUS=2048\n")
    with pytest.raises(InputError) as refused:
        load_settings(SettingsSource(committed, is_example=False), environ={})
    assert "infra/aws/.env: WORKER_CPUS: unknown key; did you mean WORKER_CPU?" in str(refused.value)


def test_an_environment_layer_named_after_env_beside_platform_env_is_an_error(tmp_path):
    committed = make_monorepo(tmp_path, settings={"ENVIRONMENT": None, "ENVIRONMENTS": "dev,prod"}).rename(
        tmp_path / "infra" / "aws" / "platform.env")
    (committed.parent / ".env.prod").write_text("WORKER_CPU=2048\nWORKER_MEMORY=4096\n")
    with pytest.raises(InputError) as refused:
        load_all_settings(SettingsSource(committed, is_example=False), environ={})
    assert ("infra/aws/.env.prod: is not read: beside platform.env, the layer of environment prod is "
            "platform.env.prod; rename it") in str(refused.value)
    (committed.parent / ".env.prod").rename(committed.parent / "platform.env.prod")
    dev, prod = load_all_settings(SettingsSource(committed, is_example=False), environ={})
    assert (dev.worker_cpu, prod.worker_cpu) == (1024, 2048)


def test_a_settings_file_copied_beside_another_as_the_example_pair_is_noted_not_refused(tmp_path, monkeypatch):
    """The example ships .env.example and .env.ecs.example; copied as .env and .env.ecs, the second is a settings
    file of its own (it sets CODECONNECTIONS_ARN), not a layer of an environment named ecs."""
    monkeypatch.chdir(tmp_path)
    env = make_monorepo(tmp_path)
    write_settings(env.with_name(".env.ecs"), {**BASE_SETTINGS, **ECS_SETTINGS})
    problems = Problems()
    [settings] = load_all_settings(SettingsSource(env, is_example=False), environ={}, problems=problems)
    assert not problems and settings.compute == "apprunner"
    assert [str(n) for n in problems.notes] == [
        "infra/aws/.env.ecs: is a settings file of its own, not read with infra/aws/.env: give it with --env-file "
        "infra/aws/.env.ecs to synthesize it"]
    env.with_name(".env.ecs").write_text("WORKER_CPU=2048\n")   # a layer without ENVIRONMENTS: still an error
    with pytest.raises(InputError, match=r"\.env\.ecs: is not read: layers \.env\.<environment> are read"):
        load_all_settings(SettingsSource(env, is_example=False), environ={})


@pytest.mark.parametrize("name, fix", [
    (".env", "rename it (git mv) to platform.env and commit it; a .env beside it is then read over it, on this "
             "machine only"),
    ("platform.env", "add !infra/aws/platform.env after that rule (a .gitignore line) and commit it"),
])
def test_a_settings_file_git_ignores_is_noted_with_the_rule_and_the_fix(tmp_path, monkeypatch, name, fix):
    monkeypatch.chdir(tmp_path)
    git_repository(tmp_path, gitignore="node_modules\n*.env\n.env\n")
    env = make_monorepo(tmp_path).rename(tmp_path / "infra" / "aws" / name)
    problems = Problems()
    load_all_settings(SettingsSource(env, is_example=False), environ={}, problems=problems)
    rule = ".gitignore:3:.env" if name == ".env" else ".gitignore:2:*.env"
    assert [str(n) for n in problems.notes] == [
        f"infra/aws/{name}: is ignored by git ({rule}): a CI checkout will not have it; {fix}"]
    (tmp_path / ".gitignore").write_text(f"*.env\n!infra/aws/{name}\n")
    problems = Problems()
    load_all_settings(SettingsSource(env, is_example=False), environ={}, problems=problems)
    assert problems.notes == []


def test_synth_prints_the_notes_of_the_settings(tmp_path, capsys, monkeypatch):
    git_repository(tmp_path, gitignore=".env\n")
    env = make_monorepo(tmp_path)
    monkeypatch.chdir(tmp_path)
    import main
    assert main.main(["workers", "--env-file", str(env)]) == 0
    assert "infra/aws/.env: is ignored by git (.gitignore:1:.env): a CI checkout will not have it" in \
        capsys.readouterr().err


def test_an_applications_env_files_beside_a_root_platform_env_are_noted_not_read_nor_refused(tmp_path, monkeypatch):
    """A NestJS repository keeps its own .env, .env.local, .env.test at its root: beside a platform.env there,
    they are the application's, not this machine's overrides nor misnamed layers."""
    monkeypatch.chdir(tmp_path)
    committed = make_monorepo(tmp_path, settings={"MONOREPO_ROOT": "."}).rename(tmp_path / "platform.env")
    (tmp_path / ".env").write_text("DATABASE_URL=postgres://localhost/app\nPORT=8081\n")
    (tmp_path / ".env.test").write_text("DATABASE_URL=postgres://localhost/test\n")
    problems = Problems()
    [settings] = load_all_settings(SettingsSource(committed, is_example=False), environ={}, problems=problems)
    assert not problems and settings.port == 3000 and settings.source_of("PORT") == "platform.env"
    assert [str(n) for n in problems.notes] == [
        ".env: not read as this machine's overrides of platform.env: it sets DATABASE_URL, which are no settings "
        "(an application's .env)"]


def test_local_overrides_are_announced_key_by_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    committed = make_monorepo(tmp_path).rename(tmp_path / "infra" / "aws" / "platform.env")
    (committed.parent / ".env").write_text("WORKER_MEMORY=4096\nWORKER_CPU=2048\n")
    problems = Problems()
    load_all_settings(SettingsSource(committed, is_example=False), environ={}, problems=problems)
    assert [str(n) for n in problems.notes] == [
        "infra/aws/.env: overrides WORKER_CPU, WORKER_MEMORY of platform.env on this machine only (local overrides: "
        "a CI checkout does not have them)"]


def test_a_layer_that_sets_a_connection_key_is_still_a_layer(tmp_path):
    """Only a whole settings file beside another is noted as one of its own: a layer for an environment
    ENVIRONMENTS does not list (say, prod's other account) stays an error."""
    env = make_monorepo(tmp_path, settings={"ENVIRONMENT": None, "ENVIRONMENTS": "dev,qa"})
    env.with_name(".env.prod").write_text(f"APP_RUNNER_CONNECTION_ARN={VALID_ARN}\n")
    with pytest.raises(InputError, match=r"\.env\.prod: is not read: prod is not in ENVIRONMENTS \(dev, qa\)"):
        load_all_settings(SettingsSource(env, is_example=False), environ={})
