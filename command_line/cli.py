"""`python main.py [synth|workers|diagram|doctor|local|init]`: read the inputs, call the core or the app, print."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from workers_scan import CONNECTION_KEYS, InputError, load_all_settings, locate_settings
from workers_scan.errors import Problems, display_path
from workers_scan.settings import COMPUTE_BACKENDS, KEYS_BY_NAME, PROJECT_ROOT
from workers_scan.workers import WORKERS_TOML, check_scaling_configuration_quota, check_workers_toml, scan_workers

from . import init as scaffold
from .report import (backend, calls_between_workers, declared_entries, mermaid, resources_table, routes_table,
                     skipped, skipped_table, workers_json, workers_table)

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2
# Top-level modules of pyproject.toml's dependencies: missing means the app was not installed (a setup step,
# not a bug to report).
INSTALLED_WITH_THE_APP = {"cdktf", "constructs", "jsii", "cdktf_cdktf_provider_aws", "dotenv", "typeguard"}
# In this app's own folder, wherever the command runs: run from a team's monorepo, it writes nothing there
# unless asked (--out, $CDKTF_OUTDIR, --output). Local state lives beside the output folder (state_backend.py).
DEFAULT_OUTDIR = PROJECT_ROOT / "cdktf.out"
DEFAULT_DIAGRAM = PROJECT_ROOT / "topology.mmd"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python main.py", description="Private App Runner or ECS Fargate platform "
                                     "for a NestJS monorepo: synthesize Terraform JSON (default), list workers, draw "
                                     "the topology, check the machine.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--env-file", help="settings file (default: $INFRA_ENV_FILE, else .env or infra/aws/.env here "
                        "or in a folder above, up to the repository's root)")
    common.add_argument("--example", action="store_true", help="the embedded example (examples/monorepo); without "
                        "settings it is used only in this app's own folder, outside CI")
    common.add_argument("--quiet", action="store_true", help="print errors only")
    commands = parser.add_subparsers(dest="command", metavar="command")
    synth = commands.add_parser("synth", parents=[common], help="write Terraform JSON (default)")
    synth.add_argument("--out", default=os.environ.get("CDKTF_OUTDIR", str(DEFAULT_OUTDIR)),
                       help=f"output folder (default: $CDKTF_OUTDIR, else {DEFAULT_OUTDIR}, wherever you run it)")
    workers = commands.add_parser("workers", aliases=["routes"], parents=[common],
                                  help="discovered workers, routes and start commands (no synthesis)")
    workers.add_argument("--json", action="store_true", help="machine-readable output")
    diagram = commands.add_parser("diagram", parents=[common], help="Mermaid diagram of the topology")
    diagram.add_argument("--output", default=str(DEFAULT_DIAGRAM),
                         help=f"file to write (default {DEFAULT_DIAGRAM}); - prints it only")
    commands.add_parser("doctor", parents=[common], help="check Python, Node.js, terraform, provider, inputs")
    local = commands.add_parser("local", parents=[common], help="build the monorepo and run the synthesized platform "
                                "on this machine: workers, data stores and the REST API on localhost")
    local.add_argument("--out", default=os.environ.get("CDKTF_OUTDIR", str(DEFAULT_OUTDIR)),
                       help="output folder of the synth local runs (as `synth --out`); its builds go beside it, in "
                            ".local-run/")
    local.add_argument("--stack", help="the stack to run, when the settings make several (ENVIRONMENTS)")
    local.add_argument("--no-build", action="store_true", help="reuse the last build")
    local.add_argument("--port", type=int, default=8080, help="port of the REST API (default 8080)")
    local.add_argument("--postgres", metavar="URL", help="use this database instead of a throwaway PostgreSQL: "
                       "postgresql://user:password@host:port/database")
    local.add_argument("--redis", metavar="HOST:PORT", help="use this Redis instead of a throwaway one")
    local.add_argument("--secrets", metavar="FILE", help="KEY=value of the workers' own secrets for local runs "
                       "(default: secrets.local.env beside the settings file; keep it out of git)")
    init = commands.add_parser("init", help=f"write what your monorepo lacks: {scaffold.SETTINGS_FILE.as_posix()}, "
                               "workers.toml, the start script, a first worker, .gitignore lines (keeps every file "
                               "that exists)", description="Settings missing from the flags are asked for in a "
                               "terminal; without one, init lists them and exits 2.")
    init.add_argument("--monorepo", metavar="PATH", help="your monorepo (default: the repository's root, the first "
                      "folder holding .git at or above this one)")
    compute = KEYS_BY_NAME["COMPUTE"]
    init.add_argument("--compute", choices=COMPUTE_BACKENDS, help=f"{compute.help} Default {compute.default}.")
    for key in scaffold.flag_keys():
        init.add_argument(scaffold.flag(key.name), dest=key.name, metavar=key.name, help=key.help)
    init.set_defaults(quiet=False)
    # `python main.py` and `python main.py --env-file X` (what cdktf runs) mean `synth`.
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["synth", *argv]
    return parser.parse_args(argv)


class Progress:
    """One self-erasing status line on stderr, only when stdout is a terminal and not --quiet."""

    def __init__(self, quiet: bool):
        self.enabled = not quiet and sys.stdout.isatty() and sys.stderr.isatty()

    def step(self, text: str) -> None:
        if self.enabled:
            sys.stderr.write(f"\r\033[K{text}...")
            sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def read_inputs(args: argparse.Namespace, notice) -> list:
    source = locate_settings(args.env_file, example=args.example)
    if source.is_example:
        for passed_over in source.skipped:
            notice(f"{display_path(passed_over)} sets neither {' nor '.join(CONNECTION_KEYS)}: taken for an "
                   "application's .env, not read (give it with --env-file to have it checked)")
        notice(f"No settings file (.env): using the EMBEDDED EXAMPLE {display_path(source.path)}; "
               "do not deploy it, see README 'Use it on your monorepo'.")
    problems = Problems()
    try:
        all_settings = load_all_settings(source, problems=problems)
        if problems:   # the workers cannot be found without settings, but workers.toml can be checked: all at once
            check_workers_toml(source.path.parent / WORKERS_TOML, problems)
        inputs = [(settings, scan_workers(settings, problems)) for settings in all_settings]
    finally:   # notes stop nothing: said whether or not problems follow
        for note in problems.notes:
            notice(str(note))
    for key, value in (inputs[0][0].from_environment() if inputs else {}).items():
        shown = ",".join(map(str, value)) if isinstance(value, tuple) else value
        notice(f"{key}={shown} comes from the shell environment, which overrides {display_path(source.path)} "
               f"and its defaults (unset {key} to use theirs)")
    check_scaling_configuration_quota(inputs, problems)
    problems.raise_if_any()
    for settings, workers in inputs:
        if unread := [f"[{w.name}].{key}" for w in workers for key in w.unread_keys]:
            notice(f"{settings.stack_name}: {', '.join(unread)} in "
                   f"{display_path(settings.settings_dir / WORKERS_TOML)} not read with COMPUTE={settings.compute} "
                   "(docs/workers.md)")
    return inputs


def synth(args, inputs, say, notice) -> int:
    progress = Progress(args.quiet)
    progress.step("Loading provider bindings")
    from constructs_lib.app import StackInput, api_gateway_account_manager, synthesize  # loads jsii: only here
    from constructs_lib.image_pipeline import image_build_project_name

    progress.step("Synthesizing")
    stack_inputs = [StackInput(settings=s, workers=tuple(w)) for s, w in inputs]
    try:
        result = synthesize(stack_inputs, Path(args.out))
    finally:
        progress.done()
    for text in result.notices:
        notice(text)
    for settings, _ in inputs:
        if settings.allow_destroy_data:
            notice(f"{settings.stack_name}: ALLOW_DESTROY_DATA=true: terraform destroy deletes Aurora and Redis with "
                   "no final snapshot, and the NLB (throwaway environments only)")
        if settings.redeploy_on_secret_change and not settings.redeploys_on_secret_change:
            notice(f"{settings.stack_name}: no redeploy when a secret changes: on App Runner it would build "
                   f"{settings.branch}'s latest commit, which AUTO_DEPLOYMENTS=false keeps out; workers must read "
                   "their secrets again after a rotation (docs/worker-environment.md, 'The database password rotates')")
        if settings.manage_api_gateway_account:
            notice(f"{settings.stack_name}: sets the API Gateway CloudWatch role of {settings.aws_region} "
                   "(MANAGE_API_GATEWAY_ACCOUNT, one per account and region): hand it over before destroying this "
                   "stack (docs/day-2.md)")
        else:
            manager = api_gateway_account_manager(stack_inputs, settings)
            notice(f"{settings.stack_name}: the API Gateway CloudWatch role of {settings.aws_region} is set by "
                   + (f"{manager}: apply it first" if manager else "another deployment (MANAGE_API_GATEWAY_ACCOUNT="
                      "false): it must exist") + ", or AWS refuses the stage's access logs")
    say(f"Synthesized {len(result.stacks)} stack(s) into {display_path(result.outdir)}")
    for name, path in result.stacks.items():
        counts = result.resource_counts[name]
        say(f"\n{name}: {sum(counts.values())} resources, {display_path(path)}")
        say(resources_table(counts))
    for settings, _ in inputs:
        if settings.waf_count_rules:
            say(f"\n{settings.stack_name}: WAF rules that only count (WAF_COUNT_RULES): "
                + ", ".join(settings.waf_count_rules))
    for settings, workers in inputs:
        say(f"\nWorkers of {settings.stack_name} on {backend(settings)}:")
        say(workers_table(settings, workers))
    say("\nNext (docs/plan-and-apply.md):")
    for settings, _ in inputs:
        folder = display_path(result.stacks[settings.stack_name].parent)
        say(f"  terraform -chdir={folder} init && terraform -chdir={folder} plan -out=tfplan")
        if settings.uses_ecs:
            say(f"  after the first apply: aws codebuild start-build --project-name "
                f"{image_build_project_name(settings.name_prefix)}")
    return EXIT_OK


def list_workers(args, inputs) -> int:
    if args.json:
        print(json.dumps([workers_json(s, w) for s, w in inputs], indent=2))
        return EXIT_OK
    for settings, workers in inputs:
        print(f"{settings.stack_name} ({settings.aws_region}) on {backend(settings)}:")
        print(workers_table(settings, workers))
        print()
        print(routes_table(settings, workers))
        entries = skipped(settings)   # one scan of the workers folder
        if entries:
            print()
            print(skipped_table(entries))
        if declared := declared_entries(workers):
            print()
            print(declared)
        if calls := calls_between_workers(workers):
            print()
            print(calls)
    return EXIT_OK


def diagram(args, inputs, notice) -> int:
    text = "\n".join(f"%% {s.stack_name}\n{mermaid(s, w)}" for s, w in inputs)
    print(text, end="")
    if args.output != "-":  # `-`: standard output only, as for most tools
        Path(args.output).write_text(text)
        notice(f"(written to {args.output})")
    return EXIT_OK


def doctor(args) -> int:
    from .doctor import FAIL, check_inputs, environment_checks, render

    environment, notes = environment_checks(), []
    inputs = check_inputs(lambda: read_inputs(args, notes.append),
                          lambda: locate_settings(args.env_file, example=args.example), notes=notes)
    print(render(environment + inputs))
    if any(c.status == FAIL for c in inputs):
        return EXIT_BAD_INPUT
    return EXIT_FAILURE if any(c.status == FAIL for c in environment) else EXIT_OK


def local(args, inputs, notice) -> int:
    from constructs_lib.app import StackInput, synthesize  # loads jsii: only here

    from .local_run import LOCAL_SECRETS_FILE, Options
    from .local_stack import StackReadError, read_platform

    chosen = [(s, w) for s, w in inputs if args.stack in (None, s.stack_name)]
    if not chosen:
        raise InputError(f"--stack {args.stack}: the settings make {', '.join(s.stack_name for s, _ in inputs)}")
    if len(chosen) > 1:
        raise InputError(f"--stack: the settings make {len(chosen)} stacks ({', '.join(s.stack_name for s, _ in chosen)})"
                         "; name the one to run")
    settings, _ = chosen[0]
    result = synthesize([StackInput(settings=s, workers=tuple(w)) for s, w in inputs], Path(args.out))
    for text in result.notices:
        notice(text)
    say = (lambda *_: None) if args.quiet else (lambda text: print(text, flush=True))
    out = Path(args.out).absolute()
    options = Options(workdir=out.parent / ".local-run" / settings.stack_name, settings_dir=settings.settings_dir,
                      monorepo_root=settings.monorepo_root, build=not args.no_build, port=args.port,
                      postgres=args.postgres, redis=args.redis,
                      secrets_file=Path(args.secrets) if args.secrets else settings.settings_dir / LOCAL_SECRETS_FILE)
    try:
        read_platform(result.stacks[settings.stack_name])   # a stack local cannot run fails here, before any build
    except StackReadError as error:
        print(f"local: {error}", file=sys.stderr)
        return EXIT_FAILURE
    say(f"local: {settings.stack_name}, from {display_path(result.stacks[settings.stack_name])}")
    # The run goes on in a fresh Python without the synth's jsii kernel (its pipes close on exec and it exits), so
    # the process a user stops is this one, and nothing but what local starts is left to stop.
    request = options.write(result.stacks[settings.stack_name], quiet=args.quiet)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "command_line.local_run", str(request)])


def notice_stream():
    """stderr, so stdout stays parseable; but the cdktf CLI (which sets SYNTH_HCL_OUTPUT for the app it runs) logs
    every line of an app's stderr as "[ERROR]", so under it a notice goes to stdout, with the summary."""
    return sys.stdout if "SYNTH_HCL_OUTPUT" in os.environ else sys.stderr


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    say = (lambda *_: None) if args.quiet else print
    notice = (lambda *_: None) if args.quiet else (lambda text: print(text, file=notice_stream()))
    try:
        if args.command == "init":
            return EXIT_OK if scaffold.run(args) else EXIT_BAD_INPUT
        if args.command == "doctor":
            return doctor(args)
        inputs = read_inputs(args, notice)
        if args.command in ("workers", "routes"):
            return list_workers(args, inputs)
        if args.command == "diagram":
            return diagram(args, inputs, notice)
        if args.command == "local":
            return local(args, inputs, notice)
        return synth(args, inputs, say, notice)
    except InputError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # `python main.py workers | head`: the reader left, nothing went wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] not in INSTALLED_WITH_THE_APP:
            raise
        print(f"missing dependency: {error.name} is not installed in this Python ({sys.executable}).\n"
              "Install the app and its pinned dependencies, then run again:\n"
              f"  cd {PROJECT_ROOT} && python3 -m venv .venv && . .venv/bin/activate && "
              "pip install -c requirements/app.txt -e .",
              file=sys.stderr)
        return EXIT_FAILURE
    except Exception as error:  # noqa: BLE001 - last resort: one clear line, then the details
        print(f"unexpected failure: {type(error).__name__}: {error}\n"
              "(nothing was written; please report this with the output of `python main.py doctor`)",
              file=sys.stderr)
        if os.environ.get("DEBUG"):
            raise
        return EXIT_FAILURE
