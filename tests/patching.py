"""Patches of third-party code that check, before anything is patched, the shape each one relies on.

A patch names what it mends and what it expects of the attribute it replaces or adds:
- `Absent()`: nothing there yet, and the class (or a subclass) never assigns `self.<name>` either; a release
  that adds the attribute itself makes the patch obsolete or in conflict;
- `Function(...)`: a plain function whose parameters start with the names given, lacking the `lacks` ones;
- `Property()`: a property.
`apply()` checks every patch, then patches, or patches nothing and raises one PatchShapeError naming the
package's version and each patch whose shape changed. Used by tests/moto_patched.py, at the emulator's start.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from importlib import metadata


class PatchShapeError(RuntimeError):
    pass


_MISSING = object()


@dataclass(frozen=True)
class Absent:
    def problem(self, owner: type, name: str) -> str | None:
        if inspect.getattr_static(owner, name, _MISSING) is not _MISSING:
            return f"{_qualname(owner, name)} now exists"
        assigned = re.compile(rf"\bself\.{re.escape(name)}\s*(:[^=]+)?=(?!=)")
        for cls in (owner, *_subclasses(owner)):
            try:
                source = inspect.getsource(cls)
            except (OSError, TypeError):
                continue
            if assigned.search(source):
                return f"{cls.__module__}.{cls.__qualname__} now sets self.{name} itself"
        return None


@dataclass(frozen=True)
class Function:
    parameters: tuple[str, ...] = ("self",)
    lacks: tuple[str, ...] = ()

    def problem(self, owner: type, name: str) -> str | None:
        found = inspect.getattr_static(owner, name, _MISSING)
        if not inspect.isfunction(found):
            return f"{_qualname(owner, name)} is {_kind(found)}, not a function"
        given = list(inspect.signature(found).parameters)
        if given[:len(self.parameters)] != list(self.parameters):
            return f"{_qualname(owner, name)} takes ({', '.join(given)}), expected ({', '.join(self.parameters)}, ...)"
        clash = [p for p in self.lacks if p in given]
        if clash:
            return f"{_qualname(owner, name)} now takes {', '.join(clash)} itself"
        return None


@dataclass(frozen=True)
class Property:
    def problem(self, owner: type, name: str) -> str | None:
        found = inspect.getattr_static(owner, name, _MISSING)
        return None if isinstance(found, property) else f"{_qualname(owner, name)} is {_kind(found)}, not a property"


@dataclass(frozen=True)
class Patch:
    mends: str                 # what the patch is for, as the module's docstring names it
    owner: type
    name: str
    replacement: object        # None: nothing is set, the shape is only checked (an attribute the patch sets later)
    expects: Absent | Function | Property


def apply(patches: tuple[Patch, ...], package: str, where: str) -> None:
    """Check every patch's shape, then apply them all; or raise one PatchShapeError listing each broken patch."""
    problems = [f"- {patch.mends}: {problem}" for patch in patches
                if (problem := patch.expects.problem(patch.owner, patch.name))]
    if problems:
        raise PatchShapeError(
            f"{where}: {package} {metadata.version(package)} no longer has the shape these patches were written "
            f"for, so none was applied:\n" + "\n".join(problems) +
            f"\nReview each patch against {package}'s change log, or install the locked {package} "
            "(pip install -c requirements/app.txt -e '.[test]').")
    for patch in patches:
        if patch.replacement is not None:
            setattr(patch.owner, patch.name, patch.replacement)


def _qualname(owner: type, name: str) -> str:
    return f"{owner.__module__}.{owner.__qualname__}.{name}"


def _kind(found: object) -> str:
    return "missing" if found is _MISSING else f"a {type(found).__name__}"


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found
