"""`python main.py init`: what a monorepo needs before its first synth, written where it is missing and never over
an existing file: the settings file, workers.toml, the start script, a first worker and the .gitignore lines.

Keys, defaults, help texts and parsers come from the settings schema (workers_scan/settings.py), the keys of a
worker's table from workers_scan/workers.py, the start script from the embedded example: nothing is restated here.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

from workers_scan import (COMMITTED_NAME, LOCAL_NAME, load_all_settings, locate_settings, repository_root,
                          secret_values)
from workers_scan.build_check import start_script
from workers_scan.worker_folders import PACKAGE, worker_folders
from workers_scan.errors import InputError, Problem, display_path
from workers_scan.settings import (BACKEND_ONLY_KEYS, CONNECTION_KEY, DEFAULT_START_COMMAND, EXAMPLE_MONOREPO, KEYS,
                                   KEYS_BY_NAME, PROJECT_ROOT, Invalid, Key, Settings, SettingsSource)
from workers_scan.calls import CALLS_KEY
from workers_scan.discovery import ENTRY_KEY
from workers_scan.workers import BACKEND_ONLY_TOML_KEYS, PRIVATE_KEY, TOML_KEYS, WORKERS_TOML

# The committed settings file, from the monorepo root (it holds ARNs and names, no secret).
SETTINGS_FILE = Path("infra", "aws", COMMITTED_NAME)
# Beside the settings file, read over it on one machine only: never committed.
LOCAL_OVERRIDES = LOCAL_NAME
DEFAULT_PACKAGE = "apps/api"   # the package of the default WORKERS_DIR
START_SCRIPT = start_script(DEFAULT_START_COMMAND.replace(PACKAGE, DEFAULT_PACKAGE))


def settings_start_script(settings: Settings) -> str | None:
    """The script START_COMMAND runs for the first workers folder (the one init writes a first worker in)."""
    package = worker_folders(settings)[0].package_dir or DEFAULT_PACKAGE
    return start_script(settings.start_command.replace(PACKAGE, package))
FIRST_WORKER = "hello"
HEALTH_PATH = "/health"
TEMPLATES = Path(__file__).parent / "templates"
# Optional keys a new monorepo most often changes: written commented out, with their default and help.
COMMON_KEYS = ("BRANCH", "SOURCE_DIRECTORY", "WORKERS_DIR", "BUILD_COMMAND", "START_COMMAND", "PORT", "WORKER_CPU",
               "WORKER_MEMORY", "WORKER_MIN_INSTANCES", "WORKER_MAX_INSTANCES", "WORKER_MAX_CONCURRENCY",
               "ECS_CERTIFICATE_ARN", "ECS_ROUTING_DOMAIN", "WORKER_EGRESS_PORTS", "AURORA_ENABLED", "REDIS_ENABLED",
               "WAF_RATE_LIMIT", "API_AUTHORIZATION", "STATE_BACKEND")
# Settings init takes as flags besides the required ones and COMPUTE (which has its choices).
OPTIONAL_FLAG_KEYS = ("WORKERS_DIR",)
LINE_WIDTH = 116


def flag(name: str) -> str:
    """The command-line flag of a settings key: AWS_REGION -> --aws-region."""
    return "--" + name.lower().replace("_", "-")


def flag_keys() -> list[Key]:
    """The settings init takes as flags: every required key, each backend's connection and OPTIONAL_FLAG_KEYS."""
    return [key for key in KEYS if key.default is None or key.name in CONNECTION_KEY.values()
            or key.name in OPTIONAL_FLAG_KEYS]


def required_keys(compute: str) -> list[Key]:
    """What a settings file of `compute` must set: the keys without a default, and that backend's connection."""
    return [key for key in KEYS if key.default is None or key.name == CONNECTION_KEY[compute]]


def command(*words: str) -> str:
    return " ".join(["python main.py", *(shlex.quote(w) for w in words)])


def init_command(monorepo: Path | None = None) -> str:
    """`python main.py init` as it must be typed here: with --monorepo unless `monorepo` (default: the user's, not
    known) is the repository here, and never for this app's own repository."""
    here = repository_root(Path.cwd().resolve())
    if here is not None and here != PROJECT_ROOT.resolve() and (monorepo is None or here == monorepo.resolve()):
        return command("init")
    return command("init", "--monorepo", display_path(monorepo) if monorepo else "PATH")


def holds_typescript(folder: Path) -> bool:
    return folder.is_dir() and any(folder.rglob("*.ts"))


def missing_pieces(settings: Settings) -> list[Path]:
    """What init writes for these settings that is not there: the start script of the default START_COMMAND, and a
    first worker when the workers folder holds no .ts file."""
    pieces = []
    if settings_start_script(settings) == START_SCRIPT and not (settings.monorepo_root / START_SCRIPT).is_file():
        pieces.append(settings.monorepo_root / START_SCRIPT)
    if not holds_typescript(settings.workers_path):
        pieces.append(settings.workers_path / f"{FIRST_WORKER}.ts")
    return pieces


def dotenv_value(text: str) -> str:
    """`text` as a dotenv value that reads back unchanged: bare when it can be, else single-quoted."""
    if re.fullmatch(r"[A-Za-z0-9_./:@,*+={}-]*", text):
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def comment(text: str) -> list[str]:
    return [f"# {line}" for line in textwrap.wrap(text, LINE_WIDTH - 2)]


def settings_text(values: dict[str, str]) -> str:
    """The settings file: `values` in the schema's order, each under its help, then the common optional keys of
    its backend commented out with their defaults."""
    compute = values["COMPUTE"]
    other_backends = {name for backend, names in BACKEND_ONLY_KEYS.items() if backend != compute for name in names}
    lines = comment(f"Settings of the platform for this monorepo (written by `{command('init')}`). Commit it: it "
                    f"holds ARNs and names, no secret. Settings of one machine go in {LOCAL_OVERRIDES} beside it, "
                    "which is read over this file and never committed. Every key: the platform's docs/settings.md, "
                    "'Settings'.")
    for key in KEYS:
        if key.name in values:
            lines += ["", *comment(key.help), f"{key.name}={dotenv_value(values[key.name])}"]
    lines += ["", *comment("Often changed: uncomment a line to set it (each shows its default).")]
    for key in KEYS:
        if key.name in COMMON_KEYS and key.name not in values and key.name not in other_backends:
            lines += ["", *comment(key.help), f"# {key.name}={dotenv_value(key.default)}"]
    return "\n".join(lines) + "\n"


def toml_sample(name: str, table: str) -> str:
    """A value of a worker's table key: the default of the setting it overrides, else one fitting the first
    worker."""
    setting = KEYS_BY_NAME.get(f"WORKER_{name.upper()}")
    if setting and setting.default.isdigit():
        return setting.default
    return {"health_check_path": f'"{HEALTH_PATH}"', "route": f'"{table}"', ENTRY_KEY: "true",
            CALLS_KEY: "[]", PRIVATE_KEY: "false"}.get(name, '""')


def workers_toml_text(table: str) -> str:
    lines = comment(f"Per-worker settings: one table per worker name (`{command('workers')}` lists them), every "
                    "key optional; a worker without a table takes the WORKER_* settings. Uncomment to use.")
    lines += ["", f"# [{table}]"]
    for name, help_text in TOML_KEYS.items():
        only = [backend for backend, names in BACKEND_ONLY_TOML_KEYS.items() if name in names]
        note = f" Read with COMPUTE={' or '.join(only)} only." if only else ""
        lines += [*comment(help_text + note), f"# {name} = {toml_sample(name, table)}"]
    return "\n".join(lines) + "\n"


def first_worker_text(port: str) -> str:
    return Template((TEMPLATES / f"{FIRST_WORKER}.ts").read_text()).substitute(
        health_path=HEALTH_PATH.lstrip("/"), port=port)


@dataclass
class Report:
    """What init did, in the order it did it, for the user."""
    lines: list[str] = field(default_factory=list)

    def wrote(self, path: Path, why: str = "") -> None:
        self.lines.append(f"wrote {display_path(path)}{why}")

    def kept(self, path: Path, why: str = "exists") -> None:
        self.lines.append(f"kept {display_path(path)} ({why})")

    def note(self, text: str) -> None:
        self.lines.append(text)


def write_new(path: Path, text: str, report: Report, executable: bool = False) -> bool:
    """Write `path` unless it exists; True when it was written."""
    if path.exists():
        report.kept(path)
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x") as file:   # "x": a file that appeared since the check is not overwritten either
        file.write(text)
    if executable:
        path.chmod(path.stat().st_mode | 0o111)
    report.wrote(path, " (executable)" if executable else "")
    return True


# --- the settings ---------------------------------------------------------------------------------------------

def refusal(key: Key, text: str) -> str | None:
    """Why the schema refuses `text` for `key`, or None. A secret is said as one, never parsed: a parser's message
    would quote it."""
    finding = secret_values.scan([(key.name, text)])[0]
    if finding:
        return (f"holds a secret in plain text ({finding.kind}: {finding.hint}); a setting is written to the Terraform "
                "JSON and state, so it cannot hold one")
    try:
        key.parse(text)
    except Invalid as exc:
        return str(exc)
    return None


def ask(key: Key, default: str | None = None) -> str:
    """A value of `key` typed in the terminal, asked again until the schema takes it."""
    while True:
        shown = f" [{default}]" if default else ""
        text = input(f"{key.name}: {key.help}\n{flag(key.name)}{shown}> ").strip() or (default or "")
        why = refusal(key, text) if text else "is required"
        if why is None:
            return text
        print(f"  {key.name}: {why}", file=sys.stderr)


def labelled(name: str) -> str:
    """A key as a problem names it: with its init flag, when it has one."""
    return f"{name} ({flag(name)})" if name in {key.name for key in flag_keys()} | {"COMPUTE"} else name


def gather(args, settings_file: Path, monorepo: Path, interactive: bool) -> tuple[dict[str, str], list[Problem]]:
    """The values of a new settings file: flags, then prompts in a terminal; every missing or bad one a problem."""
    where = display_path(settings_file)
    compute_key = KEYS_BY_NAME["COMPUTE"]
    compute = args.compute or (ask(compute_key, compute_key.default) if interactive else compute_key.default)
    values = {"COMPUTE": compute}
    values.update({key.name: getattr(args, key.name) for key in flag_keys() if getattr(args, key.name) is not None})
    problems = []
    for key in required_keys(compute):
        if key.name in values:
            continue
        if interactive:
            values[key.name] = ask(key)
        else:
            problems.append(Problem(where, labelled(key.name), f"missing: {key.help}"))
    for name, text in values.items():
        if why := refusal(KEYS_BY_NAME[name], text):
            problems.append(Problem(where, labelled(name), why))
    values["MONOREPO_ROOT"] = Path(os.path.relpath(monorepo, settings_file.parent)).as_posix()
    return values, problems or checked(settings_text(values), settings_file)


def checked(text: str, settings_file: Path) -> list[Problem]:
    """The problems the product's own loader finds in `text` as the settings file (across keys: a connection in
    another region, a key of the other backend...), before anything is written."""
    with tempfile.TemporaryDirectory() as scratch:
        trial = Path(scratch) / settings_file.name
        trial.write_text(text)
        try:
            load_all_settings(SettingsSource(trial, is_example=False), environ={})
        except InputError as error:
            where = display_path(settings_file)
            return [Problem(where, labelled(p.key), p.message.replace(display_path(trial), where))
                    for p in error.problems]
    return []


def existing_settings(monorepo: Path, settings_file: Path) -> Path | None:
    """The monorepo's settings file, if it has one: SETTINGS_FILE, or one the settings discovery finds from the
    monorepo's root (init never writes a second one)."""
    if settings_file.exists():
        return settings_file
    try:
        source = locate_settings(None, environ={}, default=settings_file, cwd=monorepo)
    except InputError:
        return None
    path = source.path.absolute()
    return path if not source.is_example and path.is_relative_to(monorepo) and path.is_file() else None


def read_settings(path: Path, report: Report) -> Settings | None:
    try:
        return load_all_settings(SettingsSource(path, is_example=False))[0]
    except InputError as error:
        report.note(f"{display_path(path)} does not load yet ({len(error.problems)} problem(s), `{command('doctor')}` "
                    "lists them): the other files follow the defaults")
        return None


# --- .gitignore -----------------------------------------------------------------------------------------------

def git(monorepo: Path, *arguments: str) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run(["git", *arguments], cwd=monorepo, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None


def ignored(monorepo: Path, relative: str) -> bool | None:
    """Whether git's ignore rules match `relative`, tracked or not; None when git cannot tell (no repository)."""
    result = git(monorepo, "check-ignore", "-q", "--no-index", relative)
    return {0: True, 1: False}.get(result.returncode) if result else None


def append_lines(gitignore: Path, why: str, lines: list[str]) -> None:
    """Appended, below what is there: existing lines are never rewritten."""
    before = gitignore.read_text() if gitignore.exists() else ""
    separator = "" if not before else "\n" if before.endswith("\n") else "\n\n"
    with gitignore.open("a") as file:
        file.write(separator + "\n".join([f"# {why}", *lines]) + "\n")


def update_gitignore(monorepo: Path, settings_file: Path | None, kept_settings: Path | None, report: Report) -> None:
    """The local overrides and secrets files ignored; the committed settings file not."""
    from .local_run import LOCAL_SECRETS_FILE   # honcho and the rest of `local` load only here

    gitignore = monorepo / ".gitignore"
    folder = monorepo / SETTINGS_FILE.parent
    private = [folder / name for name in (LOCAL_OVERRIDES, LOCAL_SECRETS_FILE) if folder / name != kept_settings]
    relative = {path: path.relative_to(monorepo).as_posix() for path in private}
    answers = {path: ignored(monorepo, relative[path]) for path in private}
    if None in answers.values():
        report.note(f"git cannot check what {display_path(monorepo)} ignores (no git, or not a repository): "
                    f"{display_path(gitignore)} gets the lines it does not hold")
        present = set(gitignore.read_text().splitlines()) if gitignore.exists() else set()
        answers = {path: relative[path] in present for path in private}
    needed = [relative[path] for path in private if not answers[path]]
    if needed:
        existed = gitignore.exists()
        append_lines(gitignore, "Settings of one machine and local secrets of the platform (python main.py init)",
                     needed)
        report.note(f"{'appended to' if existed else 'wrote'} {display_path(gitignore)}: {', '.join(needed)}")
    else:
        report.note(f"nothing to add to {display_path(gitignore)}: git ignores {', '.join(relative.values())} "
                    "already")
    if settings_file is not None:
        keep_committed(monorepo, settings_file, gitignore, report)


def keep_committed(monorepo: Path, settings_file: Path, gitignore: Path, report: Report) -> None:
    """A rule that ignores the committed settings file (e.g. `*.env`) is undone by a `!` line appended to the
    monorepo's .gitignore, when that line can work: git cannot re-include a file of an ignored folder, and a
    .gitignore in a folder below overrides the monorepo's."""
    relative = settings_file.relative_to(monorepo).as_posix()
    if not ignored(monorepo, relative):
        return
    rule = git(monorepo, "check-ignore", "-v", "--no-index", relative).stdout.split("\t")[0]   # source:line:pattern
    line = f"!{relative}"
    folders = [p.relative_to(monorepo).as_posix() for p in reversed(settings_file.parents) if monorepo in p.parents]
    ignored_folder = next((f for f in folders if ignored(monorepo, f)), None)
    top = git(monorepo, "rev-parse", "--show-toplevel")
    named = re.match(r"^(.*?):\d+:", rule)
    # A relative source is from the repository's top folder, wherever git runs.
    source = Path(top.stdout.strip(), named.group(1)) if named and top and top.returncode == 0 else None
    nested = source is not None and source.name == ".gitignore" and monorepo in source.parent.parents
    head = f"{relative} is ignored by git ({rule}), so it would not be committed and CI would not find it"
    if ignored_folder:
        report.note(f"WARNING: {head}: its folder {ignored_folder} is ignored, and git cannot re-include a file of "
                    f"an ignored folder; stop ignoring {ignored_folder} (a `!{ignored_folder}/` line), then add "
                    f"`{line}` to {display_path(gitignore)}")
    elif nested:
        report.note(f"WARNING: {head}: the rule is in {display_path(source)}, which overrides "
                    f"{display_path(gitignore)}; add `!{settings_file.relative_to(source.parent).as_posix()}` to "
                    f"{display_path(source)}, or remove the rule")
    else:
        append_lines(gitignore, "The platform's settings are committed (python main.py init)", [line])
        if ignored(monorepo, relative):
            report.note(f"WARNING: {head}, and `{line}` appended to {display_path(gitignore)} did not change that; "
                        "`git check-ignore -v --no-index " + relative + "` shows the rule to change")
        else:
            report.note(f"appended to {display_path(gitignore)}: {line} ({relative} was ignored by {rule}; a line "
                        "appended last overrides it, so the settings can be committed)")


# --- the command ----------------------------------------------------------------------------------------------

def next_commands(settings_file: Path) -> list[str]:
    """doctor, then synth: with --env-file unless the settings discovery finds this file from here."""
    try:
        found = locate_settings(None).path.resolve() == settings_file.resolve()
    except InputError:
        found = False
    given = [] if found else ["--env-file", display_path(settings_file)]
    return [f"  {command('doctor', *given):<60} # the machine, the settings and the workers",
            f"  {command(*given):<60} # synthesize the Terraform"]


def chosen_monorepo(given: str | None) -> tuple[Path | None, str]:
    """The monorepo init writes into (--monorepo, else the repository here), or None and why not."""
    here = Path.cwd().resolve()
    monorepo = Path(given).resolve() if given else repository_root(here)
    if monorepo is None:
        return None, f"no git repository at or above {display_path(here)}"
    if not monorepo.is_dir():
        return None, f"--monorepo {given} is not a folder"
    if monorepo == PROJECT_ROOT.resolve():
        return None, f"{display_path(monorepo)} is this app's own repository, not your monorepo"
    return monorepo, ""


def run(args) -> bool:
    """Write what is missing; False, with nothing written, when an input is missing or bad."""
    monorepo, why = chosen_monorepo(args.monorepo)
    if monorepo is None:
        print(f"init: {why}; run it inside your monorepo, or give --monorepo PATH", file=sys.stderr)
        return False
    report = Report()
    settings_file = monorepo / SETTINGS_FILE
    kept = existing_settings(monorepo, settings_file)
    if kept:
        report.kept(kept, "exists" if kept == settings_file else "your settings file; init writes no second one")
        given = [flag(key.name) for key in flag_keys() if getattr(args, key.name) is not None]
        if given or args.compute:
            report.note(f"not used: {', '.join(given + (['--compute'] if args.compute else []))} "
                        f"({display_path(kept)} is kept as it is)")
        settings = read_settings(kept, report)
        workers_path = settings.workers_path if settings else monorepo / KEYS_BY_NAME["WORKERS_DIR"].default
        script = settings_start_script(settings) if settings else START_SCRIPT
        script_root = settings.monorepo_root if settings else monorepo
    else:
        values, problems = gather(args, settings_file, monorepo, sys.stdin.isatty())
        if problems:
            print(f"init: {len(problems)} problem(s), nothing was written:", file=sys.stderr)
            for problem in problems:
                print(f"  - {problem}", file=sys.stderr)
            print(f"Give each setting as its flag (`{command('init', '--help')}`), or run init in a terminal to be "
                  "asked.", file=sys.stderr)
            return False
        write_new(settings_file, settings_text(values), report)
        workers_path = monorepo / values.get("WORKERS_DIR", KEYS_BY_NAME["WORKERS_DIR"].default)
        script, script_root = START_SCRIPT, monorepo

    first_worker = workers_path / f"{FIRST_WORKER}.ts"
    write_new((kept or settings_file).parent / WORKERS_TOML,
              workers_toml_text(FIRST_WORKER if not holds_typescript(workers_path) else "worker-name"), report)
    if script == START_SCRIPT:
        write_new(script_root / START_SCRIPT, (EXAMPLE_MONOREPO / START_SCRIPT).read_text(), report, executable=True)
        default_workers = KEYS_BY_NAME["WORKERS_DIR"].default
        if workers_path.resolve() != (script_root / default_workers).resolve():
            report.note(f"{START_SCRIPT} starts the compiled workers of {default_workers}; yours are in "
                        f"{display_path(workers_path)}: adapt its last line")
    else:
        report.note(f"no start script written: START_COMMAND runs {script or 'no script'} "
                    f"(init writes {START_SCRIPT}, which the default START_COMMAND runs)")
    if holds_typescript(workers_path):
        report.note(f"no first worker written: {display_path(workers_path)} holds .ts files already")
    else:
        write_new(first_worker, first_worker_text(KEYS_BY_NAME["PORT"].default), report)
    # The committed file must not be ignored; a settings file of another name is the user's to place.
    update_gitignore(monorepo, settings_file if kept in (None, settings_file) else None, kept, report)

    print("\n".join(report.lines))
    print("\nNext:")
    print("\n".join(next_commands(kept or settings_file)))
    return True
