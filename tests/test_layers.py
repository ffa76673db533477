"""The packages are ladders (STYLE.md, "Layers, not loops"): no module imports another module's private name, and
no two modules of a package import each other, directly or round a longer loop."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("workers_scan", "command_line", "constructs_lib")


def imports_of(package: str) -> dict[str, list[tuple[str, str, int]]]:
    """module -> [(imported module of the same package, imported name or "", line)], every import in the file."""
    found: dict[str, list[tuple[str, str, int]]] = {}
    for path in sorted((ROOT / package).glob("*.py")):
        module = path.stem
        edges = found.setdefault(module, [])
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                if node.level == 1 and node.module:
                    target = node.module.split(".")[0]
                elif node.level == 0 and node.module and node.module.startswith(f"{package}."):
                    target = node.module.split(".")[1]
                elif node.level == 1 or node.module == package:   # from . import x / from package import x
                    edges.extend((alias.name, "", node.lineno) for alias in node.names
                                 if (ROOT / package / f"{alias.name}.py").is_file())
                    edges.extend(("__init__", alias.name, node.lineno) for alias in node.names
                                 if not (ROOT / package / f"{alias.name}.py").is_file())
                    continue
                else:
                    continue
                edges.extend((target, alias.name, node.lineno) for alias in node.names)
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_imports_another_modules_private_name(package):
    private = [f"{package}/{module}.py:{line} imports {name} from {target}"
               for module, edges in imports_of(package).items()
               for target, name, line in edges if name.startswith("_") and target != module]
    assert private == []


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every elementary loop's members, once each (Tarjan's strongly connected components of two or more)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_cycles_finds_a_loop_through_three_modules_and_none_in_a_ladder():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


@pytest.mark.parametrize("package", PACKAGES)
def test_no_two_modules_of_a_package_import_each_other(package):
    # The package's __init__ is its public face, above every module: modules import each other, not it.
    graph = {module: {target for target, _, _ in edges if target != module}
             for module, edges in imports_of(package).items() if module != "__init__"}
    assert cycles(graph) == []
