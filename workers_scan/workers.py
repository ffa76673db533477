"""Workers as the infrastructure sees them: discovery + `workers.toml` + settings defaults."""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from .build_check import check_commands, start_script
from .calls import CALLS_HELP, CALLS_KEY, apply_calls, call_url_key, check_calls_value
from .discovery import (API_RESOURCE_QUOTA, ENTRY_KEY, MAX_WORKERS, ROUTE_RE, WORKERS_TOML, DiscoveredWorker,
                        discover_workers, service_name)
from .envfile import read_env_file
from .environment import LAYERS, SHARED_FILE, WorkerEnvironment, load_environments
from .errors import Problems, display_path
from .fargate import worker_host_problem, workers_per_load_balancer_problem
from .settings import SIZE_TABLES, Settings
from .settings_checks import size_problem
from .worker_folders import WorkerFolder, build_command, check_folders, start_command, worker_folders

# A worker served by no route: a background process (queue consumer, scheduler) beside the API's workers.
PRIVATE_KEY = "private"
HEALTH_PATH_RE = re.compile(r"^/[A-Za-z0-9._~/-]{0,50}$")
# Routes that would shadow API Gateway's own paths or confuse operators.
RESERVED_ROUTES = frozenset({"proxy"})
# Every key of a worker's table in workers.toml, with what it sets (`python main.py init` writes this list).
TOML_KEYS = {
    "cpu": "CPU units per instance (or task), a size of COMPUTE's table; default WORKER_CPU.",
    "memory": "MB per instance (or task); it must fit cpu; default WORKER_MEMORY, or with cpu alone its smallest "
              "memory.",
    "min_instances": "Minimum instances (or tasks), 1 to 25; default WORKER_MIN_INSTANCES.",
    "max_instances": "Maximum instances (or tasks), 1 to 25, at least min_instances; default WORKER_MAX_INSTANCES.",
    "max_concurrency": "Requests per instance before scaling out, 1 to 200; default WORKER_MAX_CONCURRENCY.",
    "health_check_path": "HTTP path of the health check; without it, a TCP check (ecs: HTTP GET / accepting "
                         "200-499).",
    "route": "API path segment instead of the one derived from the file name.",
    CALLS_KEY: CALLS_HELP,
    PRIVATE_KEY: "true: no route (no API path, ALB rule or ingress connection), e.g. a queue consumer; it still listens "
                 "on PORT for the health check (a TCP check, or health_check_path).",
    ENTRY_KEY: "true: the file starts the worker's application, though detection cannot see it (it is then not "
               "checked).",
}
# Whole-number keys and their ranges: App Runner's and ECS's instance counts, App Runner's concurrency.
INTEGER_KEYS = {"min_instances": (1, 25), "max_instances": (1, 25), "max_concurrency": (1, 200)}
# Keys one backend reads. Set under the other they are kept (one workers.toml serves both backends, and a switch
# between them), and synth says they are not read.
BACKEND_ONLY_TOML_KEYS = {"apprunner": ("max_concurrency",)}


@dataclass(frozen=True)
class Worker:
    name: str
    source: Path
    worker_file: str
    route: str
    service_name: str
    start_command: str
    cpu: int
    memory: int
    min_instances: int
    max_instances: int
    max_concurrency: int
    health_check_path: str | None  # None: TCP health check
    environment: WorkerEnvironment = field(default_factory=WorkerEnvironment)  # from .env.workers files
    unread_keys: tuple[str, ...] = ()  # its workers.toml keys this stack's backend does not read
    entry_declared: bool = False  # `entry = true` in workers.toml: not checked to start an application
    calls: tuple[str, ...] = ()   # workers it calls inside the VPC (workers_scan/calls.py)
    # `private = true` in workers.toml: no API route, ALB rule or ingress connection; `route` is then its name only
    # (its service name derives from it, as a routed worker's does, so turning private keeps the service).
    private: bool = False
    folder: str = ""                  # its WORKERS_DIR folder
    package_dir: str | None = None    # its package's folder (START_COMMAND's {package}), e.g. apps/api
    package_name: str | None = None   # its package's name (BUILD_COMMAND's {filters}), e.g. @monorepo/api

    @property
    def source_display(self) -> str:
        return display_path(self.source)

    @property
    def scaling(self) -> tuple[int, int, int]:
        """(min instances, max instances, max concurrency): workers alike share one App Runner configuration."""
        return self.min_instances, self.max_instances, self.max_concurrency


def scaling_configuration_count(stacks: list[tuple[Settings, list[Worker]]]) -> dict[tuple[str, str], int]:
    """(account, region) -> App Runner auto scaling configuration names these stacks need (one per App Runner stack
    and profile; an ECS stack needs none)."""
    needed: dict[tuple[str, str], set] = {}
    for settings, workers in stacks:
        if settings.uses_ecs:
            continue
        needed.setdefault(settings.account_region, set()).update((settings.stack_name, w.scaling) for w in workers)
    return {key: len(names) for key, names in sorted(needed.items())}


def check_scaling_configuration_quota(stacks: list[tuple[Settings, list[Worker]]], problems: Problems) -> None:
    """App Runner refuses the 11th auto scaling configuration name of an account and region (default quota): say
    so at synth, not halfway through an apply. One name stays free: a resize creates its new configuration
    before the old one goes."""
    for (account, region), count in scaling_configuration_count(stacks).items():
        settings = next(s for s, _ in stacks if s.account_region == (account, region))
        quota = settings.apprunner_scaling_configuration_quota
        if count + 1 > quota:
            problems.add(settings.source_of("APPRUNNER_SCALING_CONFIGURATION_QUOTA"),
                         "APPRUNNER_SCALING_CONFIGURATION_QUOTA",
                         f"the stacks of this synth need {count} App Runner auto scaling configurations in account "
                         f"{account}, {region} (one per environment and distinct min_instances/max_instances/"
                         f"max_concurrency), plus one free for a resize, but the quota is {quota}; give workers "
                         f"the same scaling values in {WORKERS_TOML}, or have AWS raise the quota 'Auto scaling "
                         "configurations' (Service Quotas > AWS App Runner) and set this key to the new value")


def load_workers(settings: Settings) -> list[Worker]:
    """Discover, apply workers.toml, validate; raise InputError listing every problem."""
    problems = Problems()
    workers = scan_workers(settings, problems)
    problems.raise_if_any()
    return workers


def _misplaced_files(settings: Settings, problems: Problems) -> None:
    """Files that look like worker inputs but are not where (or named what) they are read: refused, since they
    would otherwise be ignored without a word (a secret gone, a size not applied)."""
    folder = settings.settings_dir
    for path in sorted(folder.glob(".env.worker")) + sorted(folder.glob(".env.worker.*")):
        problems.add(path, "", f"is not read: worker environments are {SHARED_FILE} and {SHARED_FILE}.<worker> "
                               "(plural); rename it")
    for name in ("worker.toml", "workers.tml", "workers.yaml", "workers.yml", "workers.json"):
        if (folder / name).is_file():
            problems.add(folder / name, "", f"is not read: per-worker settings are {WORKERS_TOML} next to the "
                                            "settings file; rename it")
    root = settings.monorepo_root
    if root.resolve() != folder.resolve():
        for path in [*sorted(root.glob(f"{SHARED_FILE}*")), *sorted(root.glob(WORKERS_TOML))]:
            if path.name.endswith((".example", ".sample", ".template")):
                continue
            there = folder / path.name
            fix = (f"{display_path(there)} exists and is the one read: merge what this one adds into it, then "
                   "delete this one") if there.exists() else "move it there"
            problems.add(path, "", f"is not read: {path.name} belongs next to the settings file, in "
                                   f"{display_path(folder)}; {fix}")


def scan_workers(settings: Settings, problems: Problems) -> list[Worker]:
    toml_path = settings.settings_dir / WORKERS_TOML
    tables = _read_toml(toml_path, problems)
    declared = _declared_entries(tables, toml_path, problems)
    folders = worker_folders(settings)
    fillable = check_folders(settings, folders, problems)
    found, folder_of = _discover_all(settings, folders, declared, problems)
    _misplaced_files(settings, problems)
    if settings.uses_ecs and (problem := workers_per_load_balancer_problem(len(found))):
        problems.add(settings.workers_path if len(folders) == 1 else settings.source_of("WORKERS_DIR"),
                     "WORKERS_DIR", problem)
    # Against a monorepo root that holds the workers: a wrong MONOREPO_ROOT is said once, by the workers folder,
    # not again by every file the commands would miss there.
    if all(folder.path.is_dir() for folder in folders):
        check_commands(settings, problems, folders, fillable=fillable)
    if found:
        _unknown_tables(tables, {w.name for w in found}, toml_path, problems)

    workers: list[Worker] = []
    for found_worker in found:
        table = tables.get(found_worker.name, {})
        worker = _configure(found_worker, folder_of[found_worker.name], table, settings, toml_path, problems)
        if worker:
            workers.append(worker)

    by_route: dict[str, Worker] = {}
    by_service: dict[str, Worker] = {}
    for worker in workers:
        if not worker.private:   # a private worker's route is its name only: no path to collide on
            if worker.route in by_route:
                problems.add(worker.source, "route", f"{worker.route!r} is also the route of "
                                                     f"{by_route[worker.route].source_display}; set a distinct "
                                                     f"route in {WORKERS_TOML}")
                continue  # the service names collide too: one message is enough
            by_route[worker.route] = worker
        if worker.service_name in by_service:
            problems.add(worker.source, "service name", f"{worker.service_name!r} is also the service name of "
                                                        f"{by_service[worker.service_name].source_display}")
        by_service.setdefault(worker.service_name, worker)
        if settings.uses_ecs and not worker.private and \
                (problem := worker_host_problem(worker.route, settings.ecs_routing_domain)):
            where, key = (toml_path, f"[{worker.name}].route") if "route" in tables.get(worker.name, {}) else \
                (worker.source, "route")
            problems.add(where, key, problem)
    workers = apply_calls(workers, tables, settings, toml_path, problems)
    if workers and not by_route and len(workers) == len(found):
        problems.add(toml_path, PRIVATE_KEY, "every worker is private, but the REST API needs at least one route: "
                                             f"remove {PRIVATE_KEY} = true from one worker's table")
    environments = load_environments(settings, [w.name for w in found], problems) if found else {}
    workers = [replace(w, environment=environments[w.name]) for w in workers]
    _call_keys_set_by_files(workers, settings, problems)
    return sorted(workers, key=lambda w: w.name)


def _call_keys_set_by_files(workers: list[Worker], settings: Settings, problems: Problems) -> None:
    """A caller's callee addresses are the infrastructure's: a file setting one would be overwritten unseen."""
    for worker in workers:
        keys = {call_url_key(callee): callee for callee in worker.calls}
        if not keys.keys() & {*worker.environment.variables, *worker.environment.secrets}:
            continue
        for layer in LAYERS:
            path = settings.settings_dir / layer.format(worker=worker.name)
            entries = read_env_file(path, Problems()) if path.is_file() else None
            for key in sorted(keys.keys() & set(entries or {})):
                problems.add(path, key, f"is set by the infrastructure: {worker.name} calls {keys[key]} "
                                        f"({CALLS_KEY} in {WORKERS_TOML}); remove it from the file")


def _discover_all(settings: Settings, folders: tuple[WorkerFolder, ...], declared: frozenset[str],
                  problems: Problems) -> tuple[list[DiscoveredWorker], dict[str, WorkerFolder]]:
    """The workers of every folder, one namespace: a name (workers.toml's table, .env.workers.<worker>, construct
    ids) found in two folders is refused, naming both files."""
    found: list[DiscoveredWorker] = []
    folder_of: dict[str, WorkerFolder] = {}
    by_name: dict[str, DiscoveredWorker] = {}
    for folder in folders:
        for worker in discover_workers(
                folder.path, settings.monorepo_root,
                include=settings.worker_include, exclude=settings.worker_exclude,
                default_exclusions=settings.worker_default_exclusions,
                folder_entry=settings.worker_folder_entry, declared_entries=declared, problems=problems):
            other = by_name.get(worker.name)
            if other:
                problems.add(worker.source, "worker name",
                             f"{worker.name!r} is also the name of {display_path(other.source)} (WORKERS_DIR "
                             f"{folder_of[other.name].folder}): names are one namespace for the stack (workers.toml "
                             f"tables, {SHARED_FILE}.<worker>, routes and service names); rename one of them")
                continue
            by_name[worker.name] = worker
            folder_of[worker.name] = folder
            found.append(worker)
    if len(folders) > 1 and len(found) > MAX_WORKERS:
        problems.add(settings.source_of("WORKERS_DIR"), "WORKERS_DIR",
                     f"its folders hold {len(found)} workers; one REST API routes at most {MAX_WORKERS} (default "
                     f"quota of {API_RESOURCE_QUOTA} resources, two per worker)")
    return sorted(found, key=lambda w: w.name), folder_of


def stack_build_command(settings: Settings, workers: list[Worker]) -> str:
    """BUILD_COMMAND as the stack runs it: {filters} selects every workers folder's package, in WORKERS_DIR's
    order, so each build (App Runner's per service, ECS's one image) holds every worker's compiled files."""
    order = {folder: index for index, folder in enumerate(settings.workers_dirs)}
    ordered = sorted(workers, key=lambda w: (order.get(w.folder, len(order)), w.name))
    return build_command(settings.build_command, (w.package_name for w in ordered if w.package_name))


def stack_start_scripts(workers: list[Worker]) -> tuple[str, ...]:
    """The scripts the workers' start commands run, each once, in the order of the workers."""
    return tuple(dict.fromkeys(script for w in workers if (script := start_script(w.start_command))))


def _unknown_tables(tables: dict[str, dict], names: set[str], toml_path: Path, problems: Problems) -> None:
    for table_name in sorted(set(tables) - names):
        close = difflib.get_close_matches(table_name, names, n=1, cutoff=0.8)
        guess = f"did you mean [{close[0]}]? " if close else ""
        # `entry` skips the check that a file starts an application, not the exclusions.
        excluded = (f" ({ENTRY_KEY} = true does not make a worker of an excluded file: `python main.py workers` "
                    "says why each other file of the workers folder is not one)") if ENTRY_KEY in tables[table_name] \
            else ""
        problems.add(toml_path, f"[{table_name}]",
                     f"names no discovered worker; {guess}workers are: {', '.join(sorted(names))}{excluded}")


def _declared_entries(tables: dict[str, dict], toml_path: Path, problems: Problems) -> frozenset[str]:
    """Worker names whose table says `entry = true`: files that start an application in a way detection cannot see."""
    declared = set()
    for name, table in sorted(tables.items()):
        if ENTRY_KEY not in table:
            continue
        if table[ENTRY_KEY] is True:
            declared.add(name)
        else:
            problems.add(toml_path, f"[{name}].{ENTRY_KEY}",
                         f"{table[ENTRY_KEY]!r} is not true: {ENTRY_KEY} = true declares that the file starts the "
                         "application where detection cannot see it; to leave a file out, add it to WORKER_EXCLUDE")
    return frozenset(declared)


def _read_toml(path: Path, problems: Problems) -> dict[str, dict]:
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        problems.add(path, "", "is not UTF-8 text")
        return {}
    except tomllib.TOMLDecodeError as exc:
        problems.add(path, "", f"is not valid TOML: {exc}")
        return {}
    except OSError as exc:
        problems.add(path, "", f"cannot be read ({exc.strerror or exc})")
        return {}
    tables: dict[str, dict] = {}
    for name, table in data.items():
        if not isinstance(table, dict):
            problems.add(path, name, "must be a table: [worker-name] followed by key = value lines")
            continue
        tables[name] = table
    return tables


def check_workers_toml(path: Path, problems: Problems) -> None:
    """What workers.toml can be checked for without the settings (its syntax, keys and values), for a run whose
    settings have problems: reported with them, not on the next run."""
    for name, table in _read_toml(path, problems).items():
        _check_table(name, table, path, problems)


def _check_table(name: str, table: dict, toml_path: Path, problems: Problems) -> None:
    """The keys of one worker's table and the values that need no settings to be checked."""
    def key(field_name: str) -> str:
        return f"[{name}].{field_name}"

    for unknown in sorted(set(table) - set(TOML_KEYS)):
        problems.add(toml_path, key(unknown), f"unknown key; use one of {', '.join(TOML_KEYS)}")
    for field_name, (low, high) in INTEGER_KEYS.items():
        value = table.get(field_name, low)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            problems.add(toml_path, key(field_name), f"{value!r} is not a whole number from {low} to {high}")
    health = table.get("health_check_path")
    if health is not None and (not isinstance(health, str) or not HEALTH_PATH_RE.match(health)):
        problems.add(toml_path, key("health_check_path"), f"{health!r} is not an HTTP path like /health")
    route = table.get("route")
    if route is not None and (not isinstance(route, str) or not ROUTE_RE.match(route)):
        problems.add(toml_path, key("route"), f"{route!r} is not a valid route (1-64 of a-z, 0-9 and '-', "
                                              "not starting or ending with '-')")
    elif route in RESERVED_ROUTES:
        problems.add(toml_path, key("route"), f"{route!r} is reserved; choose another route")
    check_calls_value(name, table, toml_path, problems)
    private = table.get(PRIVATE_KEY)
    if private is not None and not isinstance(private, bool):
        problems.add(toml_path, key(PRIVATE_KEY), f"{private!r} is not true or false")
    elif private and route is not None:
        problems.add(toml_path, key(PRIVATE_KEY), f"a private worker has no route: remove route = {route!r}, or "
                                                  f"{PRIVATE_KEY} = true to keep it public")


def _configure(found, folder: WorkerFolder, table: dict, settings: Settings, toml_path: Path,
               problems: Problems) -> Worker | None:
    count_before = len(problems)
    _check_table(found.name, table, toml_path, problems)

    def integer(name: str, default: int) -> int:
        value = table.get(name, default)
        low, high = INTEGER_KEYS[name]
        return value if not isinstance(value, bool) and isinstance(value, int) and low <= value <= high else default

    sizes = SIZE_TABLES[settings.compute]
    cpu = table.get("cpu", settings.worker_cpu)
    memory = table.get("memory", settings.worker_memory if "cpu" not in table else None)
    if memory is None and not isinstance(cpu, bool) and cpu in sizes:
        memory = sizes[cpu][0]
    if problem := size_problem(settings.compute, cpu, memory):
        problems.add(toml_path, f"[{found.name}].{problem[0]}", problem[1])
    low = integer("min_instances", settings.worker_min_instances)
    high = integer("max_instances", settings.worker_max_instances)
    if low > high:
        problems.add(toml_path, f"[{found.name}].min_instances", f"{low} is more than max_instances ({high})")
    concurrency = integer("max_concurrency", settings.worker_max_concurrency)
    health = table.get("health_check_path")
    private = table.get(PRIVATE_KEY) is True
    route = found.route if private else table.get("route", found.route)
    if not isinstance(route, str) or not ROUTE_RE.match(route):
        route = found.route
    if not private and route in RESERVED_ROUTES and table.get("route") != route:   # the file's own name (a table's: said above)
        where, where_key = (toml_path, f"[{found.name}].route") if "route" in table else (found.source, "route")
        problems.add(where, where_key, f"{route!r} is reserved; choose another route")

    name = service_name(settings.project_name, settings.environment, route)
    if len(problems) > count_before:
        return None
    return Worker(
        name=found.name, source=found.source, worker_file=found.worker_file, route=route, service_name=name,
        start_command=start_command(settings.start_command, found.worker_file, folder.package_dir),
        cpu=cpu, memory=memory, min_instances=low, max_instances=high, max_concurrency=concurrency,
        health_check_path=health,
        unread_keys=tuple(name for backend, names in BACKEND_ONLY_TOML_KEYS.items() if backend != settings.compute
                          for name in names if name in table),
        entry_declared=table.get(ENTRY_KEY) is True, private=private,
        folder=folder.folder, package_dir=folder.package_dir, package_name=folder.package_name,
    )
