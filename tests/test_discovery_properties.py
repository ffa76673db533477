"""Property: for any set of file and folder names, discovery finds every worker with a unique valid route and service
name, refuses each bad name with a problem that names it, and does not depend on the order the file system lists them
in.

Most generated listings are whole and valid (names built from words in the naming styles a monorepo uses), so most
examples reach the route and service-name assertions; a minority add one kind of trouble (awkward characters, a
character a name may not hold, two names for one route, no worker at all) to exercise the refusals."""

import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from workers_scan.discovery import ROUTE_RE, SERVICE_NAME_RE, discover_workers, service_name
from workers_scan.errors import Problems, display_path

from .helpers import BOOTSTRAP

PROJECT, ENVIRONMENT = "acme-platform-team", "staging"
# Not "worker", "spec", "test", "index", "ts", "js" (they change what a name means to discovery); a letter, then a
# lower-case letter (so no style can merge two words); each with a letter the awkward names cannot hold (so an
# awkward name never takes a valid name's route). The long ones push service names past 40 characters.
WORDS = st.sampled_from(["email", "sender", "pdf", "export", "orders", "billing", "sync2", "oauth2", "crm",
                         "notifications", "thumbnail", "generator", "reconciliation"])
STYLES = st.sampled_from([
    lambda words: words[0] + "".join(w.capitalize() for w in words[1:]),   # emailSender
    lambda words: "".join(w.capitalize() for w in words),                  # EmailSender
    lambda words: words[0].upper() + "".join(w.capitalize() for w in words[1:]),  # PDFExport
    "_".join, "-".join, ".".join,                                          # email_sender, email-sender, email.sender
    lambda words: "_".join(words).upper(),                                 # EMAIL_SENDER
])
WORKER_SUFFIXES = st.sampled_from([".ts", ".worker.ts", "/"])    # "/": a folder holding main.ts
IGNORED_SUFFIXES = st.sampled_from([".spec.ts", ".test.ts", ".d.ts", ".js"])
AWKWARD_STEMS = st.text(st.sampled_from("abcXYZ019._- é"), min_size=1, max_size=12)
FORBIDDEN = st.sampled_from(" é+@$!#'&")  # not allowed in a worker name (a URL path part and a shell argument)
TROUBLES = ("awkward", "forbidden character", "duplicate", "no worker")
# About two listings in nine carry trouble (the last four of 18 values); a failure shrinks towards 0, no trouble.
TROUBLE = st.integers(0, 17).map(lambda i: TROUBLES[i - 14] if i >= 14 else None)
REACHED_SHARE_MIN = 0.70
EACH_TROUBLE_MIN = 5  # examples per kind of trouble, so each refusal is exercised


@dataclass(frozen=True)
class Entry:
    name: str           # file or folder name inside the workers folder
    folder: bool        # a folder holding main.ts
    route: str | None   # the route it must get; None if it is not a worker or awkward (no expectation)
    refused: bool = False  # must be refused with a problem naming it

    @property
    def worker_file(self) -> str:
        return f"{self.name}/main.js" if self.folder else self.name.removesuffix(".ts") + ".js"


@st.composite
def named(draw, words: tuple[str, ...], suffixes, is_worker: bool) -> Entry:
    stem, suffix = draw(STYLES)(words), draw(suffixes)
    if suffix == "/":
        return Entry(stem, True, "-".join(words))
    return Entry(stem + suffix, False, "-".join(words) if is_worker else None)


@st.composite
def listings(draw) -> tuple[str | None, list[Entry]]:
    trouble = draw(TROUBLE)
    phrases = st.lists(WORDS, min_size=1, max_size=4).map(tuple)
    worker_words = [] if trouble == "no worker" else draw(st.lists(phrases, min_size=1, max_size=8, unique=True))
    entries = [draw(named(words, WORKER_SUFFIXES, True)) for words in worker_words]
    # Test files and compiled output next to the workers; the same words as a worker only add a sibling name.
    entries += [draw(named(words, IGNORED_SUFFIXES, False)) for words in draw(st.lists(phrases, max_size=3))]
    if trouble == "duplicate":
        # The same words in another style or shape: a second name for a route already taken.
        first = draw(st.sampled_from(entries[:len(worker_words)]))
        words = tuple(first.route.split("-"))
        entries.append(draw(named(words, WORKER_SUFFIXES, True).filter(lambda e: e.name != first.name)))
    if trouble == "forbidden character":
        # A worker name with one character it may not hold, anywhere among the valid ones.
        stem, suffix = draw(STYLES)(draw(phrases)), draw(WORKER_SUFFIXES)
        at = draw(st.integers(0, len(stem)))
        stem = stem[:at] + draw(FORBIDDEN) + stem[at:]
        entries.append(Entry(stem, True, None, True) if suffix == "/" else Entry(stem + suffix, False, None, True))
    if trouble == "awkward":
        awkward = st.tuples(AWKWARD_STEMS, st.sampled_from([".ts", ".worker.ts", ".spec.ts", "/"]))
        for stem, suffix in draw(st.lists(awkward, min_size=1, max_size=3)):
            entries.append(Entry(stem, True, None) if suffix == "/" else Entry(stem + suffix, False, None))
    return trouble, list({e.name: e for e in entries}.values())


def build(root: Path, entries: list[Entry], reverse: bool) -> None:
    for entry in (reversed(entries) if reverse else entries):
        try:
            if entry.folder:
                (root / entry.name).mkdir()
                (root / entry.name / "main.ts").write_text(BOOTSTRAP)
            else:
                (root / entry.name).write_text(BOOTSTRAP)
        except OSError:
            pass  # an awkward "." or "..", or a file and a folder of one name: the listings may then differ


@dataclass
class Scan:
    workers: list
    problems: list          # (name inside the workers folder, or "" for the folder itself, key, message)
    listed: list[str]


def scan(entries: list[Entry], reverse: bool) -> Scan:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "workers"
        root.mkdir()
        build(root, entries, reverse)
        problems = Problems()
        found = discover_workers(root, Path(tmp), problems=problems)
        listed = sorted(os.listdir(root))
        by_where = {display_path(root): "", **{display_path(root / name): name for name in listed}}
        for problem in problems:
            # Every problem names the folder or the offending entry in it, by the path a user would type.
            assert problem.where in by_where, f"{problem} names no entry of the workers folder"
        return Scan(found, [(by_where[p.where], p.key, p.message) for p in problems], listed)


# What the generated examples exercised, so the test can show that they reach the assertions.
SEEN: Counter = Counter()


# A fixed seed: the same examples on every run, so the shares below are fixed numbers (Hypothesis's generation
# clusters: across ten random runs of 200, the share reaching the assertions ranged from 76% to 95%, and a kind of
# trouble was often missing altogether) and a failure reproduces as it was seen.
@seed(0)
@settings(max_examples=200, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(listings())
def check_discovery(listing):
    trouble, entries = listing
    SEEN["examples"] += 1
    SEEN[trouble] += 1
    first, again = scan(entries, reverse=False), scan(entries, reverse=True)
    if first.listed != again.listed:
        assert trouble == "awkward", "only an awkward name can make the two builds differ"
        SEEN["listings differed"] += 1
        return
    assert [(w.name, w.worker_file) for w in first.workers] == [(w.name, w.worker_file) for w in again.workers]
    assert first.problems == again.problems

    for where, key, message in first.problems:
        if where:  # a problem with one entry says how to fix it
            assert re.search(r"\b(rename|remove)\b", message), message
        else:
            assert key == "WORKERS_DIR" and message

    # Whatever else is wrong, every worker found has a valid, unique route and service name.
    routes = [w.route for w in first.workers]
    assert routes == sorted(set(routes))
    assert all(ROUTE_RE.match(r) for r in routes)
    names = [service_name(PROJECT, ENVIRONMENT, r) for r in routes]
    assert len(names) == len(set(names))
    assert all(SERVICE_NAME_RE.match(n) and 4 <= len(n) <= 40 for n in names)

    # ... and a well-named worker is found with its route, even next to a refused name.
    found = {w.source.name: (w.route, w.worker_file) for w in first.workers}
    refused = {where for where, _, _ in first.problems}
    assert not refused & set(found), "an entry is both a worker and refused"
    routes_given = Counter(e.route for e in entries if e.route)
    duplicated = {route for route, count in routes_given.items() if count > 1}
    for entry in entries:
        if entry.route and entry.route not in duplicated:
            assert found.get(entry.name) == (entry.route, entry.worker_file), entry
        if entry.refused:
            assert entry.name in refused, entry

    if trouble == "duplicate":
        [(one, other)] = [(e.name, f.name) for e in entries for f in entries
                          if e.route and e.route == f.route and e.name < f.name]
        clashes = [(where, message) for where, _, message in first.problems if "maps to the worker name" in message]
        # One of the two is refused, and its problem names the other, which keeps the route.
        assert len(clashes) == 1 and clashes[0][0] in (one, other), first.problems
        refused, message = clashes[0]
        kept = other if refused == one else one
        assert refused not in found and kept in found and repr(found[kept][0]) in message and kept in message
    elif trouble == "no worker":
        assert not first.workers and [(w, k) for w, k, _ in first.problems] == [("", "WORKERS_DIR")]
        assert "no worker found" in first.problems[0][2]
    elif trouble is None:
        assert not first.problems, first.problems
        assert sorted(found) == sorted(e.name for e in entries if e.route)

    if not first.problems:
        SEEN["reached"] += 1  # the whole listing accepted: every assertion above ran over all its workers
        SEEN["reached with 2+ workers"] += len(routes) >= 2
        SEEN["reached with a shortened service name"] += any(
            n != f"{PROJECT}-{ENVIRONMENT}-{r}" for n, r in zip(names, routes))


def test_discovery_finds_valid_unique_workers_and_names_each_refused_file(record_property):
    SEEN.clear()
    check_discovery()
    share = SEEN["reached"] / SEEN["examples"]
    record_property("share_of_examples_reaching_the_worker_assertions", round(share, 3))
    print(f"\ndiscovery property: {SEEN['reached']} of {SEEN['examples']} examples ({share:.0%}) reached the route "
          f"and service-name assertions with every worker accepted ({SEEN['reached with 2+ workers']} with 2+ "
          f"workers, {SEEN['reached with a shortened service name']} with a shortened service name); trouble: "
          + ", ".join(f"{SEEN[t]} {t}" for t in TROUBLES)
          + f"; {SEEN['listings differed']} with listings that differed between the two builds")
    assert share >= REACHED_SHARE_MIN, SEEN
    assert all(SEEN[t] >= EACH_TROUBLE_MIN for t in TROUBLES), SEEN
