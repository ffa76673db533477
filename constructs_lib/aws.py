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

Node, second: jsii's Python runtime starts a relay node that starts the kernel's node. `enable_in_process_kernel`
points JSII_RUNTIME at a copy of jsii_in_process.js (next to this file), which runs the kernel in the first node;
it says what it does and assumes, and runs jsii's relay where its assumptions do not hold.

CDKTF_AWS_EAGER_IMPORT=1 forces the normal import on both sides (e.g. to compare output);
CDKTF_AWS_NODE_LAZY=0 turns off the Node side only (both parts); CDKTF_AWS_JSII_RELAY=1 keeps jsii's relay.
"""

from __future__ import annotations

import atexit
import importlib
import importlib.util
import os
import re
import shutil
import sys
import tempfile
from types import ModuleType

# The Node.js major whose end-of-life banner the app silences itself (constructs_lib/__init__.py): the machines'
# Node; `doctor` says so instead of asking the user to set the variable.
SILENCED_NODE_MAJOR = "20"

PACKAGE = "cdktf_cdktf_provider_aws"
EAGER_VARIABLE = "CDKTF_AWS_EAGER_IMPORT"
NODE_LAZY_VARIABLE = "CDKTF_AWS_NODE_LAZY"
RELAY_VARIABLE = "CDKTF_AWS_JSII_RELAY"
NODE_LOADER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lazy_provider_index.js")
KERNEL_HOST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jsii_in_process.js")
KERNEL_HOME_PREFIX = "cdktf-aws-jsii-"  # the folder the kernel files are extracted to, removed at exit
SYMLINKS = "--preserve-symlinks"        # what jsii's relay gives the kernel's node
OFF = ("0", "false", "no", "off")
_extracted: str | None = None  # this process's JSII_RUNTIME, once extracted


def _switched_on(environ, variable: str) -> bool:
    return environ.get(variable, "").lower() not in ("", *OFF)


def _switched_off(environ, variable: str) -> bool:
    return environ.get(variable, "").lower() in OFF


def _eager(environ) -> bool:
    return _switched_on(environ, EAGER_VARIABLE)


def _node_side_off(environ) -> bool:
    """Either switch of the lazy loading turns the whole Node side off: the loader and the in-process kernel."""
    return _eager(environ) or _switched_off(environ, NODE_LAZY_VARIABLE)


def node_loader_option() -> str:
    """The NODE_OPTIONS entry that loads lazy_provider_index.js (quoted: the path may hold spaces)."""
    escaped = NODE_LOADER.replace("\\", "\\\\").replace('"', '\\"')
    return f'--require "{escaped}"'


def node_loader_wanted(environ) -> bool:
    """Neither switch turns it off, and its file is there."""
    return not _node_side_off(environ) and os.path.isfile(NODE_LOADER)


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


def in_process_kernel_wanted(environ) -> bool:
    """Neither lazy-loading switch turns the Node side off, CDKTF_AWS_JSII_RELAY does not keep the relay, and the
    host file is there."""
    return not (_node_side_off(environ) or _switched_on(environ, RELAY_VARIABLE)) and os.path.isfile(KERNEL_HOST)


def is_our_runtime(runtime: str) -> bool:
    """A JSII_RUNTIME that enable_in_process_kernel set (here or in a parent process)."""
    return os.path.basename(os.path.dirname(os.path.dirname(runtime))).startswith(KERNEL_HOME_PREFIX) and \
        os.path.basename(runtime) == os.path.basename(KERNEL_HOST)


def _extract_kernel() -> str | None:
    """jsii's embedded runtime files (`bin__jsii-runtime.js` is bin/jsii-runtime.js, as jsii extracts them) and
    our host in bin/, in a new temporary folder removed at exit; None when jsii is not laid out as expected.
    Found without importing jsii: its import is a synth's cost, not a `routes` command's."""
    spec = importlib.util.find_spec("jsii")
    if spec is None or not spec.submodule_search_locations:
        return None
    embedded = os.path.join(next(iter(spec.submodule_search_locations)), "_embedded", "jsii")
    names = [n for n in (os.listdir(embedded) if os.path.isdir(embedded) else []) if "__" in n and n.endswith(".js")]
    if not {"bin__jsii-runtime.js", "lib__program.js"} <= set(names):
        return None
    home = tempfile.mkdtemp(prefix=KERNEL_HOME_PREFIX)
    atexit.register(shutil.rmtree, home, True)  # registered before jsii's, so it runs after the kernel has stopped
    for name in names:
        target = os.path.join(home, *name.split("__", 1))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(os.path.join(embedded, name), target)
    shutil.copyfile(KERNEL_HOST, os.path.join(home, "bin", os.path.basename(KERNEL_HOST)))
    return home


def enable_in_process_kernel(environ=None) -> bool:
    """Point JSII_RUNTIME at our host and add --preserve-symlinks to NODE_OPTIONS; a user's own JSII_RUNTIME is
    kept. One extraction per process: an inherited one is replaced (its jsii may differ, and it is removed when
    the process that made it exits). False, and an inherited setting of ours taken out, when turned off."""
    global _extracted
    environ = os.environ if environ is None else environ
    current = environ.get("JSII_RUNTIME", "")
    if current and not is_our_runtime(current):
        return False  # the user's own
    if not in_process_kernel_wanted(environ):
        if current:
            del environ["JSII_RUNTIME"]
            environ["NODE_OPTIONS"] = re.sub(rf"(^|\s){SYMLINKS}(?=\s|$)", "", environ.get("NODE_OPTIONS", "")).strip()
        return False
    if _extracted is None or not os.path.isfile(_extracted):
        home = _extract_kernel()
        if home is None:
            return False
        _extracted = os.path.join(home, "bin", os.path.basename(KERNEL_HOST))
    environ["JSII_RUNTIME"] = _extracted
    options = environ.get("NODE_OPTIONS", "")
    if SYMLINKS not in options.split():
        environ["NODE_OPTIONS"] = f"{options} {SYMLINKS}".strip()
    return True


def in_process_kernel_enabled(environ=None) -> bool:
    environ = os.environ if environ is None else environ
    return is_our_runtime(environ.get("JSII_RUNTIME", ""))


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
