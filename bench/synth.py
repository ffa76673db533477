"""Benchmark a full synth of the example monorepo scaled to N workers: both lazy loaders, Python's only, normal import.

Run from the repository root, with the project's venv:

    python bench/synth.py                       # sizes 1,10,50,100, all three modes, 1 repeat
    python bench/synth.py --repeat 3 --sizes 1,10 --modes lazy,python-lazy --json /tmp/r.json

Method
------
* Inputs. For each size N a monorepo is generated in a temporary folder with the shape of
  examples/monorepo: workers `apps/api/src/workers/worker001.ts` ... `workerNNN.ts` (each a small
  NestJS-style bootstrap) and `infra/aws/.env`, a copy of examples/monorepo/infra/aws/.env.example
  with MONOREPO_ROOT=../.. (no workers.toml: its tables name the example's workers).
* What is timed. Each measurement is a FULL synth in a fresh process, exactly as a user runs it:
  `python main.py --env-file <tmp>/infra/aws/.env --out <tmp out> --quiet`, in the repository root.
  Mode "lazy" is the default: Python imports only the provider modules used (constructs_lib/aws.py) and
  node loads only those (constructs_lib/lazy_provider_index.js), in one node process
  (constructs_lib/jsii_in_process.js); mode "python-lazy" turns the Node side off (CDKTF_AWS_NODE_LAZY=0:
  the whole index, behind jsii's relay process); mode "eager" runs with CDKTF_AWS_EAGER_IMPORT=1 (normal
  `import cdktf_cdktf_provider_aws`, and jsii's Node side as it comes). Settings keys that happen to be
  set in this shell (AWS_REGION, ...) are removed from the child's environment so that they cannot
  override the generated file.
* Wall time: time.perf_counter() from just before the process is spawned until it has exited.
* Peak RSS of the process tree: while the synth runs, every ~20 ms the benchmark walks /proc/*/stat
  to find the synth process and all of its descendants (the jsii runtime's `node` child, and any
  process it starts), sums their VmRSS from /proc/<pid>/status, and keeps the largest sum seen.
  `/usr/bin/time -v` or getrusage(RUSAGE_CHILDREN) would report the maximum of a single process
  (Python or node), not of the tree. Caveats: pages shared between processes are counted once per
  process (slight overestimate); a peak shorter than the sampling interval can be missed (slight
  underestimate). MB here means MiB (2**20 bytes).
* Repeats: each (size, mode) is measured --repeat times, interleaving modes within a round; the
  reported wall time and peak RSS are the medians (taken independently).
* Warm-up: before measuring, one uncounted synth per selected mode (smallest size) compiles the
  .pyc files of everything that mode imports and warms the page cache; eager mode imports ~2,100
  modules that the lazy mode never touches, so one lazy warm-up would not warm them.
* Checks: a run that exits non-zero stops the benchmark with its stderr (exit status 1). The
  sha256 of each synthesized cdk.tf.json is recorded; every mode's output of the same size must
  be identical (a warning is printed otherwise).
* Mode "ecs" is "lazy" on COMPUTE=ecs (set in the child's environment, over the file): another stack, so it
  is left out of the identical-output check; its wall time over lazy's is reported per size.
* Derived numbers: speed-ups = python-lazy wall / lazy wall and eager wall / lazy wall; per-extra-worker
  cost of a mode =
  (wall(largest size) - wall(smallest size)) / (largest - smallest), in ms (with the default sizes,
  (t100 - t1) / 99).

Everything is written to --json (default bench/results.json, git-ignored) with machine information
(nproc, total memory, Python and Node versions, git commit). Standard library only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_ENV = REPO / "examples" / "monorepo" / "infra" / "aws" / ".env.example"
WORKERS_DIR = "apps/api/src/workers"
BUILD_FILES = ("pnpm-lock.yaml", "pnpm-workspace.yaml", "apps/api/package.json", "apps/api/scripts/start-worker.sh")
MODES = {"lazy": {}, "python-lazy": {"CDKTF_AWS_NODE_LAZY": "0"}, "eager": {"CDKTF_AWS_EAGER_IMPORT": "1"},
         # The same monorepo on the ECS backend (both lazy loaders), set as the shell would over the file.
         # (APP_RUNNER_CONNECTION_ARN emptied: a key of the other backend, set, is an error.)
         "ecs": {"COMPUTE": "ecs", "APP_RUNNER_CONNECTION_ARN": "",
                 "CODECONNECTIONS_ARN": "arn:aws:codeconnections:eu-west-1:123456789012:"
                                        "connection/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"}}
OTHER_OUTPUT = {"ecs"}  # modes that synthesize another stack (not compared for identical output)
POLL_SECONDS = 0.02
WORKER_SOURCE = """\
import {{ NestFactory }} from '@nestjs/core';
import {{ {cls} }} from '../{name}/{name}.module';

async function bootstrap(): Promise<void> {{
  const app = await NestFactory.create({cls});
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 3000), '0.0.0.0');
}}

void bootstrap();
"""


# ---------------------------------------------------------------------------------------------
# Inputs


def make_monorepo(root: Path, workers: int) -> Path:
    """Write a monorepo with `workers` workers under `root`; return its settings file."""
    folder = root / WORKERS_DIR
    folder.mkdir(parents=True)
    for i in range(1, workers + 1):
        name = f"worker{i:03d}"
        (folder / f"{name}.ts").write_text(WORKER_SOURCE.format(name=name, cls=f"Worker{i:03d}Module"))
    # What the default build and start commands need (the build check refuses a synth without them).
    for needed in BUILD_FILES:
        (root / needed).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(EXAMPLE_ENV.parents[2] / needed, root / needed)
    (root / "apps" / "api" / "src" / "i18n").mkdir(parents=True)  # the build command copies it
    lines = [line for line in EXAMPLE_ENV.read_text().splitlines() if not line.startswith("MONOREPO_ROOT=")]
    env = root / "infra" / "aws" / ".env"
    env.parent.mkdir(parents=True)
    env.write_text("\n".join(lines + ["MONOREPO_ROOT=../.."]) + "\n")
    return env


def child_environment(mode: str) -> dict[str, str]:
    env = dict(os.environ)
    ignored = {"CDKTF_AWS_EAGER_IMPORT", "CDKTF_AWS_NODE_LAZY", "CDKTF_AWS_JSII_RELAY", "JSII_RUNTIME", "NODE_OPTIONS",
               "INFRA_ENV_FILE", "CDKTF_OUTDIR"}
    try:  # pure Python, no jsii: the list of settings keys that would override the file
        sys.path.insert(0, str(REPO))
        from workers_scan.settings import KEYS_BY_NAME
        ignored |= set(KEYS_BY_NAME)
    except Exception:  # layout changed: keep going, the generated file still sets the required keys
        pass
    finally:
        sys.path.remove(str(REPO))
    for key in ignored:
        env.pop(key, None)
    env.update(MODES[mode])
    node_major = node_version().lstrip("v").split(".")[0]
    if node_major.isdigit():
        env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", node_major)
    return env


# ---------------------------------------------------------------------------------------------
# Measurement


def _parents() -> dict[int, int]:
    """pid -> ppid of every visible process."""
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:  # exited meanwhile
            continue
        # Field 2 (comm) may contain spaces and parentheses: parse after the last ')'.
        fields = stat[stat.rfind(b")") + 2:].split()
        parents[int(entry)] = int(fields[1])
    return parents


def _descendants(root: int, parents: dict[int, int]) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0  # exited, or a zombie (no VmRSS line)


def tree_rss_kib(root: int) -> int:
    return sum(_rss_kib(pid) for pid in _descendants(root, _parents()))


def run_synth(env_file: Path, mode: str, workdir: Path) -> dict:
    """One full synth in a fresh process; returns wall time, peak tree RSS and the output's hash."""
    out = workdir / f"out-{mode}"
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "main.py", "--env-file", str(env_file), "--out", str(out), "--quiet"]
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        env, peak = child_environment(mode), 0
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                                   stdout=stdout, stderr=stderr, start_new_session=True)
        try:
            while process.poll() is None:
                peak = max(peak, tree_rss_kib(process.pid))
                time.sleep(POLL_SECONDS)
        except BaseException:  # Ctrl-C: do not leave the synth and its node child running
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
        wall = time.perf_counter() - start
        if process.returncode != 0:
            stdout.seek(0)
            stderr.seek(0)
            sys.stderr.write(f"\nsynth failed (exit {process.returncode}, mode {mode}): {' '.join(command)}\n")
            sys.stderr.write(stdout.read().decode(errors="replace"))
            sys.stderr.write(stderr.read().decode(errors="replace"))
            raise SystemExit(1)
    stacks = sorted(out.glob("stacks/*/cdk.tf.json"))
    if not stacks:
        sys.stderr.write(f"synth exited 0 but wrote no stacks/*/cdk.tf.json under {out}\n")
        raise SystemExit(1)
    data = stacks[0].read_bytes()
    resources = sum(len(items) for items in json.loads(data).get("resource", {}).values())
    shutil.rmtree(out, ignore_errors=True)
    return {"wall_s": wall, "peak_rss_mb": peak / 1024, "resources": resources,
            "sha256": hashlib.sha256(data).hexdigest()}


# ---------------------------------------------------------------------------------------------
# Machine information


def node_version() -> str:
    try:
        return subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine_info() -> dict:
    total_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                total_kib = int(line.split()[1])
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True,
                                    text=True, check=True).stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        commit, dirty = "unknown", None
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_count": os.cpu_count(),
        "mem_total_mb": round(total_kib / 1024),
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "node": node_version(),
        "platform": platform.platform(),
        "git_commit": commit,
        "git_dirty": dirty,
    }


# ---------------------------------------------------------------------------------------------
# Report


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def per_worker_ms(rows: list[dict], mode: str) -> float | None:
    points = [(row["workers"], row[mode]["wall_s"]) for row in rows if mode in row]
    if len(points) < 2 or points[0][0] == points[-1][0]:
        return None
    (n0, t0), (n1, t1) = points[0], points[-1]
    return (t1 - t0) / (n1 - n0) * 1000


def table(rows: list[dict]) -> str:
    """Markdown, as in docs/performance.md: wall time and peak memory of each mode, and the lazy loaders' speed-ups."""
    modes = [m for m in MODES if any(m in row for row in rows)]
    header = ["workers", *(f"{m} wall s" for m in modes), *(f"{m} peak MB" for m in modes),
              "vs python-lazy", "vs eager"]
    lines = [header, ["---"] * len(header)]
    for row in rows:
        speedups = [row.get(f"speedup_{m}") for m in ("python-lazy", "eager")]
        lines.append([str(row["workers"]), *(fmt(row.get(m, {}).get("wall_s"), ".2f") for m in modes),
                      *(fmt(row.get(m, {}).get("peak_rss_mb"), ".0f") for m in modes),
                      *(fmt(x, ".1f") + ("x" if x else "") for x in speedups)])
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


# ---------------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python bench/synth.py", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,10,50,100", help="worker counts, comma-separated (default 1,10,50,100)")
    parser.add_argument("--modes", default=",".join(MODES), help=f"among {', '.join(MODES)}, comma-separated (default all)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size and mode; the median is reported")
    parser.add_argument("--json", default=str(REPO / "bench" / "results.json"), help="results file")
    args = parser.parse_args(argv)
    try:
        args.sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    except ValueError:
        parser.error("--sizes: comma-separated integers, e.g. 1,10,50,100")
    if not args.sizes or args.sizes[0] < 1:
        parser.error("--sizes: at least one size, each >= 1")
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not args.modes or any(m not in MODES for m in args.modes):
        parser.error(f"--modes: comma-separated, among {', '.join(MODES)}")
    if args.repeat < 1:
        parser.error("--repeat: at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    info = machine_info()
    print(f"synth benchmark: sizes {args.sizes}, modes {args.modes}, repeat {args.repeat}; "
          f"{info['nproc']} CPUs, {info['mem_total_mb']} MB, Python {info['python']}, node {info['node']}",
          flush=True)
    runs: dict[tuple[int, str], list[dict]] = {(n, m): [] for n in args.sizes for m in args.modes}
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as tmp:
        tmp = Path(tmp)
        env_files = {n: make_monorepo(tmp / f"monorepo-{n}", n) for n in args.sizes}
        for mode in args.modes:
            print(f"warm-up ({mode}, {args.sizes[0]} workers) ...", end=" ", flush=True)
            warm = run_synth(env_files[args.sizes[0]], mode, tmp)
            print(f"{warm['wall_s']:.2f} s, not counted", flush=True)
        for round_ in range(1, args.repeat + 1):
            for n in args.sizes:
                for mode in args.modes:
                    result = run_synth(env_files[n], mode, tmp)
                    runs[(n, mode)].append(result)
                    print(f"[{round_}/{args.repeat}] {n:>4} workers {mode:<11} {result['wall_s']:7.2f} s "
                          f"{result['peak_rss_mb']:7.0f} MB  {result['resources']} resources", flush=True)

    rows = []
    for n in args.sizes:
        row: dict = {"workers": n}
        for mode in args.modes:
            samples = runs[(n, mode)]
            row[mode] = {
                "wall_s": statistics.median(r["wall_s"] for r in samples),
                "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in samples),
                "resources": samples[0]["resources"],
                "sha256": samples[0]["sha256"],
                "runs": samples,
            }
        for other in ("python-lazy", "eager"):
            if "lazy" in row and other in row:
                row[f"speedup_{other}"] = row[other]["wall_s"] / row["lazy"]["wall_s"]
        row["identical_output"] = len({row[m]["sha256"] for m in args.modes if m not in OTHER_OUTPUT}) <= 1
        if "ecs" in args.modes and "lazy" in args.modes:
            row["ecs_over_apprunner"] = row["ecs"]["wall_s"] / row["lazy"]["wall_s"]
        if not row["identical_output"]:
            print(f"WARNING: {n} workers: the modes' cdk.tf.json differ", file=sys.stderr)
        rows.append(row)

    print()
    print(table(rows))
    for row in rows:
        if "ecs_over_apprunner" in row:
            print(f"{row['workers']} workers: ecs wall / apprunner (lazy) wall = {row['ecs_over_apprunner']:.2f}")
    per_worker = {mode: per_worker_ms(rows, mode) for mode in args.modes}
    for mode, ms in per_worker.items():
        if ms is not None:
            print(f"{mode} per extra worker: {ms:.1f} ms "
                  f"((t{args.sizes[-1]} - t{args.sizes[0]}) / {args.sizes[-1] - args.sizes[0]})")

    report = {
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": [sys.executable, *sys.argv],
        "machine": info,
        "parameters": {"sizes": args.sizes, "modes": args.modes, "repeat": args.repeat,
                       "poll_interval_s": POLL_SECONDS, "statistic": "median",
                       "peak_rss": "max over samples of the sum of VmRSS of the synth process and its descendants"},
        "results": rows,
        "per_extra_worker_ms": per_worker,
    }
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nresults written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
