"""The lazy provider loaders (Python and Node) must never change the output, only the time it takes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from constructs_lib import aws
from constructs_lib.app import StackInput, synthesize

ROOT = Path(__file__).parent.parent


def test_provider_bindings_are_loaded_lazily(example_stack):
    assert aws.is_lazy(), "the full cdktf_cdktf_provider_aws __init__ ran: some import bypasses constructs_lib.aws"
    loaded = {m.split(".")[1] for m in sys.modules if m.startswith("cdktf_cdktf_provider_aws.")}
    assert 10 < len(loaded) < 100, f"{len(loaded)} of the package's ~2,100 resource modules loaded"


def test_lazy_and_normal_import_synthesize_byte_identical_json(tmp_path, example_settings, example_workers):
    lazy = synthesize([StackInput(example_settings, tuple(example_workers))], tmp_path / "lazy")
    eager_out = tmp_path / "eager"
    env = dict(os.environ, CDKTF_AWS_EAGER_IMPORT="1", INFRA_ENV_FILE=str(example_settings.settings_file))
    script = (
        "import sys; from constructs_lib import aws; import main; "
        f"code = main.main(['--out', {str(eager_out)!r}, '--quiet']); "
        "assert not aws.is_lazy(), 'eager import was not used'; sys.exit(code)"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr
    eager = (eager_out / "stacks" / "acme-dev" / "cdk.tf.json").read_bytes()
    assert eager == lazy.stacks["acme-dev"].read_bytes()


# ---------------------------------------------------------------- the Node side (constructs_lib/lazy_provider_index.js)

def child_environment(**environ: str) -> dict[str, str]:
    """This environment without the Node-side switches and what they set: the child enables them itself, as for
    a user, unless `environ` says otherwise."""
    dropped = (aws.EAGER_VARIABLE, aws.NODE_LAZY_VARIABLE, aws.RELAY_VARIABLE, "JSII_RUNTIME", "NODE_OPTIONS")
    return dict({k: v for k, v in os.environ.items() if k not in dropped}, **environ)


def synth_in_subprocess(out: Path, env_file: Path, report: Path | None = None, **environ: str):
    env = child_environment(INFRA_ENV_FILE=str(env_file), **environ)
    if report:
        env["CDKTF_AWS_LAZY_REPORT"] = str(report)
    result = subprocess.run([sys.executable, "main.py", "--out", str(out), "--quiet"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return {p.parent.name: p.read_bytes() for p in (out / "stacks").glob("*/cdk.tf.json")}


def camel(module: str) -> str:
    head, *rest = module.split("_")
    return head + "".join(part.capitalize() for part in rest)


def test_this_test_process_runs_the_kernel_with_the_node_loader():
    if os.environ.get(aws.NODE_LAZY_VARIABLE) == "0" or os.environ.get(aws.EAGER_VARIABLE, "") not in ("", "0"):
        pytest.skip("the loader is turned off in this shell on purpose")  # never in CI, which sets neither
    assert aws.node_loader_enabled(), "constructs_lib was imported after cdktf: its kernel started without it"
    if aws.in_process_kernel_wanted(os.environ):  # CDKTF_AWS_JSII_RELAY is not set in CI
        assert aws.in_process_kernel_enabled(), "constructs_lib was imported after cdktf: jsii's relay runs"


def test_the_kernel_loads_only_the_provider_modules_we_use(tmp_path, example_settings, example_workers):
    report = tmp_path / "lazy.json"
    synth_in_subprocess(tmp_path / "out", example_settings.settings_file, report)
    loaded = json.loads(report.read_text())
    assert loaded["lazy"] is True
    used = {camel(m.split(".")[1]) for m in sys.modules if m.startswith("cdktf_cdktf_provider_aws.")
            and m.count(".") == 1 and m.split(".")[1] != "_jsii"}
    assert set(loaded["loaded"]) <= used and len(loaded["loaded"]) < 100  # of the index's 2,135
    # The kernel's type definitions of the provider (33 MB) are read by range, never whole.
    provider_defs = {file: how for file, how in loaded["defs"].items()
                     if Path(file).parent.parts[-2:] == ("@cdktf", "provider-aws")}
    assert list(provider_defs.values()) == ["by range"], loaded["defs"]


def test_node_loader_changes_nothing_but_time(tmp_path, example_settings, example_workers):
    """Every kind of stack, synthesized with and without the Node loader: byte-identical."""
    from .helpers import make_monorepo

    variants = [example_settings.settings_file,
                make_monorepo(tmp_path / "envs", ["orders.ts", "billing/"], settings={
                    "ENVIRONMENT": None, "ENVIRONMENTS": "dev,prod", "STATE_BACKEND": "s3",
                    "STATE_BUCKET": "acme-state", "STATE_LOCK_TABLE": "acme-locks", "ALLOW_DESTROY_DATA": "true"}),
                make_monorepo(tmp_path / "vpc", ["orders.ts"], settings={
                    "VPC_ID": "vpc-0123456789abcdef0", "API_AUTHORIZATION": "AWS_IAM", "REDIS_ENABLED": "false",
                    "PRIVATE_SUBNET_IDS": "subnet-0123456789abcdef0,subnet-0123456789abcdef1"})]
    for index, env_file in enumerate(variants):
        report = tmp_path / f"lazy-{index}.json"
        lazy = synth_in_subprocess(tmp_path / f"lazy-{index}", env_file, report)
        plain = synth_in_subprocess(tmp_path / f"plain-{index}", env_file, CDKTF_AWS_NODE_LAZY="0")
        assert json.loads(report.read_text())["lazy"] is True
        assert lazy and lazy == plain


def run_node_with_the_loader(package: Path, script: str, report: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, NODE_OPTIONS=aws.node_loader_option(), CDKTF_AWS_LAZY_REPORT=str(report))
    return subprocess.run(["node", "-e", script], cwd=package, env=env, capture_output=True, text=True, timeout=60)


def fake_provider(root: Path, index: str) -> Path:
    lib = root / "node_modules" / "@cdktf" / "provider-aws" / "lib"
    lib.mkdir(parents=True)
    for name in ("vpc", "subnet"):
        (lib / f"{name}.js").write_text(f'globalThis.required = (globalThis.required || []).concat("{name}");\n'
                                        f'exports.Kind = "{name}";\n')
    (lib / "index.js").write_text(index)
    (lib.parent / "package.json").write_text('{"name": "@cdktf/provider-aws", "main": "lib/index.js"}')
    return root


INDEX = ('"use strict";\n// generated by cdktf get\nObject.defineProperty(exports, "__esModule", { value: true });\n'
         'exports.subnet = exports.vpc = void 0;\nexports.vpc = require("./vpc");\nexports.subnet = require("./subnet");\n')
PROBE = ('const p = require("@cdktf/provider-aws"); const before = (globalThis.required || []).slice(); '
         'const kind = p.subnet.Kind; console.log(JSON.stringify({before, after: globalThis.required, kind, '
         'keys: Object.keys(p).sort()}));')


def test_the_node_loader_defers_each_module_of_an_index_of_the_expected_shape(tmp_path):
    package = fake_provider(tmp_path, INDEX)
    result = run_node_with_the_loader(package, PROBE, tmp_path / "report.json")
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen == {"before": [], "after": ["subnet"], "kind": "subnet", "keys": ["subnet", "vpc"]}
    assert json.loads((tmp_path / "report.json").read_text()) == {"lazy": True, "loaded": ["subnet"], "defs": {}}


def test_the_node_loader_leaves_any_other_shape_alone(tmp_path):
    package = fake_provider(tmp_path, INDEX + 'exports.extra = 1 + 1;\n')
    result = run_node_with_the_loader(package, PROBE, tmp_path / "report.json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["before"] == ["vpc", "subnet"]  # the normal, eager behaviour
    assert json.loads((tmp_path / "report.json").read_text()) == {"lazy": False, "loaded": [], "defs": {}}


DEFS_PROBE = """
const fs = require("fs");
const file = process.argv[1];
const real = fs.readFileSync(file, {});  // with options: never the stand-in
const defs = fs.readFileSync(file);
const ranges = [[0, 12], [12, 40], [5, 5], [40, real.length]];
const byRange = ranges.map(([start, end]) => defs.toString("utf-8", start, end));
const afterRanges = JSON.parse(fs.readFileSync(process.env.CDKTF_AWS_LAZY_REPORT, "utf-8")).defs[file];
const other = [defs.length, defs.subarray(0, 12).toString("utf-8"), Buffer.isBuffer(defs), defs.toString("hex", 0, 4)];
console.log(JSON.stringify({
  same: byRange.every((text, i) => text === real.toString("utf-8", ...ranges[i])), byRange, afterRanges,
  other, expected: [real.length, real.subarray(0, 12).toString("utf-8"), true, real.toString("hex", 0, 4)]}));
"""


def test_the_node_loader_reads_type_definitions_by_range_and_falls_back_to_the_whole_file(tmp_path):
    """The kernel's `.jsii.runtime-defs.v1.jsonl` stand-in: a range read gives the bytes of the real Buffer (a
    multi-byte character included) without reading the whole file; any other use reads it once, as before."""
    defs = tmp_path / ".jsii.runtime-defs.v1.jsonl"
    defs.write_text('{"fqn":"a.Vpc"}\n{"fqn":"a.Süßnet"}\n{"docs":"x"}\n', encoding="utf-8")
    report = tmp_path / "report.json"
    env = dict(os.environ, NODE_OPTIONS=aws.node_loader_option(), CDKTF_AWS_LAZY_REPORT=str(report))
    result = subprocess.run(["node", "-e", DEFS_PROBE, str(defs)], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["same"] and seen["byRange"][0] == '{"fqn":"a.Vp' and seen["byRange"][2] == ""
    assert seen["afterRanges"] == "by range"
    assert seen["other"] == seen["expected"]
    assert json.loads(report.read_text())["defs"] == {str(defs): "whole"}


def test_a_users_node_options_are_kept_and_ours_appended_once():
    environ = {"NODE_OPTIONS": "--max-http-header-size=16384"}
    assert aws.enable_node_loader(environ) and aws.enable_node_loader(environ)
    assert environ["NODE_OPTIONS"] == f"--max-http-header-size=16384 {aws.node_loader_option()}"
    assert not aws.enable_node_loader({"CDKTF_AWS_EAGER_IMPORT": "1"})
    assert not aws.enable_node_loader({"CDKTF_AWS_NODE_LAZY": "0"})


def test_doctor_runs_the_installed_provider_index_through_the_loader(monkeypatch):
    from command_line.doctor import OK, WARN, check_node_loader

    monkeypatch.delenv(aws.EAGER_VARIABLE, raising=False)
    monkeypatch.delenv(aws.NODE_LAZY_VARIABLE, raising=False)
    check = check_node_loader()
    assert (check.status, check.detail.split(":")[0]) == (OK, "active")
    monkeypatch.setenv("CDKTF_AWS_NODE_LAZY", "0")
    assert check_node_loader().status == WARN


def test_turning_the_loader_off_takes_an_inherited_require_out():
    environ = {"NODE_OPTIONS": f"--max-http-header-size=16384 {aws.node_loader_option()}",
               "CDKTF_AWS_NODE_LAZY": "false"}
    assert not aws.enable_node_loader(environ)
    assert environ["NODE_OPTIONS"] == "--max-http-header-size=16384"


# ------------------------------------------------------- the in-process kernel (constructs_lib/jsii_in_process.js)

KERNEL_PROBE = """
import json, os, constructs_lib, cdktf  # importing cdktf starts the kernel
def children(pid):
    tasks = os.listdir(f"/proc/{pid}/task")
    return [int(c) for t in tasks for c in open(f"/proc/{pid}/task/{t}/children").read().split()]
def cmdline(pid):
    return open(f"/proc/{pid}/cmdline").read().split("\\0")
[kernel] = [pid for pid in children(os.getpid()) if any("jsii" in arg for arg in cmdline(pid))]
print(json.dumps({"runtime": os.path.basename(cmdline(kernel)[-2]), "nodes_below": len(children(kernel))}))
"""


def kernel_processes(**environ: str) -> dict:
    result = subprocess.run([sys.executable, "-c", KERNEL_PROBE], cwd=ROOT, env=child_environment(**environ),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_kernel_runs_in_the_node_that_python_starts_unless_the_relay_is_asked_for():
    assert kernel_processes() == {"runtime": "jsii_in_process.js", "nodes_below": 0}
    assert kernel_processes(CDKTF_AWS_JSII_RELAY="1") == {"runtime": "jsii-runtime.js", "nodes_below": 1}
    assert kernel_processes(CDKTF_AWS_NODE_LAZY="0")["nodes_below"] == 1


def test_the_relay_and_the_in_process_kernel_synthesize_byte_identical_json(tmp_path, example_settings):
    in_process = synth_in_subprocess(tmp_path / "in-process", example_settings.settings_file)
    relay = synth_in_subprocess(tmp_path / "relay", example_settings.settings_file, CDKTF_AWS_JSII_RELAY="1")
    assert in_process and in_process == relay


FAKE_KERNEL = r"""
// Marks of the shape the host checks: readFD:3,writeFD:3 and process.execArgv.includes("--preserve-symlinks")
const fs = require("fs");
const buffer = Buffer.alloc(64);
const line = buffer.subarray(0, fs.readSync(3, buffer, 0, buffer.length, null)).toString();
console.log("from console.log");
process.stderr.write("from stderr");
fs.writeSync(2, Buffer.from("xx raw stderr xx"), 3, 10);
fs.writeSync(3, `echo ${line.trim()} ${process.execArgv.includes("--preserve-symlinks")}\n`);
"""


STDIN_TOUCHED = FAKE_KERNEL.replace('const fs = require("fs");', """const fs = require("fs");
process.stdin.on("data", () => { throw new Error("the channel was read as stdin"); });
setTimeout(() => {""") + "}, 200);\n"  # the channel is read once node has had the time to read a stdin stream


def fake_kernel_home(root: Path, program: str) -> Path:
    (root / "bin").mkdir(parents=True)
    (root / "lib").mkdir()
    (root / "lib" / "program.js").write_text(program)
    (root / "bin" / "jsii-runtime.js").write_text('process.stdout.write("the relay ran\\n");\n')
    host = root / "bin" / "jsii_in_process.js"
    host.write_text(Path(aws.KERNEL_HOST).read_text())
    return host


def run_host(host: Path, node_options: str = aws.SYMLINKS, **environ: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, NODE_OPTIONS=node_options, **environ)
    return subprocess.run(["node", str(host)], input="ping\n", env=env, capture_output=True, text=True, timeout=60)


def test_the_host_gives_the_kernel_our_pipes_and_relays_its_console_as_jsii_does(tmp_path):
    result = run_host(fake_kernel_home(tmp_path, FAKE_KERNEL))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "echo ping true\n"  # the channel alone: console output never reaches it
    import base64
    console = [{k: base64.b64decode(v).decode() for k, v in json.loads(line).items()}
               for line in result.stderr.splitlines()]
    assert console == [{"stdout": "from console.log\n"}, {"stderr": "from stderr"}, {"stderr": "raw stderr"}]


def test_the_kernel_keeps_its_channel_when_code_reads_stdin(tmp_path):
    """jsii's relay gave the kernel /dev/null as stdin; reading process.stdin must not open (or drain) fd 0."""
    result = run_host(fake_kernel_home(tmp_path, STDIN_TOUCHED))
    assert (result.returncode, result.stdout) == (0, "echo ping true\n"), result.stderr


def test_an_uncaught_error_of_the_kernel_is_printed_as_the_relay_prints_it(tmp_path):
    result = run_host(fake_kernel_home(tmp_path, FAKE_KERNEL + 'throw new Error("kernel failure");\n'))
    import base64
    [*_, last] = [json.loads(line) for line in result.stderr.splitlines()]
    assert result.returncode == 1 and "Error: kernel failure" in base64.b64decode(last["stderr"]).decode()


@pytest.mark.parametrize("program, node_options, reason", [
    (FAKE_KERNEL, "", "node runs without --preserve-symlinks"),
    (FAKE_KERNEL.replace("readFD:3,writeFD:3", "readFD:4,writeFD:4"), aws.SYMLINKS,
     "the kernel does not open its channel once as readFD:3,writeFD:3"),
    (FAKE_KERNEL + "// readFD:3,writeFD:3\n", aws.SYMLINKS,
     "the kernel does not open its channel once as readFD:3,writeFD:3"),
    (FAKE_KERNEL.replace('process.execArgv.includes("--preserve-symlinks")', ""), aws.SYMLINKS,
     "the kernel does not check --preserve-symlinks as expected"),
])
def test_the_host_runs_jsii_relay_for_any_other_kernel_or_node(tmp_path, program, node_options, reason):
    host = fake_kernel_home(tmp_path, program)
    assert run_host(host, node_options).stdout == "the relay ran\n"
    assert run_host(host, node_options, CDKTF_AWS_KERNEL_CHECK="1").stdout == f"relay: {reason}\n"
    assert run_host(fake_kernel_home(tmp_path / "fine", FAKE_KERNEL), CDKTF_AWS_KERNEL_CHECK="1").stdout == \
        "in-process\n"


def test_enabling_the_in_process_kernel_keeps_a_users_runtime_and_node_options():
    environ = {"NODE_OPTIONS": "--max-http-header-size=16384"}
    assert aws.enable_in_process_kernel(environ) and aws.enable_in_process_kernel(environ)
    runtime = Path(environ["JSII_RUNTIME"])
    assert runtime.name == "jsii_in_process.js" and (runtime.parent.parent / "lib" / "program.js").is_file()
    assert environ["NODE_OPTIONS"] == "--max-http-header-size=16384 --preserve-symlinks"
    assert aws.in_process_kernel_enabled(environ)
    own = {"JSII_RUNTIME": "/opt/my-jsii/bin/jsii-runtime.js"}
    assert not aws.enable_in_process_kernel(own) and own == {"JSII_RUNTIME": "/opt/my-jsii/bin/jsii-runtime.js"}
    for switch in ({"CDKTF_AWS_JSII_RELAY": "1"}, {"CDKTF_AWS_NODE_LAZY": "0"}, {"CDKTF_AWS_EAGER_IMPORT": "yes"}):
        inherited = dict(environ, **switch)
        assert not aws.enable_in_process_kernel(inherited) and "JSII_RUNTIME" not in inherited
        assert inherited["NODE_OPTIONS"] == "--max-http-header-size=16384"
    assert aws.in_process_kernel_wanted({"CDKTF_AWS_JSII_RELAY": "false", "CDKTF_AWS_EAGER_IMPORT": "0"})
    gone = {"JSII_RUNTIME": str(runtime.parent.parent.parent / f"{aws.KERNEL_HOME_PREFIX}gone" / "bin" / runtime.name)}
    assert aws.enable_in_process_kernel(gone) and Path(gone["JSII_RUNTIME"]).is_file()  # extracted again


def test_doctor_asks_the_host_whether_it_runs_the_installed_kernel(monkeypatch):
    from command_line.doctor import OK, WARN, check_in_process_kernel

    for switch in (aws.EAGER_VARIABLE, aws.NODE_LAZY_VARIABLE, aws.RELAY_VARIABLE):
        monkeypatch.delenv(switch, raising=False)
    check = check_in_process_kernel()
    assert (check.status, check.detail.split(":")[0]) == (OK, "active")
    monkeypatch.setenv(aws.RELAY_VARIABLE, "1")
    assert (check_in_process_kernel().status, check_in_process_kernel().detail.split(" ")[0]) == (WARN, "off")
    monkeypatch.delenv(aws.RELAY_VARIABLE)
    monkeypatch.setenv("JSII_RUNTIME", "/opt/my-jsii/bin/jsii-runtime.js")
    assert check_in_process_kernel().detail == "off: JSII_RUNTIME=/opt/my-jsii/bin/jsii-runtime.js is yours, and kept"
