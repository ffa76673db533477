"""End to end: the ECS image's Dockerfile, run step by step the way Docker runs it, as far as this machine allows
(it has no Docker engine): each RUN under `/bin/sh -c` in an environment holding only the base image's variables,
the build arguments and the Dockerfile's ENV; COPY applies the .dockerignore. Not run: FROM (the base image's Node.js
22 is the npm package node@22 here), the apt-get step (curl and CA certificates are on this machine) and USER.
The network installer is the one swapped step (tests/node_toolchain.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from command_line.local_run import BUILD_PASSTHROUGH, copy_sources
from workers_scan.settings import EXAMPLE_SETTINGS

from .helpers import resources
from .node_toolchain import OFFLINE_BIN, build_environment, node22_bin

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

# What docker.io/library/node:22-bookworm-slim's image config sets (docker image inspect), besides NODE_VERSION.
IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SEED_INSTALLER = "curl -fsSL https://get.pnpm.io/install.sh | sh -"
NETWORK = set(BUILD_PASSTHROUGH) - {"PATH", "LANG", "LC_ALL", "TZ"}


def pipeline_variables(stack: dict) -> dict[str, str]:
    [project] = [p for p in resources(stack, "aws_codebuild_project").values()
                 if any(v["name"] == "DOCKERFILE" for v in p["environment"]["environment_variable"])]
    return {v["name"]: v["value"] for v in project["environment"]["environment_variable"]}


def run_dockerfile(dockerfile: str, context: Path, root: Path, build_args: dict[str, str],
                   dockerignore: str) -> list[tuple[str, subprocess.CompletedProcess | None]]:
    """Each instruction as Docker runs it; stops at the first RUN that fails. Returns (instruction, result)."""
    workdir, env, done = root / "image", {"PATH": f"{OFFLINE_BIN}:{node22_bin()}:{IMAGE_PATH}",
                                          "HOME": str(root / "root"), "NODE_VERSION": "22"}, []
    (root / "root").mkdir()
    # Only this machine's network (its proxy and CA variables, as local's builds get them) and where npm's cache and
    # pnpm's store are, which the tests' builds share: nothing that changes what is built.
    shared = {k: v for k, v in build_environment().items()
              if k.startswith("npm_config_") or k in NETWORK}
    for line in dockerfile.splitlines():
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        if instruction == "WORKDIR":
            workdir.mkdir(parents=True, exist_ok=True)
        elif instruction == "COPY":
            assert rest == ". .", rest
            copy_sources(context, workdir, dockerignore)
        elif instruction == "ARG":
            env[rest] = build_args[rest]
        elif instruction == "ENV":
            key, _, value = rest.partition("=")
            env[key] = value
        elif instruction == "RUN" and not rest.startswith("apt-get"):
            result = subprocess.run(["/bin/sh", "-c", rest], cwd=workdir, env={**env, **shared}, capture_output=True,
                                    text=True, timeout=600)
            done.append((line, result))
            if result.returncode != 0:
                break
            continue
        done.append((line, None))
    return done


@pytest.fixture(scope="module")
def pipeline(ecs_example_stack) -> dict[str, str]:
    return pipeline_variables(ecs_example_stack)


def test_the_images_steps_build_the_workers_with_the_default_build_command(pipeline, tmp_path):
    steps = run_dockerfile(pipeline["DOCKERFILE"], EXAMPLE_SETTINGS.parents[2], tmp_path,
                           {"BUILD_COMMAND": pipeline["BUILD_COMMAND"]}, pipeline["DOCKERIGNORE"])
    failed = [(line, r.stdout[-2000:] + r.stderr[-2000:]) for line, r in steps if r is not None and r.returncode]
    assert not failed, failed
    ran = [line for line, result in steps if result is not None]
    assert ran == ['RUN bash -c "$BUILD_COMMAND"', "RUN test -f apps/api/scripts/start-worker.sh"]
    built = tmp_path / "image" / "apps" / "api" / "dist"
    assert sorted(p.relative_to(built).as_posix() for p in (built / "workers").rglob("*.js")) == \
        ["workers/billing/billing.module.js", "workers/billing/main.js", "workers/emailOutbox.worker.js",
         "workers/emailSender.worker.js", "workers/index.js", "workers/orders.js"]
    assert json.loads((built / "i18n" / "fr" / "common.json").read_text()) == {"greeting": "Bonjour"}
    assert not list((tmp_path / "image").rglob(".env*")), "the .dockerignore leaves .env files out"


def test_without_a_shell_pnpms_installer_fails_in_a_docker_step_which_is_why_both_set_one(pipeline, tmp_path):
    """The seed's command in the Dockerfile before the fix: no ENV SHELL, no SHELL= for the installer."""
    before = "\n".join(line for line in pipeline["DOCKERFILE"].splitlines() if line != "ENV SHELL=/bin/bash")
    seed = pipeline["BUILD_COMMAND"].replace("| SHELL=/bin/bash sh -", "| sh -")
    assert seed.startswith(SEED_INSTALLER) and before != pipeline["DOCKERFILE"]
    steps = run_dockerfile(before, EXAMPLE_SETTINGS.parents[2], tmp_path, {"BUILD_COMMAND": seed},
                           pipeline["DOCKERIGNORE"])
    line, result = steps[-1]
    assert (line, result.returncode) == ('RUN bash -c "$BUILD_COMMAND"', 1)
    assert "ERR_PNPM_UNKNOWN_SHELL" in result.stdout + result.stderr
