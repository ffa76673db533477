"""Entry point of `cdktf synth` and of `python main.py [synth|workers]`: read, call, print."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from workers_scan import InputError, locate_settings
from workers_scan.errors import Problems
from workers_scan.settings import load_all_settings
from workers_scan.workers import scan_workers
from workers_scan.errors import display_path
from workers_scan.report import resources_table, workers_table

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2
DEFAULT_OUTDIR = "cdktf.out"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python main.py", description=__doc__)
    parser.add_argument("command", nargs="?", default="synth", choices=("synth", "workers"),
                        help="synth (default): write Terraform JSON; workers: list discovered workers only")
    parser.add_argument("--env-file", help="settings file (default: $INFRA_ENV_FILE, else ./.env, else the example)")
    parser.add_argument("--out", default=os.environ.get("CDKTF_OUTDIR", DEFAULT_OUTDIR),
                        help=f"output folder (default: $CDKTF_OUTDIR or {DEFAULT_OUTDIR})")
    parser.add_argument("--quiet", action="store_true", help="print errors only")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    say = (lambda *_: None) if args.quiet else print
    try:
        source = locate_settings(args.env_file)
        if source.is_example:
            say(f"No settings file (.env): using the EMBEDDED EXAMPLE {display_path(source.path)}; "
                "do not deploy it, see README 'Use it on your monorepo'.")
        environments = load_all_settings(source)
        problems = Problems()
        inputs = [(settings, scan_workers(settings, problems)) for settings in environments]
        problems.raise_if_any(deduplicate=True)
    except InputError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_INPUT

    if args.command == "workers":
        for settings, workers in inputs:
            if len(inputs) > 1:
                print(f"{settings.stack_name}:")
            print(workers_table(workers))
        return EXIT_OK

    from constructs_lib.app import StackInput, synthesize  # loads jsii: only when synthesizing

    result = synthesize([StackInput(settings=s, workers=tuple(w)) for s, w in inputs], Path(args.out))
    for name, path in result.stacks.items():
        counts = result.resource_counts[name]
        say(f"Synthesized stack {name} ({sum(counts.values())} resources) into {display_path(path.parent)}")
        say(resources_table(counts))
    for settings, workers in inputs:
        say("")
        say(f"Workers of {settings.stack_name}:")
        say(workers_table(workers))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
