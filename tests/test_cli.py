"""The command line: subcommands, their output, exit codes, and no jsii where none is needed."""

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import main
from command_line.report import mermaid, resources_table, table, worker_node
from workers_scan.errors import display_path
from workers_scan.injected import injected

from .helpers import ECS_SETTINGS, WORKERS, make_monorepo, settings_from


def injected_counts(env: Path) -> tuple[int, int]:
    """(variables, secrets) the infrastructure injects with these settings, from workers_scan/injected.py."""
    entries = injected(settings_from(env))
    return sum(not e.secret for e in entries), sum(e.secret for e in entries)

ROOT = Path(__file__).parent.parent


def run_cli(*args: str, env_file: Path) -> subprocess.CompletedProcess:
    """A real process (to prove what it does not import), with the given settings file."""
    return subprocess.run([sys.executable, "main.py", *args, "--env-file", str(env_file)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_workers_json_is_machine_readable_and_loads_no_jsii(tmp_path):
    env = make_monorepo(tmp_path, ["orders.ts", "emailSender.worker.ts"],
                        toml="[orders]\nhealth_check_path = '/health'\n")
    (env.parent / ".env.workers").write_text(
        "LOG_LEVEL=info\nAPI_KEY=arn:aws:ssm:eu-west-1:123456789012:parameter/acme/key\n")
    script = ("import sys, main; code = main.main(sys.argv[1:]); "
              "assert 'jsii' not in sys.modules and 'cdktf' not in sys.modules, 'jsii loaded'; sys.exit(code)")
    result = subprocess.run([sys.executable, "-c", script, "routes", "--json", "--env-file", str(env)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    [stack] = json.loads(result.stdout)
    assert stack["stack"] == "acme-dev" and stack["region"] == "eu-west-1"
    email, orders = stack["workers"]
    assert orders["route"] == "/orders" and orders["health_check_path"] == "/health"
    assert orders["url_pattern"] == "https://<api-id>.execute-api.eu-west-1.amazonaws.com/dev/orders"
    assert email["start_command"] == "bash apps/api/scripts/start-worker.sh emailSender.worker.js"
    variables, secrets = injected_counts(env)
    assert (orders["environment_variables"], orders["secrets"]) == (1 + variables, 1 + secrets)  # LOG_LEVEL, API_KEY


def test_workers_json_in_process_has_every_field_and_counts_infrastructure_variables(tmp_path, capsys):
    env = make_monorepo(tmp_path, ["orders.ts", "emailSender.worker.ts"],
                        toml="[orders]\nhealth_check_path = '/health'\nmin_instances = 2\n")
    (env.parent / ".env.workers").write_text(
        "LOG_LEVEL=info\nAPI_KEY=arn:aws:ssm:eu-west-1:123456789012:parameter/acme/key\n")
    assert main.main(["routes", "--json", "--env-file", str(env)]) == main.EXIT_OK
    [stack] = json.loads(capsys.readouterr().out)
    email, orders = stack.pop("workers")
    assert stack == {"stack": "acme-dev", "region": "eu-west-1", "environment": "dev", "compute": "apprunner",
                     "skipped": []}
    assert orders == {
        "name": "orders", "route": "/orders", "private": False, "service_name": "acme-dev-orders",
        "source": display_path(tmp_path / WORKERS / "orders.ts"), "worker_file": "orders.js", "folder": WORKERS,
        "package": "@monorepo/api", "entry": "detected",
        "start_command": "bash apps/api/scripts/start-worker.sh orders.js", "cpu": 1024, "memory": 2048,
        "min_instances": 2, "max_instances": 3, "max_concurrency": 100, "health_check_path": "/health",
        "url_pattern": "https://<api-id>.execute-api.eu-west-1.amazonaws.com/dev/orders",
        # LOG_LEVEL and API_KEY, and the infrastructure's
        "environment_variables": 1 + injected_counts(env)[0], "secrets": 1 + injected_counts(env)[1], "calls": [],
    }
    assert (email["name"], email["worker_file"], email["health_check_path"]) == \
        ("email-sender", "emailSender.worker.js", None)


@pytest.mark.parametrize("backend", [{}, ECS_SETTINGS], ids=["apprunner", "ecs"])
def test_workers_shows_a_private_worker_without_route_url_or_host(tmp_path, capsys, backend):
    env = make_monorepo(tmp_path, ["orders.ts", "emailOutbox.worker.ts"], settings=backend,
                        toml="[email-outbox]\nprivate = true\n")
    assert main.main(["workers", "--env-file", str(env)]) == main.EXIT_OK
    out = capsys.readouterr().out
    assert re.search(r"^email-outbox +\(private\) +acme-dev-email-outbox ", out, re.M), out
    assert re.search(r"^email-outbox +none: private \(no route\) +" + (r"- +" if backend else "") + "bash ", out,
                     re.M), out
    assert re.search(r"^orders +/orders +acme-dev-orders ", out, re.M), out
    assert main.main(["workers", "--json", "--env-file", str(env)]) == main.EXIT_OK
    [stack] = json.loads(capsys.readouterr().out)
    outbox = next(w for w in stack["workers"] if w["name"] == "email-outbox")
    assert (outbox["route"], outbox["private"], outbox["url_pattern"]) == (None, True, None)
    if backend:   # scaled on CPU alone, no Host on the ALB
        assert (outbox["requests_per_target"], outbox["host"]) == (None, None)


def test_the_synth_summary_shows_a_private_worker(tmp_path, capsys):
    env = make_monorepo(tmp_path, ["orders.ts", "emailOutbox.worker.ts"], toml="[email-outbox]\nprivate = true\n")
    assert main.main(["--env-file", str(env), "--out", str(tmp_path / "out")]) == main.EXIT_OK
    out = capsys.readouterr().out
    assert re.search(r"^email-outbox +\(private\) +acme-dev-email-outbox ", out, re.M), out


def test_counts_leave_out_the_data_stores_that_are_off(tmp_path, capsys):
    env = make_monorepo(tmp_path, ["orders.ts"], settings={"AURORA_ENABLED": "false"})
    assert main.main(["routes", "--json", "--env-file", str(env)]) == main.EXIT_OK
    [orders] = json.loads(capsys.readouterr().out)[0]["workers"]
    assert (orders["environment_variables"], orders["secrets"]) == injected_counts(env)
    assert injected_counts(env)[1] == 0   # no DB_SECRET without Aurora


def test_workers_table_has_routes_urls_and_start_commands(tmp_path, capsys):
    env = make_monorepo(tmp_path, ["orders.ts"])
    assert main.main(["workers", "--env-file", str(env)]) == main.EXIT_OK
    out = capsys.readouterr().out
    for text in ("route", "env vars", "secrets", "/orders", "acme-dev-orders", "1 vCPU / 2 GB", "1-3",
                 "https://<api-id>.execute-api.eu-west-1.amazonaws.com/dev/orders",
                 "bash apps/api/scripts/start-worker.sh orders.js"):
        assert text in out, text
    headers = [re.split(r" {2,}", line) for line in out.splitlines() if line.startswith("worker ")]
    assert headers == [["worker", "route", "service name", "cpu/memory", "instances", "env vars", "secrets"],
                       ["worker", "public URL", "start command"]]
    variables, secrets = injected_counts(env)
    assert f"orders  /orders  acme-dev-orders  1 vCPU / 2 GB  1-3        {variables:<8}  {secrets}" in out


def test_tables_pad_columns_to_the_widest_cell_and_trim_line_ends():
    assert table(("a", "header"), [("wide cell", 1), ("x", "")]) == (
        "a          header\n"
        "---------  ------\n"
        "wide cell  1\n"
        "x")
    assert table(("name", "n"), [("x", "wide")]) == "name  n\n----  ----\nx     wide"
    assert table(("a", "b"), []) == "a  b\n-  -"


def test_resources_table_sorts_types_and_counts_them():
    assert resources_table(Counter({"aws_vpc": 1, "aws_apprunner_service": 12})) == (
        "resource type          count\n"
        "---------------------  -----\n"
        "aws_apprunner_service  12\n"
        "aws_vpc                1")


def test_diagram_has_every_hop_and_one_node_per_worker(tmp_path, capsys):
    env = make_monorepo(tmp_path, ["orders.ts", "emailSender.worker.ts", "billing/", "emailOutbox.worker.ts"],
                        toml="[email-outbox]\nprivate = true\n")
    output = tmp_path / "topology.mmd"
    assert main.main(["diagram", "--env-file", str(env), "--output", str(output)]) == main.EXIT_OK
    printed = capsys.readouterr().out
    assert output.read_text() == printed
    lines = [line.strip() for line in printed.splitlines()]
    assert lines[1] == "flowchart LR"
    edges = [(line.split(" -->")[0].split("[")[0].split("(")[0], line) for line in lines if "-->" in line]
    path = ["client", "waf", "api", "link", "nlb", "vpce"]
    for source, target in zip(path, path[1:]):
        assert any(s == source and f"--> {target}" in line for s, line in edges), (source, target)
    for name in ("orders", "email-sender", "billing"):
        node = worker_node(type("W", (), {"name": name})())
        assert any(s == "vpce" and f"|/{name}| {node}[" in line for s, line in edges), name
        assert any(s == node and "--> connector" in line for s, line in edges), name
    # The private consumer: no way in, the same way out.
    outbox = "w_email_outbox"
    assert not any(f"{outbox}[" in line or f"| {outbox}" in line for s, line in edges if s != outbox)
    assert f'{outbox}["email-outbox<br/>acme-dev-email-outbox<br/>1 vCPU / 2 GB, 1-3 instances<br/>private: no route"]' \
        in lines
    assert any(s == outbox and "--> connector" in line for s, line in edges)
    assert any("connector -->|5432| aurora" in line for line in lines)
    assert any("connector -->|6379 TLS| redis" in line for line in lines)


def test_diagram_to_dash_prints_it_and_writes_no_file(tmp_path, capsys, monkeypatch):
    env = make_monorepo(tmp_path, ["orders.ts"])
    monkeypatch.chdir(tmp_path)
    assert main.main(["diagram", "--env-file", str(env), "--output", "-"]) == main.EXIT_OK
    captured = capsys.readouterr()
    assert captured.out.splitlines()[1] == "flowchart LR" and "written to" not in captured.out + captured.err
    assert not (tmp_path / "-").exists()


def test_diagram_without_data_stores_or_egress(tmp_path, capsys):
    env = make_monorepo(tmp_path, ["orders.ts"], settings={
        "AURORA_ENABLED": "false", "REDIS_ENABLED": "false", "WORKER_VPC_EGRESS": "false"})
    assert main.main(["diagram", "--env-file", str(env), "--output", str(tmp_path / "d.mmd")]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[1:3] == ["flowchart LR", '  client([Client]) --> waf["WAFv2 web ACL<br/>2000 '
                                         'requests / 5 min per IP<br/>Common + KnownBadInputs rules"]']
    assert "aurora" not in printed and "connector" not in printed
    assert "w_orders --> internet((Internet))" in printed


def test_the_command_line_page_embeds_the_example_diagram(capsys, tmp_path, newcomer):
    assert main.main(["diagram", "--output", str(tmp_path / "d.mmd")]) == 0
    diagram = capsys.readouterr().out.split("\n", 1)[1]  # without the %% stack comment
    assert f"```mermaid\n{diagram}```" in (ROOT / "docs" / "command-line.md").read_text(), \
        "docs/command-line.md's diagram is stale: paste the output of `python main.py diagram`"


def test_doctor_reports_each_check_and_exits_by_the_worst(tmp_path, capsys):
    env = make_monorepo(tmp_path, ["orders.ts"])
    code = main.main(["doctor", "--env-file", str(env)])
    out = capsys.readouterr().out
    for name in ("Python", "Python packages", "Node.js", "terraform", "hashicorp/aws provider", "settings file",
                 "workers"):
        assert any(line[7:].startswith(name) for line in out.splitlines()), name
    assert "1 found" in out
    assert (code == main.EXIT_OK) == ("[FAIL]" not in out)


@pytest.mark.parametrize("statuses, expected", [
    (("ok", "ok"), main.EXIT_OK),
    (("ok", "warn"), main.EXIT_OK),
    (("warn", "FAIL"), main.EXIT_FAILURE),
])
def test_doctor_exit_status_is_the_worst_machine_check(tmp_path, capsys, monkeypatch, statuses, expected):
    from command_line import doctor

    checks = [doctor.Check(f"check {i}", status, "detail", "the fix" if status != "ok" else "")
              for i, status in enumerate(statuses)]
    monkeypatch.setattr(doctor, "environment_checks", lambda: checks)
    env = make_monorepo(tmp_path, ["orders.ts"])
    assert main.main(["doctor", "--env-file", str(env)]) == expected
    out = capsys.readouterr().out
    for i, status in enumerate(statuses):
        assert f"[{status:>4}] check {i}" in out
    assert out.count("-> the fix") == sum(status != "ok" for status in statuses)


def test_doctor_lists_input_problems_and_exits_2(tmp_path, capsys):
    env = make_monorepo(tmp_path, ["orders.ts"], settings={"WAF_RATE_LIMIT": "1"})
    assert main.main(["doctor", "--env-file", str(env)]) == main.EXIT_BAD_INPUT
    out = capsys.readouterr().out
    assert "[FAIL] settings and workers" in out and "WAF_RATE_LIMIT: 1 is out of range" in out


def test_unexpected_failure_exits_1_with_one_clear_line(tmp_path, capsys, monkeypatch):
    env = make_monorepo(tmp_path, ["orders.ts"])
    (env.parent / ".env.workers").write_text("LOG_LEVEL=info\n")   # no note about its absence before the line

    def explode(*_args, **_kwargs):
        raise OSError("disk on fire")

    monkeypatch.setattr("constructs_lib.app.synthesize", explode)
    assert main.main(["synth", "--env-file", str(env), "--out", str(tmp_path / "out")]) == main.EXIT_FAILURE
    err = capsys.readouterr().err
    assert err.startswith("unexpected failure: OSError: disk on fire")


def test_no_progress_line_when_output_is_not_a_terminal(tmp_path, capsys):
    env = make_monorepo(tmp_path, ["orders.ts"])
    assert main.main(["--env-file", str(env), "--out", str(tmp_path / "out")]) == 0
    captured = capsys.readouterr()
    assert "\r" not in captured.err and "Synthesizing..." not in captured.err
    assert main.Progress(quiet=False).enabled is False


def test_quiet_synth_prints_nothing(tmp_path, capsys):
    env = make_monorepo(tmp_path, ["orders.ts"])
    assert main.main(["synth", "--quiet", "--env-file", str(env), "--out", str(tmp_path / "out")]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_bare_options_mean_synth_as_cdktf_runs_it():
    assert main.parse_args([]).command == "synth"
    assert main.parse_args(["--env-file", "x.env"]).command == "synth"
    assert main.parse_args(["routes", "--json"]).command == "routes"


def test_the_diagram_shows_the_ports_the_example_stack_opens(example_stack, example_settings, example_workers):
    """The picture reads its facts from the modules that own them: its edges equal the synthesized rules."""
    import re

    from .helpers import one, resources

    diagram = mermaid(example_settings, example_workers)
    connector = one(example_stack, "aws_apprunner_vpc_connector")["security_groups"][0]
    egress = resources(example_stack, "aws_vpc_security_group_egress_rule").values()
    internet = sorted(r["from_port"] for r in egress
                      if r["security_group_id"] == connector and r.get("cidr_ipv4") == "0.0.0.0/0")
    stores = sorted(r["from_port"] for r in egress
                    if r["security_group_id"] == connector and r.get("referenced_security_group_id"))
    [shown] = re.findall(r"connector -->\|([0-9, ]+)\| nat", diagram)
    assert [int(port) for port in shown.split(", ")] == internet == [443, 587]
    assert sorted(int(p) for p in re.findall(r"connector -->\|(\d+)(?: TLS)?\| (?:aurora|redis)", diagram)) == stores


def test_a_setting_from_the_shell_is_announced_and_named_in_errors(tmp_path, capsys, monkeypatch):
    env = make_monorepo(tmp_path, ["orders.ts"])
    monkeypatch.setenv("PORT", "8080")
    monkeypatch.setenv("WORKER_EXCLUDE", "legacy.ts,old.ts")
    assert main.main(["workers", "--env-file", str(env)]) == main.EXIT_OK
    err = capsys.readouterr().err
    # The file does not set PORT: the notice must not say the shell overrode the file's value.
    assert "PORT=8080 comes from the shell environment, which overrides " in err
    assert "and its defaults (unset PORT to use theirs)" in err
    assert "WORKER_EXCLUDE=legacy.ts,old.ts comes from the shell environment" in err
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    assert main.main(["workers", "--env-file", str(env)]) == main.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "but AWS_REGION is us-east-1 (from environment variable)" in err


def test_quiet_hides_the_shell_notice(tmp_path, capsys, monkeypatch):
    env = make_monorepo(tmp_path, ["orders.ts"])
    monkeypatch.setenv("PORT", "8080")
    assert main.main(["routes", "--json", "--quiet", "--env-file", str(env)]) == main.EXIT_OK
    assert capsys.readouterr().err == ""


def test_doctor_warns_when_it_checks_the_embedded_example(tmp_path, capsys, newcomer):
    main.main(["doctor"])
    out = capsys.readouterr().out
    assert "[warn] settings file" in out and "EMBEDDED EXAMPLE" in out and "--env-file" in out


def test_a_missing_dependency_gets_the_install_command_not_report_this(tmp_path, capsys, monkeypatch):
    env = make_monorepo(tmp_path, ["orders.ts"])
    (env.parent / ".env.workers").write_text("LOG_LEVEL=info\n")   # no note about its absence before the line

    def not_installed(*_args, **_kwargs):
        raise ModuleNotFoundError("No module named 'cdktf'", name="cdktf")

    monkeypatch.setattr("constructs_lib.app.synthesize", not_installed)
    assert main.main(["synth", "--env-file", str(env), "--out", str(tmp_path / "out")]) == main.EXIT_FAILURE
    err = capsys.readouterr().err
    assert err.startswith("missing dependency: cdktf is not installed") and "pip install -c requirements/app.txt -e ." in err
    from workers_scan.settings import PROJECT_ROOT
    assert f"cd {PROJECT_ROOT} && python3 -m venv .venv" in err  # the app's folder, wherever the command ran
    assert "report" not in err


def test_quiet_synth_in_a_fresh_process_prints_nothing_not_even_the_node_banner(tmp_path):
    import os

    env = make_monorepo(tmp_path, ["orders.ts"])
    environ = {k: v for k, v in os.environ.items() if k != "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"}
    result = subprocess.run([sys.executable, "main.py", "--quiet", "--env-file", str(env), "--out",
                             str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env=environ)
    assert result.returncode == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", "")


def test_synth_needs_no_terraform_on_the_path(tmp_path):
    """Teams on Terraform Cloud may synthesize where terraform is not installed: cdktf's `terraform_data` class
    would run `terraform version` at validation (and fail); the stores' creation record must not."""
    import os
    import shutil

    env = make_monorepo(tmp_path, ["orders.ts"])
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "node").symlink_to(shutil.which("node"))
    result = subprocess.run([sys.executable, "main.py", "--quiet", "--env-file", str(env), "--out",
                             str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, PATH=str(tools)))
    assert result.returncode == 0, result.stderr
    [stack] = [json.loads(path.read_text()) for path in (tmp_path / "out" / "stacks").glob("*/cdk.tf.json")
               if "aws_rds_cluster" in path.read_text()]
    # The record is there (protected stores name their final snapshot after it), with the input it ignores.
    assert {name: body["input"] for name, body in stack["resource"]["terraform_data"].items()} == {
        "aurora_created": {"at": "${timestamp()}"}, "redis_created": {"at": "${timestamp()}"}}


def test_the_documented_team_test_passes_against_the_example_through_the_installed_plugin(pytester):
    """docs/tests.md's example of a team's own test, run as a team would: pytest finds the plugin by its entry
    point."""
    import re

    from workers_scan.settings import EXAMPLE_SETTINGS

    page = (ROOT / "docs" / "tests.md").read_text()
    [code] = re.findall(r"<!-- team-test -->\n```python\n(.*?)```", page, re.DOTALL)
    pytester.makefile(".ini", pytest=f"[pytest]\nplatform_env_file = {EXAMPLE_SETTINGS}\n")
    pytester.makepyfile(test_platform=code)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    result.assert_outcomes(passed=3)


def test_the_team_fixture_gives_a_workers_service_variables_and_secrets(pytester):
    from workers_scan.settings import EXAMPLE_SETTINGS

    pytester.makefile(".ini", pytest=f"[pytest]\nplatform_env_file = {EXAMPLE_SETTINGS}\n")
    pytester.makepyfile(test_lookups='''
import pytest

def test_lookups(platform_stack, platform_stacks):
    assert list(platform_stacks) == ["acme-dev"] and platform_stack.name == "acme-dev"
    assert platform_stack.workers == ("billing", "email-outbox", "email-sender", "orders")
    assert platform_stack.service("orders")["service_name"] == "acme-dev-orders"
    assert platform_stack.variables("orders")["WORKER_NAME"] == "orders"
    assert set(platform_stack.secrets("email-sender")) >= {"DB_SECRET", "SMTP_PASSWORD"}
    with pytest.raises(KeyError, match="no service for worker 'nope'; workers: billing, email-outbox, email-sender, orders"):
        platform_stack.service("nope")
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    result.assert_outcomes(passed=1)


def test_workers_says_why_each_other_entry_of_the_workers_folder_is_not_a_worker(tmp_path, capsys):
    env = make_monorepo(tmp_path, ["orders.ts", "worker.module.ts", "legacy.ts", "notes.md", "shared/"],
                        settings={"WORKER_EXCLUDE": "legacy.ts"})
    (tmp_path / WORKERS / "shared" / "main.ts").unlink()
    assert main.main(["workers", "--env-file", str(env)]) == main.EXIT_OK
    out = capsys.readouterr().out
    assert "worker.module.ts  always excluded (*.module.ts)" in out
    assert "legacy.ts         excluded by WORKER_EXCLUDE (legacy.ts)" in out
    assert "notes.md          matches no WORKER_INCLUDE pattern (*.ts)" in out
    assert "shared/           folder without main.ts (WORKER_FOLDER_ENTRY)" in out
    assert main.main(["workers", "--json", "--env-file", str(env)]) == main.EXIT_OK
    [stack] = json.loads(capsys.readouterr().out)
    assert [s["entry"] for s in stack["skipped"]] == ["legacy.ts", "notes.md", "shared/", "worker.module.ts"]


def test_the_readme_quick_start_shows_the_examples_workers_table(tmp_path, capsys, newcomer):
    assert main.main(["workers"]) == main.EXIT_OK
    table = capsys.readouterr().out.split("\n\n")[0].split("\n", 1)[1]   # without the "acme-dev (...)" line
    assert f"```\n{table}\n```" in (ROOT / "README.md").read_text(), "README quick start table is stale"


def test_on_ecs_the_workers_table_shows_the_backend_fargate_sizes_tasks_and_alb_hosts(tmp_path, capsys):
    env = make_monorepo(tmp_path, ["orders.ts"], settings=ECS_SETTINGS, toml="[orders]\ncpu = 256\nmemory = 2048\n")
    assert main.main(["workers", "--env-file", str(env)]) == main.EXIT_OK
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "acme-dev (eu-west-1) on ECS Fargate (COMPUTE=ecs):"
    headers = [re.split(r" {2,}", line) for line in out.splitlines() if line.startswith("worker ")]
    assert headers == [["worker", "route", "service name", "cpu/memory", "tasks", "env vars", "secrets"],
                       ["worker", "public URL", "ALB host", "start command"]]
    assert "orders  /orders  acme-dev-orders  0.25 vCPU / 2 GB  1-3" in out
    assert "/dev/orders  orders.workers.internal  bash apps/api/scripts/start-worker.sh orders.js" in out


def test_on_app_runner_the_workers_heading_names_the_backend(tmp_path, capsys):
    env = make_monorepo(tmp_path, ["orders.ts"])
    assert main.main(["workers", "--env-file", str(env)]) == main.EXIT_OK
    assert capsys.readouterr().out.splitlines()[0] == "acme-dev (eu-west-1) on App Runner (COMPUTE=apprunner):"


def test_on_ecs_workers_json_has_the_backend_host_and_requests_per_target_not_concurrency(tmp_path, capsys):
    env = make_monorepo(tmp_path, ["orders.ts"], settings={**ECS_SETTINGS, "ECS_REQUESTS_PER_TARGET": "250"})
    assert main.main(["routes", "--json", "--env-file", str(env)]) == main.EXIT_OK
    [stack] = json.loads(capsys.readouterr().out)
    assert stack["compute"] == "ecs"
    [orders] = stack["workers"]
    assert (orders["host"], orders["requests_per_target"]) == ("orders.workers.internal", 250)
    assert "max_concurrency" not in orders  # App Runner's scaling knob does nothing on ECS
    assert (orders["cpu"], orders["memory"], orders["min_instances"], orders["max_instances"]) == (1024, 2048, 1, 3)


def edges_of(diagram: str) -> list[tuple[str, str]]:
    """(source node, line) of each edge of a Mermaid diagram."""
    lines = [line.strip() for line in diagram.splitlines()]
    return [(line.split(" -")[0].split("[")[0].split("(")[0], line) for line in lines
            if "-->" in line or "-.->" in line]


def test_on_ecs_the_diagram_routes_through_nlb_and_alb_by_host_to_fargate_services(tmp_path, capsys):
    env = make_monorepo(tmp_path, ["orders.ts", "emailSender.worker.ts"], settings=ECS_SETTINGS)
    assert main.main(["diagram", "--env-file", str(env), "--output", str(tmp_path / "d.mmd")]) == main.EXIT_OK
    printed = capsys.readouterr().out
    edges = edges_of(printed)
    path = ["client", "waf", "api", "link", "nlb", "alb"]
    for source, target in zip(path, path[1:]):
        assert any(s == source and f"--> {target}" in line for s, line in edges), (source, target)
    assert 'nlb["Internal NLB<br/>TCP 80 pass-through"]' in printed
    assert 'alb["Internal ALB<br/>HTTP 80, one host rule per worker"]' in printed
    for name, route in (("orders", "orders"), ("email-sender", "email-sender")):
        node = worker_node(type("W", (), {"name": name})())
        [line] = [line for s, line in edges if s == "alb" and f"| {node}[" in line]
        assert f"-->|{route}.workers.internal| {node}[" in line and line.endswith("1 vCPU / 2 GB, 1-3 tasks\"]")
        assert any(s == node and line == f"{node} --> tasks" for s, line in edges), name
        assert f"ecr -.->|image| {node}" in printed
    assert "tasks -->|5432| aurora" in printed and "tasks -->|6379 TLS| redis" in printed
    assert "tasks -->|443| nat[NAT gateway] --> internet((Internet))" in printed
    assert 'build["Image build<br/>CodeBuild, one image per push to main"] --> ecr' in printed
    for app_runner_only in ("vpce", "apprunner.requests", "connector", "instances"):
        assert app_runner_only not in printed


def test_on_ecs_with_a_certificate_the_diagram_shows_tls_to_the_alb(tmp_path, capsys):
    certificate = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
    env = make_monorepo(tmp_path, ["orders.ts"], settings={**ECS_SETTINGS, "ECS_CERTIFICATE_ARN": certificate,
                                                           "ECS_ROUTING_DOMAIN": "workers.acme.dev",
                                                           "BRANCH": "release", "AURORA_ENABLED": "false"})
    assert main.main(["diagram", "--env-file", str(env), "--output", str(tmp_path / "d.mmd")]) == main.EXIT_OK
    printed = capsys.readouterr().out
    assert 'nlb["Internal NLB<br/>TCP 443 pass-through"]' in printed
    assert 'alb["Internal ALB<br/>HTTPS 443, one host rule per worker"]' in printed
    assert "one image per push to release" in printed and "aurora" not in printed
    assert "alb -->|orders.workers.acme.dev|" in printed  # ECS_ROUTING_DOMAIN


def test_doctor_warns_on_app_runner_that_new_accounts_need_ecs(tmp_path, capsys):
    env = make_monorepo(tmp_path, ["orders.ts"])
    main.main(["doctor", "--env-file", str(env)])
    lines = capsys.readouterr().out.splitlines()
    [index] = [i for i, line in enumerate(lines) if line.startswith("[warn] compute of acme-dev")]
    assert "App Runner (COMPUTE=apprunner): App Runner connection in account 123456789012, eu-west-1" in lines[index]
    assert "no new customers since 2026-04-30" in lines[index + 1] and "COMPUTE=ecs" in lines[index + 1]
    assert "infra/aws/.env.ecs.example" in lines[index + 1]


def test_doctor_checks_the_codeconnections_connection_on_ecs(tmp_path, capsys):
    env = make_monorepo(tmp_path / "ok", ["orders.ts"], settings=ECS_SETTINGS)
    main.main(["doctor", "--env-file", str(env)])
    out = capsys.readouterr().out
    assert ("[  ok] compute of acme-dev     ECS Fargate (COMPUTE=ecs): image build through CodeConnections "
            "connection in account 123456789012, eu-west-1; workers' ALB on HTTP (no ECS_CERTIFICATE_ARN)") in out
    missing = make_monorepo(tmp_path / "missing", ["orders.ts"], settings={**ECS_SETTINGS, "CODECONNECTIONS_ARN": None})
    assert main.main(["doctor", "--env-file", str(missing)]) == main.EXIT_BAD_INPUT
    out = capsys.readouterr().out
    assert "[FAIL] settings and workers" in out and "CODECONNECTIONS_ARN: is required with COMPUTE=ecs" in out


def test_the_ecs_example_runs_clean_on_the_example_monorepo_in_a_fresh_process():
    from workers_scan.settings import EXAMPLE_ECS_SETTINGS

    result = run_cli("workers", env_file=EXAMPLE_ECS_SETTINGS)
    # Its one notice: the workers.toml it shares with the App Runner example sets App Runner's scaling key.
    assert (result.returncode, result.stderr) == (
        0, "acme-dev: [billing].max_concurrency in examples/monorepo/infra/aws/workers.toml not read with COMPUTE=ecs "
           "(docs/workers.md)\n")
    assert result.stdout.startswith("acme-dev (eu-west-1) on ECS Fargate (COMPUTE=ecs):\n")
    assert "email-sender  /email-sender  acme-dev-email-sender  0.5 vCPU / 1 GB  1-2" in result.stdout


def test_the_ecs_example_differs_from_the_app_runner_one_only_in_the_backend(tmp_path):
    """Beside it, not a layer of it: each loads alone, with the same workers, and only the backend keys differ."""
    from workers_scan import SettingsSource, load_all_settings, load_workers
    from workers_scan.envfile import read_env_file
    from workers_scan.errors import Problems
    from workers_scan.settings import EXAMPLE_ECS_SETTINGS, EXAMPLE_SETTINGS

    problems = Problems()
    app_runner, ecs = (
        {key: entry.value for key, entry in read_env_file(path, problems).items()}
        for path in (EXAMPLE_SETTINGS, EXAMPLE_ECS_SETTINGS))
    assert not problems
    backend_keys = {"COMPUTE", "APP_RUNNER_CONNECTION_ARN", "CODECONNECTIONS_ARN"}
    assert {k: v for k, v in app_runner.items() if k not in backend_keys} == \
        {k: v for k, v in ecs.items() if k not in backend_keys}
    [ecs_settings] = load_all_settings(SettingsSource(EXAMPLE_ECS_SETTINGS, is_example=False), environ={})
    [app_runner_settings] = load_all_settings(SettingsSource(EXAMPLE_SETTINGS, is_example=False), environ={})
    assert (ecs_settings.compute, app_runner_settings.compute) == ("ecs", "apprunner")
    assert [(w.name, w.route, w.cpu, w.memory) for w in load_workers(ecs_settings)] == \
        [(w.name, w.route, w.cpu, w.memory) for w in load_workers(app_runner_settings)]


def test_the_synth_summary_names_the_backend_above_each_workers_table(tmp_path, capsys):
    env = make_monorepo(tmp_path, ["orders.ts"])
    assert main.main(["--env-file", str(env), "--out", str(tmp_path / "out")]) == main.EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    index = lines.index("Workers of acme-dev on App Runner (COMPUTE=apprunner):")
    assert re.split(r" {2,}", lines[index + 1])[:5] == ["worker", "route", "service name", "cpu/memory", "instances"]


def test_the_command_line_page_embeds_the_ecs_examples_diagram(capsys, tmp_path):
    from workers_scan.settings import EXAMPLE_ECS_SETTINGS

    assert main.main(["diagram", "--env-file", str(EXAMPLE_ECS_SETTINGS), "--output", str(tmp_path / "d.mmd")]) == 0
    diagram = capsys.readouterr().out.split("\n", 1)[1]  # without the %% stack comment
    assert f"```mermaid\n{diagram}```" in (ROOT / "docs" / "command-line.md").read_text(), \
        "docs/command-line.md's ecs diagram is stale: paste the output of `python main.py diagram --env-file " \
        "<.env.ecs.example>`"


def test_the_ecs_diagram_shows_the_ports_and_hosts_the_ecs_example_stack_opens(ecs_example_stack, ecs_example_settings,
                                                                            ecs_example_workers):
    """As for App Runner: the ECS picture's edges equal the synthesized rules, listeners and hosts."""
    import re

    from .helpers import resources

    diagram = mermaid(ecs_example_settings, ecs_example_workers)
    [tasks] = [f"${{aws_security_group.{name}.id}}" for name, g in resources(ecs_example_stack, "aws_security_group").items()
               if g["name"].endswith("-ecs-workers")]
    egress = resources(ecs_example_stack, "aws_vpc_security_group_egress_rule").values()
    internet = sorted(r["from_port"] for r in egress if r["security_group_id"] == tasks and r.get("cidr_ipv4"))
    stores = sorted(r["from_port"] for r in egress
                    if r["security_group_id"] == tasks and r.get("referenced_security_group_id"))
    [shown] = re.findall(r"tasks -->\|([0-9, ]+)\| nat", diagram)
    assert [int(port) for port in shown.split(", ")] == internet == [443, 587]
    assert sorted(int(p) for p in re.findall(r"tasks -->\|(\d+)(?: TLS)?\| (?:aurora|redis)", diagram)) == stores
    listeners = {(l["protocol"], l["port"]) for l in resources(ecs_example_stack, "aws_lb_listener").values()}
    [nlb_port] = re.findall(r"Internal NLB<br/>TCP (\d+) pass-through", diagram)
    [(alb_protocol, alb_port)] = re.findall(r"Internal ALB<br/>(HTTPS?) (\d+), one host rule", diagram)
    assert listeners == {("TCP", int(nlb_port)), (alb_protocol, int(alb_port))}
    hosts = sorted(r["condition"][0]["host_header"]["values"][0]
                   for r in resources(ecs_example_stack, "aws_lb_listener_rule").values())
    assert sorted(re.findall(r"alb -->\|([a-z0-9.-]+)\|", diagram)) == hosts


def test_output_lands_in_this_apps_folder_wherever_the_command_runs(tmp_path, monkeypatch):
    """Run from a team's monorepo, nothing is written there unless asked (--out, $CDKTF_OUTDIR, --output)."""
    from workers_scan.settings import PROJECT_ROOT

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CDKTF_OUTDIR", raising=False)
    assert main.parse_args(["synth"]).out == str(PROJECT_ROOT / "cdktf.out")
    assert main.parse_args(["diagram"]).output == str(PROJECT_ROOT / "topology.mmd")
    assert main.parse_args(["synth", "--out", "here"]).out == "here"
    monkeypatch.setenv("CDKTF_OUTDIR", "cdktf.out")  # what `cdktf synth` sets, in this app's folder
    assert main.parse_args(["synth"]).out == "cdktf.out"


def test_under_the_cdktf_cli_notices_go_to_stdout_not_to_its_error_log(tmp_path, capsys, monkeypatch, newcomer):
    """`cdktf synth` logs each line of the app's stderr as [ERROR]: a notice is no error."""
    monkeypatch.setenv("SYNTH_HCL_OUTPUT", "false")  # set by the cdktf CLI for the app it runs
    assert main.main(["workers"]) == main.EXIT_OK
    captured = capsys.readouterr()
    assert "EMBEDDED EXAMPLE" in captured.out and captured.err == ""
    monkeypatch.delenv("SYNTH_HCL_OUTPUT")
    assert main.main(["workers"]) == main.EXIT_OK
    assert "EMBEDDED EXAMPLE" in capsys.readouterr().err


def test_synth_ends_with_the_plan_commands_of_each_stack_folder_and_the_first_ecs_build(tmp_path, capsys):
    from .helpers import ECS_SETTINGS

    env = make_monorepo(tmp_path / "repo", ["orders.ts"], settings={**ECS_SETTINGS, "PROJECT_NAME": "northwind"})
    out = tmp_path / "out"
    assert main.main(["--env-file", str(env), "--out", str(out)]) == main.EXIT_OK
    printed = capsys.readouterr()
    folder = display_path(out / "stacks" / "northwind-dev")
    assert printed.out.rstrip().endswith(
        f"Next (docs/plan-and-apply.md):\n"
        f"  terraform -chdir={folder} init && terraform -chdir={folder} plan -out=tfplan\n"
        "  after the first apply: aws codebuild start-build --project-name northwind-dev-workers-image")
    assert ("northwind-dev: sets the API Gateway CloudWatch role of eu-west-1 (MANAGE_API_GATEWAY_ACCOUNT"
            in printed.err)


def test_doctor_does_not_ask_to_silence_a_banner_the_app_silences(monkeypatch, tmp_path):
    from command_line import doctor
    from constructs_lib.aws import SILENCED_NODE_MAJOR

    node = tmp_path / "node"
    node.write_text(f"#!/bin/sh\necho v{SILENCED_NODE_MAJOR}.1.0\n")
    node.chmod(0o755)
    monkeypatch.setenv("JSII_NODE", str(node))
    monkeypatch.delenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", raising=False)
    check = doctor.check_node()
    assert check.status == doctor.WARN and "the app hides jsii's banner" in check.fix
    assert "set JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION" not in check.fix


def test_synth_says_when_app_runner_cannot_redeploy_on_a_new_secret_value(tmp_path, capsys):
    """AUTO_DEPLOYMENTS=false keeps the branch's latest commit out; a redeploy would build it."""
    env = make_monorepo(tmp_path / "manual", ["orders.ts"], settings={"AUTO_DEPLOYMENTS": "false"})
    assert main.main(["--env-file", str(env), "--out", str(tmp_path / "out")]) == main.EXIT_OK
    assert ("acme-dev: no redeploy when a secret changes: on App Runner it would build main's latest commit"
            in capsys.readouterr().err)
    env = make_monorepo(tmp_path / "auto", ["orders.ts"])
    assert main.main(["--env-file", str(env), "--out", str(tmp_path / "out2")]) == main.EXIT_OK
    err = capsys.readouterr().err
    assert "no redeploy when a secret changes" not in err and "ALLOW_DESTROY_DATA" not in err


def test_synth_says_while_destroying_the_data_is_allowed(tmp_path, capsys):
    env = make_monorepo(tmp_path, ["orders.ts"], settings={"ALLOW_DESTROY_DATA": "true"})
    assert main.main(["--env-file", str(env), "--out", str(tmp_path / "out")]) == main.EXIT_OK
    assert ("acme-dev: ALLOW_DESTROY_DATA=true: terraform destroy deletes Aurora and Redis with no final snapshot, "
            "and the NLB (throwaway environments only)") in capsys.readouterr().err


def test_settings_problems_and_workers_toml_problems_are_reported_in_one_run(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = make_monorepo(tmp_path, ["orders.ts"], settings={"WORKER_CPU": "3"},
                        toml="[orders]\nmax_instances = 40\nhealth_check_path = 'health'\nport = 3000\n"
                             "[billing]\nroute = 'proxy'\n")
    assert main.main(["workers", "--env-file", str(env)]) == main.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "infra/aws/.env: WORKER_CPU: 3 is not a CPU size" in err
    for expected in ("infra/aws/workers.toml: [orders].max_instances: 40 is not a whole number from 1 to 25",
                     "infra/aws/workers.toml: [orders].health_check_path: 'health' is not an HTTP path like /health",
                     "infra/aws/workers.toml: [orders].port: unknown key; use one of",
                     "infra/aws/workers.toml: [billing].route: 'proxy' is reserved; choose another route"):
        assert expected in err
    # A workers.toml that is not TOML is said with the settings' problems too
    (env.parent / "workers.toml").write_text("[orders\n")
    assert main.main(["workers", "--env-file", str(env)]) == main.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "WORKER_CPU: 3 is not a CPU size" in err and "infra/aws/workers.toml: is not valid TOML" in err


def test_doctor_shows_the_notes_of_the_inputs(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = make_monorepo(tmp_path, ["orders.ts"])   # no .env.workers: a note
    main.main(["doctor", "--env-file", str(env)])
    out = capsys.readouterr().out
    assert "notes" in out and "infra/aws/.env.workers: not found" in out
