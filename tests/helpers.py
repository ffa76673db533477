"""Builders of small monorepos and settings files for tests."""

from __future__ import annotations

import json
import re
from pathlib import Path

from workers_scan import load_settings
from workers_scan.settings import SettingsSource

VALID_ARN = "arn:aws:apprunner:eu-west-1:123456789012:connection/acme-github/0123456789abcdef0123456789abcdef"
BASE_SETTINGS = {
    "APP_RUNNER_CONNECTION_ARN": VALID_ARN,
    "AWS_REGION": "eu-west-1",
    "PROJECT_NAME": "acme",
    "ENVIRONMENT": "dev",
    "REPOSITORY_URL": "https://github.com/acme/platform",
    "MONOREPO_ROOT": "../..",
}
WORKERS = "apps/api/src/workers"
CODECONNECTIONS_ARN = "arn:aws:codeconnections:eu-west-1:123456789012:connection/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
# The same monorepo on ECS: the App Runner connection is not needed there.
ECS_SETTINGS = {"COMPUTE": "ecs", "APP_RUNNER_CONNECTION_ARN": None, "CODECONNECTIONS_ARN": CODECONNECTIONS_ARN}


def write_settings(path: Path, values: dict[str, str | None], extra_lines: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{k}={v}" for k, v in values.items() if v is not None]
    path.write_text("\n".join(lines) + "\n" + extra_lines)
    return path


def build_files(root: Path) -> None:
    """What the default build and start commands need in a monorepo (workers_scan/build_check.py)."""
    api = root / "apps" / "api"
    (api / "scripts").mkdir(parents=True, exist_ok=True)
    (api / "src" / "i18n").mkdir(parents=True, exist_ok=True)   # the default build command copies it
    (api / "package.json").write_text('{"name": "@monorepo/api", "scripts": {"build": "nest build"}}\n')
    # The root's build is Turborepo's, which takes the default command's --filter; no name, as pnpm needs none.
    (root / "package.json").write_text('{"private": true, "scripts": {"build": "turbo run build"}}\n')
    (api / "scripts" / "start-worker.sh").write_text("#!/usr/bin/env bash\n")
    (root / "pnpm-lock.yaml").write_text("lockfileVersion: '9.0'\n")
    (root / "pnpm-workspace.yaml").write_text("packages:\n  - 'apps/*'\n")


# A worker file that starts an application, as discovery requires (workers_scan/entry_points.py).
BOOTSTRAP = """import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  await app.listen(Number(process.env.PORT ?? 3000), '0.0.0.0');
}

void bootstrap();
"""


def make_monorepo(root: Path, workers: list[str] = ("orders.ts",), settings: dict | None = None,
                  toml: str | None = None, extra_lines: str = "") -> Path:
    """A monorepo under `root` with the given worker files (a name ending in / is a folder worker).

    Returns the settings file (`infra/aws/.env`).
    """
    folder = root / WORKERS
    folder.mkdir(parents=True, exist_ok=True)
    for name in workers:
        if name.endswith("/"):
            (folder / name).mkdir(parents=True, exist_ok=True)
            (folder / name / "main.ts").write_text(BOOTSTRAP)
        else:
            (folder / name).write_text(BOOTSTRAP)
    build_files(root)
    values = dict(BASE_SETTINGS)
    values.update(settings or {})
    env = write_settings(root / "infra" / "aws" / ".env", values, extra_lines)
    if toml is not None:
        (root / "infra" / "aws" / "workers.toml").write_text(toml)
    return env


def settings_from(path: Path, environ: dict | None = None):
    return load_settings(SettingsSource(path, is_example=False), environ=environ or {})


# aws_lb's "on"/"off" switch for PrivateLink traffic: a provider attribute, whose name only contains PRIVATE.
PROVIDER_ATTRIBUTES_NAMED_LIKE_SECRETS = {"enforce_security_group_inbound_rules_on_private_link_traffic"}


def plaintext_secrets(document) -> list[tuple[str, str]]:
    """(key, value) pairs under secret-looking keys whose value is neither a Terraform reference nor an ARN."""
    from workers_scan.environment import SECRET_KEY_RE

    found: list[tuple[str, str]] = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in PROVIDER_ATTRIBUTES_NAMED_LIKE_SECRETS:
                    continue
                if isinstance(value, str) and SECRET_KEY_RE.search(str(key).upper()) and value and \
                        not value.startswith(("${", "arn:aws:")):
                    found.append((key, value))
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(document)
    return found


# Strings longer than this are split into fragments for review (golden files).
REVIEW_WIDTH = 100
_FRAGMENT_END = re.compile(r"(?<=, )|(?<= && )|(?<=\(\[)")


def reviewable(node):
    """A JSON document rendered for review as a diff: each reference of a long expression on its own line.

    A string holding a compact JSON document (an IAM policy) becomes {"<json>": document}; a long string becomes
    {"<joined>": [fragments]}, split after ", ", " && " and "(["; both are exact, so the rendering stays
    injective: any change to the input changes the output.
    """
    if isinstance(node, dict):
        return {key: reviewable(value) for key, value in node.items()}
    if isinstance(node, list):
        return [reviewable(item) for item in node]
    if isinstance(node, str) and len(node) > REVIEW_WIDTH:
        if node[:1] in "{[":
            try:
                document = json.loads(node)
            except ValueError:
                document = None
            if document is not None and json.dumps(document, separators=(",", ":")) == node:
                return {"<json>": reviewable(document)}
        fragments = [part for part in _FRAGMENT_END.split(node) if part]
        if len(fragments) > 1:
            return {"<joined>": fragments}
    return node


def render_for_review(document) -> str:
    return json.dumps(reviewable(document), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def resources(stack: dict, rtype: str) -> dict:
    """The synthesized resources of one type, by name."""
    return stack.get("resource", {}).get(rtype, {})


def one(stack: dict, rtype: str) -> dict:
    """The one resource of a type (fails when there are none or several)."""
    items = resources(stack, rtype)
    assert len(items) == 1, f"expected one {rtype}, found {len(items)}"
    return next(iter(items.values()))
