"""pytest plugin for teams: test your own platform stack, synthesized in memory with cdktf.Testing.

Installed with this app and registered through the `pytest11` entry point, so a team's tests just ask for a
fixture:

    def test_every_worker_is_private(platform_stack):
        for worker in platform_stack.workers:
            ingress = platform_stack.service(worker)["network_configuration"]["ingress_configuration"]
            assert ingress["is_publicly_accessible"] is False

The settings file is the `platform_env_file` ini option (relative to the rootdir), else `$INFRA_ENV_FILE`,
else `infra/aws/.env` under the rootdir. With ENVIRONMENTS, `platform_stacks` holds every environment's stack.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest


@dataclass(frozen=True)
class SynthesizedStack:
    """One stack's Terraform JSON, with the lookups a team's tests need."""

    name: str
    document: dict
    workers: tuple[str, ...] = field(default=())

    def resources(self, rtype: str) -> dict[str, dict]:
        """Resources of one Terraform type, by name."""
        return self.document.get("resource", {}).get(rtype, {})

    def service(self, worker: str) -> dict:
        """The compute service of a worker (by its name, e.g. `email-sender`)."""
        found = [s for s in self.resources("aws_apprunner_service").values() if s.get("tags", {}).get("Worker") == worker]
        if len(found) != 1:
            raise KeyError(f"no service for worker {worker!r}; workers: {', '.join(self.workers)}")
        return found[0]

    def _values(self, worker: str) -> dict:
        return self.service(worker)["source_configuration"]["code_repository"]["code_configuration"][
            "code_configuration_values"]

    def variables(self, worker: str) -> dict[str, str]:
        """A worker's plain environment variables (values may be Terraform references)."""
        return dict(self._values(worker).get("runtime_environment_variables", {}))

    def secrets(self, worker: str) -> dict[str, str]:
        """A worker's secrets: variable -> Secrets Manager / SSM ARN (never a value)."""
        return dict(self._values(worker).get("runtime_environment_secrets", {}))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("platform_env_file", "settings file of the platform stack the platform_stack fixture builds "
                                       "(default: $INFRA_ENV_FILE, else infra/aws/.env under the rootdir)")


def _settings_file(config: pytest.Config) -> Path:
    configured = config.getini("platform_env_file")
    if configured:
        return (Path(config.rootpath) / configured).resolve()
    if os.environ.get("INFRA_ENV_FILE"):
        return Path(os.environ["INFRA_ENV_FILE"]).resolve()
    return Path(config.rootpath) / "infra" / "aws" / ".env"


@pytest.fixture(scope="session")
def platform_stacks(pytestconfig: pytest.Config) -> dict[str, SynthesizedStack]:
    """Every stack of the team's settings file (one per environment), synthesized once per session."""
    import constructs_lib  # noqa: F401 - before cdktf: the lazy provider loading needs to start first

    from cdktf import Testing

    from constructs_lib.platform_stack import PlatformStack
    from workers_scan import SettingsSource, load_all_settings, load_workers

    path = _settings_file(pytestconfig)
    if not path.is_file():
        pytest.fail(f"platform_stack: no settings file at {path}; set `platform_env_file` in your pytest ini "
                    "options or $INFRA_ENV_FILE", pytrace=False)
    stacks = {}
    for settings in load_all_settings(SettingsSource(path, is_example=False)):
        workers = load_workers(settings)
        stack = PlatformStack(Testing.app(), settings.stack_name, settings=settings, workers=workers)
        stacks[settings.stack_name] = SynthesizedStack(settings.stack_name, json.loads(Testing.synth(stack)),
                                                       tuple(w.name for w in workers))
    return stacks


@pytest.fixture(scope="session")
def platform_stack(platform_stacks: dict[str, SynthesizedStack]) -> SynthesizedStack:
    """The team's stack (with several environments, use `platform_stacks`)."""
    if len(platform_stacks) != 1:
        pytest.fail(f"platform_stack: the settings describe {len(platform_stacks)} stacks "
                    f"({', '.join(platform_stacks)}); use the platform_stacks fixture", pytrace=False)
    return next(iter(platform_stacks.values()))
