"""Run the real terraform CLI on synthesized stacks, offline when a provider mirror is on the machine.

Nothing here is hard-coded into the product: the mirror is only looked for by the tests. Set
TF_PROVIDER_MIRROR to a filesystem mirror folder to choose one; without any, terraform uses the registry.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

PROVIDER = "registry.terraform.io/hashicorp/aws"
MIRROR_CANDIDATES = ("/opt/tf-plugins", "~/.terraform.d/plugins", "/usr/share/terraform/plugins",
                     "/usr/local/share/terraform/plugins")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str):
    """Skip on a laptop; fail under CI=true, where every test must run."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: this test may not be skipped)")
    pytest.skip(reason)


def find_mirror() -> Path | None:
    candidates = [os.environ["TF_PROVIDER_MIRROR"]] if os.environ.get("TF_PROVIDER_MIRROR") else MIRROR_CANDIDATES
    for candidate in candidates:
        path = Path(candidate).expanduser()
        if (path / PROVIDER).is_dir():
            return path
    return None


def terraform_env(workdir: Path) -> dict[str, str]:
    """Environment for terraform: our own CLI config (the machine's TF_CLI_CONFIG_FILE may not exist)."""
    env = dict(os.environ, TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1", TF_INPUT="0")
    # terraform and the provider (which inherits it) spend about a fifth of their CPU collecting garbage while
    # they load the provider's schema; memory is plenty here. A caller's own GOGC wins.
    env.setdefault("GOGC", "400")
    config = workdir / "terraform-cli.tfrc"
    mirror = find_mirror()
    if mirror:
        config.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = ["{PROVIDER}"]\n  }}\n'
            f'  direct {{\n    exclude = ["{PROVIDER}"]\n  }}\n'
            "}\n"
        )
    else:
        config.write_text("")
    env["TF_CLI_CONFIG_FILE"] = str(config)
    # One provider copy per test session, symlinked into each stack's .terraform (it is ~700 MB).
    cache = Path(os.environ.get("PYTEST_TF_PLUGIN_CACHE", workdir)) / ".terraform-plugin-cache"
    cache.mkdir(parents=True, exist_ok=True)
    env["TF_PLUGIN_CACHE_DIR"] = str(cache)
    return env


def terraform_binary() -> str:
    binary = shutil.which("terraform")
    if not binary:
        unavailable("terraform is not on PATH")
    return binary


# The emulators write this before the trace of each of their own bugs (tests/moto_patched.py, tests/apprunner_standin.py).
INTERNAL_ERROR = "EmulatorInternalError"
_EMULATOR_LOGS: dict[Path, str] = {}  # the running emulators' logs -> their names
# The last terraform step started in this process: named in the report of a test that fails (tests/conftest.py).
last_step: dict[str, object] = {}


@contextmanager
def emulator_log(path: Path, name: str):
    """While it runs, an emulator's internal errors join the output of every terraform step that fails (run())."""
    _EMULATOR_LOGS[path] = name
    try:
        yield
    finally:
        _EMULATOR_LOGS.pop(path, None)


def _log_sizes() -> dict[Path, int]:
    return {path: path.stat().st_size if path.exists() else 0 for path in _EMULATOR_LOGS}


def _emulator_errors(since: dict[Path, int]) -> str:
    """The internal errors each running emulator logged after `since` (its log sizes then), with their traces."""
    found = []
    for path, name in list(_EMULATOR_LOGS.items()):
        with open(path, "rb") as log:
            log.seek(since.get(path, 0))
            text = log.read().decode(errors="replace")
        if INTERNAL_ERROR in text:
            found.append(f"--- {name} ({path}): internal errors during this step ---\n"
                         f"{text[text.index(INTERNAL_ERROR):][:2500]}")  # the first error: the rest often follows from it
    return "\n".join(found)


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess:
    """terraform `args` in `cwd`. A failed step's stderr ends with what the running emulators logged as their own
    bugs meanwhile; a step past `timeout` fails the test naming the step, with that and its last output."""
    since = _log_sizes()
    command = [terraform_binary(), *args]
    last_step.update(command=f"terraform {' '.join(args)}", cwd=str(cwd), started=time.monotonic())
    try:
        result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as expired:
        output = "\n".join(_text(part)[-3000:] for part in (expired.stdout, expired.stderr))
        pytest.fail(f"terraform {' '.join(args)} (in {cwd}) ran past {timeout} s\n{_emulator_errors(since)}\n"
                    f"its last output:\n{output}", pytrace=False)
    if result.returncode != 0:
        errors = _emulator_errors(since)
        if errors:
            result.stderr = f"{result.stderr}\n{errors}"
    return result


def _text(part: str | bytes | None) -> str:
    return part.decode(errors="replace") if isinstance(part, bytes) else part or ""


def init_and_validate(stack_dir: Path, scratch: Path) -> dict:
    """`terraform init -backend=false` then `validate -json`; returns the validate report."""
    env = terraform_env(scratch)
    init = run(["init", "-backend=false", "-input=false", "-no-color"], stack_dir, env)
    if init.returncode != 0:
        if not find_mirror() and "registry.terraform.io" in init.stderr:
            unavailable(f"no provider mirror found and the registry is unreachable:\n{init.stderr[-400:]}")
        raise AssertionError(f"terraform init failed:\n{init.stdout}\n{init.stderr}")
    validate = run(["validate", "-json", "-no-color"], stack_dir, env)
    return json.loads(validate.stdout)


def diagnostics_text(report: dict) -> str:
    return "\n".join(f"{d['severity']}: {d['summary']} {d.get('address', '')}: {d.get('detail', '')[:300]}"
                     for d in report["diagnostics"])


def assert_valid_without_warnings(stack_dir: Path, scratch: Path) -> None:
    """terraform validate on the real provider schema: valid, no error, no warning (deprecations included)."""
    report = init_and_validate(stack_dir, scratch)
    assert report["valid"] is True, diagnostics_text(report)
    assert report["error_count"] == 0 and report["warning_count"] == 0, diagnostics_text(report)


def assert_alone_stack_validates(stack, scratch: Path) -> None:
    """A construct's own Testing.app() stack (with its AwsProvider) written out and validated."""
    import cdktf

    stack_dir = scratch / "stack"
    stack_dir.mkdir()
    (stack_dir / "cdk.tf.json").write_text(cdktf.Testing.synth(stack))
    assert_valid_without_warnings(stack_dir, scratch)
