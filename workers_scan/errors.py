"""One error type for every problem in the inputs, reported all at once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def display_path(path: Path | str) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    path = Path(path)
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    # Outside the working directory (or run from the root), "../../x" or "tmp/x" would only mislead.
    if relative == ".." or relative.startswith(".." + os.sep) or Path.cwd() == Path(Path.cwd().anchor):
        return os.path.normpath(path.absolute())  # /app/../repo/x reads /repo/x
    return relative


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the inputs: where (file), what (key or path inside it), and why."""

    where: str
    key: str
    message: str

    def __str__(self) -> str:
        if self.key:
            return f"{self.where}: {self.key}: {self.message}"
        return f"{self.where}: {self.message}"


class InputError(Exception):
    """Raised once, with every problem found, before any construct is built."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the inputs (nothing was synthesized):"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])


class Problems:
    """Collects problems so a user can fix all of them in one pass, and notes: what the inputs do that a user may
    not expect but that stops nothing (a file git ignores, a file not found where it was looked for)."""

    def __init__(self) -> None:
        self._items: list[Problem] = []
        self.notes: list[Problem] = []

    def note(self, where: Path | str, key: str, message: str) -> None:
        note = Problem(display_path(where) if isinstance(where, Path) else where, key, message)
        if note not in self.notes:   # the same file read for several environments is said once
            self.notes.append(note)

    def add(self, where: Path | str, key: str, message: str) -> None:
        where_text = display_path(where) if isinstance(where, Path) else where
        self._items.append(Problem(where_text, key, message))

    def __bool__(self) -> bool:
        return bool(self._items)

    def __iter__(self):
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def raise_if_any(self) -> None:
        """The same problem found twice (e.g. for several environments) is reported once."""
        if self._items:
            raise InputError(list(dict.fromkeys(self._items)))
