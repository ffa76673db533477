"""Find (or install) checkov and run it on a synthesized stack."""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from .terraform import unavailable
from .toolchain import TOOLS_LOCK, locked

ROOT = Path(__file__).resolve().parent.parent
TOOLS_VENV = ROOT / ".venv-tools"
SKIPS_FILE = Path(__file__).parent / "checkov_skips.txt"


@dataclass(frozen=True)
class Skip:
    check_id: str
    pattern: str
    reason: str


def load_skips() -> list[Skip]:
    skips = []
    for line in SKIPS_FILE.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        check_id, pattern, reason = (part.strip() for part in line.split("|", 2))
        assert reason, f"skip of {check_id} has no reason"
        skips.append(Skip(check_id, pattern, reason))
    return skips


def find_checkov() -> str:
    """$CHECKOV_BIN when set (a deliberate choice), else the locked checkov in .venv-tools, installed or updated
    there from requirements/tools.txt when missing or at another version. Never a checkov found on PATH: another
    version runs other checks, so the reviewed skips would not be what this scan reports.

    checkov lives in its own venv: its pins (boto3, packaging) would fight cdktf's and moto's.
    """
    chosen = os.environ.get("CHECKOV_BIN")
    if chosen:
        found = shutil.which(chosen)
        if not found:
            pytest.fail(f"CHECKOV_BIN={chosen} is not an executable")
        return found
    checkov, python = TOOLS_VENV / "bin" / "checkov", TOOLS_VENV / "bin" / "python"
    if checkov.is_file() and _satisfies(python, f"checkov=={locked(TOOLS_LOCK)['checkov']}"):
        return str(checkov)
    for step in ([sys.executable, "-m", "venv", str(TOOLS_VENV)],
                 [str(python), "-m", "pip", "install", "--quiet", "-r", str(TOOLS_LOCK)]):
        done = subprocess.run(step, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            unavailable(f"checkov could not be installed into {TOOLS_VENV}: {done.stderr[-500:]}")
    return str(checkov)


def _satisfies(python: Path, requirement: str) -> bool:
    """Whether the package installed in `python`'s environment is within `requirement`."""
    probe = ("import sys; from importlib.metadata import version; from packaging.requirements import Requirement; "
             "r = Requirement(sys.argv[1]); sys.exit(not r.specifier.contains(version(r.name), prereleases=True))")
    return subprocess.run([str(python), "-c", probe, requirement], capture_output=True, timeout=60).returncode == 0


def scan(stack_dir: Path) -> dict:
    result = subprocess.run(
        [find_checkov(), "-d", str(stack_dir), "--framework", "terraform_json", "--skip-download",
         "--compact", "-o", "json"],
        capture_output=True, text=True, timeout=600, env=dict(os.environ, BC_SKIP_MAPPING="TRUE"))
    assert result.stdout.strip(), f"checkov printed nothing:\n{result.stderr[-2000:]}"
    report = json.loads(result.stdout)
    assert report["summary"]["parsing_errors"] == 0, report["summary"]
    return report


def address(finding: dict, stack: dict) -> str:
    """checkov labels resources `resource.<name>`, `data.<name>` or `<type>.<name>`: make them `<type>.<name>`."""
    label = finding["resource"]
    kind, _, name = label.partition(".")
    for section in ("resource", "data"):
        for rtype, items in stack.get(section, {}).items():
            if name in items and kind in (section, rtype):
                return f"{'data.' if section == 'data' else ''}{rtype}.{name}"
    return label


def unreviewed(report: dict, stack: dict, skips: list[Skip]) -> tuple[list[str], set[Skip]]:
    """Failed checks no skip covers, and the skips that matched something."""
    used: set[Skip] = set()
    missing: list[str] = []
    for finding in report["results"]["failed_checks"]:
        where = address(finding, stack)
        matches = [s for s in skips if s.check_id == finding["check_id"] and fnmatch.fnmatchcase(where, s.pattern)]
        if matches:
            used.update(matches)
        else:
            missing.append(f"{finding['check_id']} {where}: {finding['check_name']}")
    return missing, used
