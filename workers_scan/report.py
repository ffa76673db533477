"""Plain-text tables for the command line."""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence

from .settings import Settings
from .workers import Worker


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    rows = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def workers_table(workers: Sequence[Worker]) -> str:
    return table(
        ("worker", "route", "service name", "cpu/memory", "instances", "start file"),
        ((w.name, f"/{w.route}", w.service_name, f"{w.cpu / 1024:g} vCPU / {w.memory / 1024:g} GB",
          f"{w.min_instances}-{w.max_instances}", w.worker_file) for w in workers),
    )


def resources_table(counts: Counter) -> str:
    return table(("resource type", "count"), sorted(counts.items()))


def settings_line(settings: Settings) -> str:
    return (f"stack {settings.stack_name}: region {settings.aws_region}, repository {settings.repository_url} "
            f"({settings.branch}), settings {settings.sources and next(iter(set(settings.sources.values())), '')}")
