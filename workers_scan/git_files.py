"""What git says of the inputs: whether it ignores a file (a CI checkout will not have it) and which files it
tracks (what a build from the repository sees). Outside a repository, or without git, it says nothing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess | None:
    if shutil.which("git") is None or not folder.is_dir():
        return None
    try:
        return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True,
                              errors="surrogateescape", timeout=30)   # any byte in a file name
    except (OSError, subprocess.TimeoutExpired):
        return None


def ignore_rule(path: Path) -> str | None:
    """The rule that makes git ignore `path` ("infra/aws/.gitignore:1:.env"), or None: not ignored, tracked
    (git never ignores a tracked file), outside a repository, or no git."""
    done = _git(path.parent, "check-ignore", "--verbose", "--", path.name)
    if done is None or done.returncode != 0:   # 1: not ignored; 128: not a repository
        return None
    rule = done.stdout.split("\t", 1)[0].strip()   # source:line:pattern
    if rule.split(":", 2)[-1].startswith("!"):   # --verbose reports a negation that matched too: not ignored
        return None
    return rule or "a rule of .gitignore"


def tracked_files(folder: Path) -> list[Path] | None:
    """The files git tracks under `folder`, or None outside a repository (or without git)."""
    done = _git(folder, "ls-files", "-z", "--full-name", "--", ".")
    top = _git(folder, "rev-parse", "--show-toplevel")
    if done is None or top is None or done.returncode != 0 or top.returncode != 0:
        return None
    root = Path(top.stdout.strip())
    return [root / name for name in done.stdout.split("\0") if name]
