"""Worker environments from .env.workers files: precedence, secrets by reference, and every error."""

from pathlib import Path

import pytest

from workers_scan import InputError, load_workers
from workers_scan.environment import LAYERS, infrastructure_keys, is_partial_secret_arn, policy_resource
from workers_scan.errors import display_path
from workers_scan.injected import (AURORA, AURORA_IAM, AURORA_PASSWORD, INJECTED, PLATFORM, REDIS, Sources,
                                   markdown_list, supplied)

from .helpers import make_monorepo, settings_from

SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:acme/dev/stripe-AbCdEf"
PARAMETER_ARN = "arn:aws:ssm:eu-west-1:123456789012:parameter/acme/dev/smtp"


def brought_by(*sources: str) -> set[str]:
    return {entry.key for entry in INJECTED if entry.brought_by in sources}


# Every layer of a worker's environment, as the file name it has for the worker "orders".
ORDERS_LAYERS = [layer.format(worker="orders") for layer in LAYERS]


def env_files(root, files: dict[str, str]):
    for name, text in files.items():
        (root / "infra" / "aws" / name).write_text(text)


def workers_with(tmp_path, files, workers=("orders.ts", "billing.ts"), **settings):
    env = make_monorepo(tmp_path, list(workers), settings=settings)
    env_files(tmp_path, files)
    return {w.name: w for w in load_workers(settings_from(env))}


def problems_with(tmp_path, files, workers=("orders.ts", "billing.ts"), **settings) -> list[str]:
    with pytest.raises(InputError) as caught:
        workers_with(tmp_path, files, workers, **settings)
    return [str(p) for p in caught.value.problems]


def test_per_worker_file_overrides_shared_file(tmp_path):
    workers = workers_with(tmp_path, {
        ".env.workers": "LOG_LEVEL=info\nTZ=UTC\n",
        ".env.workers.orders": "LOG_LEVEL=debug\nQUEUE=orders\n",
    })
    assert workers["orders"].environment.variables == {"LOG_LEVEL": "debug", "QUEUE": "orders", "TZ": "UTC"}
    assert workers["billing"].environment.variables == {"LOG_LEVEL": "info", "TZ": "UTC"}


def test_arn_values_become_secrets_and_never_plain_variables(tmp_path):
    workers = workers_with(tmp_path, {
        ".env.workers": f"STRIPE_API_KEY={SECRET_ARN}\nFEATURE_FLAGS={PARAMETER_ARN}\n",
        ".env.workers.orders": f"ORDERS_TOKEN={SECRET_ARN}:token::\n",
    })
    orders = workers["orders"].environment
    assert orders.variables == {}
    assert orders.secrets == {"FEATURE_FLAGS": PARAMETER_ARN, "ORDERS_TOKEN": f"{SECRET_ARN}:token::",
                              "STRIPE_API_KEY": SECRET_ARN}
    # What IAM policies name: the json-key suffix is not part of the ARN.
    assert {policy_resource(arn) for arn in orders.secrets.values()} == {PARAMETER_ARN, SECRET_ARN}


PARTIAL = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:acme/dev/signing"


@pytest.mark.parametrize("reference, partial, resource", [
    (SECRET_ARN, False, SECRET_ARN),
    (f"{SECRET_ARN}:token::", False, SECRET_ARN),
    (PARTIAL, True, f"{PARTIAL}-??????"),   # IAM matches the full ARN: the 6 random characters as wildcards
    (f"{PARTIAL}:token:AWSCURRENT:", True, f"{PARTIAL}-??????"),
    (PARAMETER_ARN, False, PARAMETER_ARN),
])
def test_a_partial_secret_arn_is_named_in_policies_with_its_suffix_as_wildcards(reference, partial, resource):
    assert is_partial_secret_arn(reference) is partial
    assert policy_resource(reference) == resource


@pytest.mark.parametrize("layer", ORDERS_LAYERS)
def test_a_secret_reference_becomes_a_secret_in_every_layer(tmp_path, layer):
    orders = workers_with(tmp_path, {layer: f"STRIPE_API_KEY={SECRET_ARN}\nLOG_LEVEL=info\n"})["orders"]
    assert orders.environment.secrets == {"STRIPE_API_KEY": SECRET_ARN}
    assert orders.environment.variables == {"LOG_LEVEL": "info"}


@pytest.mark.parametrize("layer", ORDERS_LAYERS)
@pytest.mark.parametrize("key", ["DB_PASSWORD", "STRIPE_SECRET", "GITHUB_TOKEN", "MAPS_API_KEY", "JWT_PRIVATE_KEY",
                                 "aws_secret_access_key", "SERVICE_CREDENTIALS", "STORE_ENCRYPTION_KEY", "SENTRY_DSN",
                                 "KEY", "PRIVATE_PEM", "APIKEY"])
def test_plain_value_under_secret_looking_key_is_refused_without_echoing_it(tmp_path, key, layer):
    [message] = problems_with(tmp_path, {layer: f"LOG_LEVEL=info\n{key}=hunter2-value\n"})
    assert f"/infra/aws/{layer}: {key} (line 2): looks like a secret" in message, message
    assert "Secrets Manager" in message and "hunter2" not in message


@pytest.mark.parametrize("layer", ORDERS_LAYERS)
def test_allow_list_accepts_false_positives(tmp_path, layer):
    workers = workers_with(tmp_path, {layer: "TOKEN_TTL_SECONDS=3600\n"},
                           SECRET_KEY_ALLOWLIST="TOKEN_TTL_SECONDS")
    assert workers["orders"].environment.variables == {"TOKEN_TTL_SECONDS": "3600"}


@pytest.mark.parametrize("layer", ORDERS_LAYERS)
@pytest.mark.parametrize("key", ["DB_HOST", "REDIS_HOST", "PORT", "NODE_ENV", "WORKER_NAME", "DB_SECRET"])
def test_key_set_by_the_infrastructure_may_not_be_set_by_a_file(tmp_path, key, layer):
    [message] = problems_with(tmp_path, {layer: f"{key}=x\n"})
    assert f"/infra/aws/{layer}: {key} (line 1): is set by the infrastructure" in message, message


def test_db_keys_are_free_when_aurora_is_off(tmp_path):
    workers = workers_with(tmp_path, {".env.workers": "DB_HOST=db.internal.example\n"}, AURORA_ENABLED="false")
    assert workers["orders"].environment.variables == {"DB_HOST": "db.internal.example"}


def test_infrastructure_keys_follow_the_data_stores(tmp_path):
    settings = settings_from(make_monorepo(tmp_path, settings={"REDIS_ENABLED": "false"}))
    assert set(infrastructure_keys(settings)) == brought_by(PLATFORM, AURORA, AURORA_PASSWORD)
    neither = settings_from(make_monorepo(tmp_path / "bare", settings={"REDIS_ENABLED": "false",
                                                                        "AURORA_ENABLED": "false"}))
    assert set(infrastructure_keys(neither)) == brought_by(PLATFORM) == {"NODE_ENV", "PORT", "WORKER_NAME"}


def test_infrastructure_keys_without_aurora_are_the_redis_ones(tmp_path):
    settings = settings_from(make_monorepo(tmp_path, settings={"AURORA_ENABLED": "false"}))
    assert set(infrastructure_keys(settings)) == brought_by(PLATFORM, REDIS)


@pytest.mark.parametrize("entry", INJECTED, ids=[entry.key for entry in INJECTED])
def test_no_layer_may_set_any_declared_injected_key(tmp_path, entry):
    key = entry.key
    bringing = {"AURORA_IAM_USER": "app_worker"} if entry.brought_by == AURORA_IAM else {}
    messages = problems_with(tmp_path, {layer: f"{key}=x\n" for layer in ORDERS_LAYERS}, **bringing)
    assert sorted(m.split(": ")[0].rsplit("/", 1)[1] for m in messages) == sorted(ORDERS_LAYERS)
    assert all(f": {key} (line 1): is set by the infrastructure" in m for m in messages)


def test_each_injected_value_comes_from_the_source_its_declaration_names(tmp_path):
    settings = settings_from(make_monorepo(tmp_path, settings={"AURORA_DATABASE_NAME": "ledger", "PORT": "8080"}))
    variables, secrets = supplied(Sources(settings=settings, worker_name="orders", database_endpoint="${db.endpoint}",
                                          database_secret_arn="${db.secret}", cache_endpoint="${cache.endpoint}"))
    assert variables == {"DB_HOST": "${db.endpoint}", "DB_PORT": "5432", "DB_NAME": "ledger", "DB_USER": "app_admin",
                         "DB_SECRET_ARN": "${db.secret}", "REDIS_HOST": "${cache.endpoint}", "REDIS_PORT": "6379",
                         "REDIS_TLS": "true", "NODE_ENV": "production", "PORT": "8080", "WORKER_NAME": "orders"}
    assert secrets == {"DB_SECRET": "${db.secret}"}


def test_workers_on_an_iam_database_user_get_its_name_and_region_and_no_secret(tmp_path):
    settings = settings_from(make_monorepo(tmp_path, settings={"AURORA_IAM_USER": "app_worker",
                                                               "REDIS_ENABLED": "false"}))
    variables, secrets = supplied(Sources(settings=settings, worker_name="orders", database_endpoint="${db.endpoint}",
                                          database_secret_arn="${db.secret}"))
    assert (variables["DB_USER"], variables["DB_IAM_AUTH"], variables["DB_REGION"]) == ("app_worker", "true",
                                                                                         settings.aws_region)
    assert secrets == {} and "DB_SECRET_ARN" not in variables and "REDIS_HOST" not in variables


def test_a_store_the_settings_create_without_its_source_is_refused_naming_the_key(tmp_path):
    settings = settings_from(make_monorepo(tmp_path, settings={"AURORA_ENABLED": "false"}))
    with pytest.raises(RuntimeError, match="REDIS_HOST is injected with Redis, but its source was not given"):
        supplied(Sources(settings=settings, worker_name="orders"))


def test_the_worker_environment_page_lists_every_injected_variable():
    """The region python -m command_line.reference_docs renders, so each key and what it holds appears once."""
    page = (Path(__file__).parent.parent / "docs" / "worker-environment.md").read_text()
    assert markdown_list() in page, "run python -m command_line.reference_docs"
    assert all(page.count(f"`{entry.key}`") >= 1 for entry in INJECTED)


@pytest.mark.parametrize("layer", ORDERS_LAYERS)
def test_reserved_prefix_invalid_key_and_unparsable_line(tmp_path, layer):
    messages = problems_with(tmp_path, {layer: "AWSAPPRUNNER_X=1\n2FAST=1\nnot a line\nOK=1\n"})
    assert any("AWSAPPRUNNER_X (line 1): names starting with AWSAPPRUNNER are reserved" in m for m in messages)
    assert any("line 2: cannot be parsed" in m or "2FAST" in m for m in messages), messages
    assert any("line 3: cannot be parsed as KEY=value" in m for m in messages), messages


@pytest.mark.parametrize("layer", ORDERS_LAYERS)
def test_malformed_secret_reference_and_foreign_region(tmp_path, layer):
    messages = problems_with(tmp_path, {layer: (
        "A_SECRET=arn:aws:secretsmanager:eu-west-1:123:secret:x\n"
        "B_TOKEN=arn:aws:ssm:us-east-1:123456789012:parameter/x\n")})
    assert any("A_SECRET (line 1): looks like a secret reference but is not" in m for m in messages)
    assert any("B_TOKEN (line 2): refers to region us-east-1" in m for m in messages)


def test_file_for_unknown_worker_is_a_typo_error(tmp_path):
    [message] = problems_with(tmp_path, {".env.workers.order": "X=1\n"})
    assert ".env.workers.order: names no discovered worker 'order'" in message


def test_example_sample_and_template_files_are_left_alone_and_every_typo_is_reported(tmp_path):
    messages = problems_with(tmp_path, {".env.workers.example": "X=1\n", ".env.workers.sample": "X=1\n",
                                        ".env.workers.template": "X=1\n", ".env.workers.order": "X=1\n",
                                        ".env.workers.zilling": "X=1\n"})
    folder = tmp_path / "infra" / "aws"
    assert messages == [
        f"{display_path(folder / f'.env.workers.{typo}')}: names no discovered worker {typo!r}; per-worker files "
        f"are .env.workers.<worker> with a worker of: billing, orders" for typo in ("order", "zilling")]


def test_worker_files_are_not_read_when_no_worker_is_found(tmp_path):
    env = make_monorepo(tmp_path, [])
    env_files(tmp_path, {".env.workers.orders": "X=1\n"})
    with pytest.raises(InputError) as caught:
        load_workers(settings_from(env))
    [problem] = caught.value.problems
    assert problem.message.startswith("no worker found")


def test_non_utf8_env_file_is_reported(tmp_path):
    env = make_monorepo(tmp_path, ["orders.ts"])
    (tmp_path / "infra" / "aws" / ".env.workers").write_bytes(b"NAME=caf\xe9\n")
    with pytest.raises(InputError) as caught:
        load_workers(settings_from(env))
    assert ".env.workers: is not UTF-8 text" in str(caught.value)


def test_every_bad_line_of_a_file_is_reported_not_only_the_first(tmp_path):
    messages = problems_with(tmp_path, {".env.workers": (
        "AWSAPPRUNNER_X=1\n"
        "DB_HOST=x\n"
        f"BLOB={'x' * 51_201}\n"
        "A_SECRET=arn:aws:secretsmanager:eu-west-1:123:secret:x\n"
        "B_TOKEN=arn:aws:ssm:us-east-1:123456789012:parameter/x\n"
        "C_PASSWORD=hunter2\n"
        "D_PASSWORD=hunter3\n")})
    where = display_path(tmp_path / "infra" / "aws" / ".env.workers")
    plain_secret = ("looks like a secret but holds a plain value, which would be stored in the Terraform JSON and "
                    "state: put it in Secrets Manager or SSM Parameter Store and write its ARN here instead (or list "
                    "the key in SECRET_KEY_ALLOWLIST if it is not secret)")
    assert messages == [
        f"{where}: AWSAPPRUNNER_X (line 1): names starting with AWSAPPRUNNER are reserved by App Runner; rename it",
        f"{where}: DB_HOST (line 2): is set by the infrastructure (see docs/worker-environment.md); remove it "
        "from the file or turn off what provides it",
        f"{where}: BLOB (line 3): value is longer than App Runner's 51200 characters",
        f"{where}: A_SECRET (line 4): looks like a secret reference but is not a Secrets Manager secret ARN "
        "(arn:aws:secretsmanager:<region>:<account>:secret:<name>) or an SSM parameter ARN "
        "(arn:aws:ssm:<region>:<account>:parameter/<name>)",
        f"{where}: B_TOKEN (line 5): refers to region us-east-1; App Runner reads secrets from its own region "
        "eu-west-1",
        f"{where}: C_PASSWORD (line 6): {plain_secret}",
        f"{where}: D_PASSWORD (line 7): {plain_secret}",
    ]


def test_value_of_exactly_the_app_runner_limit_is_accepted(tmp_path):
    workers = workers_with(tmp_path, {".env.workers": f"BLOB={'x' * 51_200}\n"})
    assert len(workers["orders"].environment.variables["BLOB"]) == 51_200


def test_unreadable_shared_file_is_reported(tmp_path):
    (tmp_path / "infra" / "aws" / ".env.workers").mkdir(parents=True)
    messages = problems_with(tmp_path, {})
    assert messages == [f"{display_path(tmp_path / 'infra' / 'aws' / '.env.workers')}: cannot be read "
                        "(Is a directory)"]


def notes_with(tmp_path, monkeypatch, files: dict[str, str], gitignore: str | None = None, **settings) -> list[str]:
    import subprocess

    from workers_scan.errors import Problems
    from workers_scan.workers import scan_workers

    monkeypatch.chdir(tmp_path)
    env = make_monorepo(tmp_path, settings=settings)
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    if gitignore is not None:
        subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
        (tmp_path / ".gitignore").write_text(gitignore)
    problems = Problems()
    scan_workers(settings_from(env), problems)
    assert not problems, [str(p) for p in problems]
    return [str(n) for n in problems.notes]


def test_a_missing_env_workers_is_noted_with_where_it_was_looked_for(tmp_path, monkeypatch):
    assert notes_with(tmp_path, monkeypatch, {}) == [
        "infra/aws/.env.workers: not found: the workers get only the variables the infrastructure sets; .env.workers "
        "(every worker) and .env.workers.<worker> are read beside the settings file, in infra/aws"]
    assert notes_with(tmp_path, monkeypatch, {"infra/aws/.env.workers.orders": "LOG_LEVEL=info\n"}) == []


@pytest.mark.parametrize("place", ["apps/api", "apps/api/src", "apps/api/src/workers"])
def test_an_env_workers_beside_the_code_is_noted_as_not_read(tmp_path, monkeypatch, place):
    notes = notes_with(tmp_path, monkeypatch, {"infra/aws/.env.workers": "LOG_LEVEL=info\n",
                                               f"{place}/.env.workers": "LOG_LEVEL=debug\n"})
    assert notes == [f"{place}/.env.workers: is not read: worker variables are read from .env.workers files beside "
                     "the settings file, in infra/aws; move it there"]


def test_an_env_workers_git_ignores_is_noted(tmp_path, monkeypatch):
    notes = notes_with(tmp_path, monkeypatch, {"infra/aws/.env.workers": "LOG_LEVEL=info\n"}, gitignore=".env*\n")
    assert notes == ["infra/aws/.env.workers: is ignored by git (.gitignore:1:.env*): a synth in a CI checkout would "
                     "deploy the workers without these variables; commit it (its secrets are ARNs, never values)"]


@pytest.mark.parametrize("value, ports", [
    ("https://api.stripe.com/v1", [443]),
    ("mongodb+srv://cluster0.example.mongodb.net/app", [27017]),
    ("mongodb://a.example.com:27017,b.example.com:27018/app?replicaSet=rs0", [27017, 27018]),
    ("smtps://smtp.example.com", [465]),
    ("mysql://app@db.example.com:3306/shop", [3306]),
    ("smtp.example.com:587", [587]),
    ("kafka1.example.com:9092,kafka2.example.com:9093", [9092, 9093]),
    ("info", []), ("a sentence: with a colon", []), ("12:30", []),
])
def test_the_ports_a_value_reaches_are_read_from_urls_and_host_port_pairs(value, ports):
    from workers_scan.environment import reached_ports

    assert reached_ports(value) == ports


def test_a_variable_on_a_port_the_egress_rules_block_is_noted_with_the_key_port_and_setting(tmp_path, monkeypatch):
    files = {"infra/aws/.env.workers": "API_URL=https://api.example.com\nMONGO_URL=mongodb+srv://db.example.com/app\n"
                                       "SMTP_HOST=smtp.example.com:465\n"}
    assert notes_with(tmp_path, monkeypatch, files) == [
        f"infra/aws/.env.workers: {key} (line {line}): reaches port {port}, which the workers' egress rules do not "
        f"open (WORKER_EGRESS_PORTS=443): the connection would time out in AWS; add {port} to WORKER_EGRESS_PORTS in "
        "infra/aws/.env if the service is outside the VPC" for key, line, port in (("MONGO_URL", 2, 27017),
                                                                                  ("SMTP_HOST", 3, 465))]
    assert notes_with(tmp_path, monkeypatch, files, WORKER_EGRESS_PORTS="443,465,27017") == []
    assert notes_with(tmp_path, monkeypatch, files, WORKER_VPC_EGRESS="false", AURORA_ENABLED="false",
                      REDIS_ENABLED="false") == []   # App Runner's own egress opens every port


def test_on_ecs_the_committed_env_files_the_image_leaves_out_are_noted(tmp_path, monkeypatch):
    import subprocess

    from .helpers import ECS_SETTINGS

    files = {"infra/aws/.env.workers": "LOG_LEVEL=info\n", "apps/api/.env": "PORT=3000\n",
             "apps/api/.env.production": "LOG_LEVEL=warn\n", "apps/api/.env.example": "PORT=\n",
             "apps/api/config/.env.test": "X=1\n", "apps/api/.env.local": "X=2\n"}

    # Nothing committed yet: nothing noted. Then everything but what .gitignore names is committed.
    assert notes_with(tmp_path, monkeypatch, files, gitignore=".env.local\n", **ECS_SETTINGS) == []
    subprocess.run(["git", "-C", str(tmp_path), "add", "-A"], check=True)
    assert notes_with(tmp_path, monkeypatch, files, **ECS_SETTINGS) == [   # a test run's .env.test is no runtime's
        "apps/api: COMPUTE=ecs: the image leaves out the committed apps/api/.env, apps/api/.env.production, which "
        "App Runner's build from the repository would keep; give their values as worker variables (.env.workers "
        "beside the settings file) or as secrets"]
    assert notes_with(tmp_path, monkeypatch, files) == []   # App Runner builds from the repository: it has them
