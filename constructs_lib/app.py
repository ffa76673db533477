"""Build the cdktf app and synthesize it into a folder: all stacks or nothing, and nothing of the user's lost."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from cdktf import App

from workers_scan import InputError, Problem, Settings, Worker
from workers_scan import secret_values
from workers_scan.errors import display_path

from .adoption import IMPORTS_FILE, imports_tf
from .platform_stack import PlatformStack
from .quota_check import check as quota_check
from .state_backend import (StateBootstrap, StateBootstrapProps, bootstrap_stack_name, local_state_file,
                            local_state_path)

MANIFEST = "manifest.json"  # cdktf writes it into every output folder


@dataclass(frozen=True)
class StackInput:
    settings: Settings
    workers: tuple[Worker, ...]


@dataclass(frozen=True)
class SynthResult:
    outdir: Path
    stacks: dict[str, Path]          # stack name -> its cdk.tf.json
    resource_counts: dict[str, Counter]
    notices: list[str] = field(default_factory=list)  # what synth did besides writing (for the user)


def stack_names(inputs: list[StackInput]) -> list[str]:
    return [name for name, _ in _bootstraps(inputs)] + [item.settings.stack_name for item in inputs]


def _bootstraps(inputs: list[StackInput]) -> list[tuple[str, Settings]]:
    """One bootstrap stack per distinct state bucket (environments usually share one)."""
    wanted = [i.settings for i in inputs if i.settings.state_backend == "s3" and i.settings.state_bootstrap]
    buckets = {(s.state_bucket, s.state_bucket_region) for s in wanted}
    found: dict[str, Settings] = {}
    for settings in wanted:
        name = bootstrap_stack_name(settings.project_name) if len(buckets) == 1 else f"{settings.stack_name}-state"
        found.setdefault(name, settings)
    return sorted(found.items())


def state_bootstrap_props(settings: Settings) -> StateBootstrapProps:
    return StateBootstrapProps(project_name=settings.project_name, bucket=settings.state_bucket,
                               region=settings.state_bucket_region, kms_key_arn=settings.state_kms_key_arn or None,
                               lock_table=settings.state_lock_table or None)


def build_app(inputs: list[StackInput], outdir: str | os.PathLike) -> tuple[App, dict[str, PlatformStack]]:
    app = App(outdir=str(outdir))
    for name, settings in _bootstraps(inputs):
        StateBootstrap(app, name, props=state_bootstrap_props(settings))
    stacks = {item.settings.stack_name: PlatformStack(app, item.settings.stack_name, settings=item.settings,
                                                      workers=list(item.workers)) for item in inputs}
    for item in inputs:
        # The stage's access logs need the region's API Gateway role: `cdktf deploy` applies its manager first.
        manager = api_gateway_account_manager(inputs, item.settings)
        if manager and manager != item.settings.stack_name:
            stacks[item.settings.stack_name].add_dependency(stacks[manager])
    return app, stacks


def api_gateway_account_manager(inputs: list[StackInput], settings: Settings) -> str | None:
    """The stack of this synth that sets the API Gateway CloudWatch role of `settings`' account and region."""
    return next((i.settings.stack_name for i in inputs
                 if i.settings.account_region == settings.account_region and i.settings.manage_api_gateway_account),
                None)


def synthesize(inputs: list[StackInput], outdir: str | os.PathLike) -> SynthResult:
    """Synthesize into a temporary sibling folder, then move in only the files synth writes.

    Every stack is synthesized before anything moves, each file is replaced atomically and the manifest
    last, and `outdir` is never wiped:
    `.terraform/`, lock files, plans and anything else a user keeps in a stack folder survive. A folder
    that is not a previous synth's output is refused. Local state lives beside `outdir`
    (`state_backend.LOCAL_STATE_DIR_FROM_STACK`); a state file left by an older version inside the folder
    of a stack still on local state is moved there once the new files are in place, and announced in
    `SynthResult.notices`. Each platform stack's folder also gets imports.tf (constructs_lib/adoption.py).
    """
    target = Path(outdir).absolute()
    _check_output_folder(target)
    names = stack_names(inputs)
    moves = _legacy_local_state(target, inputs)  # refuses conflicts before anything is written
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.synth-", dir=target.parent))
    try:
        app, platform_stacks = build_app(inputs, staging)
        app.synth()
        # Before anything moves: refused, nothing written.
        quota_notices = _check_quotas(staging, platform_stacks)
        secret_notices = _check_secrets(staging, platform_stacks, inputs)
        for name, stack in platform_stacks.items():
            (staging / "stacks" / name / IMPORTS_FILE).write_text(imports_tf(stack.adoptions, stack.forgotten))
        _move_into_place(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    # Only now: until the new cdk.tf.json is in place, the old one still points at the old state file.
    notices = secret_notices + quota_notices + _move_state(moves)
    previous = target / "stacks"
    for stale in sorted(p.parent.name for p in previous.glob("*/cdk.tf.json") if p.parent.name not in names):
        notices.append(f"{display_path(previous / stale)} is no longer synthesized and was left as it was. If it "
                       "is an environment you removed, run `terraform destroy` there while it still holds resources, "
                       "then delete the folder; if it is another settings file's stack (the example's acme-dev, "
                       "another monorepo), there is nothing to do. (`cdktf synth` deletes such folders itself: "
                       "destroy before removing an environment.)")
    stacks, counts = {}, {}
    for name in names:
        stacks[name] = target / "stacks" / name / "cdk.tf.json"
        counts[name] = count_resources(json.loads(stacks[name].read_text()))
    return SynthResult(outdir=target, stacks=stacks, resource_counts=counts, notices=notices)


def _check_quotas(staging: Path, platform_stacks: dict) -> list[str]:
    """Every AWS quota of workers_scan/quotas.py measured on each stack: InputError for a limit AWS does not raise,
    notices for adjustable ones."""
    problems, notices = [], []
    for name in platform_stacks:
        path = staging / "stacks" / name / "cdk.tf.json"
        errors, said = quota_check(name, json.loads(path.read_text()))
        problems += [Problem(name, "AWS quota", error) for error in errors]
        notices += said
    if problems:
        raise InputError(problems)
    return notices


def json_strings(node, path: str = "") -> list[tuple[str, str]]:
    """(path, string) of every string in a synthesized document, inside JSON strings too (an ECS container
    definition, a policy); cdktf's `//` metadata (construct paths and ids) is not what Terraform sends AWS."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key != "//":
                found += json_strings(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += json_strings(value, f"{path}[{index}]")
    elif isinstance(node, str):
        if node[:1] in "{[":
            try:
                return json_strings(json.loads(node), path)
            except ValueError:
                pass
        found.append((path, node))
    return found


def _check_secrets(staging: Path, platform_stacks: dict, inputs: list[StackInput]) -> list[str]:
    """The last line of defence: no string of any stack, wherever a construct put it, may look like a secret's value
    (workers_scan/secret_values.py), but the values of keys the settings declare not secret (SECRET_KEY_ALLOWLIST),
    which each synth names."""
    problems, notices = [], []
    for item in inputs:
        settings = item.settings
        allowed = {k: v for w in item.workers for k, v in w.environment.variables.items()
                   if k in settings.secret_key_allowlist}
        if settings.secret_key_allowlist:
            notices.append(f"{settings.stack_name}: SECRET_KEY_ALLOWLIST ({settings.source_of('SECRET_KEY_ALLOWLIST')}):"
                           f" {', '.join(settings.secret_key_allowlist)} written in plain text although their names or "
                           "values may look secret, as declared")
        if settings.stack_name not in platform_stacks:
            continue
        stack = json.loads((staging / "stacks" / settings.stack_name / "cdk.tf.json").read_text())
        strings = [(path, text) for path, text in json_strings(stack) if text not in allowed.values()]
        for (path, _), finding in zip(strings, secret_values.scan(strings)):   # the whole path is the key
            if finding:
                problems.append(Problem(settings.stack_name, path, (
                    f"the synthesized JSON would hold a secret in plain text ({finding.kind}: {finding.hint}), and so "
                    "would the Terraform state: nothing was written. If it comes from your inputs, store it in Secrets "
                    "Manager and reference its ARN; if not, report it")))
    if problems:
        raise InputError(problems)
    return notices


def _check_output_folder(target: Path) -> None:
    """Only an empty folder, or a previous synth's output (it has the manifest), may be written into."""
    if not target.exists():
        return
    if not target.is_dir():
        raise InputError([Problem(display_path(target), "--out", "exists and is not a folder; choose another --out")])
    if (target / MANIFEST).is_file() or not any(target.iterdir()):
        return
    found = sorted(p.name for p in target.iterdir())[:3]
    raise InputError([Problem(display_path(target), "--out", (
        f"holds files synth did not write ({', '.join(found)}) and no {MANIFEST}; nothing was written or "
        "deleted. Choose a new or empty --out folder, or the folder of a previous synth"))])


def _move_into_place(staging: Path, target: Path) -> None:
    """Each written file replaces its previous version atomically; the manifest goes last (it marks a
    complete output). Nothing else in `target` is touched."""
    written = sorted(p.relative_to(staging) for p in staging.rglob("*") if p.is_file())
    written.sort(key=lambda relative: relative == Path(MANIFEST))
    for relative in written:
        destination = target / relative
        for folder in reversed(destination.relative_to(target.parent).parents[:-1]):
            _make_folder(target.parent / folder)
        os.replace(staging / relative, destination)


def _make_folder(folder: Path) -> None:
    if not folder.is_dir():
        folder.mkdir()  # mode 0777 less the umask: the usual 0755, not mkdtemp's 0700
    elif folder.stat().st_mode & 0o777 == 0o700 and (folder / MANIFEST).is_file():
        # Output of an older version, made by mkdtemp: give it the usual mode back.
        umask = os.umask(0)
        os.umask(umask)
        folder.chmod(0o777 & ~umask)


def _local_stacks(inputs: list[StackInput]) -> list[str]:
    """Stacks whose state is a local file: the bootstrap stacks, and platform stacks on STATE_BACKEND=local."""
    return [name for name, _ in _bootstraps(inputs)] + [
        i.settings.stack_name for i in inputs if i.settings.state_backend == "local"]


def _legacy_local_state(target: Path, inputs: list[StackInput]) -> list[tuple[Path, Path]]:
    """State files that older versions kept inside the stack folder, with where they go now; refuses (before
    anything is written) when both places hold one. Stacks now on a remote backend are left alone: their old
    file is what `terraform init -migrate-state` reads."""
    moves, problems = [], []
    for name in _local_stacks(inputs):
        stack_dir = target / "stacks" / name
        for suffix in ("", ".backup"):
            old = stack_dir / f"{local_state_file(name)}{suffix}"
            new = (stack_dir / local_state_path(name)).resolve().with_name(old.name)
            if not old.is_file() or old.resolve() == new:
                continue
            if new.exists():
                problems.append(Problem(display_path(old), "state", (
                    f"both this file and {display_path(new)} hold the state of {name}; keep the right one, "
                    f"e.g. `mv {display_path(new)} {display_path(new)}.old && mv {display_path(old)} "
                    f"{display_path(new)}`, then synthesize again")))
            else:
                moves.append((old, new))
    if problems:
        raise InputError(problems)
    return moves


def _move_state(moves: list[tuple[Path, Path]]) -> list[str]:
    notices = []
    for old, new in moves:
        new.parent.mkdir(parents=True, exist_ok=True)
        os.replace(old, new)
        if not old.name.endswith(".backup"):
            notices.append(f"Moved the local state {display_path(old)} to {display_path(new)}, where it survives "
                           f"every synth; run `terraform -chdir={display_path(old.parent)} init -reconfigure` once")
    return notices


def count_resources(stack_json: dict) -> Counter:
    return Counter({rtype: len(items) for rtype, items in stack_json.get("resource", {}).items()})
