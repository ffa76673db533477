"""The build and start commands checked against the monorepo on disk, before App Runner runs them.

App Runner builds every worker's service from the repository, about ten minutes after an apply, once per
worker; a build that cannot work should fail here instead. Only what a command certainly needs is checked:
- the lockfile a frozen install needs (`pnpm install --frozen-lockfile`, `npm ci`, any yarn command);
- pnpm's rules: a `--filter` before the command selects workspace packages (by name, glob, directory, with its
  dependencies `pkg...` or dependents `...pkg`), one of which must define the script; every argument after
  `pnpm run <script>` goes to the script, so a `--filter` there is right only when that script is Turborepo's
  (`turbo run build` takes `--filter`); a script run at the root must be the root package's;
- what `cp` copies from the sources (not from a build output such as dist/);
- the script of a `bash <script>` start command.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Problems, display_path
from .settings import Settings

# Folders never searched for workspace packages.
SKIPPED = {"node_modules", ".git", "dist", "build", "cdktf.out"}
# Path segments of what a build makes: a `cp` from there cannot be checked before the build runs.
BUILD_OUTPUTS = {"dist", "build", "out", ".next", "node_modules", "coverage", ".turbo", "lib"}
SHELL_SEPARATORS = re.compile(r"&&|\|\||;|\|")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
FILTER_OPTIONS = ("--filter", "-F")
# pnpm's options that take a value as the next word (others are flags, or written --option=value).
PNPM_VALUE_OPTIONS = {*FILTER_OPTIONS, "-C", "--dir", "--reporter", "--workspace-concurrency", "--loglevel",
                      "--test-pattern", "--changed-files-ignore-pattern", "--filter-prod"}
# pnpm's own commands: any other first word is a script (`pnpm build` is `pnpm run build`).
PNPM_COMMANDS = {"add", "audit", "bin", "ci", "config", "create", "dedupe", "deploy", "dlx", "env", "exec", "fetch",
                 "i", "import", "init", "install", "install-test", "it", "licenses", "link", "list", "ln", "ls",
                 "outdated", "pack", "patch", "patch-commit", "prune", "publish", "rb", "rebuild", "recursive",
                 "remove", "rm", "root", "run", "run-script", "server", "setup", "start", "store", "t", "test",
                 "un", "uninstall", "unlink", "up", "update", "why", "x"}


@dataclass(frozen=True)
class Package:
    name: str | None
    folder: str                      # relative to the monorepo root, "." for the root
    scripts: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass
class PnpmCall:
    """One `pnpm ...` command of a build: its selection, its command and what it hands on to a script."""
    text: str
    filters: list[str] = field(default_factory=list)
    recursive: bool = False
    command: str = ""
    script: str | None = None
    script_args: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)     # the command's own options (--frozen-lockfile...)


def check_commands(settings: Settings, problems: Problems) -> None:
    root = settings.monorepo_root
    build = settings.build_command
    where = settings.source_of("BUILD_COMMAND")
    workspace: list[Package] | None = None   # one walk of the monorepo, however many commands need it

    def packages() -> list[Package]:
        nonlocal workspace
        if workspace is None:
            workspace = workspace_packages(root)
        return workspace

    def report(message: str) -> None:
        problems.add(where, "BUILD_COMMAND", message)

    for words, text in simple_commands(build):
        tool = words[0]
        if tool == "pnpm":
            _check_pnpm(parse_pnpm(words[1:], text), settings, packages, report)
        elif tool == "npm" and len(words) > 1 and words[1] in ("ci", "clean-install", "install-clean"):
            if not any((root / lock).is_file() for lock in ("package-lock.json", "npm-shrinkwrap.json")):
                report(f"runs `{text}`, which fails without {display_path(root / 'package-lock.json')}; run "
                       "`npm install` and commit the lockfile, or use the package manager the monorepo locks with")
        elif tool == "yarn" and not (root / "yarn.lock").is_file():
            report(f"runs `{text}` without {display_path(root / 'yarn.lock')}: the build would resolve every "
                   "dependency anew; run `yarn install` and commit the lockfile, or use the package manager the "
                   "monorepo locks with")
    for source in copied_sources(build):
        if not (root / source).exists():
            report(f"copies {source}, which is not in the monorepo ({display_path(root / source)}); add it or "
                   "change BUILD_COMMAND")
    script = start_script(settings.start_command)
    if script and not (root / script).is_file():
        problems.add(settings.source_of("START_COMMAND"), "START_COMMAND",
                     f"runs {script}, which is not in the monorepo ({display_path(root / script)}); add it or change "
                     "START_COMMAND")


def simple_commands(command: str) -> list[tuple[list[str], str]]:
    """The simple commands of a shell line, as (words without leading VAR=value assignments, text); a part that
    does not parse (an unbalanced quote) is skipped."""
    found = []
    for part in SHELL_SEPARATORS.split(command):
        try:
            words = shlex.split(part)
        except ValueError:
            continue
        while words and ASSIGNMENT.match(words[0]):
            words = words[1:]
        if words:
            found.append((words, part.strip()))
    return found


RUN = ("run", "run-script")


def parse_pnpm(args: list[str], text: str) -> PnpmCall:
    """pnpm's reading of its arguments: options before the command (or before a script's name) are pnpm's;
    every argument after a script's name belongs to the script."""
    call = PnpmCall(text)
    index = 0
    while index < len(args):
        word = args[index]
        if word.startswith("-"):
            index = _pnpm_option(args, index, call)
            continue
        if not call.command and word not in PNPM_COMMANDS:   # `pnpm build` runs the script `build`
            call.command, call.script, call.script_args = "run", word, args[index + 1:]
            break
        if not call.command:
            call.command = word
        elif call.command in RUN:
            call.script, call.script_args = word, args[index + 1:]
            break
        index += 1
    return call


def _pnpm_option(args: list[str], index: int, call: PnpmCall) -> int:
    """Read the option at `index` into `call`; the index after it (and after its value, if it takes one)."""
    word = args[index]
    name, has_value, value = word.partition("=")
    if name in PNPM_VALUE_OPTIONS and not has_value and index + 1 < len(args):
        index += 1
        value = args[index]
    if name in FILTER_OPTIONS or name == "--filter-prod":
        call.filters.append(value)
    elif name.startswith("-F") and not name.startswith("--"):
        call.filters.append(word[2:])   # -F@monorepo/api
    elif name in ("-r", "--recursive"):
        call.recursive = True
    elif call.command:
        call.options.append(word)
    return index + 1


def _check_pnpm(call: PnpmCall, settings: Settings, packages, report) -> None:
    """What `call` needs of the monorepo: its lockfile, the packages it selects, and the script it runs there."""
    root = settings.monorepo_root
    if call.command in ("install", "i") and "--frozen-lockfile" in call.options and \
            not (root / "pnpm-lock.yaml").is_file():
        report(f"runs `pnpm install --frozen-lockfile`, which fails without {display_path(root / 'pnpm-lock.yaml')}; "
               "run `pnpm install` and commit the lockfile")
    selected = _selected(call.filters, settings, packages, report)
    if selected is None:
        return
    if call.script is None:
        return
    if call.filters or call.recursive:
        candidates = selected if call.filters else [p for p in packages() if p.folder != "."]
        if candidates and not any(call.script in p.scripts for p in candidates):
            names = ", ".join(sorted(p.name or p.folder for p in candidates))
            report(f"runs `{call.text}`, but none of the packages it selects ({names}) has a `{call.script}` script; "
                   "add it to their package.json or change BUILD_COMMAND")
        return
    root_package = next((p for p in packages() if p.folder == "."), None)
    root_script = root_package.scripts.get(call.script) if root_package else None
    if root_script is None:
        report(f"runs `{call.text}` at the monorepo root, whose {display_path(root / 'package.json')} has no "
               f"`{call.script}` script; add it, or select the package that has it: `pnpm --filter <package> run "
               f"{call.script}`")
        return
    filters = _filter_values(call.script_args)
    if not filters:
        return
    if _is_turbo(root_script):
        _selected(filters, settings, packages, report)
        return
    handed = " ".join(f"--filter {f}" for f in filters)
    fixed = " ".join(["pnpm", *(f"--filter {shlex.quote(f)}" for f in filters), "run", call.script,
                      *(shlex.quote(a) for a in _without_filters(call.script_args))])
    report(f"runs `{call.text}`: pnpm hands every argument after the script's name to the script, so `{handed}` "
           f"goes to the root's `{call.script}` script (`{root_script}`), which is not Turborepo's `turbo run` and "
           f"does not take it. Select the package with pnpm's own filter, before `run`: "
           f"BUILD_COMMAND={settings.build_command.replace(call.text, fixed)}")


def _selected(filters: list[str], settings: Settings, packages, report) -> list[Package] | None:
    """The packages `filters` select, or None after reporting a selector that names none, or filters without the
    workspace file (Turborepo reads the same file: with pnpm, its packages are the workspace's)."""
    selected: list[Package] = []
    for selector in filters:
        matched = select(selector, packages())
        if matched == []:
            _unknown_package(selector, settings, packages(), report)
            return None
        selected += matched or []
    workspace = settings.monorepo_root / "pnpm-workspace.yaml"
    if filters and not workspace.is_file():
        report(f"filters on a workspace package, but {display_path(workspace)} is missing, so pnpm sees no workspace")
        return None
    return selected


def _is_turbo(script: str) -> bool:
    words = script.split()
    while words and ASSIGNMENT.match(words[0]):
        words = words[1:]
    if words[:2] in (["npx", "turbo"], ["pnpm", "turbo"], ["pnpm", "exec"]):
        words = words[1:] if words[1] == "turbo" else words[2:]
    return bool(words) and words[0] == "turbo"


def _filter_values(args: list[str]) -> list[str]:
    values, index = [], 0
    while index < len(args):
        word = args[index]
        name, has_value, inline = word.partition("=")
        if name in FILTER_OPTIONS:
            if has_value:
                values.append(inline)
            elif index + 1 < len(args):
                index += 1
                values.append(args[index])
        elif word.startswith("-F") and not word.startswith("--") and len(word) > 2:
            values.append(word[2:])
        index += 1
    return values


def _without_filters(args: list[str]) -> list[str]:
    rest, index = [], 0
    while index < len(args):
        word = args[index]
        if word in FILTER_OPTIONS:
            index += 2
            continue
        if word.split("=", 1)[0] in FILTER_OPTIONS or (word.startswith("-F") and not word.startswith("--")):
            index += 1
            continue
        rest.append(word)
        index += 1
    return rest


def select(selector: str, packages: list[Package]) -> list[Package] | None:
    """The packages a pnpm (or turbo) filter selector names, with its `...` and `^` parts stripped (the package
    itself is what must exist); None for what is not checked here: an exclusion (`!x`) or a git range (`[ref]`)."""
    selector = selector.strip("'\"")
    if not selector or selector.startswith("!") or "[" in selector:
        return None
    selector = re.sub(r"^\.\.\.\^?", "", selector)
    selector = re.sub(r"\^?\.\.\.$", "", selector)
    folder = None
    match = re.fullmatch(r"([^{]*)\{([^}]*)\}", selector)
    if match:
        selector, folder = match.group(1), match.group(2)
    elif selector.startswith((".", "/")):
        selector, folder = "", selector
    if folder is not None:
        folder = Path(folder).as_posix().removeprefix("./").rstrip("/") or "."
    return [p for p in packages
            if (not selector or (p.name is not None and fnmatch.fnmatchcase(p.name, selector)))
            and (folder is None or fnmatch.fnmatchcase(p.folder, folder))]


def _unknown_package(selector: str, settings: Settings, packages: list[Package], report) -> None:
    build = settings.build_command
    names = sorted(p.name for p in packages if p.name and p.folder != ".")
    known = ", ".join(names) or "none (no package.json with a name below the monorepo root)"
    owner = workers_package(settings)
    fix = (f"; the workers are in {owner}: set BUILD_COMMAND={build.replace(selector, owner)}"
           if owner and owner in names else "")
    if fix and "BUILD_COMMAND" not in settings.sources:
        fix += " (your settings do not set BUILD_COMMAND: this is its default)"
    report(f"filters on the package {selector.strip(chr(39) + chr(34))}, which is not in the monorepo; its packages "
           f"are: {known}{fix}")


def start_script(command: str) -> str | None:
    """The script a `bash|sh <script> ...` start command runs, relative to the monorepo root."""
    try:
        words = shlex.split(command.split("&&")[-1])
    except ValueError:
        return None
    if len(words) >= 2 and words[0] in ("bash", "sh") and not words[1].startswith("-") and "{" not in words[1]:
        return words[1]
    return None


def workers_package(settings: Settings) -> str | None:
    """The name of the package the workers belong to: the nearest package.json above the workers folder."""
    root = settings.monorepo_root.resolve()
    folder = settings.workers_path.resolve()
    while folder != root and root in folder.parents:
        folder = folder.parent
        try:
            name = json.loads((folder / "package.json").read_text(encoding="utf-8")).get("name")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(name, str):
            return name
    return None


def copied_sources(command: str) -> list[str]:
    """What the `cp` commands of a build copy from the checked-out sources: relative, literal paths outside any
    build output (a path with a variable, a glob or a dist/ segment is the build's own business)."""
    sources: list[str] = []
    for part in SHELL_SEPARATORS.split(command):
        try:
            words = shlex.split(part)
        except ValueError:
            continue
        if not words or words[0] != "cp":
            continue
        operands = [w for w in words[1:] if not w.startswith("-")]
        for source in operands[:-1]:
            literal = not set(source) & set("$*?[{~`")
            if literal and not source.startswith("/") and not set(Path(source).parts) & BUILD_OUTPUTS:
                sources.append(source)
    return sources


def workspace_packages(root: Path, depth: int = 3) -> list[Package]:
    """The package.json files at and below `root`, a few levels deep (apps/*, packages/*, libs/*...)."""
    found: list[Package] = []

    def walk(folder: Path, level: int) -> None:
        manifest = folder / "package.json"
        if manifest.is_file():
            try:
                document = json.loads(manifest.read_text(encoding="utf-8"))
            except (ValueError, OSError):
                document = None
            if isinstance(document, dict):
                name = document.get("name")
                scripts = document.get("scripts")
                found.append(Package(name if isinstance(name, str) else None,
                                     folder.relative_to(root).as_posix() or ".",
                                     {k: v for k, v in scripts.items() if isinstance(v, str)}
                                     if isinstance(scripts, dict) else {}))
        if level < depth:
            try:
                children = sorted(p for p in folder.iterdir() if p.is_dir() and p.name not in SKIPPED)
            except OSError:
                return
            for child in children:
                walk(child, level + 1)

    walk(root, 0)
    return found
