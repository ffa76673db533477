"""The command line and the output folder: deterministic, atomic, with clear exit codes."""

import json
import os
from pathlib import Path

import pytest

import main
from constructs_lib.app import StackInput, synthesize
from workers_scan import InputError, load_workers

from .helpers import make_monorepo, render_for_review, settings_from

GOLDENS = Path(__file__).parent / "golden"
GOLDEN = GOLDENS / "acme-dev.stack.review.json"


def test_synth_of_the_example_warns_and_prints_stacks_resources_and_workers(tmp_path, capsys, newcomer):
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


def test_resynth_keeps_everything_it_did_not_write(tmp_path, example_settings, example_workers):
    inputs = [StackInput(example_settings, tuple(example_workers))]
    out = tmp_path / "cdktf.out"
    synthesize(inputs, out)
    stack_dir = out / "stacks" / "acme-dev"
    kept = {stack_dir / ".terraform" / "terraform.tfstate": "backend cache", stack_dir / ".terraform.lock.hcl": "lock",
            stack_dir / "tfplan": "saved plan", stack_dir / "backend.tf": "user backend",
            out / "stacks" / "retired" / "cdk.tf.json": "{}"}
    for path, text in kept.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    result = synthesize(inputs, out)
    assert {path: path.read_text() for path in kept} == kept
    assert any("stacks/retired is no longer synthesized" in notice for notice in result.notices)
    assert json.loads((out / "manifest.json").read_text())["stacks"].keys() == {"acme-dev"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".cdktf.out")], "staging folder left behind"


def test_every_platform_stack_gets_its_import_blocks_and_a_stale_one_never_survives(tmp_path):
    """imports.tf holds the adoption of Aurora's export group while there is an Aurora, and no block after."""
    from constructs_lib.adoption import IMPORTS_FILE
    from constructs_lib.private_ingress import FORGOTTEN_ADDRESSES

    out = tmp_path / "cdktf.out"
    env = make_monorepo(tmp_path / "repo", ["orders.ts"])
    settings = settings_from(env)
    synthesize([StackInput(settings, tuple(load_workers(settings)))], out)
    imports = out / "stacks" / "acme-dev" / IMPORTS_FILE
    text = imports.read_text()
    assert text.count("import {") == 1 and 'required_version = ">= 1.7"' in text
    assert ('for_each = toset([for name in data.aws_cloudwatch_log_groups.aurora_postgresql_logs_existing'
            '.log_group_names : name if name == "/aws/rds/cluster/acme-dev-aurora/postgresql"])') in text
    assert "to       = aws_cloudwatch_log_group.aurora_postgresql_logs" in text
    env.write_text(env.read_text() + "AURORA_ENABLED=false\n")
    settings = settings_from(env)
    synthesize([StackInput(settings, tuple(load_workers(settings)))], out)
    text = imports.read_text()
    assert imports.is_file() and "import {" not in text
    # The layout before the NLB had a security group: forgotten whatever the stack holds (constructs_lib/private_ingress.py)
    assert text.count("removed {") == len(FORGOTTEN_ADDRESSES) and text.count("destroy = false") == len(FORGOTTEN_ADDRESSES)


def test_local_state_lives_beside_the_output_folder(example_stack):
    # The stack folder is <out>/stacks/<stack>: three levels up is the folder holding <out>.
    assert example_stack["terraform"]["backend"]["local"]["path"] == "../../../terraform.acme-dev.tfstate"


def test_output_folders_get_the_usual_mode(tmp_path, example_settings, example_workers):
    umask = os.umask(0o022)
    try:
        out = tmp_path / "cdktf.out"
        synthesize([StackInput(example_settings, tuple(example_workers))], out)
    finally:
        os.umask(umask)
    assert {oct(p.stat().st_mode & 0o777) for p in (out, out / "stacks", out / "stacks" / "acme-dev")} == {"0o755"}


def test_an_output_folder_synth_did_not_write_is_refused_untouched(tmp_path, example_settings, example_workers):
    out = tmp_path / "deliverables"
    out.mkdir()
    (out / "notes.md").write_text("mine")
    with pytest.raises(InputError) as raised:
        synthesize([StackInput(example_settings, tuple(example_workers))], out)
    assert "--out: holds files synth did not write (notes.md)" in str(raised.value)
    assert [p.name for p in out.iterdir()] == ["notes.md"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".deliverables")]


def older_output(out: Path, state: str) -> Path:
    """An output folder of an older version, with the state it kept inside the stack folder."""
    old = out / "stacks" / "acme-dev" / "terraform.acme-dev.tfstate"
    old.parent.mkdir(parents=True)
    (out / "manifest.json").write_text("{}")
    old.write_text(state)
    return old


def test_state_left_in_the_stack_folder_by_older_versions_moves_out_and_is_announced(tmp_path, example_settings,
                                                                                      example_workers):
    out = tmp_path / "cdktf.out"
    old = older_output(out, '{"serial": 7}')
    old.with_name(old.name + ".backup").write_text('{"serial": 6}')
    result = synthesize([StackInput(example_settings, tuple(example_workers))], out)
    assert (tmp_path / "terraform.acme-dev.tfstate").read_text() == '{"serial": 7}'
    assert (tmp_path / "terraform.acme-dev.tfstate.backup").read_text() == '{"serial": 6}'
    assert not old.exists()
    assert [n for n in result.notices if n.startswith("Moved the local state")] and "init -reconfigure" in \
        result.notices[0]


def test_two_state_files_for_one_stack_are_refused_before_anything_is_written(tmp_path, example_settings,
                                                                            example_workers):
    out = tmp_path / "cdktf.out"
    old = older_output(out, "old place")
    (tmp_path / "terraform.acme-dev.tfstate").write_text("new place")
    with pytest.raises(InputError) as raised:
        synthesize([StackInput(example_settings, tuple(example_workers))], out)
    assert "hold the state of acme-dev" in str(raised.value) and "mv " in str(raised.value)
    assert old.read_text() == "old place" and (tmp_path / "terraform.acme-dev.tfstate").read_text() == "new place"
    assert not (old.parent / "cdk.tf.json").exists()


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


@pytest.mark.parametrize("stack_fixture, golden", [
    ("example_stack", GOLDEN),
    ("ecs_example_stack", GOLDENS / "acme-dev-ecs.stack.review.json"),
])
def test_example_matches_the_reviewed_golden_json(request, stack_fixture, golden):
    """The example's JSON (on each backend), rendered for review (tests/helpers.py reviewable), equals the reviewed
    golden file.

    UPDATE_GOLDEN=1 rewrites the file and fails, so the diff is looked at before the next run passes; CI refuses it.
    """
    rendered = render_for_review(request.getfixturevalue(stack_fixture))
    if os.environ.get("UPDATE_GOLDEN") == "1":
        assert os.environ.get("CI") != "true", "UPDATE_GOLDEN=1 is refused under CI: regenerate and review locally"
        changed = not golden.exists() or golden.read_text() != rendered
        golden.write_text(rendered)
        pytest.fail(f"golden rewritten: review the diff (git diff -- {golden}) and run again"
                    if changed else "golden unchanged: run again without UPDATE_GOLDEN")
    assert golden.exists(), "golden file missing: run UPDATE_GOLDEN=1 pytest tests/test_app.py"
    assert rendered == golden.read_text(), "synthesized JSON changed: review, then UPDATE_GOLDEN=1"


def test_review_rendering_splits_long_expressions_and_loses_nothing():
    trigger = "${sha1(jsonencode([" + ", ".join(f"aws_api_gateway_method.m{i}.id" for i in range(8)) + "]))}"
    policy = json.dumps({"Statement": [{"Action": "s3:GetObject", "Resource": "arn:aws:s3:::" + "b" * 100}]},
                        separators=(",", ":"))
    rendered = json.loads(render_for_review({"trigger": trigger, "policy": policy, "short": "a, b"}))
    assert rendered["trigger"]["<joined>"][1] == "aws_api_gateway_method.m0.id, "
    assert "".join(rendered["trigger"]["<joined>"]) == trigger
    assert rendered["policy"] == {"<json>": json.loads(policy)}
    assert rendered["short"] == "a, b"
    spaced = policy.replace(",", ", ")   # not compact: kept as text, so the spacing change stays visible
    assert "".join(json.loads(render_for_review({"p": spaced}))["p"]["<joined>"]) == spaced


def test_output_does_not_depend_on_where_the_monorepo_lives(tmp_path):
    """Same inputs in two folders (two machines, two checkouts): byte-identical JSON."""
    import shutil

    from workers_scan import SettingsSource, load_settings, load_workers
    from workers_scan.settings import EXAMPLE_SETTINGS

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


def test_state_of_a_stack_now_on_a_remote_backend_stays_for_terraform_init_migrate_state(tmp_path):
    from workers_scan import load_workers

    from .helpers import settings_from

    settings = settings_from(make_monorepo(tmp_path / "repo", ["orders.ts"], settings={
        "STATE_BACKEND": "s3", "STATE_BUCKET": "acme-state", "STATE_LOCK_TABLE": "acme-locks"}))
    out = tmp_path / "cdktf.out"
    old = older_output(out, '{"serial": 3}')
    result = synthesize([StackInput(settings, tuple(load_workers(settings)))], out)
    assert old.read_text() == '{"serial": 3}' and not (tmp_path / "terraform.acme-dev.tfstate").exists()
    assert not [n for n in result.notices if n.startswith("Moved")]
