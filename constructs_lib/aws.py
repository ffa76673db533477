"""The one place provider bindings are imported from, on both sides of jsii.

Python: `import cdktf_cdktf_provider_aws` imports all ~2,100 resource modules of the package (about
20 s and 1.5 GB here). Each resource module only needs the package's `_jsii` assembly, so
`register_package` registers a bare parent package, and the construct modules' plain
`from cdktf_cdktf_provider_aws.<module> import <Class>` import just the submodules we use: same classes, same
JSON.

Node: the jsii kernel loads the package's JS index, which requires all 2,135 modules too. Before the
kernel starts, `enable_node_loader` adds lazy_provider_index.js (next to this file) to NODE_OPTIONS;
it says what it does and assumes. `constructs_lib/__init__.py` calls it, so any import of this package
enables it in time, provided cdktf was not imported (and its kernel started) before.

CDKTF_AWS_EAGER_IMPORT=1 forces the normal import on both sides (e.g. to compare output);
CDKTF_AWS_NODE_LAZY=0 turns off the Node side only.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from types import ModuleType

# The Node.js major whose end-of-life banner the app silences itself (constructs_lib/__init__.py): the machines'
# Node; `doctor` says so instead of asking the user to set the variable.
SILENCED_NODE_MAJOR = "20"

PACKAGE = "cdktf_cdktf_provider_aws"
EAGER_VARIABLE = "CDKTF_AWS_EAGER_IMPORT"
NODE_LAZY_VARIABLE = "CDKTF_AWS_NODE_LAZY"
NODE_LOADER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lazy_provider_index.js")


def _eager(environ) -> bool:
    return environ.get(EAGER_VARIABLE, "") not in ("", "0")


def node_loader_option() -> str:
    """The NODE_OPTIONS entry that loads lazy_provider_index.js (quoted: the path may hold spaces)."""
    escaped = NODE_LOADER.replace("\\", "\\\\").replace('"', '\\"')
    return f'--require "{escaped}"'


def node_loader_wanted(environ) -> bool:
    """Neither switch turns it off, and its file is there."""
    off = environ.get(NODE_LAZY_VARIABLE, "").lower() in ("0", "false", "no", "off")
    return not (_eager(environ) or off) and os.path.isfile(NODE_LOADER)


def enable_node_loader(environ=None) -> bool:
    """Append our --require to NODE_OPTIONS (a user's own options are kept); False, and ours taken out of an
    inherited NODE_OPTIONS, when turned off."""
    environ = os.environ if environ is None else environ
    option = node_loader_option()
    current = environ.get("NODE_OPTIONS", "")
    if not node_loader_wanted(environ):
        if option in current:
            environ["NODE_OPTIONS"] = " ".join(current.replace(option, "").split())
        return False
    if option not in current:
        environ["NODE_OPTIONS"] = f"{current} {option}".strip()
    return True


def node_loader_enabled(environ=None) -> bool:
    environ = os.environ if environ is None else environ
    return node_loader_option() in environ.get("NODE_OPTIONS", "")


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


def register_package() -> None:
    """Make `from cdktf_cdktf_provider_aws.<module> import <Class>` import only that module: register the bare
    package once (the full import when eager, or when the layout is not the expected one)."""
    if _eager(os.environ) or _bare_package() is None:
        importlib.import_module(PACKAGE)


def is_lazy() -> bool:
    """True when the full package __init__ has not run (for tests and the benchmark)."""
    module = sys.modules.get(PACKAGE)
    return module is not None and not hasattr(module, "__all__")
