"""What both backends give every worker, from one function each (constructs_lib/compute.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from constructs_lib.compute import InfrastructureEnvironment, secret_keys, worker_secrets, worker_variables
from workers_scan.environment import WorkerEnvironment
from workers_scan.injected import PLATFORM, injected

STRIPE = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:acme/dev/stripe-AbCdEf"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-0000-4000-8000-0123456789ab"


@pytest.fixture(scope="module")
def infrastructure(example_settings) -> InfrastructureEnvironment:
    """What the example's data stores supply, with stand-in references."""
    return InfrastructureEnvironment(settings=example_settings, database_endpoint="${db.endpoint}",
                                     database_secret_arn="${db.secret}", cache_endpoint="${cache.endpoint}",
                                     kms_key_arns=(KEY,))


@pytest.fixture(scope="module")
def worker(example_workers):
    return replace(example_workers[0], environment=WorkerEnvironment(
        variables={"GREETING": "hello ${name}", "NODE_ENV": "development"}, secrets={"STRIPE_KEY": STRIPE}))


def test_files_values_are_terraform_text_and_the_infrastructure_s_keys_win(example_settings, worker, infrastructure):
    variables = worker_variables(example_settings, worker, infrastructure)
    assert variables["GREETING"] == "hello $${name}"  # a file's ${ is text, not a Terraform reference
    assert (variables["NODE_ENV"], variables["PORT"], variables["WORKER_NAME"]) == (
        "production", str(example_settings.port), worker.name)
    stores = {e.key for e in injected(example_settings) if e.brought_by != PLATFORM and not e.secret}
    assert {k for k, v in variables.items() if v.startswith(("${db.", "${cache.")) or k in stores} == stores
    assert (variables["DB_HOST"], variables["REDIS_HOST"]) == ("${db.endpoint}", "${cache.endpoint}")


def test_a_store_the_settings_create_without_its_endpoint_is_refused(example_settings, worker, infrastructure):
    with pytest.raises(RuntimeError, match="DB_HOST is injected with Aurora"):
        worker_variables(example_settings, worker, replace(infrastructure, database_endpoint=None))


def test_secrets_are_the_files_and_the_stores_and_keys_the_settings_and_the_stores(example_settings, worker,
                                                                                    infrastructure):
    assert worker_secrets(worker, infrastructure) == {"STRIPE_KEY": STRIPE, "DB_SECRET": "${db.secret}"}
    assert secret_keys(example_settings, infrastructure) == (*example_settings.secrets_kms_key_arns, KEY)
