"""The locked toolchain (requirements/*.txt, written by `bash .ci/lock`): read a lock, and check that it is exactly
what pyproject.toml asks for, transitive requirements included."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
APP_LOCK = ROOT / "requirements" / "app.txt"
TOOLS_LOCK = ROOT / "requirements" / "tools.txt"
BOOTSTRAP_LOCK = ROOT / "requirements" / "bootstrap.txt"
REFRESH = "bash .ci/lock"


def locked(path: Path) -> dict[str, Version]:
    """name -> pinned version, from a lock: one `name==version` per line, `# via ...` annotations and comments."""
    pins: dict[str, Version] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        requirement = Requirement(text)
        [pin] = list(requirement.specifier) or [None]
        if pin is None or pin.operator != "==" or requirement.extras or requirement.marker:
            raise ValueError(f"{path.name}:{number}: {text!r} is not an exact pin `name==version` ({REFRESH} writes them)")
        pins[canonicalize_name(requirement.name)] = Version(pin.version)
    return pins


def project_requirements(extras: tuple[str, ...] = ("test",)) -> list[Requirement]:
    """pyproject.toml's dependencies and those of `extras`."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    texts = [*project["dependencies"], *(t for extra in extras for t in project["optional-dependencies"][extra])]
    return [Requirement(text) for text in texts]


def lock_problems(requirements: list[Requirement], pins: dict[str, Version], lock_name: str) -> list[str]:
    """Where `pins` is not exactly the closure of `requirements` over the installed packages' own requirements.

    The installed packages stand for the locked ones (each must be installed at its pinned version): their metadata
    gives each one's requirements, markers evaluated for this Python and the extras asked for."""
    problems: list[str] = []
    reached: set[str] = set()
    pending = [(requirement, "pyproject.toml") for requirement in requirements]
    while pending:
        requirement, wanted_by = pending.pop()
        name = canonicalize_name(requirement.name)
        pin = pins.get(name)
        if pin is None:
            problems.append(f"{requirement} (wanted by {wanted_by}) is not in {lock_name}")
            continue
        if not requirement.specifier.contains(pin, prereleases=True):
            problems.append(f"{lock_name} pins {name}=={pin}, outside {requirement} (wanted by {wanted_by})")
        try:
            installed = Version(metadata.version(name))
        except metadata.PackageNotFoundError:
            problems.append(f"{name}=={pin} is locked but not installed: pip install -c {lock_name} -e '.[test]'")
            continue
        if installed != pin:
            problems.append(f"{name} {installed} is installed, {lock_name} pins {pin}: pip install -c {lock_name} "
                            "-e '.[test]'")
        extras = tuple(requirement.extras)
        key = f"{name}[{','.join(sorted(extras))}]"
        if key in reached:
            continue
        reached.add(key)
        for text in metadata.requires(name) or []:
            needed = Requirement(text)
            if needed.marker is None or any(needed.marker.evaluate({**default_environment(), "extra": extra})
                                            for extra in (extras or ("",))):
                pending.append((needed, key))
    stale = sorted(set(pins) - {key.split("[", 1)[0] for key in reached})
    problems += [f"{lock_name} pins {name}=={pins[name]}, which nothing requires" for name in stale]
    return problems


def report(tools_python: Path) -> str:
    """The resolved versions CI runs with: the app's lock as installed, checkov's venv, terraform and the provider."""
    import json
    import platform
    import subprocess

    from .terraform import PROVIDER, find_mirror

    def installed(name: str) -> str:
        try:
            return f"{name} {metadata.version(name)}"
        except metadata.PackageNotFoundError:
            return f"{name} (not installed)"

    probe = "from importlib.metadata import version; print(version('checkov'))"
    checkov = subprocess.run([str(tools_python), "-c", probe], capture_output=True, text=True)
    terraform = subprocess.run(["terraform", "version", "-json"], capture_output=True, text=True)
    golden = json.loads((ROOT / "tests" / "golden" / "acme-dev.stack.review.json").read_text())
    mirror = find_mirror()
    mirrored = sorted(p.name for p in (mirror / PROVIDER).iterdir()) if mirror else []
    return "\n".join([
        f"python {platform.python_version()}: " + ", ".join(installed(name) for name in (
            "moto", "boto3", "botocore", "cdktf", "cdktf-cdktf-provider-aws", "jsii", "constructs", "pytest",
            "pytest-xdist", "pytest-timeout", "hypothesis")),
        f"checkov {checkov.stdout.strip() or '(not installed)'} ({tools_python.parent.parent.name})",
        f"terraform {json.loads(terraform.stdout)['terraform_version'] if terraform.returncode == 0 else '(not found)'}"
        f"; the stacks require hashicorp/aws {golden['terraform']['required_providers']['aws']['version']}"
        f"; mirror {mirror or '(none: the registry)'}: {', '.join(mirrored) or '-'}",
    ])


if __name__ == "__main__":
    import sys

    print(report(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / ".venv-tools" / "bin" / "python"))
