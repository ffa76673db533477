"""The curated construct mutations (tests/mutation/constructs.py) cannot go stale silently: each one's snippet is
still in its file exactly once, and each test named to catch it still exists. Fast: no mutation is run here."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_mutations():
    spec = importlib.util.spec_from_file_location("curated_mutations", ROOT / "tests" / "mutation" / "constructs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module   # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module.MUTATIONS


MUTATIONS = load_mutations()


def test_names_are_unique():
    names = [m.name for m in MUTATIONS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.name)
def test_each_snippet_occurs_exactly_once_and_changes_something(mutation):
    text = (ROOT / mutation.file).read_text()
    assert text.count(mutation.old) == 1, f"{mutation.file}: {mutation.old!r} occurs {text.count(mutation.old)} times"
    assert mutation.new != mutation.old


def defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    return {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.name.startswith("test_")}


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.name)
def test_each_test_named_to_catch_it_exists(mutation):
    assert mutation.caught_by
    for node_id in mutation.caught_by:
        file, _, name = node_id.partition("::")
        path = ROOT / file
        assert path.is_file(), node_id
        assert name.split("[", 1)[0] in defined_tests(path), f"{node_id}: no such test"
