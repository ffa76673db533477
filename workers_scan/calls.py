"""Workers that call each other inside the VPC: `calls = [...]` in a worker's table of workers.toml, off by default.

Without it no worker can reach another but through the front door (WAF, API Gateway): inside the VPC the entry
points admit only the NLB. A worker's `calls` names the workers it may call directly; each of them gets an address
in the caller's environment (CALL_URL, workers_scan/injected.py) and the network admits that caller:
- ECS: the callee's tasks admit the caller's tasks' security group on PORT (per pair), and the callee's tasks are
  registered in a private Cloud Map namespace, so `http://<route>.<namespace>:<PORT>` resolves inside the VPC.
- App Runner: callers leave through a connector of their own whose extra security group the apprunner.requests
  endpoint admits; they call `https://<callee's ingress domain>`. The endpoint serves every worker, so App Runner
  enforces who may call (only callers get through), not whom: a caller could reach any worker it knows the domain
  of. A callee's domain is known only once it exists, so App Runner refuses calls in a circle (a Terraform cycle).
"""

from __future__ import annotations

import difflib
from dataclasses import replace
from pathlib import Path
from typing import Iterable, Protocol, TypeVar

from .errors import Problems


class Caller(Protocol):   # workers.Worker, which imports this module
    name: str
    route: str
    private: bool
    calls: tuple[str, ...]


Worker = TypeVar("Worker", bound=Caller)


class CallSettings(Protocol):   # settings.Settings: what the checks read
    uses_ecs: bool
    worker_vpc_egress: bool

    def source_of(self, key: str) -> str: ...

CALLS_KEY = "calls"
CALLS_HELP = ("Workers this one calls directly inside the VPC, e.g. [\"orders\"]: each gets an address in this "
              "worker's environment (WORKER_<NAME>_URL) and admits it; default none (only the API reaches a worker).")
# The namespace's name under which ECS registers callees: <route>.<prefix>.<suffix> resolves inside the VPC only.
NAMESPACE_SUFFIX = "calls.internal"
DNS_LABEL_MAX = 63   # RFC 1035: a callee's route is a label of its name


def call_url_key(worker_name: str) -> str:
    """The variable holding a callee's address in a caller's environment: email-sender -> WORKER_EMAIL_SENDER_URL."""
    return f"WORKER_{worker_name.upper().replace('-', '_').replace('.', '_')}_URL"


def namespace_name(name_prefix: str) -> str:
    return f"{name_prefix}.{NAMESPACE_SUFFIX}"


def check_calls_value(name: str, table: dict, toml_path: Path, problems: Problems) -> None:
    """The value's shape, checkable without knowing the workers."""
    if CALLS_KEY not in table:
        return
    value = table[CALLS_KEY]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        problems.add(toml_path, f"[{name}].{CALLS_KEY}", f"{value!r} is not a list of worker names, e.g. "
                                                         '["orders"]')


def apply_calls(workers: list[Worker], tables: dict[str, dict], settings: CallSettings, toml_path: Path,
                problems: Problems) -> list[Worker]:
    """Each worker with the callees its table names, checked against the workers found; problems collected."""
    names = {w.name for w in workers}
    by_name = {w.name: w for w in workers}
    configured = []
    for worker in workers:
        value = tables.get(worker.name, {}).get(CALLS_KEY, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            configured.append(worker)   # said by check_calls_value
            continue
        key = f"[{worker.name}].{CALLS_KEY}"
        callees: list[str] = []
        for callee in value:
            if callee == worker.name:
                problems.add(toml_path, key, f"{callee!r} is this worker itself; a worker reaches itself on "
                                             "localhost")
            elif callee not in names:
                close = difflib.get_close_matches(callee, names, n=1, cutoff=0.8)
                guess = f"did you mean {close[0]!r}? " if close else ""
                problems.add(toml_path, key, f"{callee!r} names no discovered worker; {guess}workers are: "
                                             f"{', '.join(sorted(names))}")
            elif callee in callees:
                problems.add(toml_path, key, f"{callee!r} is listed twice")
            elif not settings.uses_ecs and by_name[callee].private:
                problems.add(toml_path, key, f"{callee!r} is private: on App Runner a worker is called through its "
                                             "ingress connection, which a private worker does not have; make it "
                                             "routed, or use COMPUTE=ecs, where private workers can be called")
            elif settings.uses_ecs and len(by_name[callee].route) > DNS_LABEL_MAX:
                problems.add(toml_path, key, f"{callee!r} has a route of {len(by_name[callee].route)} characters, "
                                             f"which names it in DNS, where a label has at most {DNS_LABEL_MAX}; "
                                             "give it a shorter route")
            else:
                callees.append(callee)
        configured.append(replace(worker, calls=tuple(sorted(callees))))
    if any(w.calls for w in configured) and not settings.uses_ecs:
        if not settings.worker_vpc_egress:
            problems.add(settings.source_of("WORKER_VPC_EGRESS"), "WORKER_VPC_EGRESS",
                         f"is false, but {CALLS_KEY} in {toml_path.name} has workers call each other inside the "
                         "VPC, which App Runner services reach only through a VPC connector; set it to true")
        if circle := _circle(configured):
            problems.add(toml_path, f"[{circle[0]}].{CALLS_KEY}",
                         f"calls go in a circle ({' -> '.join(circle)}): on App Runner a worker's address exists "
                         "only once its service does, so each would wait for the other; break the circle (one "
                         "side can answer through a queue on Redis), or use COMPUTE=ecs, whose addresses are names")
    return configured


def _circle(workers: Iterable[Worker]) -> list[str]:
    """One cycle of the calls graph, as names from its first worker back to it; [] if none."""
    graph = {w.name: w.calls for w in workers}
    state: dict[str, int] = {}   # 1 on the path, 2 done
    path: list[str] = []

    def visit(name: str) -> list[str]:
        state[name] = 1
        path.append(name)
        for callee in graph.get(name, ()):
            if state.get(callee) == 1:
                return [*path[path.index(callee):], callee]
            if callee not in state and (found := visit(callee)):
                return found
        path.pop()
        state[name] = 2
        return []

    for name in sorted(graph):
        if name not in state and (found := visit(name)):
            return found
    return []


def callees_first(workers: list[Worker]) -> list[Worker]:
    """The workers in name order, but each after the workers it calls (App Runner: a caller's environment refers
    to its callees' domains). Without calls, the name order; calls in a circle are refused earlier."""
    by_name = {w.name: w for w in workers}
    ordered: dict[str, Worker] = {}

    def place(worker: Worker, seen: frozenset[str]) -> None:
        if worker.name in ordered or worker.name in seen:
            return
        for callee in worker.calls:
            if callee in by_name:
                place(by_name[callee], seen | {worker.name})
        ordered[worker.name] = worker

    for worker in sorted(workers, key=lambda w: w.name):
        place(worker, frozenset())
    return list(ordered.values())


def callers_of(workers: Iterable[Worker], callee: str) -> tuple[str, ...]:
    return tuple(sorted(w.name for w in workers if callee in w.calls))
