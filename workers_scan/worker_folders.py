"""The workers folders of WORKERS_DIR and the package each belongs to: what makes a worker's start command and the
build's package filters.

A folder's package is the nearest folder above it, inside the monorepo, whose package.json has a name: its folder
fills START_COMMAND's {package}, its name BUILD_COMMAND's {filters}. Every folder's workers join the one stack.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .errors import Problems, display_path
from .settings import Settings

PACKAGE = "{package}"    # START_COMMAND's placeholder: the folder of the worker's package
FILTERS = "{filters}"    # BUILD_COMMAND's placeholder: --filter <name> for each folder's package


@dataclass(frozen=True)
class WorkerFolder:
    folder: str                # as WORKERS_DIR lists it, e.g. apps/jobs/src/workers
    path: Path                 # MONOREPO_ROOT/folder
    package_dir: str | None    # the package's folder relative to the monorepo root ("." the root); None: none found
    package_name: str | None   # the `name` of its package.json

    @property
    def manifest(self) -> str:
        return f"{self.package_dir}/package.json"


def package_of(folder: Path, monorepo_root: Path) -> tuple[Path, str] | None:
    """(folder, name) of the nearest package.json with a name above `folder`, up to the monorepo root."""
    root = monorepo_root.resolve()
    here = folder.resolve()
    while here != root and root in here.parents:
        here = here.parent
        try:
            name = json.loads((here / "package.json").read_text(encoding="utf-8")).get("name")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(name, str):
            return here, name
    return None


def worker_folders(settings: Settings) -> tuple[WorkerFolder, ...]:
    """Each WORKERS_DIR folder with its package, in the order WORKERS_DIR lists them."""
    root = settings.monorepo_root.resolve()
    found = []
    for folder, path in zip(settings.workers_dirs, settings.workers_paths):
        package = package_of(path, settings.monorepo_root) if path.is_dir() else None
        found.append(WorkerFolder(folder, path, package[0].relative_to(root).as_posix() if package else None,
                                  package[1] if package else None))
    return tuple(found)


def check_folders(settings: Settings, folders: tuple[WorkerFolder, ...], problems: Problems) -> bool:
    """What the folders need of their packages; False when a command's placeholder cannot be filled."""
    where = settings.source_of("WORKERS_DIR")
    several = len(folders) > 1
    needs = [key for key, placeholder, text in (("START_COMMAND", PACKAGE, settings.start_command),
                                                ("BUILD_COMMAND", FILTERS, settings.build_command))
             if placeholder in text]
    fillable = True
    by_package: dict[str, WorkerFolder] = {}
    for folder in folders:
        if not folder.path.is_dir():
            fillable = False   # said by discovery: the folder is not found
            continue
        if folder.package_dir is None:
            fillable = fillable and not needs
            if several or needs:
                why = (f"{' and '.join(needs)} need{'s' if len(needs) == 1 else ''} it ({PACKAGE} is the package's "
                       f"folder, {FILTERS} filters the build on its name)") if needs else \
                    "with several WORKERS_DIR folders, each is built and started as a package of its own"
                problems.add(where, "WORKERS_DIR",
                             f"{folder.folder}: no package.json with a name above it inside the monorepo "
                             f"({display_path(settings.monorepo_root)}), so its workers belong to no package; "
                             f"{why}. Put the folder inside a workspace package (apps/<name>/src/workers)")
            continue
        other = by_package.get(folder.package_dir)
        if other:
            problems.add(where, "WORKERS_DIR",
                         f"{other.folder} and {folder.folder} are both in the package {folder.package_name} "
                         f"({display_path(settings.monorepo_root / folder.manifest)}): a worker's file is "
                         f"passed to its package's start script relative to its folder, so one package holds one "
                         f"workers folder; list one of them, or give workers more places through "
                         f"WORKER_FOLDER_ENTRY sub-folders")
        by_package.setdefault(folder.package_dir, folder)
    if several and PACKAGE not in settings.start_command:
        problems.add(settings.source_of("START_COMMAND"), "START_COMMAND",
                     f"has no {PACKAGE}, so the workers of every WORKERS_DIR folder "
                     f"({', '.join(f.folder for f in folders)}) would run the same command, each with a file "
                     f"relative to its own folder; use {PACKAGE} where the package's folder goes, e.g. "
                     f"bash {PACKAGE}/scripts/start-worker.sh {{worker_file}}")
    return fillable


def build_command(template: str, package_names: Iterable[str]) -> str:
    """BUILD_COMMAND with {filters} filled: `--filter <name>` for each package, in WORKERS_DIR's order."""
    names = list(dict.fromkeys(package_names))
    return template.replace(FILTERS, " ".join(f"--filter {shlex.quote(name)}" for name in names))


def start_command(template: str, worker_file: str, package_dir: str | None) -> str:
    return template.format(worker_file=worker_file, package=package_dir or ".")


def folders_build_command(settings: Settings, folders: tuple[WorkerFolder, ...]) -> str:
    return build_command(settings.build_command, (f.package_name for f in folders if f.package_name))
