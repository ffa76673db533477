"""What the end-to-end tests build with: Node.js 22 (the npm package node@22, the version App Runner and the ECS
image run) and pnpm's installer from tests/e2e/ instead of get.pnpm.io, which this machine cannot reach.

The one swapped step: `curl -fsSL https://get.pnpm.io/install.sh` answers tests/e2e/pnpm-install.sh (a `curl` on
PATH in tests/e2e/offline-bin), which installs the same pnpm binary from the npm registry the way the official script
does, `pnpm setup` and its need for SHELL included. Everything else of BUILD_COMMAND runs as written, against the npm
registry. The npm cache and pnpm's store are shared by the tests' builds (npm_config_cache, npm_config_store_dir).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .terraform import unavailable

E2E = Path(__file__).parent / "e2e"
OFFLINE_BIN = E2E / "offline-bin"
NODE_PACKAGE = "node@22"


def cache_dir() -> Path:
    folder = Path(tempfile.gettempdir()) / f"apprunner-platform-e2e-{os.getuid()}"
    folder.mkdir(exist_ok=True)
    return folder


def node22_bin() -> Path:
    """The folder of Node.js 22's `node`, installed once per machine from the npm registry."""
    if not shutil.which("npm"):
        unavailable("npm is not on PATH: the end-to-end tests install Node.js 22 and pnpm with it")
    folder = cache_dir() / "node22"
    binary = folder / "node_modules" / "node" / "bin" / "node"
    with open(cache_dir() / "node22.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)   # two xdist workers may ask at once
        if not binary.is_file():
            folder.mkdir(exist_ok=True)
            done = subprocess.run(["npm", "install", "--prefix", str(folder), "--no-save", "--no-audit", "--no-fund",
                                   NODE_PACKAGE], capture_output=True, text=True, timeout=600)
            if done.returncode != 0 or not binary.is_file():
                unavailable(f"npm install {NODE_PACKAGE} failed: {done.stderr[-800:]}")
    return binary.parent


def build_environment(home: Path | None = None) -> dict[str, str]:
    """The environment the tests build and run with: Node.js 22 first, the offline pnpm installer, shared caches."""
    env = dict(os.environ, PATH=f"{OFFLINE_BIN}:{node22_bin()}:{os.environ['PATH']}",
               npm_config_cache=str(cache_dir() / "npm-cache"), npm_config_store_dir=str(cache_dir() / "pnpm-store"),
               npm_config_update_notifier="false", TURBO_TELEMETRY_DISABLED="1")
    if home is not None:
        env["HOME"] = str(home)
    return env
