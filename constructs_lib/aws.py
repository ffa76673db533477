"""The one place provider bindings are imported from.

`import cdktf_cdktf_provider_aws` imports all ~2,100 resource modules of the package (about
20 s and 1.5 GB here). Each resource module only needs the package's `_jsii` assembly, so we
register a bare parent package and import just the submodules we use: same classes, same JSON.
Set CDKTF_AWS_EAGER_IMPORT=1 to force the normal import (e.g. to compare output).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from types import ModuleType

PACKAGE = "cdktf_cdktf_provider_aws"
EAGER_VARIABLE = "CDKTF_AWS_EAGER_IMPORT"


def _bare_package() -> ModuleType | None:
    """Register the package without running its __init__; None when the layout is not the expected one."""
    if PACKAGE in sys.modules:
        return sys.modules[PACKAGE]
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    locations = list(spec.submodule_search_locations)
    if not any(os.path.isdir(os.path.join(p, "_jsii")) for p in locations):
        return None
    module = importlib.util.module_from_spec(spec)
    module.__path__ = locations
    sys.modules[PACKAGE] = module
    try:
        importlib.import_module(f"{PACKAGE}._jsii")
    except Exception:
        del sys.modules[PACKAGE]
        return None
    return module


def load(*names: str) -> tuple[ModuleType, ...]:
    """Import the named resource modules of the provider package (e.g. "vpc", "apprunner_service")."""
    if os.environ.get(EAGER_VARIABLE, "") not in ("", "0") or _bare_package() is None:
        importlib.import_module(PACKAGE)
    modules = tuple(importlib.import_module(f"{PACKAGE}.{name}") for name in names)
    parent = sys.modules[PACKAGE]
    for name, module in zip(names, modules):
        setattr(parent, name, module)
    return modules


def is_lazy() -> bool:
    """True when the full package __init__ has not run (for tests and the benchmark)."""
    module = sys.modules.get(PACKAGE)
    return module is not None and not hasattr(module, "__all__")
