"""Property: for any set of file names, discovery either reports problems clearly or yields unique valid
routes and service names, independent of the order the file system lists them in."""

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workers_scan.discovery import ROUTE_RE, SERVICE_NAME_RE, discover_workers, service_name
from workers_scan.errors import Problems

NAME_CHARS = st.sampled_from("abcXYZ019._- é")
STEMS = st.text(NAME_CHARS, min_size=1, max_size=12)
SUFFIXES = st.sampled_from([".ts", ".spec.ts", ".d.ts", ".worker.ts", ".js", "/"])
ENTRIES = st.lists(st.tuples(STEMS, SUFFIXES), min_size=1, max_size=12, unique_by=lambda e: e[0] + e[1])


def build(root: Path, entries, reverse: bool) -> None:
    for stem, suffix in (reversed(entries) if reverse else entries):
        try:
            if suffix == "/":
                (root / stem).mkdir()
                (root / stem / "main.ts").write_text("")
            else:
                (root / f"{stem}{suffix}").write_text("")
        except (FileExistsError, IsADirectoryError, NotADirectoryError, OSError):
            pass  # "." or ".." as a stem, or a name clash between a file and a folder: not a case to test


def scan(entries, reverse: bool):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "workers"
        root.mkdir()
        build(root, entries, reverse)
        problems = Problems()
        found = discover_workers(root, Path(tmp), problems=problems)
        listed = sorted(os.listdir(root))
        return found, list(problems), listed, Path(tmp)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ENTRIES)
def test_discovery_is_valid_unique_or_clearly_refused(entries):
    found, problems, listed, _ = scan(entries, reverse=False)
    again, problems_again, listed_again, _ = scan(entries, reverse=True)
    if listed != listed_again:
        return  # the two builds differed (e.g. a file/folder clash resolved by order): nothing to compare
    assert [(w.name, w.worker_file) for w in found] == [(w.name, w.worker_file) for w in again]
    assert [str(p).split(": ", 1)[1] for p in problems] == [str(p).split(": ", 1)[1] for p in problems_again]
    if problems:
        for problem in problems:
            assert problem.where and problem.message  # names a path, says what is wrong
        return
    routes = [w.route for w in found]
    assert len(routes) == len(set(routes))
    assert all(ROUTE_RE.match(r) for r in routes)
    names = [service_name("acme-platform-team", "staging", r) for r in routes]
    assert len(names) == len(set(names))
    assert all(SERVICE_NAME_RE.match(n) and 4 <= len(n) <= 40 for n in names)
    assert routes == sorted(routes)
