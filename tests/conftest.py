"""Shared fixtures: every stack is synthesized once per session (one jsii process for the whole run)."""

from __future__ import annotations

import json
import os
import time

import pytest

pytest_plugins = ["pytester"]

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import constructs_lib  # noqa: E402,F401 - first, so the jsii kernel starts with the Node loader (constructs_lib/aws.py)

from workers_scan import SettingsSource, load_settings, load_workers  # noqa: E402
from workers_scan.settings import EXAMPLE_ECS_SETTINGS, EXAMPLE_SETTINGS  # noqa: E402

from . import terraform  # noqa: E402
from .helpers import make_monorepo, settings_from  # noqa: E402

# A backstop: each terraform step has its own, shorter limit (tests/terraform.py), which names the step.
EMULATOR_TEST_TIMEOUT = 1200


# The longest modules first: xdist hands whole files (--dist loadfile) to the workers in collection order, and the
# run ends when the last file does, so the day-2 matrix (about half of the suite's time) must not start last.
LONGEST_FIRST = ("test_day2.py", "test_ecs_emulator.py", "test_apprunner_standin.py", "test_emulator.py",
                 "test_local_e2e.py", "test_lazy_bindings.py", "test_policy_scan.py", "test_quotas.py")


def pytest_collection_modifyitems(items):
    """Every emulator test has a time limit (pytest-timeout): a hang fails the test instead of the CI run."""
    for item in items:
        if item.get_closest_marker("emulator") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(EMULATOR_TEST_TIMEOUT))
    rank = {name: index for index, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))   # stable: the order within a file is kept


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item):
    terraform.last_step.clear()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test that ran terraform names the last step it started (the one running, when it timed out)."""
    report = (yield).get_result()
    step = terraform.last_step
    if report.failed and step:
        report.sections.append(("terraform", f"last step started: {step['command']} in {step['cwd']}, "
                                             f"{time.monotonic() - step['started']:.0f} s before this report"))


@pytest.fixture
def newcomer(tmp_path, monkeypatch):
    """A newcomer's first run: in this app's own folder, outside CI, with no settings file anywhere, where the
    embedded example is used (anywhere else, or under CI=true, no settings is an error)."""
    from workers_scan.settings import PROJECT_ROOT

    for variable in ("CI", "INFRA_ENV_FILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr("workers_scan.settings.DEFAULT_SETTINGS", tmp_path / "absent.env")
    monkeypatch.chdir(PROJECT_ROOT)


@pytest.fixture(scope="session", autouse=True)
def terraform_plugin_cache(tmp_path_factory):
    """Every terraform init of the session shares one plugin cache (see tests/terraform.py)."""
    os.environ["PYTEST_TF_PLUGIN_CACHE"] = str(tmp_path_factory.mktemp("terraform"))
    yield
    os.environ.pop("PYTEST_TF_PLUGIN_CACHE", None)


def synth_stack(settings, workers) -> dict:
    """Synthesize one PlatformStack in memory with cdktf.Testing and return its parsed JSON."""
    from cdktf import Testing

    from constructs_lib.platform_stack import PlatformStack

    app = Testing.app()
    stack = PlatformStack(app, settings.stack_name, settings=settings, workers=workers)
    return json.loads(Testing.synth(stack))


@pytest.fixture(scope="session")
def example_settings():
    return load_settings(SettingsSource(EXAMPLE_SETTINGS, is_example=True))


@pytest.fixture(scope="session")
def example_workers(example_settings):
    return load_workers(example_settings)


@pytest.fixture(scope="session")
def example_stack(example_settings, example_workers) -> dict:
    return synth_stack(example_settings, example_workers)


@pytest.fixture(scope="session")
def ecs_example_settings():
    """The example on COMPUTE=ecs: its own settings file beside the App Runner one, same monorepo and workers."""
    return load_settings(SettingsSource(EXAMPLE_ECS_SETTINGS, is_example=False), environ={})


@pytest.fixture(scope="session")
def ecs_example_workers(ecs_example_settings):
    return load_workers(ecs_example_settings)


@pytest.fixture(scope="session")
def ecs_example_stack(ecs_example_settings, ecs_example_workers) -> dict:
    return synth_stack(ecs_example_settings, ecs_example_workers)


@pytest.fixture(scope="session")
def stack_for(tmp_path_factory):
    """Synthesize (once per distinct request) a stack for a generated monorepo: stack_for(workers, **settings)."""
    cache: dict = {}

    def build(workers: tuple[str, ...], **settings: str) -> dict:
        key = (tuple(workers), tuple(sorted(settings.items())))
        if key not in cache:
            root = tmp_path_factory.mktemp("monorepo")
            loaded = settings_from(make_monorepo(root, list(workers), settings=settings))
            cache[key] = synth_stack(loaded, load_workers(loaded))
        return cache[key]

    return build
