"""Find worker entry points in the monorepo and derive their names, routes and service names."""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Collection

from .aws_names import APPRUNNER_NAME_MAX, short_hash, shorten  # noqa: F401 (short_hash, shorten: re-exported)
from .entry_points import EntryPoints
from .errors import Problems
from .quotas import quota

ROUTE_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
SERVICE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{3,39}$")
FILE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
SERVICE_NAME_MAX = APPRUNNER_NAME_MAX
# Never worker entry points, whatever WORKER_EXCLUDE adds: tests, type declarations, barrels, private and hidden
# files, and the file types of a NestJS codebase (what `nest generate` writes; BullMQ's processors and consumers).
ALWAYS_EXCLUDED = (
    "*.spec.ts", "*.test.ts", "*.d.ts", "index.ts", "_*", ".*",
    "*.module.ts", "*.service.ts", "*.controller.ts", "*.dto.ts", "*.entity.ts", "*.guard.ts", "*.interceptor.ts",
    "*.pipe.ts", "*.filter.ts", "*.decorator.ts", "*.strategy.ts", "*.middleware.ts", "*.resolver.ts",
    "*.gateway.ts", "*.interface.ts", "*.enum.ts", "*.constants.ts", "*.types.ts", "*.config.ts",
    "*.processor.ts", "*.consumer.ts",
)
# Per-worker settings, next to the settings file; a table's `entry = true` declares an entry point that the
# check in entry_points.py cannot see (e.g. an application started by a library's function).
WORKERS_TOML = "workers.toml"
ENTRY_KEY = "entry"
# A REST API holds 300 resources by default (root included); each worker adds two.
API_RESOURCE_QUOTA = quota("apigateway-resources").value
MAX_WORKERS = (API_RESOURCE_QUOTA - 1) // 2


@dataclass(frozen=True)
class DiscoveredWorker:
    """A worker entry point as found on disk, before per-worker settings are applied."""

    name: str          # kebab-case, unique; key of workers.toml tables and .env.workers.<name>
    source: Path       # the .ts entry file
    worker_file: str   # compiled path relative to the workers folder, passed to the start command
    route: str         # default API path segment


def kebab_case(stem: str) -> str:
    """`emailSender.worker` -> `email-sender`; `PDF_export` -> `pdf-export`."""
    stem = re.sub(r"[._]worker$", "", stem)
    stem = re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", stem)
    stem = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1-\2", stem)
    return re.sub(r"[-_.\s]+", "-", stem).strip("-").lower()


def service_name(project: str, environment: str, route: str) -> str:
    """`<project>-<env>-<route>`, shortened to 40 characters with a stable hash suffix."""
    return shorten(f"{project}-{environment}-{route}", SERVICE_NAME_MAX)


def _first_match(name: str, patterns: tuple[str, ...]) -> str | None:
    return next((pattern for pattern in patterns if fnmatch.fnmatchcase(name, pattern)), None)


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return _first_match(name, patterns) is not None


def discover_workers(
    workers_path: Path,
    monorepo_root: Path,
    *,
    include: tuple[str, ...] = ("*.ts",),
    exclude: tuple[str, ...] = (),
    default_exclusions: bool = True,
    folder_entry: str = "main.ts",
    declared_entries: Collection[str] = (),
    problems: Problems,
    key: str = "WORKERS_DIR",
) -> list[DiscoveredWorker]:
    """Every worker entry point in `workers_path`, sorted by name. Problems are collected, not raised.

    `exclude` adds to ALWAYS_EXCLUDED, or replaces them when `default_exclusions` is off. A file (a folder's entry
    file) must start a NestJS application, unless its worker name is in `declared_entries`."""
    exclude = (ALWAYS_EXCLUDED if default_exclusions else ()) + tuple(exclude)
    if not workers_path.is_dir():
        problems.add(workers_path, key, "workers folder not found; set MONOREPO_ROOT (relative to the settings "
                                        "file) and WORKERS_DIR so that MONOREPO_ROOT/WORKERS_DIR is the folder")
        return []
    root = monorepo_root.resolve()
    entry_points = EntryPoints(root)
    found: list[DiscoveredWorker] = []
    try:
        entries = sorted(os.scandir(workers_path), key=lambda e: os.fsencode(e.name))
    except OSError as exc:
        problems.add(workers_path, key, f"cannot be listed ({exc.strerror or exc})")
        return []
    for entry in entries:
        name = entry.name
        path = workers_path / name
        if _not_text(name):
            problems.add(workers_path, repr(os.fsencode(name))[1:], "file name is not valid UTF-8; rename it")
            continue
        if _matches(name, exclude):
            continue
        try:
            resolved = path.resolve(strict=True)
        except (OSError, RuntimeError) as exc:
            reason = "is a symlink loop" if isinstance(exc, RuntimeError) or getattr(exc, "errno", 0) == 40 else \
                "is a broken symlink"
            problems.add(path, "", f"{reason}; remove it or point it at a file inside the monorepo")
            continue
        if path.is_symlink() and not resolved.is_relative_to(root):
            problems.add(path, "", f"is a symlink to {resolved}, outside the monorepo {root}; "
                                   "App Runner builds from the repository only, so the target would be missing")
            continue
        if entry.is_dir():
            entry_file = path / folder_entry
            if not entry_file.is_file():
                continue
            stem, worker_file = name, f"{name}/{Path(folder_entry).with_suffix('.js').as_posix()}"
            source = entry_file
        elif entry.is_file() and _matches(name, include):
            stem, worker_file, source = name.removesuffix(".ts"), f"{name.removesuffix('.ts')}.js", path
        else:
            continue
        if not FILE_NAME_RE.match(name):
            problems.add(path, "", "worker file or folder name may hold only letters, digits, '.', '_' and '-' "
                                   "(it becomes part of a URL path and a shell argument); rename it")
            continue
        route = kebab_case(stem)
        if not ROUTE_RE.match(route):
            problems.add(path, "", f"derives the route {route!r}, which is not a valid path part "
                                   "(1-64 of a-z, 0-9, '-', not starting or ending with '-'); rename it")
            continue
        if route not in declared_entries and not _starts_application(entry_points, source, route, problems):
            continue
        found.append(DiscoveredWorker(name=route, source=path if entry.is_dir() else source, worker_file=worker_file,
                                      route=route))
    if not found and not problems:
        problems.add(workers_path, key, f"no worker found: expected files matching {', '.join(include)} "
                                        f"(not {', '.join(exclude)}) or folders holding {folder_entry}")
    by_name: dict[str, DiscoveredWorker] = {}
    for worker in found:
        other = by_name.get(worker.name)
        if other:
            problems.add(worker.source, "", f"maps to the worker name and route {worker.name!r}, like "
                                            f"{other.source.name}; rename one of them")
        else:
            by_name[worker.name] = worker
    if len(by_name) > MAX_WORKERS:
        problems.add(workers_path, key, f"holds {len(by_name)} workers; one REST API routes at most {MAX_WORKERS} "
                                        f"(default quota of {API_RESOURCE_QUOTA} resources, two per worker)")
    return sorted(by_name.values(), key=lambda w: w.name)


def _starts_application(entry_points: EntryPoints, source: Path, name: str, problems: Problems) -> bool:
    """Whether `source` starts an application; if not, a problem says what was looked for and what to do."""
    declare = f"declare it in {WORKERS_TOML}: [{name}] {ENTRY_KEY} = true"
    try:
        check = entry_points.check(source)
    except OSError as exc:
        problems.add(source, "", f"cannot be read ({exc.strerror or exc}), so whether it starts an application is "
                                 f"unknown; make it readable, or {declare}")
        return False
    if not check.starts:
        problems.add(source, "", f"{check.refusal()}. If it is not a worker, add it to WORKER_EXCLUDE or rename it "
                                 "(a leading _, or the suffix of its NestJS file type, e.g. .module.ts, "
                                 f".processor.ts); if it starts one in a way this check cannot follow, {declare}")
    return check.starts


def skipped_entries(workers_path: Path, *, include: tuple[str, ...] = ("*.ts",), exclude: tuple[str, ...] = (),
                    default_exclusions: bool = True, folder_entry: str = "main.ts") -> list[tuple[str, str]]:
    """(entry, why it is not a worker) for every other entry of the workers folder, so the rules show."""
    if not workers_path.is_dir():
        return []
    skipped = []
    for entry in sorted(os.scandir(workers_path), key=lambda e: e.name):
        name = entry.name
        always = _first_match(name, ALWAYS_EXCLUDED if default_exclusions else ())
        added = _first_match(name, exclude)
        if always:
            skipped.append((name, f"always excluded ({always})"))
        elif added:
            skipped.append((name, f"excluded by WORKER_EXCLUDE ({added})"))
        elif entry.is_dir(follow_symlinks=False) and not (Path(entry.path) / folder_entry).is_file():
            skipped.append((f"{name}/", f"folder without {folder_entry} (WORKER_FOLDER_ENTRY)"))
        elif entry.is_file() and not _matches(name, include):
            skipped.append((name, f"matches no WORKER_INCLUDE pattern ({', '.join(include)})"))
    return skipped


def _not_text(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes arrive as surrogate escapes
        return True
    return False
