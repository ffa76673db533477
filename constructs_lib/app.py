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


@dataclass(frozen=True)
class StackInput:
    settings: Settings
    workers: tuple[Worker, ...]


@dataclass(frozen=True)
class SynthResult:
    outdir: Path
    stacks: dict[str, Path]          # stack name -> its cdk.tf.json
    resource_counts: dict[str, Counter]


def build_app(inputs: list[StackInput], outdir: str | os.PathLike) -> App:
    app = App(outdir=str(outdir))
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
    for item in inputs:
        name = item.settings.stack_name
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
