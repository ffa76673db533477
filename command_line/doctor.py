"""`python main.py doctor`: what a user's machine needs, checked one by one, with what to do about each."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable

OK, WARN, FAIL = "ok", "warn", "FAIL"
PROVIDER = "registry.terraform.io/hashicorp/aws"
PROVIDER_VERSION = "5.100.0"
PINS = {"cdktf": "0.21.0", "cdktf-cdktf-provider-aws": "20.1.0"}


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""


def _version(text: str) -> tuple[int, ...]:
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    return tuple(int(g or 0) for g in match.groups()) if match else ()


def _run(command: list[str]) -> str | None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (result.stdout or result.stderr).strip() if result.returncode == 0 else None


def check_python() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info >= (3, 11):
        return Check("Python", OK, version)
    return Check("Python", FAIL, version, "install Python 3.11 or newer")


def check_packages() -> Check:
    found, wrong = [], []
    for package, pin in PINS.items():
        try:
            installed = metadata.version(package)
        except metadata.PackageNotFoundError:
            wrong.append(f"{package} missing")
            continue
        found.append(f"{package} {installed}")
        if installed != pin:
            wrong.append(f"{package} {installed} (expected {pin})")
    if wrong:
        return Check("Python packages", FAIL, ", ".join(wrong),
                     "pip install -c requirements/app.txt -e '.[test]' in this project's venv")
    return Check("Python packages", OK, ", ".join(found))


def _tool(name: str, binary: str | None, version_argument: str,
          missing_fix: str) -> tuple[Check | None, tuple[int, ...], str]:
    """(a FAIL check if the tool is missing or broken, its version, the first line of its version text)."""
    if not binary:
        return Check(name, FAIL, "not found", missing_fix), (), ""
    output = _run([binary, version_argument]) or ""
    version = _version(output)
    if not version:
        return Check(name, FAIL, f"{binary} does not run", f"reinstall {name}"), (), ""
    return None, version, output.splitlines()[0]


def check_node() -> Check:
    node = os.environ.get("JSII_NODE") or shutil.which("node")
    failed, version, output = _tool("Node.js", node, "--version", "install Node.js 20 or 22 (jsii runs the cdktf core in Node)")
    if failed:
        return failed
    if version < (18,):
        return Check("Node.js", FAIL, output, "jsii needs Node.js 18 or newer")
    from constructs_lib.aws import SILENCED_NODE_MAJOR  # stdlib only: no jsii

    if version < (22,) and str(version[0]) == SILENCED_NODE_MAJOR:
        return Check("Node.js", WARN, f"{output} ({node})",
                     "works (past its end of life; the app hides jsii's banner about it); for Node 22, "
                     "`npm install --prefix DIR node@22` and point JSII_NODE at DIR/node_modules/node/bin/node")
    if version < (22,) and not os.environ.get("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"):
        return Check("Node.js", WARN, f"{output} ({node})",
                     f"works; set JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION={version[0]} to hide jsii's banner, "
                     "or point JSII_NODE at Node 22")
    return Check("Node.js", OK, f"{output} ({node})")


def check_terraform() -> Check:
    binary = shutil.which("terraform")
    failed, version, _ = _tool("terraform", binary, "version", "install Terraform 1.10 or newer to plan and apply")
    if failed:
        return failed
    text = ".".join(map(str, version))
    if version < (1, 10):
        return Check("terraform", WARN, text, "Terraform 1.10+ is needed for S3 lock files (STATE_USE_LOCKFILE)")
    return Check("terraform", OK, f"{text} ({binary})")


def check_cli_config() -> Check:
    config = os.environ.get("TF_CLI_CONFIG_FILE")
    if config and not Path(config).is_file():
        return Check("Terraform CLI config", WARN, f"TF_CLI_CONFIG_FILE={config} does not exist",
                     "unset TF_CLI_CONFIG_FILE or point it at a file (terraform warns on every command)")
    return Check("Terraform CLI config", OK, config or "default")


# Terraform's implied local mirror folders (see "Provider Installation" in the Terraform CLI docs).
IMPLIED_MIRRORS = ("~/.terraform.d/plugins", "~/.local/share/terraform/plugins",
                   "/usr/local/share/terraform/plugins", "/usr/share/terraform/plugins")


def configured_mirrors() -> list[str]:
    """filesystem_mirror paths of the CLI config file terraform would read."""
    config = Path(os.environ.get("TF_CLI_CONFIG_FILE") or "~/.terraformrc").expanduser()
    try:
        text = config.read_text()
    except OSError:
        return []
    return re.findall(r'filesystem_mirror\s*\{[^}]*?path\s*=\s*"([^"]+)"', text, flags=re.S)


def check_provider() -> Check:
    for folder in [*configured_mirrors(), *IMPLIED_MIRRORS]:
        path = Path(folder).expanduser() / PROVIDER / PROVIDER_VERSION
        if path.is_dir():
            return Check("hashicorp/aws provider", OK, f"{PROVIDER_VERSION} in local mirror {folder}")
    return Check("hashicorp/aws provider", OK,
                 f"{PROVIDER_VERSION} not in a local mirror: `terraform init` downloads it from the registry")


def check_inputs(load: Callable[[], list], locate: Callable[[], object] | None = None,
                 notes: list[str] | None = None) -> list[Check]:
    """`load` returns the (settings, workers) of every stack or raises InputError; `locate` gives the settings
    file's SettingsSource (or raises InputError), to tell which missing files `init` writes; `notes` fills with
    what `load` noted (a file git ignores, a port the egress rules close...), shown as one warning."""
    checks = _check_inputs(load, locate)
    if notes:
        checks.append(Check("notes", WARN, f"{len(notes)} note(s) on the inputs",
                            "\n".join(f"    {note}" for note in notes)))
    return checks


def _check_inputs(load: Callable[[], list], locate: Callable[[], object] | None) -> list[Check]:
    from workers_scan.errors import InputError, display_path

    from .init import SETTINGS_FILE, init_command
    from .report import declared_entries

    try:
        inputs = load()
    except InputError as error:
        hints = init_hints(locate) if locate else []
        return [Check("settings and workers", FAIL, f"{len(error.problems)} problem(s)",
                      "\n".join([*(f"    {p}" for p in error.problems), *(f"    -> {hint}" for hint in hints)]))]
    settings_file, count = display_path(inputs[0][0].settings_file), sum(len(w) for _, w in inputs)
    declared = declared_entries(inputs[0][1])   # every stack reads the same workers folder and workers.toml
    found = f"{count} found in the example" if inputs[0][0].is_example else f"{count} found"
    found += f"; {declared}" if declared else ""
    if inputs[0][0].is_example:
        checks = [Check("settings file", WARN, f"{settings_file} (the EMBEDDED EXAMPLE, not your monorepo)",
                        f"`{init_command()}` writes {SETTINGS_FILE.as_posix()} in your monorepo, and what else it "
                        "lacks; or give --env-file <your settings file>, or run from the folder holding it"),
                  Check("workers", WARN, found)]
    else:
        checks = [Check("settings file", OK, settings_file), Check("workers", OK, found)]
    folders = {settings.workers_paths: settings for settings, _ in inputs}
    return checks + [check_skipped(settings) for settings in folders.values()] + \
        [check_compute(settings) for settings, _ in inputs]


def check_skipped(settings) -> Check:
    """The other entries of a workers folder, each with the rule that makes it no worker."""
    from workers_scan.errors import display_path

    from .report import skipped

    entries = skipped(settings)
    folder = ", ".join(display_path(path) for path in settings.workers_paths)
    count = f"{len(entries)} other entr{'y' if len(entries) == 1 else 'ies'}" if entries else "no other entry"
    return Check("not workers", OK, f"{count} in {folder}", "\n".join(f"    {name}: {why}" for name, why in entries))


def init_hints(locate: Callable[[], object]) -> list[str]:
    """The files `init` writes among those the inputs lack: the settings file, or the start script and a first
    worker of settings that load."""
    from workers_scan import load_all_settings
    from workers_scan.errors import InputError, display_path

    from .init import SETTINGS_FILE, init_command, missing_pieces

    try:
        source = locate()
        found = source.path.is_file()
    except InputError:
        found = False
    if not found:
        return [f"no settings file: `{init_command()}` writes {SETTINGS_FILE.as_posix()} in your monorepo (its keys "
                "from flags, or asked), with workers.toml, the start script and a first worker"]
    try:
        every = load_all_settings(source)
    except InputError:   # settings to fix first: init keeps an existing settings file as it is
        return []
    pieces = dict.fromkeys((piece, settings.monorepo_root) for settings in every for piece in missing_pieces(settings))
    return [f"{display_path(piece)} is missing: `{init_command(root)}` writes it" for piece, root in pieces]


def check_compute(settings) -> Check:
    """What the stack's backend needs from the account (its connection is required by the settings already)."""
    from workers_scan.errors import display_path
    from workers_scan.settings import EXAMPLE_ECS_SETTINGS

    from .report import backend

    name = f"compute of {settings.stack_name}"
    account, region = settings.account_region
    if settings.uses_ecs:
        listener = "HTTPS" if settings.ecs_certificate_arn else "HTTP (no ECS_CERTIFICATE_ARN)"
        return Check(name, OK, f"{backend(settings)}: image build through CodeConnections connection in account "
                               f"{account}, {region}; workers' ALB on {listener}")
    return Check(name, WARN, f"{backend(settings)}: App Runner connection in account {account}, {region}",
                 "App Runner accepts no new customers since 2026-04-30: only an account that already uses it can "
                 f"create services; a new account needs COMPUTE=ecs with CODECONNECTIONS_ARN (like "
                 f"{display_path(EXAMPLE_ECS_SETTINGS)})")


def check_node_loader() -> Check:
    """Runs the installed provider's JS index through constructs_lib/lazy_provider_index.js, as synth would."""
    import importlib.util
    import json
    import tarfile
    import tempfile

    from constructs_lib import aws  # stdlib only: no jsii

    name = "lazy provider loader"
    loader = Path(aws.NODE_LOADER)
    if not loader.is_file():
        return Check(name, WARN, f"{loader} is missing: synth loads all 2,135 provider modules in node",
                     "reinstall the project (pip install -c requirements/app.txt -e .)")
    if not aws.node_loader_wanted(os.environ):
        return Check(name, WARN, f"off ({aws.EAGER_VARIABLE}=1 or {aws.NODE_LAZY_VARIABLE}=0): synth loads all "
                                 "2,135 provider modules in node", "unset them for a faster synth")
    spec = importlib.util.find_spec("cdktf_cdktf_provider_aws")
    archives = list(Path(next(iter(spec.submodule_search_locations))).glob("_jsii/*.tgz")) if spec else []
    if not archives or not shutil.which("node"):
        return Check(name, WARN, "cannot be checked (loader file, provider package or node missing)")
    with tempfile.TemporaryDirectory() as scratch, tarfile.open(archives[0]) as archive:
        package = Path(scratch) / "node_modules" / "@cdktf" / "provider-aws"
        (package / "lib").mkdir(parents=True)
        index = next((m for m in archive if m.name == "package/lib/index.js"), None)
        if index is None:
            return Check(name, WARN, "inactive: the installed provider package has no lib/index.js")
        (package / "lib" / "index.js").write_bytes(archive.extractfile(index).read())
        (package / "package.json").write_text('{"name": "@cdktf/provider-aws", "main": "lib/index.js"}')
        report = Path(scratch) / "report.json"
        env = dict(os.environ, NODE_OPTIONS=aws.node_loader_option(), CDKTF_AWS_LAZY_REPORT=str(report))
        subprocess.run(["node", "-e", 'require("@cdktf/provider-aws")'], cwd=scratch, env=env,
                       capture_output=True, timeout=60)
        lazy = report.is_file() and json.loads(report.read_text()).get("lazy")
    if lazy:
        return Check(name, OK, "active: node loads only the provider modules a synth uses")
    return Check(name, WARN, "inactive: the installed provider's index has a shape the loader does not know, "
                             "so synth works but loads all 2,135 modules", "report this with `pip show "
                             "cdktf-cdktf-provider-aws`")


def check_in_process_kernel() -> Check:
    """Asks constructs_lib/jsii_in_process.js whether it would run the installed jsii kernel in process, as synth
    starts it."""
    from constructs_lib import aws  # stdlib only: no jsii

    name = "in-process jsii kernel"
    runtime = os.environ.get("JSII_RUNTIME", "")
    if runtime and not aws.is_our_runtime(runtime):
        return Check(name, WARN, f"off: JSII_RUNTIME={runtime} is yours, and kept")
    if not aws.in_process_kernel_wanted(os.environ):
        return Check(name, WARN, f"off ({aws.RELAY_VARIABLE}=1, {aws.NODE_LAZY_VARIABLE}=0 or {aws.EAGER_VARIABLE}=1):"
                                 " jsii's relay runs a second node (about 45 MB)", "unset them for a lighter synth")
    environ = dict(os.environ)
    node = environ.get("JSII_NODE", "node")  # the node synth starts the kernel with
    if not shutil.which(node) or not aws.enable_in_process_kernel(environ):
        return Check(name, WARN, "cannot be checked (node or jsii's runtime files missing)")
    result = subprocess.run([node, environ["JSII_RUNTIME"]], env=dict(environ, CDKTF_AWS_KERNEL_CHECK="1"),
                            capture_output=True, text=True, timeout=60)
    verdict = result.stdout.strip()
    if verdict == "in-process":
        return Check(name, OK, "active: the kernel runs in the node that Python starts, with no relay process")
    why = verdict.removeprefix("relay: ") or result.stderr[-200:]
    return Check(name, WARN, f"inactive, so jsii's relay runs: {why}", "report this with `pip show jsii`")


def environment_checks() -> list[Check]:
    return [check_python(), check_packages(), check_node(), check_node_loader(), check_in_process_kernel(),
            check_terraform(), check_cli_config(), check_provider()]


def render(checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = []
    for check in checks:
        lines.append(f"[{check.status:>4}] {check.name.ljust(width)}  {check.detail}")
        if check.fix:
            lines.append(f"       {' ' * width}  -> {check.fix}" if "\n" not in check.fix else check.fix)
    return "\n".join(lines)
