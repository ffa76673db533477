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
    """What the example's data stores supply: exactly the declared keys, with stand-in values."""
    stores = [e for e in injected(example_settings) if e.brought_by != PLATFORM]
    return InfrastructureEnvironment(variables={e.key: f"${{{e.key}}}" for e in stores if not e.secret},
                                     secrets={e.key: f"${{{e.key}}}" for e in stores if e.secret}, kms_key_arns=(KEY,))


@pytest.fixture(scope="module")
def worker(example_workers):
    return replace(example_workers[0], environment=WorkerEnvironment(
        variables={"GREETING": "hello ${name}", "NODE_ENV": "development"}, secrets={"STRIPE_KEY": STRIPE}))


def test_files_values_are_terraform_text_and_the_infrastructure_s_keys_win(example_settings, worker, infrastructure):
    variables = worker_variables(example_settings, worker, infrastructure)
    assert variables["GREETING"] == "hello $${name}"  # a file's ${ is text, not a Terraform reference
    assert (variables["NODE_ENV"], variables["PORT"], variables["WORKER_NAME"]) == (
        "production", str(example_settings.port), worker.name)
    assert {k: v for k, v in variables.items() if k in infrastructure.variables} == infrastructure.variables


def test_an_injected_key_the_declaration_lacks_is_refused(example_settings, worker, infrastructure):
    extra = replace(infrastructure, variables={**infrastructure.variables, "DB_POOL": "10"})
    with pytest.raises(RuntimeError, match="DB_POOL"):
        worker_variables(example_settings, worker, extra)


def test_secrets_are_the_files_and_the_stores_and_keys_the_settings_and_the_stores(example_settings, worker,
                                                                                    infrastructure):
    assert worker_secrets(worker, infrastructure) == {"STRIPE_KEY": STRIPE, **infrastructure.secrets}
    assert secret_keys(example_settings, infrastructure) == (*example_settings.secrets_kms_key_arns, KEY)
