"""The command line and the output folder: deterministic, atomic, with clear exit codes."""

import json
import os
from pathlib import Path

import pytest

import main
from constructs_lib.app import StackInput, synthesize

from .helpers import make_monorepo

GOLDEN = Path(__file__).parent / "golden" / "acme-dev.stack.json"


def test_synth_of_the_example_warns_and_prints_stacks_resources_and_workers(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("INFRA_ENV_FILE", raising=False)
    monkeypatch.setattr("workers_scan.settings.DEFAULT_SETTINGS", tmp_path / "absent.env")
    out = tmp_path / "cdktf.out"
    assert main.main(["--out", str(out)]) == main.EXIT_OK
    captured = capsys.readouterr()
    printed = captured.out
    assert "EMBEDDED EXAMPLE" in captured.err.splitlines()[0]
    assert "Synthesized 1 stack(s) into" in printed and "acme-dev: " in printed
    assert "acme-dev-email-sender" in printed and "/email-sender" in printed and "0.5 vCPU / 1 GB" in printed
    assert "aws_apprunner_service" in printed
    assert (out / "stacks" / "acme-dev" / "cdk.tf.json").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".cdktf.out")], "staging folder left behind"


def test_two_synths_are_byte_identical(tmp_path, example_settings, example_workers):
    inputs = [StackInput(example_settings, tuple(example_workers))]
    first = synthesize(inputs, tmp_path / "one").stacks["acme-dev"].read_bytes()
    second = synthesize(inputs, tmp_path / "two").stacks["acme-dev"].read_bytes()
    assert first == second
    assert b"/tmp" not in first and str(Path.cwd()).encode() not in first


def test_resynth_replaces_the_output_folder_whole(tmp_path, example_settings, example_workers):
    out = tmp_path / "cdktf.out"
    (out / "stacks" / "stale-stack").mkdir(parents=True)
    synthesize([StackInput(example_settings, tuple(example_workers))], out)
    assert sorted(p.name for p in (out / "stacks").iterdir()) == ["acme-dev"]


def test_bad_input_exits_2_lists_problems_on_stderr_and_writes_nothing(tmp_path, capsys):
    env = make_monorepo(tmp_path, ["orders.ts"], settings={"WAF_RATE_LIMIT": "1", "AWS_REGION": "us-east-1"})
    out = tmp_path / "cdktf.out"
    (out / "stacks" / "previous").mkdir(parents=True)
    (out / "stacks" / "previous" / "cdk.tf.json").write_text("{}")
    assert main.main(["--env-file", str(env), "--out", str(out)]) == main.EXIT_BAD_INPUT
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "2 problems in the inputs (nothing was synthesized)" in captured.err
    assert "WAF_RATE_LIMIT" in captured.err and "APP_RUNNER_CONNECTION_ARN" in captured.err
    assert sorted(p.name for p in out.rglob("*")) == ["cdk.tf.json", "previous", "stacks"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".cdktf.out")]


def test_bad_input_with_no_previous_output_creates_no_folder(tmp_path):
    env = make_monorepo(tmp_path, ["index.ts"])
    assert main.main(["--env-file", str(env), "--out", str(tmp_path / "cdktf.out"), "--quiet"]) == 2
    assert not (tmp_path / "cdktf.out").exists()


def test_workers_command_lists_workers_without_synthesizing(tmp_path, capsys):
    env = make_monorepo(tmp_path, ["orders.ts", "emailSender.worker.ts"])
    assert main.main(["workers", "--env-file", str(env)]) == 0
    printed = capsys.readouterr().out
    assert "acme-dev-email-sender" in printed and "emailSender.worker.js" in printed
    assert not (tmp_path / "cdktf.out").exists() and not Path("cdktf.out.never").exists()


def test_settings_file_from_environment_variable_is_used(tmp_path, capsys, monkeypatch):
    env = make_monorepo(tmp_path, ["orders.ts"], settings={"PROJECT_NAME": "globex"})
    monkeypatch.setenv("INFRA_ENV_FILE", str(env))
    assert main.main(["workers"]) == 0
    assert "globex-dev-orders" in capsys.readouterr().out


def test_example_matches_the_reviewed_golden_json(example_stack):
    """Regenerate deliberately with UPDATE_GOLDEN=1 and review the diff."""
    rendered = json.dumps(example_stack, indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(rendered)
    assert GOLDEN.exists(), "golden file missing: run UPDATE_GOLDEN=1 pytest tests/test_app.py"
    assert rendered == GOLDEN.read_text(), "synthesized JSON changed: review, then UPDATE_GOLDEN=1"


def test_output_does_not_depend_on_where_the_monorepo_lives(tmp_path):
    """Same inputs in two folders (two machines, two checkouts): byte-identical JSON."""
    import shutil

    from workers_scan import load_workers
    from workers_scan.settings import EXAMPLE_SETTINGS, SettingsSource, load_settings

    outputs = []
    for place in ("first/checkout", "second/elsewhere/deeper"):
        copy = tmp_path / place / "monorepo"
        shutil.copytree(EXAMPLE_SETTINGS.parent.parent.parent, copy)
        settings = load_settings(SettingsSource(copy / "infra" / "aws" / ".env.example", is_example=False),
                                 environ={})
        result = synthesize([StackInput(settings, tuple(load_workers(settings)))], tmp_path / place / "out")
        outputs.append(result.stacks["acme-dev"].read_bytes())
    assert outputs[0] == outputs[1]
    assert str(tmp_path).encode() not in outputs[0]
