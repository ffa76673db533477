"""Mutation testing of the pure core (workers_scan/): run mutmut, print the score, fail below the bar.

    python tests/mutation/run_mutmut.py                 # reuses results of unchanged functions, retests survivors
    python tests/mutation/run_mutmut.py --fresh         # deletes mutants/ first: a full run
    python tests/mutation/run_mutmut.py --report-only   # score of the last run, runs nothing

What mutmut mutates and which tests it runs is configured in pyproject.toml ([tool.mutmut]).
Exit 1 when the score (killed / total) is below --min-score, when a mutant that was not killed is not listed
in equivalent_mutants.txt, or when that file lists a mutant that no longer survives (renumbered or killed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EQUIVALENTS = Path(__file__).with_name("equivalent_mutants.txt")
# A timeout is a kill: the mutant made the tests hang, which a test run notices.
KILLED = ("killed", "timeout")


def mutmut(*args: str) -> subprocess.CompletedProcess:
    executable = shutil.which("mutmut", path=str(Path(sys.executable).parent)) or "mutmut"
    env = dict(os.environ, CI="true", JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    return subprocess.run([executable, *args], cwd=ROOT, env=env, text=True,
                          capture_output=args[0] == "results")


def results() -> dict[str, str]:
    """mutant name -> status of every mutant of the last run."""
    listing = mutmut("results", "--all", "true")
    if listing.returncode != 0:
        sys.exit(f"mutmut results failed:\n{listing.stderr}")
    statuses = {}
    for line in listing.stdout.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and name.startswith("workers_scan."):
            statuses[name] = status
    return statuses


def equivalents(path: Path = EQUIVALENTS) -> dict[str, str]:
    """mutant name -> why it is equivalent; lines are `name | reason`, # starts a comment."""
    listed = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, reason = (part.strip() for part in line.partition("|"))
        if not sep or not reason:
            sys.exit(f"{path.name}: line {number}: write `mutant name | why it is equivalent`")
        listed[name] = reason
    return listed


def report(statuses: dict[str, str], listed: dict[str, str], min_score: float) -> int:
    total = len(statuses)
    if not total:
        print("no mutants: run without --report-only first")
        return 1
    killed = sum(status in KILLED for status in statuses.values())
    not_killed = {name: status for name, status in sorted(statuses.items()) if status not in KILLED}
    score = 100 * killed / total
    print(f"mutation score: {killed}/{total} killed ({score:.1f}%), {len(not_killed)} not killed")
    unexplained = {n: s for n, s in not_killed.items() if n not in listed}
    stale = sorted(n for n in listed if n not in not_killed)
    for name, status in not_killed.items():
        print(f"  {status:<10} {name}" + (f"  (equivalent: {listed[name]})" if name in listed else ""))
    failed = False
    if score < min_score:
        print(f"FAIL: score {score:.1f}% is below {min_score:g}%")
        failed = True
    if unexplained:
        print(f"FAIL: {len(unexplained)} mutant(s) neither killed nor listed in {EQUIVALENTS.name}; "
              "kill each with a test, or list it with why it is equivalent (`mutmut show <name>` shows it):")
        for name, status in unexplained.items():
            print(f"  {status:<10} {name}")
        failed = True
    if stale:
        print(f"FAIL: {len(stale)} line(s) of {EQUIVALENTS.name} name no surviving mutant (killed now, or "
              "renumbered by a code change); remove or update them:")
        for name in stale:
            print(f"  {name}")
        failed = True
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--max-children", type=int, default=1,
                        help="mutants tested at once (default 1: the machine's cores are shared)")
    parser.add_argument("--min-score", type=float, default=90.0, help="lowest passing score in percent")
    parser.add_argument("--fresh", action="store_true", help="delete mutants/ first, so every mutant is tested")
    parser.add_argument("--report-only", action="store_true", help="print the score of the last run")
    args = parser.parse_args(argv)
    if not args.report_only:
        if args.fresh:
            shutil.rmtree(ROOT / "mutants", ignore_errors=True)
        start = time.monotonic()
        children = ("--max-children", str(args.max_children))
        run = mutmut("run", *children)
        # mutmut keeps a verdict until the function changes: retest the survivors against the tests as they are now.
        survivors = [name for name, status in results().items() if status not in KILLED]
        if run.returncode == 0 and survivors:
            run = mutmut("run", *children, *survivors)
        print(f"\nmutmut run took {time.monotonic() - start:.0f} s (--max-children {args.max_children})")
        if run.returncode != 0:
            print(f"mutmut run failed with exit status {run.returncode}")
            return 1
    return report(results(), equivalents(), args.min_score)


if __name__ == "__main__":
    sys.exit(main())
