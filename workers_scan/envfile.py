"""Strict reading of dotenv files: every malformed line is a problem with file and line.

python-dotenv's `dotenv_values` skips lines it cannot parse with a log warning and
interpolates `${VAR}` from the process environment; we want neither (silent loss and
machine-dependent output), so we use its parser directly.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from dotenv.parser import parse_stream

from .errors import Problems

ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class EnvEntry:
    value: str
    line: int


def read_env_file(path: Path, problems: Problems) -> dict[str, EnvEntry] | None:
    """Key -> (value, line); bad lines and keys are reported. None (and reported) when the file is unreadable."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problems.add(path, "", f"cannot be read ({exc.strerror or exc})")
        return None
    if b"\x00" in raw:
        problems.add(path, "", "is a binary file, not a dotenv file of KEY=value lines")
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.add(path, "", f"is not UTF-8 text (byte {exc.start}); save it as UTF-8")
        return None

    entries: dict[str, EnvEntry] = {}
    for binding in parse_stream(io.StringIO(text)):
        line = binding.original.line
        if binding.error:
            snippet = binding.original.string.strip().splitlines()[0][:60] if binding.original.string.strip() else ""
            problems.add(path, f"line {line}", f"cannot be parsed as KEY=value: {snippet!r}")
            continue
        key = binding.key
        if key is None:  # blank line or comment
            continue
        if not ENV_KEY.match(key):
            problems.add(path, f"{key} (line {line})", "is not a valid variable name (letters, digits and _, not starting with a digit)")
            continue
        if binding.value is None:
            problems.add(path, f"{key} (line {line})", "has no value; write KEY=value")
            continue
        if key in entries:
            problems.add(path, f"{key} (line {line})", f"is set twice (first on line {entries[key].line}); keep one")
            continue
        entries[key] = EnvEntry(binding.value, line)
    return entries
