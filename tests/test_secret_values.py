"""Secrets recognised by their value in every input layer and, last, in the whole synthesized JSON
(workers_scan/secret_values.py, constructs_lib/app.py): refused with the file, the key and the kind, never the value."""

from __future__ import annotations

import base64
import json

import pytest

from constructs_lib.app import StackInput, synthesize
from workers_scan import InputError, load_workers
from workers_scan.environment import LAYERS

from .helpers import ECS_SETTINGS, make_monorepo, settings_from

LAYER_FILES = [layer.format(worker="orders") for layer in LAYERS]
# Realistic secrets under names that do not look secret: only their values give them away. None is a real key.
SECRETS = {
    "DATABASE_URL": ("postgres://app:Xq7rT2vLp9wZ@db.internal:5432/app", "Basic Auth Credentials"),
    "MONGO_URL": ("mongodb+srv://user:Wk3nQ8zRt5yU@cluster0.example.net/app", "Basic Auth Credentials"),
    "CACHE_URL": ("redis://default:Hs4mX9pQw2eR@cache.internal:6379", "Basic Auth Credentials"),
    "STORE_SETTING": ("9f86d081884c7d659a2feaa0c55ad015", "Hex High Entropy String"),
    "GH": ("ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "GitHub Token"),
    "AWS_ACCESS_KEY_ID": ("AKIAIOSFODNN7EXAMPLE", "AWS Access Key"),
    "SLACK_HOOK_ID": ("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "Slack Token"),
    "PAYMENTS": ("sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "Stripe Access Key"),
    "SESSION": ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwiaWF0IjoxNTE2MjM5MDIyfQ."
                "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", "JSON Web Token"),
    "PEM": ("-----BEGIN RSA PRIVATE KEY-----MIIEowIBAAKCAQEA", "Private Key"),
    "BLOB": (base64.b64encode(bytes(range(7, 250, 7))).decode(), "Base64 High Entropy String"),
}
NOT_SECRETS = {
    "API_URL": "https://api.example.com/v1/orders?limit=10",
    "DB_URL": "postgres://db.internal:5432/app",
    "QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/acme-orders",
    "TOPIC": "arn:aws:sns:eu-west-1:123456789012:acme-orders-events",
    "TENANT": "123e4567-e89b-12d3-a456-426614174000",
    "GIT_SHA": "e83c5163316f89bfbde7d9ab23ca2e25604af290",
    "BUILD_COMMIT": "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
    "SMTP_HOST": "email-smtp.eu-west-1.amazonaws.com",
    "GREETING_B64": base64.b64encode(b"hello world").decode(),
    "BANNER_B64": base64.b64encode(b"Welcome to the Acme orders service").decode(),
    "LOG_LEVEL": "info",
    "CRON": "0 */5 * * *",
    "FROM": "no-reply@example.com",
    "FEATURES": '{"checkout":true,"search":false}',
    "SIGNING_KEY_ID": "key-2024-01",
    "JWT_PUBLIC_KEY_PATH": "/etc/keys/public.pem",
}


def workers_of(tmp_path, files: dict[str, str], **settings):
    env = make_monorepo(tmp_path, ["orders.ts", "billing.ts"], settings=settings)
    for name, text in files.items():
        (env.parent / name).write_text(text)
    return load_workers(settings_from(env))


def problems_of(tmp_path, files: dict[str, str], **settings) -> list[str]:
    with pytest.raises(InputError) as refused:
        workers_of(tmp_path, files, **settings)
    return [str(p) for p in refused.value.problems]


@pytest.mark.parametrize("backend", [{}, ECS_SETTINGS], ids=["apprunner", "ecs"])
@pytest.mark.parametrize("layer", LAYER_FILES)
def test_each_secret_value_is_refused_with_its_file_key_and_kind_never_the_value(tmp_path, layer, backend):
    text = "".join(f"{key}={value}\n" for key, (value, _) in SECRETS.items())
    problems = problems_of(tmp_path, {layer: text}, **backend)
    assert len(problems) == len(SECRETS), problems
    for line, (key, (value, kind)) in enumerate(SECRETS.items(), 1):
        [message] = [p for p in problems if f"{layer}: {key} (line {line}):" in p]
        assert f"holds a secret in plain text ({kind}: " in message, message
        assert value not in message and value[4:-4] not in message
        assert "store it in Secrets Manager and write its ARN here" in message


def test_a_url_with_a_password_is_shown_without_it_with_the_way_to_build_it_at_start(tmp_path):
    [message] = problems_of(tmp_path, {".env.workers": f"DATABASE_URL={SECRETS['DATABASE_URL'][0]}\n"})
    assert "(Basic Auth Credentials: postgres://app:****@db.internal:5432/app)" in message
    assert "DB_HOST, DB_PORT, DB_NAME and the JSON in DB_SECRET" in message
    assert "a secret that holds the whole URL (DATABASE_URL=arn:aws:secretsmanager:...)" in message


def test_values_that_are_not_secrets_pass(tmp_path):
    text = "".join(f"{key}={value}\n" for key, value in NOT_SECRETS.items())
    workers = workers_of(tmp_path, {".env.workers": text})
    assert {w.name: w.environment.variables for w in workers}["orders"] == dict(sorted(NOT_SECRETS.items()))


def test_a_key_declared_not_secret_in_the_settings_passes_and_synth_names_it(tmp_path):
    value = SECRETS["STORE_SETTING"][0]
    env = make_monorepo(tmp_path / "repo", ["orders.ts"], settings={"SECRET_KEY_ALLOWLIST": "STORE_SETTING"})
    (env.parent / ".env.workers").write_text(f"STORE_SETTING={value}\n")
    settings = settings_from(env)
    result = synthesize([StackInput(settings, tuple(load_workers(settings)))], tmp_path / "out")
    assert [n for n in result.notices if "SECRET_KEY_ALLOWLIST" in n] == [
        f"acme-dev: SECRET_KEY_ALLOWLIST ({settings.source_of('SECRET_KEY_ALLOWLIST')}): STORE_SETTING written in plain "
        "text although their names or values may look secret, as declared"]
    assert value in result.stacks["acme-dev"].read_text()


def test_a_setting_holding_a_credential_is_refused(tmp_path):
    env = make_monorepo(tmp_path, ["orders.ts"], settings={
        "REPOSITORY_URL": "https://x-access-token:" + "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8" + "@github.com/acme/platform"})
    with pytest.raises(InputError) as refused:
        settings_from(env)
    [problem] = [str(p) for p in refused.value.problems]   # reported as a secret, and not parsed (no echo)
    assert "REPOSITORY_URL: holds a secret in plain text (" in problem and "ghp_a1B2" not in problem


def test_a_secret_a_construct_writes_stops_synth_and_nothing_is_written(tmp_path, monkeypatch):
    """The last line of defence: a value no input check saw, planted in the stack by hand."""
    from cdktf import TerraformOutput

    import constructs_lib.app as app

    built = app.build_app

    def leaky(inputs, outdir):
        application, stacks = built(inputs, outdir)
        for stack in stacks.values():
            TerraformOutput(stack, "leak", value=json.dumps({"token": "ghp_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2"}))
        return application, stacks

    monkeypatch.setattr(app, "build_app", leaky)
    settings = settings_from(make_monorepo(tmp_path / "repo", ["orders.ts"]))
    with pytest.raises(InputError) as refused:
        synthesize([StackInput(settings, tuple(load_workers(settings)))], tmp_path / "out")
    [problem] = refused.value.problems
    assert (problem.where, problem.key) == ("acme-dev", "output.leak.value.token")
    assert problem.message.startswith("the synthesized JSON would hold a secret in plain text (GitHub Token: gh…i2")
    assert not (tmp_path / "out").exists()
