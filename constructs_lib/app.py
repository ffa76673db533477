"""Build the cdktf app and synthesize it into a folder atomically: all stacks or nothing."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from cdktf import App

from workers_scan import Settings, Worker

from .platform_stack import PlatformStack
from .state_backend import StateBootstrap, bootstrap_stack_name


@dataclass(frozen=True)
class StackInput:
    settings: Settings
    workers: tuple[Worker, ...]


@dataclass(frozen=True)
class SynthResult:
    outdir: Path
    stacks: dict[str, Path]          # stack name -> its cdk.tf.json
    resource_counts: dict[str, Counter]


def stack_names(inputs: list[StackInput]) -> list[str]:
    return [name for name, _ in _bootstraps(inputs)] + [item.settings.stack_name for item in inputs]


def _bootstraps(inputs: list[StackInput]) -> list[tuple[str, Settings]]:
    """One bootstrap stack per distinct state bucket (environments usually share one)."""
    wanted = [i.settings for i in inputs if i.settings.state_backend == "s3" and i.settings.state_bootstrap]
    buckets = {(s.state_bucket, s.state_bucket_region) for s in wanted}
    found: dict[str, Settings] = {}
    for settings in wanted:
        name = bootstrap_stack_name(settings) if len(buckets) == 1 else f"{settings.stack_name}-state"
        found.setdefault(name, settings)
    return sorted(found.items())


def build_app(inputs: list[StackInput], outdir: str | os.PathLike) -> App:
    app = App(outdir=str(outdir))
    for name, settings in _bootstraps(inputs):
        StateBootstrap(app, name, settings=settings)
    for item in inputs:
        PlatformStack(app, item.settings.stack_name, settings=item.settings, workers=list(item.workers))
    return app


def synthesize(inputs: list[StackInput], outdir: str | os.PathLike) -> SynthResult:
    """Synthesize into a temporary sibling folder, then swap it into place; `outdir` is never half-written."""
    target = Path(outdir).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.synth-", dir=target.parent))
    try:
        build_app(inputs, staging).synth()
        _swap_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    stacks, counts = {}, {}
    for name in stack_names(inputs):
        stacks[name] = target / "stacks" / name / "cdk.tf.json"
        counts[name] = count_resources(json.loads(stacks[name].read_text()))
    return SynthResult(outdir=target, stacks=stacks, resource_counts=counts)


def _swap_into_place(staging: Path, target: Path) -> None:
    previous = None
    if target.exists():
        previous = target.with_name(f".{target.name}.previous-{os.getpid()}")
        target.rename(previous)
    staging.rename(target)
    if previous:
        shutil.rmtree(previous, ignore_errors=True)


def count_resources(stack_json: dict) -> Counter:
    return Counter({rtype: len(items) for rtype, items in stack_json.get("resource", {}).items()})
