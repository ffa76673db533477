"""Constructs take exactly what they read: only the composing modules turn settings and workers into props."""

from __future__ import annotations

import ast
from pathlib import Path

import constructs_lib

# The stack (platform_stack.py), the compute seam (compute.py) and the app (app.py, for the bootstrap stack) build
# props from Settings; the pytest plugin loads settings to build the stack. No other module may see them.
COMPOSERS = {"app.py", "platform_stack.py", "compute.py", "pytest_plugin.py"}
WHOLE_INPUTS = {"Settings", "Worker", "load_settings", "load_all_settings", "load_workers"}


def whole_inputs_imported(source: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("workers_scan"):
            found |= {alias.name for alias in node.names} & WHOLE_INPUTS
            if node.module in ("workers_scan.settings", "workers_scan.workers"):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in ("workers_scan.settings", "workers_scan.workers")}
    return found


def test_no_construct_module_imports_settings_or_workers():
    folder = Path(constructs_lib.__file__).parent
    offenders = {path.name: sorted(names) for path in sorted(folder.glob("*.py")) if path.name not in COMPOSERS
                 if (names := whole_inputs_imported(path.read_text()))}
    assert offenders == {}


def test_the_check_sees_each_way_of_importing_them():
    assert whole_inputs_imported("from workers_scan import Settings, Worker\n") == {"Settings", "Worker"}
    assert whole_inputs_imported("from workers_scan.settings import KEYS\n") == {"workers_scan.settings"}
    assert whole_inputs_imported("import workers_scan.workers\n") == {"workers_scan.workers"}
    assert whole_inputs_imported("from workers_scan.aws_names import shorten\n") == set()
