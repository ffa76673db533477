"""The build and start commands checked against the monorepo on disk, before App Runner runs them.

App Runner builds every worker's service from the repository, about ten minutes after an apply, once per
worker; a build that cannot work should fail here instead. Only what a command certainly needs is checked:
the lockfile of `pnpm install --frozen-lockfile`, the package of `--filter` and its workspace, what `cp` copies
from the sources (not from a build output such as dist/), and the script of a `bash <script>` start command.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from .errors import Problems, display_path
from .settings import Settings

# `pnpm ... --filter <package>` / `-F <package>`: the package must be one of the workspace's.
FILTER_RE = re.compile(r"(?:--filter|-F)[ =]+(\S+)")
# Folders never searched for workspace packages.
SKIPPED = {"node_modules", ".git", "dist", "build", "cdktf.out"}
# Path segments of what a build makes: a `cp` from there cannot be checked before the build runs.
BUILD_OUTPUTS = {"dist", "build", "out", ".next", "node_modules", "coverage", ".turbo", "lib"}
SHELL_SEPARATORS = re.compile(r"&&|\|\||;|\|")


def check_commands(settings: Settings, problems: Problems) -> None:
    root = settings.monorepo_root
    build = settings.build_command
    where = settings.source_of("BUILD_COMMAND")
    if re.search(r"\bpnpm (?:install|i)\b[^&|;]*--frozen-lockfile", build):
        if not (root / "pnpm-lock.yaml").is_file():
            lockfile = display_path(root / "pnpm-lock.yaml")
            problems.add(where, "BUILD_COMMAND", f"runs `pnpm install --frozen-lockfile`, which fails without "
                                                 f"{lockfile}; run `pnpm install` and commit the lockfile")
    filters = FILTER_RE.findall(build)
    names = workspace_packages(root) if filters else set()   # one walk of the monorepo, however many filters
    for wanted in filters:
        if wanted.strip("'\"") not in names:
            known = ", ".join(sorted(names)) or "none (no package.json with a name below the monorepo root)"
            owner = workers_package(settings)
            fix = (f"; the workers are in {owner}: set BUILD_COMMAND={build.replace(wanted, owner)}"
                   if owner and owner in names else "")
            if fix and "BUILD_COMMAND" not in settings.sources:
                fix += " (your settings do not set BUILD_COMMAND: this is its default)"
            problems.add(where, "BUILD_COMMAND", f"filters on the package {wanted}, which is not in the monorepo; its "
                                                 f"packages are: {known}{fix}")
        elif not (root / "pnpm-workspace.yaml").is_file():
            workspace = display_path(root / "pnpm-workspace.yaml")
            problems.add(where, "BUILD_COMMAND", f"filters on a workspace package, but {workspace} is missing, so "
                                                 "pnpm sees no workspace")
    for source in copied_sources(build):
        if not (root / source).exists():
            problems.add(where, "BUILD_COMMAND", f"copies {source}, which is not in the monorepo "
                                                 f"({display_path(root / source)}); add it or change BUILD_COMMAND")
    script = start_script(settings.start_command)
    if script and not (root / script).is_file():
        problems.add(settings.source_of("START_COMMAND"), "START_COMMAND",
                     f"runs {script}, which is not in the monorepo ({display_path(root / script)}); add it or change "
                     "START_COMMAND")


def start_script(command: str) -> str | None:
    """The script a `bash|sh <script> ...` start command runs, relative to the monorepo root."""
    try:
        words = shlex.split(command.split("&&")[-1])
    except ValueError:
        return None
    if len(words) >= 2 and words[0] in ("bash", "sh") and not words[1].startswith("-") and "{" not in words[1]:
        return words[1]
    return None


def workers_package(settings: Settings) -> str | None:
    """The name of the package the workers belong to: the nearest package.json above the workers folder."""
    root = settings.monorepo_root.resolve()
    folder = settings.workers_path.resolve()
    while folder != root and root in folder.parents:
        folder = folder.parent
        try:
            name = json.loads((folder / "package.json").read_text(encoding="utf-8")).get("name")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(name, str):
            return name
    return None


def copied_sources(command: str) -> list[str]:
    """What the `cp` commands of a build copy from the checked-out sources: relative, literal paths outside any
    build output (a path with a variable, a glob or a dist/ segment is the build's own business)."""
    sources: list[str] = []
    for part in SHELL_SEPARATORS.split(command):
        try:
            words = shlex.split(part)
        except ValueError:
            continue
        if not words or words[0] != "cp":
            continue
        operands = [w for w in words[1:] if not w.startswith("-")]
        for source in operands[:-1]:
            literal = not set(source) & set("$*?[{~`")
            if literal and not source.startswith("/") and not set(Path(source).parts) & BUILD_OUTPUTS:
                sources.append(source)
    return sources


def workspace_packages(root: Path, depth: int = 3) -> set[str]:
    """Names of the package.json files below `root`, a few levels deep (apps/*, packages/*, libs/*...)."""
    names: set[str] = set()

    def walk(folder: Path, level: int) -> None:
        manifest = folder / "package.json"
        if manifest.is_file():
            try:
                name = json.loads(manifest.read_text(encoding="utf-8")).get("name")
            except (ValueError, OSError, AttributeError):
                name = None
            if isinstance(name, str):
                names.add(name)
        if level < depth:
            for child in sorted(p for p in folder.iterdir() if p.is_dir() and p.name not in SKIPPED):
                walk(child, level + 1)

    walk(root, 0)
    return names
