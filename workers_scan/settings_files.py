"""Where the settings come from: the file found or given, its per-environment overlays, the local overrides
beside a platform.env and the process environment, read in layers, each value parsed by its key
(workers_scan/settings.py) and checked (workers_scan/settings_checks.py), every problem reported at once."""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any, Mapping

from . import settings as schema
from . import secret_values
from .envfile import read_env_file
from .errors import InputError, Problem, Problems, display_path
from .git_files import ignore_rule
from .setting_parsers import ENVIRONMENT_RE, RESERVED_ENVIRONMENTS, Invalid, parse_environments
from .settings import EMPTY, FROM_ENVIRONMENT, KEYS, KEYS_BY_NAME, SETTINGS_FILE_VARIABLE, Settings, SettingsSource
from .settings_checks import apply_environment_defaults, assign_api_gateway_account, check_stacks_apart, cross_checks


def in_ci(environ: Mapping[str, str]) -> bool:
    """A CI run (CI=true, as every CI service sets it): the embedded example is never a fallback there."""
    return environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def locate_settings(env_file: str | os.PathLike | None = None, environ: Mapping[str, str] | None = None,
                    default: Path | None = None, cwd: Path | None = None, example: bool = False) -> SettingsSource:
    """--example, else --env-file, else $INFRA_ENV_FILE, else a settings file where the command runs or in a folder
    above it, up to the repository's root (in each, `platform.env`, then a `.env` holding a connection key, then the
    same two in `infra/aws/`), else .env in this
    project's root, else the embedded example, but only in this project's own folder and outside CI: anywhere else
    (a team's CI checkout, where .env is usually ignored by git) an InputError lists every place looked."""
    environ = os.environ if environ is None else environ
    default = schema.DEFAULT_SETTINGS if default is None else default  # read now: tests patch it
    if example:
        return SettingsSource(schema.EXAMPLE_SETTINGS, is_example=True)
    chosen = env_file or environ.get(SETTINGS_FILE_VARIABLE)
    if chosen:
        return SettingsSource(Path(chosen).absolute(), is_example=False)
    here = (Path.cwd() if cwd is None else cwd).absolute()
    skipped, looked = [], []
    for folder in _up_to_repository_root(here):
        for place in (folder, folder / "infra" / "aws"):
            committed, candidate = place / COMMITTED_NAME, place / LOCAL_NAME
            if _exists(committed):   # the name is this tool's: no connection key needed to recognise it
                return SettingsSource(committed.absolute(), is_example=False)
            looked.append(committed)
            if candidate.resolve() == default.resolve():
                continue
            if is_settings_file(candidate):
                return SettingsSource(candidate.absolute(), is_example=False)
            if _exists(candidate):
                skipped.append(candidate.absolute())
            looked.append(candidate)
    if default.exists():
        return SettingsSource(default.absolute(), is_example=False)
    if _within(here, schema.PROJECT_ROOT) and not in_ci(environ):
        return SettingsSource(schema.EXAMPLE_SETTINGS, is_example=True, skipped=tuple(skipped))
    def place(path: Path) -> str:
        return f"{display_path(path)} ({'no connection key: not a settings file' if path in skipped else 'absent'})"

    places = [place(p.absolute()) for p in looked] + [f"{display_path(default)} (absent)"]
    why = "CI=true: the embedded example is never used in CI" if in_ci(environ) else \
        f"the embedded example is used only in this app's folder, {schema.PROJECT_ROOT}"
    raise InputError([Problem(display_path(here), "settings file", (
        f"none found; looked at {', '.join(places)}. Create it with `python main.py init` (it writes "
        f"infra/aws/{COMMITTED_NAME}, which is committed and found from anywhere in the repository), or give one with "
        f"--env-file or ${SETTINGS_FILE_VARIABLE}, or run with --example for the embedded example ({why})"))])


def _up_to_repository_root(folder: Path) -> list[Path]:
    """`folder` and each folder above it, up to the first that holds .git (the repository's root), or /."""
    chain = [folder, *folder.parents]
    root = repository_root(folder)
    return chain[:chain.index(root) + 1] if root else chain


def repository_root(folder: Path) -> Path | None:
    """The first of `folder` and the folders above it that holds .git: the repository's root, where discovery stops."""
    for candidate in [folder, *folder.parents]:
        try:
            if (candidate / ".git").exists():
                return candidate
        except OSError:   # e.g. a name too long to check
            continue
    return None


def _within(folder: Path, root: Path) -> bool:
    try:
        folder.resolve().relative_to(root.resolve())
        return True
    except (ValueError, OSError):
        return False


# The settings file a team commits (CI has it), and the file beside it read over it for this machine only (local
# overrides; .env is ignored by git in most Node repositories). A .env alone, holding a connection key, is the
# settings file, as in the first versions.
COMMITTED_NAME = "platform.env"
LOCAL_NAME = ".env"
# A .env of this tool sets the connection key one of the backends requires; an application's .env does not.
CONNECTION_KEYS = tuple(schema.CONNECTION_KEY.values())
ASSIGNED_KEY = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=", re.MULTILINE)


def is_settings_file(path: Path) -> bool:
    """A .env of this tool (not an application's): it sets a connection key, or a misspelling of one (so that the
    typo gets the unknown-key error, "did you mean", instead of the file being passed over for the example); not
    another variable that contains one (MY_APP_RUNNER_CONNECTION_ARN)."""
    keys = _assigned_keys(path) if _exists(path) else []
    return any(key in CONNECTION_KEYS or difflib.get_close_matches(key, CONNECTION_KEYS, n=1, cutoff=0.85)
               and not any(known in key for known in CONNECTION_KEYS) for key in keys)


def _exists(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # e.g. a name too long to check
        return False


def load_settings(source: SettingsSource, environ: Mapping[str, str] | None = None) -> Settings:
    """The settings of a file that describes one environment (see `load_all_settings`)."""
    return load_all_settings(source, environ)[0]


def load_all_settings(source: SettingsSource, environ: Mapping[str, str] | None = None,
                      problems: Problems | None = None) -> list[Settings]:
    """Read and validate every environment's settings; raise one InputError listing every problem, or, given
    `problems`, add them there (and the notes) and return the environments that resolved.

    Layers, lowest to highest: the settings file, `<settings file>.<environment>` when ENVIRONMENTS lists
    several environments, the local overrides (`.env` beside a `platform.env`), then known keys of the process
    environment (not for the embedded example, which is synthesized from its own file only so a developer's shell
    cannot break it).
    """
    environ = {} if source.is_example else (os.environ if environ is None else environ)
    collect = problems is not None
    problems = Problems() if problems is None else problems
    path = source.path
    if not path.is_file():
        problems.add(path, "", f"settings file not found (given by --env-file or ${SETTINGS_FILE_VARIABLE}); "
                               "`python main.py init` writes one, or copy examples/monorepo/infra/aws/.env.example")
        return _finish([], problems, collect)
    before = len(problems)
    base = _read_layer(path, problems)
    if base is None:  # unreadable: reporting every required key as missing too would only be noise
        return _finish([], problems, collect)
    local = _local_overrides(path, problems)
    if not source.is_example:
        _note_ignored(path, problems)
    env_layer = {k: (v, FROM_ENVIRONMENT) for k, v in environ.items() if k in KEYS_BY_NAME}
    for key in sorted(RETIRED_KEYS.keys() & environ.keys()):
        problems.add(FROM_ENVIRONMENT, key, f"is no longer read: {RETIRED_KEYS[key]}; unset it")

    listed = {**base, **local, **env_layer}.get("ENVIRONMENTS")
    environments: list[str | None] = [None]
    parsed: dict[str, Any] = {}   # keys parsed before the layers are resolved: not parsed again
    if listed is not None and listed[0].strip():
        try:
            parsed["ENVIRONMENTS"] = parse_environments(listed[0])
        except Invalid as exc:
            problems.add(listed[1], "ENVIRONMENTS", str(exc))
            return _finish([], problems, collect)
        environments = list(parsed["ENVIRONMENTS"])
    _check_overlays(path, [e for e in environments if e is not None], problems)

    results: list[Settings] = []
    for environment in environments:
        layers = dict(base)
        if environment is not None:
            overlay_path = path.with_name(f"{path.name}.{environment}")
            if overlay_path.is_file():
                layers.update(_read_layer(overlay_path, problems) or {})
        layers.update(local)
        layers.update(env_layer)
        if environment is not None:
            layers["ENVIRONMENT"] = (environment, layers["ENVIRONMENTS"][1])
        settings = _resolve(layers, path, source.is_example, problems, parsed)
        if settings:
            results.append(settings)
    check_stacks_apart(results, problems)
    results = assign_api_gateway_account(results, problems)
    return _finish(results if len(problems) == before else [], problems, collect)


def _finish(results: list[Settings], problems: Problems, collect: bool) -> list[Settings]:
    if not collect:
        problems.raise_if_any()
    return results


def _local_overrides(path: Path, problems: Problems) -> dict[str, tuple[str, str]]:
    """The `.env` beside a platform.env, read over it: this machine's overrides, said key by key (CI has none of
    them). A `.env` there that sets anything but settings is an application's: noted, not read."""
    local_path = path.with_name(LOCAL_NAME)
    if path.name != COMMITTED_NAME or not _exists(local_path):
        return {}
    foreign = sorted(key for key in set(_assigned_keys(local_path)) - set(KEYS_BY_NAME) - set(RETIRED_KEYS)
                     if not difflib.get_close_matches(key, KEYS_BY_NAME, n=1, cutoff=0.85))   # a typo is read (and said)
    if foreign:
        problems.note(local_path, "", f"not read as this machine's overrides of {path.name}: it sets "
                                      f"{', '.join(foreign[:3])}{'...' if len(foreign) > 3 else ''}, which are no "
                                      "settings (an application's .env)")
        return {}
    local = _read_layer(local_path, problems) or {}
    if local:
        problems.note(local_path, "", f"overrides {', '.join(sorted(local))} of {path.name} on this machine only "
                                      "(local overrides: a CI checkout does not have them)")
    return local


def _assigned_keys(path: Path) -> list[str]:
    try:
        return ASSIGNED_KEY.findall(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return []


def _note_ignored(path: Path, problems: Problems) -> None:
    """A settings file git ignores is not in a CI checkout: CI would stop there (it never falls back to the
    example), so say it on the machine where it is still easy to fix."""
    rule = ignore_rule(path)
    if rule is None:
        return
    fix = (f"add !{display_path(path)} after that rule (a .gitignore line) and commit it" if path.name == COMMITTED_NAME
           else f"rename it (git mv) to {COMMITTED_NAME} and commit it; a {LOCAL_NAME} beside it is then read over "
                "it, on this machine only")
    problems.note(path, "", f"is ignored by git ({rule}): a CI checkout will not have it; {fix}")


def _check_overlays(path: Path, environments: list[str], problems: Problems) -> None:
    """A `<settings file>.<environment>` beside the file for no environment ENVIRONMENTS lists would never be read:
    an error, like a key no setting has (most often a renamed or removed environment). So is a `.env.<environment>`
    beside a platform.env, whose layers are platform.env.<environment>. A sibling that is a settings file of its
    own (it sets a connection key: the example's .env.ecs.example copied as .env.ecs) is a note: it is meant to be
    given with --env-file."""
    try:
        siblings = sorted(path.parent.iterdir())
    except OSError:
        return
    prefixes = [path.name] + ([LOCAL_NAME] if path.name == COMMITTED_NAME else [])
    for sibling in siblings:
        for prefix in prefixes:
            name = sibling.name.removeprefix(f"{prefix}.")
            if (sibling.name == name or not ENVIRONMENT_RE.match(name) or name in RESERVED_ENVIRONMENTS
                    or prefix == path.name and name in environments or not sibling.is_file()):
                continue
            if prefix != path.name:
                # .env.<x> beside a platform.env: an application's (.env.local, .env.test...) unless it sets
                # settings only, which makes it a layer under the wrong name.
                keys = set(_assigned_keys(sibling))
                if keys and keys <= set(KEYS_BY_NAME):
                    problems.add(sibling, "", f"is not read: beside {COMMITTED_NAME}, the layer of environment "
                                              f"{name} is {COMMITTED_NAME}.{name}; rename it")
            elif _is_whole_settings_file(sibling):
                problems.note(sibling, "", f"is a settings file of its own, not read with {display_path(path)}: "
                                           f"give it with --env-file {display_path(sibling)} to synthesize it")
            else:
                why = (f"{name} is not in ENVIRONMENTS ({', '.join(environments)}); add it there" if environments
                       else f"layers {path.name}.<environment> are read for the environments ENVIRONMENTS lists, "
                            "and it is not set; set it")
                problems.add(sibling, "", f"is not read: {why}, or rename or remove the file")


def _is_whole_settings_file(path: Path) -> bool:
    """A settings file that stands alone (the example's .env.ecs.example copied as .env.ecs): it sets a connection
    key and every key without a default, where a layer sets a few keys over its base."""
    keys = set(_assigned_keys(path))
    required = {key.name for key in KEYS if key.default is None}
    return is_settings_file(path) and required <= keys


# Keys earlier versions read: setting one is an error, never silently ignored.
RETIRED_KEYS = {
    "AURORA_DELETION_PROTECTION": "Aurora is protected in every environment now; ALLOW_DESTROY_DATA=true lifts it",
    "AURORA_PREVENT_DESTROY": "Aurora is protected in every environment now; ALLOW_DESTROY_DATA=true lifts it",
}


def _read_layer(path: Path, problems: Problems) -> dict[str, tuple[str, str]] | None:
    entries = read_env_file(path, problems)
    if entries is None:
        return None
    for key in entries:
        if key in RETIRED_KEYS:
            problems.add(path, key, f"is no longer read: {RETIRED_KEYS[key]}; remove the line")
        elif key not in KEYS_BY_NAME:
            close = difflib.get_close_matches(key, KEYS_BY_NAME, n=1, cutoff=0.85)
            if close:
                problems.add(path, key, f"unknown key; did you mean {close[0]}?")
            else:
                # Never ignored: it is most often a worker variable written in the wrong file.
                problems.add(path, key, "unknown key: not a setting (docs/settings.md); a worker's variable "
                                        "belongs in .env.workers (every worker) or .env.workers.<worker>")
    return {key: (entry.value, display_path(path)) for key, entry in entries.items() if key in KEYS_BY_NAME}


def _check_secret_values(layers: dict[str, tuple[str, str]], allowed: tuple[str, ...], problems: Problems) -> set[str]:
    """Settings reach the Terraform JSON too (REPOSITORY_URL, BUILD_COMMAND...): none may hold a secret's value.
    Returns the keys that do."""
    given = [(key, text) for key, (text, _) in sorted(layers.items()) if text and key not in allowed]
    findings = list(filter(None, secret_values.scan(given)))
    for finding in findings:
        problems.add(layers[finding.key][1], finding.key,
                     f"holds a secret in plain text ({finding.kind}: {finding.hint}), which would be written to the "
                     "Terraform JSON and state: a setting cannot be a secret reference; remove the credential (a "
                     "connection ARN gives App Runner and CodeBuild their access to GitHub), or list the key in "
                     "SECRET_KEY_ALLOWLIST if it is not secret")
    return {finding.key for finding in findings}


def _resolve(layers: dict[str, tuple[str, str]], path: Path, is_example: bool,
             problems: Problems, parsed: dict[str, Any] | None = None) -> Settings | None:
    before = len(problems)
    origin = {key: where for key, (_, where) in layers.items()}
    allowed = layers.get("SECRET_KEY_ALLOWLIST", ("", ""))[0].replace(" ", "").split(",")
    # First: a value that is a secret is reported as one, and never parsed (a parser's message would quote it).
    secret = _check_secret_values(layers, tuple(allowed), problems)
    values: dict[str, Any] = {}
    for key in KEYS:
        if key.name in secret:
            continue
        if parsed and key.name in parsed:
            values[key.field] = parsed[key.name]
            continue
        text = layers[key.name][0] if key.name in layers else None
        where = origin.get(key.name, display_path(path))
        if text is None or (text.strip() == "" and key.default is None):
            if key.default is None:
                problems.add(where, key.name, f"is required ({key.help})")
                continue
            text = key.default
        if text.strip() == "" and key.default == "":
            values[key.field] = EMPTY[key.field]
            continue
        try:
            values[key.field] = key.parse(text)
        except Invalid as exc:
            problems.add(where, key.name, str(exc))

    cross_checks(values, origin, path, problems)
    if len(problems) > before:
        return None
    values["monorepo_root"] = (path.parent / values["monorepo_root"]).resolve()
    apply_environment_defaults(values)
    return Settings(settings_file=path, is_example=is_example, sources=origin, **values)
