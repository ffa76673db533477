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
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import Problems, display_path
from .settings import Settings
from .worker_folders import FILTERS, PACKAGE, WorkerFolder, folders_build_command, package_of, worker_folders

# Folders never searched for workspace packages.
SKIPPED = {"node_modules", ".git", "dist", "build", "cdktf.out"}
# Path segments of what a build makes: a `cp` from there cannot be checked before the build runs.
BUILD_OUTPUTS = {"dist", "build", "out", ".next", "node_modules", "coverage", ".turbo", "lib"}
SHELL_SEPARATORS = re.compile(r"&&|\|\||;|\|")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
FILTER_OPTIONS = ("--filter", "-F", "--filter-prod")
DIRECTORY_OPTIONS = ("-C", "--dir")
# pnpm's options that take a value as the next word (others are flags, or written --option=value).
PNPM_VALUE_OPTIONS = {*FILTER_OPTIONS, *DIRECTORY_OPTIONS, "--reporter", "--workspace-concurrency", "--loglevel",
                      "--test-pattern", "--changed-files-ignore-pattern", "--store-dir", "--virtual-store-dir",
                      "--modules-dir", "--lockfile-dir", "--global-dir", "--cache-dir", "--network-concurrency",
                      "--child-concurrency", "--resolution-mode", "--node-linker", "--config"}
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
    directory: str = "."                                  # -C/--dir: where pnpm runs, from the monorepo root
    command: str = ""
    script: str | None = None
    shorthand: bool = False      # `pnpm build`: the script `build` if there is one, else `pnpm exec build` (pnpm 6.6+)
    script_args: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)     # the command's own options (--frozen-lockfile...)


def check_commands(settings: Settings, problems: Problems, folders: tuple[WorkerFolder, ...] | None = None,
                   *, fillable: bool = True) -> None:
    """The build and start commands against the monorepo, for every workers folder's package; `fillable` False:
    BUILD_COMMAND's {filters} cannot be filled (said already), so its checks are skipped."""
    folders = worker_folders(settings) if folders is None else folders
    if not fillable and FILTERS in settings.build_command:
        _check_start_scripts(settings, folders, problems)
        return
    # Checked as it runs: with {filters} filled.
    settings = replace(settings, build_command=folders_build_command(settings, folders))
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
    _check_built_packages(settings, folders, packages, report)
    _check_start_scripts(settings, folders, problems)


def _check_start_scripts(settings: Settings, folders: tuple[WorkerFolder, ...], problems: Problems) -> None:
    """The script each folder's workers start with (START_COMMAND's {package} being that folder's package)."""
    root = settings.monorepo_root
    reported = set()
    for folder in folders:
        if PACKAGE in settings.start_command and folder.package_dir is None:
            continue   # no package to fill {package} with: said by check_folders
        script = start_script(settings.start_command.replace(PACKAGE, folder.package_dir or "."))
        if not script or script in reported or (root / script).is_file():
            continue
        reported.add(script)
        whose = f" for the workers of {folder.folder}" if len(folders) > 1 else ""
        problems.add(settings.source_of("START_COMMAND"), "START_COMMAND",
                     f"runs {script}{whose}, which is not in the monorepo ({display_path(root / script)}); add it or "
                     "change START_COMMAND")


def _check_built_packages(settings: Settings, folders: tuple[WorkerFolder, ...], packages, report) -> None:
    """A build that filters on packages must build each folder's: its workers' compiled files come from there."""
    selectors = []
    for words, text in simple_commands(settings.build_command):
        if words[0] == "pnpm":
            call = parse_pnpm(words[1:], text)
            selectors += call.filters + (split_filters(call.script_args)[0] if call.command in RUN else [])
    if not selectors:
        return   # an unfiltered build builds every package
    selected = []
    for selector in selectors:
        if "..." in selector:
            return   # a package's dependencies or dependents: the graph is not read here
        matched = select(selector, packages())
        if not matched:
            return   # an exclusion or a git range (which packages it leaves is not known here), or no package: said
        selected += [p.folder for p in matched]
    for folder in folders:
        if folder.package_dir is not None and folder.package_dir not in selected:
            report(f"builds only {', '.join(dict.fromkeys(s.strip(chr(39) + chr(34)) for s in selectors))}, not "
                   f"{folder.package_name}, the package of {folder.folder} (WORKERS_DIR): its workers' compiled "
                   f"files would be missing; add --filter {folder.package_name}, or write {FILTERS} where the "
                   "filters go")


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
        if not call.command and word not in PNPM_COMMANDS:
            call.command, call.script, call.shorthand, call.script_args = "run", word, True, args[index + 1:]
            break
        if not call.command:
            call.command = word
        elif call.command in RUN:
            call.script, call.script_args = word, args[index + 1:]
            break
        index += 1
    return call


def _option(args: list[str], index: int) -> tuple[str, str | None, int]:
    """(name, value, index after it) of the option at `index`: --name=value, --name value, or -Fvalue."""
    word = args[index]
    name, has_value, value = word.partition("=")
    if has_value:
        return name, value, index + 1
    if word.startswith("-F") and len(word) > 2:
        return "-F", word[2:], index + 1
    if name in PNPM_VALUE_OPTIONS and index + 1 < len(args):
        return name, args[index + 1], index + 2
    return name, None, index + 1


def _pnpm_option(args: list[str], index: int, call: PnpmCall) -> int:
    """Read the option at `index` into `call`; the index after it (and after its value, if it takes one)."""
    name, value, after = _option(args, index)
    if name in FILTER_OPTIONS:
        call.filters.append(value or "")
    elif name in DIRECTORY_OPTIONS:
        call.directory = value or "."
    elif name in ("-r", "--recursive"):
        call.recursive = True
    else:
        call.options.extend(args[index:after])
    return after


def split_filters(args: list[str]) -> tuple[list[str], list[str]]:
    """A script's arguments: the --filter/-F values among them, and the other arguments."""
    filters, rest, index = [], [], 0
    while index < len(args):
        if args[index].startswith("-"):
            name, value, after = _option(args, index)
            if name in FILTER_OPTIONS:
                filters.append(value or "")
            else:
                rest.extend(args[index:after])
            index = after
        else:
            rest.append(args[index])
            index += 1
    return filters, rest


def _check_pnpm(call: PnpmCall, settings: Settings, packages, report) -> None:
    """What `call` needs of the monorepo: its lockfile, the packages it selects, and the script it runs there."""
    root = settings.monorepo_root
    if call.command in ("install", "i") and "--frozen-lockfile" in call.options and \
            not (root / "pnpm-lock.yaml").is_file():
        report(f"runs `pnpm install --frozen-lockfile`, which fails without {display_path(root / 'pnpm-lock.yaml')}; "
               "run `pnpm install` and commit the lockfile")
    selected = _selected(call, call.filters, settings, packages, report)
    script = call.script
    # Not checked: no script, a /regex/ of script names, or --if-present (a missing script is then fine).
    if selected is None or script is None or re.fullmatch(r"/.+/", script) or "--if-present" in call.options:
        return
    if call.filters or call.recursive:
        candidates = selected if call.filters else [p for p in packages() if p.folder != "."]
        if candidates and not any(script in p.scripts for p in candidates) and not call.shorthand:
            names = ", ".join(sorted(p.name or p.folder for p in candidates))
            report(f"runs `{call.text}`, but none of the packages it selects ({names}) has a `{script}` script; "
                   "add it to their package.json or change BUILD_COMMAND")
        return
    folder = Path(call.directory).as_posix().removeprefix("./").rstrip("/") or "."
    here = next((p for p in packages() if p.folder == folder), None)
    here_script = here.scripts.get(script) if here else None
    if here_script is None:
        if not call.shorthand:   # `pnpm tsc` without a tsc script runs the tsc binary
            manifest = display_path(root / folder / "package.json")
            report(f"runs `{call.text}` in {'the monorepo root' if folder == '.' else folder}, whose {manifest} has no "
                   f"`{script}` script; add it, or select the package that has it: `pnpm --filter <package> run "
                   f"{script}`")
        return
    filters, rest = split_filters(call.script_args)
    if not filters:
        return
    if _is_turbo(here_script):
        _selected(call, filters, settings, packages, report)
        return
    handed = " ".join(f"--filter {f}" for f in filters)
    fixed = shlex.join(["pnpm", *(w for f in filters for w in ("--filter", f)), "run", script, *rest])
    report(f"runs `{call.text}`: pnpm hands every argument after the script's name to the script, so `{handed}` "
           f"goes to {'the root' if folder == '.' else folder}'s `{script}` script (`{here_script}`), which is not "
           f"Turborepo's `turbo run` and does not take it. Select the package with pnpm's own filter, before `run`: "
           f"BUILD_COMMAND={settings.build_command.replace(call.text, fixed, 1)}")


def _selected(call: PnpmCall, filters: list[str], settings: Settings, packages, report) -> list[Package] | None:
    """The packages `filters` select, or None after reporting a selector that names none, or filters without the
    workspace file (Turborepo reads the same file: with pnpm, its packages are the workspace's)."""
    selected: list[Package] = []
    for selector in filters:
        matched = select(selector, packages())
        if matched == []:
            _unknown_package(call, selector, settings, packages(), report)
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


def select(selector: str, packages: list[Package]) -> list[Package] | None:
    """The packages a pnpm (or turbo) filter selector names, with its `...` and `^` parts stripped (the package
    itself is what must exist); None for what is not checked here: an exclusion (`!x`) or a git range (`[ref]`).
    A name without its scope selects the one package of that name in any scope (pnpm 6.19+)."""
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
    found = [p for p in packages
             if (not selector or (p.name is not None and fnmatch.fnmatchcase(p.name, selector)))
             and (folder is None or fnmatch.fnmatchcase(p.folder, folder))]
    if not found and selector and "/" not in selector and not set(selector) & set("*?"):
        scoped = [p for p in packages if p.name and p.name.startswith("@") and p.name.endswith(f"/{selector}")
                  and (folder is None or fnmatch.fnmatchcase(p.folder, folder))]
        found = scoped if len(scoped) == 1 else []
    return found


def _unknown_package(call: PnpmCall, selector: str, settings: Settings, packages: list[Package], report) -> None:
    build = settings.build_command
    names = sorted(p.name for p in packages if p.name and p.folder != ".")
    known = ", ".join(names) or "none (no package.json with a name below the monorepo root)"
    owner = workers_package(settings)
    fix = ""
    if owner and owner in names:
        # Only the selector's own word changes, in its own command.
        words = [_with_selector(word, selector, owner) for word in shlex.split(call.text)]
        fix = f"; the workers are in {owner}: set BUILD_COMMAND={build.replace(call.text, shlex.join(words), 1)}"
        if "BUILD_COMMAND" not in settings.sources:
            fix += " (your settings do not set BUILD_COMMAND: this is its default)"
    report(f"filters on the package {selector.strip(chr(39) + chr(34))}, which is not in the monorepo; its packages "
           f"are: {known}{fix}")


def _with_selector(word: str, selector: str, owner: str) -> str:
    for prefix in ("", "--filter=", "-F", "--filter-prod="):
        if word == prefix + selector:
            return prefix + owner
    return word


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
    """The name of the package the (first folder's) workers belong to: the nearest package.json above the folder."""
    found = package_of(settings.workers_path, settings.monorepo_root)
    return found[1] if found else None


def workers_package_dirs(settings: Settings) -> list[Path]:
    """The folder of each workers folder's package (apps/api, apps/jobs), once each."""
    found = (package_of(path, settings.monorepo_root) for path in settings.workers_paths)
    return list(dict.fromkeys(package[0] for package in found if package))


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
