"""A campaign of bad inputs through the command line: each gets exit status 2, an error naming the file
and the key or path with what would be accepted, and leaves the output folder exactly as it was."""

import os
from pathlib import Path

import pytest

import main
from workers_scan.environment import LAYERS
from workers_scan.errors import display_path

from .helpers import BOOTSTRAP, WORKERS, make_monorepo

PLAINTEXT = "sk_live_abc"   # must never be echoed
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:acme/x-AbCdEf"


def aws(root: Path) -> Path:
    return root / "infra" / "aws"


def write(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode())


def workers_dir(root: Path) -> Path:
    return root / WORKERS


# (id, settings overrides, extra setup(root), texts the message must hold: file, key/path, guidance)
CASES = [
    ("connection-arn-missing", {"APP_RUNNER_CONNECTION_ARN": None}, None,
     [".env", "APP_RUNNER_CONNECTION_ARN", "is required"]),
    ("connection-arn-malformed", {"APP_RUNNER_CONNECTION_ARN": "arn:aws:apprunner:eu-west-1:1234:connection/x/y"},
     None, [".env", "APP_RUNNER_CONNECTION_ARN", "connection/<name>/<32-hex id>"]),
    ("connection-arn-other-region", {"AWS_REGION": "us-east-1"}, None,
     [".env", "APP_RUNNER_CONNECTION_ARN", "create one in us-east-1 or change AWS_REGION"]),
    ("environment-invalid", {"ENVIRONMENT": "Prod!"}, None, [".env", "ENVIRONMENT", "e.g. dev, staging, prod"]),
    ("environments-reserved-name", {"ENVIRONMENTS": "dev,workers"}, None,
     [".env", "ENVIRONMENTS", "cannot be an environment name"]),
    ("cidr-malformed", {"VPC_CIDR": "10.0.0.0/33"}, None, [".env", "VPC_CIDR", "IPv4 CIDR block like 10.0.0.0/16"]),
    ("cidr-public", {"VPC_CIDR": "52.0.0.0/16"}, None, [".env", "VPC_CIDR", "private (RFC 1918)"]),
    ("subnets-repeated", {"VPC_ID": "vpc-0123456789abcdef0",
                          "PRIVATE_SUBNET_IDS": "subnet-0123456789abcdef0,subnet-0123456789abcdef0"}, None,
     [".env", "PRIVATE_SUBNET_IDS", "lists a value twice"]),
    ("zero-azs", {"AZ_COUNT": "0"}, None, [".env", "AZ_COUNT", "use 2 to 3"]),
    ("typo-key", {"APP_RUNER_CONNECTION_ARN": "x"}, None, [".env", "APP_RUNER_CONNECTION_ARN",
                                                           "did you mean APP_RUNNER_CONNECTION_ARN?"]),
    ("waf-limit-too-low", {"WAF_RATE_LIMIT": "5"}, None, [".env", "WAF_RATE_LIMIT", "use 10 to 2,000,000,000"]),
    ("start-command-no-placeholder", {"START_COMMAND": "node main.js"}, None,
     [".env", "START_COMMAND", "{worker_file}"]),
    ("project-name-too-long", {"PROJECT_NAME": "a-very-long-project-name-indeed"}, None,
     [".env", "PROJECT_NAME", "3-20 characters"]),
    ("s3-backend-without-bucket", {"STATE_BACKEND": "s3", "STATE_USE_LOCKFILE": "true"}, None,
     [".env", "STATE_BUCKET", "is required with STATE_BACKEND=s3"]),
    ("data-stores-without-vpc-egress", {"WORKER_VPC_EGRESS": "false"}, None,
     [".env", "WORKER_VPC_EGRESS", "set AURORA_ENABLED=false or WORKER_VPC_EGRESS=true"]),
    ("settings-duplicate-key", {}, lambda r: write(aws(r) / ".env", (aws(r) / ".env").read_text() + "BRANCH=a\nBRANCH=b\n"),
     [".env", "BRANCH", "is set twice"]),
    ("settings-binary", {}, lambda r: write(aws(r) / ".env", b"\x00\x01\x02PK"),
     [".env", "binary file"]),
    ("settings-not-utf8", {}, lambda r: write(aws(r) / ".env", "PROJECT_NAME=caf\xe9\n".encode("latin-1")),
     [".env", "not UTF-8"]),
    ("workers-folder-missing", {"WORKERS_DIR": "apps/api/src/jobs"}, None,
     ["apps/api/src/jobs", "WORKERS_DIR", "workers folder not found"]),
    ("workers-folder-empty", {}, lambda r: (workers_dir(r) / "orders.ts").unlink(),
     ["apps/api/src/workers", "WORKERS_DIR", "no worker found"]),
    ("worker-names-differ-in-case", {}, lambda r: write(workers_dir(r) / "Orders.ts", BOOTSTRAP),
     ["Orders.ts", "orders.ts", "rename one of them"]),
    ("worker-names-underscore-vs-dash", {}, lambda r: (write(workers_dir(r) / "email_sender.ts", BOOTSTRAP),
                                                        write(workers_dir(r) / "email-sender.ts", BOOTSTRAP)),
     ["email_sender.ts", "email-sender.ts", "'email-sender'"]),
    ("worker-file-vs-folder", {}, lambda r: write(workers_dir(r) / "orders" / "main.ts", BOOTSTRAP),
     ["orders", "orders.ts", "rename one of them"]),
    ("worker-file-name-with-space", {}, lambda r: write(workers_dir(r) / "pdf export.ts", ""),
     ["pdf export.ts", "may hold only letters"]),
    ("worker-file-name-not-utf8", {}, lambda r: open(os.fsencode(workers_dir(r)) + b"/caf\xe9.ts", "w").close(),
     ["apps/api/src/workers", "not valid UTF-8"]),
    ("symlink-loop", {}, lambda r: (os.symlink(workers_dir(r) / "b.ts", workers_dir(r) / "a.ts"),
                                    os.symlink(workers_dir(r) / "a.ts", workers_dir(r) / "b.ts")),
     ["a.ts", "symlink loop"]),
    ("symlink-outside-monorepo", {}, lambda r: (write(r.parent / f"{r.name}-outside.ts", ""),
                                               os.symlink(r.parent / f"{r.name}-outside.ts",
                                                          workers_dir(r) / "stray.ts")),
     ["stray.ts", "outside the monorepo"]),
    ("two-hundred-workers", {}, lambda r: [write(workers_dir(r) / f"w{i:03d}.ts", BOOTSTRAP) for i in range(200)],
     ["apps/api/src/workers", "WORKERS_DIR", "routes at most 149"]),
    ("toml-unknown-worker", {}, lambda r: write(aws(r) / "workers.toml", "[order]\ncpu = 512\n"),
     ["workers.toml", "[order]", "workers are: orders"]),
    ("toml-cpu-memory-pair", {}, lambda r: write(aws(r) / "workers.toml", "[orders]\ncpu = 256\nmemory = 4096\n"),
     ["workers.toml", "[orders].memory", "use 512 MB or 1024 MB"]),
    ("toml-min-above-max", {}, lambda r: write(aws(r) / "workers.toml",
                                              "[orders]\nmin_instances = 5\nmax_instances = 2\n"),
     ["workers.toml", "[orders].min_instances", "more than max_instances"]),
    ("toml-route-reserved", {}, lambda r: write(aws(r) / "workers.toml", "[orders]\nroute = 'proxy'\n"),
     ["workers.toml", "[orders].route", "is reserved"]),
    ("toml-route-invalid", {}, lambda r: write(aws(r) / "workers.toml", "[orders]\nroute = '-orders'\n"),
     ["workers.toml", "[orders].route", "not a valid route"]),
    ("toml-syntax", {}, lambda r: write(aws(r) / "workers.toml", "[orders\n"), ["workers.toml", "not valid TOML"]),
    ("env-key-invalid", {}, lambda r: write(aws(r) / ".env.workers", "MY-KEY=1\n"),
     [".env.workers", "line 1"]),
    ("env-key-reserved-prefix", {}, lambda r: write(aws(r) / ".env.workers", "AWSAPPRUNNER_MODE=1\n"),
     [".env.workers", "AWSAPPRUNNER_MODE (line 1)", "reserved by App Runner"]),
    ("env-key-set-by-infrastructure", {}, lambda r: write(aws(r) / ".env.workers.orders", "DB_HOST=x\n"),
     [".env.workers.orders", "DB_HOST (line 1)", "is set by the infrastructure"]),
    ("env-secret-other-region", {}, lambda r: write(aws(r) / ".env.workers", f"STRIPE_KEY={SECRET_ARN}\n"),
     [".env.workers", "STRIPE_KEY (line 1)", "refers to region us-east-1"]),
    ("env-file-binary", {}, lambda r: write(aws(r) / ".env.workers", b"\x00\xff"),
     [".env.workers", "binary file"]),
    ("env-file-for-unknown-worker", {}, lambda r: write(aws(r) / ".env.workers.order", "X=1\n"),
     [".env.workers.order", "names no discovered worker"]),
]

# Files that would be ignored: at the monorepo root, or singular.
CASES += [
    ("env-workers-at-the-monorepo-root", {}, lambda r: write(r / ".env.workers", "STRIPE_KEY=x\n"),
     ["repo/.env.workers: is not read", "belongs next to the settings file", "infra/aws; move it there"]),
    ("workers-toml-at-the-monorepo-root", {}, lambda r: write(r / "workers.toml", "[orders]\ncpu = 2048\n"),
     ["repo/workers.toml: is not read", "move it there"]),
    ("singular-env-worker", {}, lambda r: write(aws(r) / ".env.worker", "LOG_LEVEL=debug\n"),
     ["infra/aws/.env.worker: is not read", ".env.workers and .env.workers.<worker> (plural)"]),
    ("singular-env-worker-for-one-worker", {}, lambda r: write(aws(r) / ".env.worker.orders", "X=1\n"),
     ["infra/aws/.env.worker.orders: is not read"]),
    ("singular-worker-toml", {}, lambda r: write(aws(r) / "worker.toml", "[orders]\n"),
     ["infra/aws/worker.toml: is not read", "workers.toml next to the settings file"]),
    ("worker-variable-in-the-settings-file", {"SLACK_WEBHOOK_URL": "https://hooks.example/x"}, None,
     ["infra/aws/.env: SLACK_WEBHOOK_URL: unknown key: not a setting", "belongs in .env.workers"]),
]

# A build or start command that cannot work on this monorepo: refused before App Runner tries it.
CASES += [
    ("build-without-lockfile", {}, lambda r: (r / "pnpm-lock.yaml").unlink(),
     ["BUILD_COMMAND: runs `pnpm install --frozen-lockfile`, which fails without", "repo/pnpm-lock.yaml"]),
    ("build-filters-on-another-package", {"BUILD_COMMAND": "'pnpm install --frozen-lockfile && pnpm run build --filter @monorepo/api'"}, lambda r: write(r / "apps" / "api" / "package.json",
                                                            '{"name": "@northwind/api"}'),
     ["BUILD_COMMAND: filters on the package @monorepo/api, which is not in the monorepo",
      "its packages are: @northwind/api"]),
    ("build-filter-without-workspace", {}, lambda r: (r / "pnpm-workspace.yaml").unlink(),
     ["BUILD_COMMAND: filters on a workspace package, but", "pnpm-workspace.yaml is missing"]),
    ("start-script-missing", {}, lambda r: (r / "apps" / "api" / "scripts" / "start-worker.sh").unlink(),
     ["START_COMMAND: runs apps/api/scripts/start-worker.sh, which is not in the monorepo"]),
]

# A plaintext secret in any layer of a worker's environment (the only worker is "orders").
CASES += [
    (f"env-plaintext-secret-in-{layer.format(worker='worker')}", {},
     lambda r, f=layer.format(worker="orders"): write(aws(r) / f, f"LOG_LEVEL=info\nSTRIPE_SECRET_KEY={PLAINTEXT}\n"),
     [f"infra/aws/{layer.format(worker='orders')}: STRIPE_SECRET_KEY (line 2)", "Secrets Manager"])
    for layer in LAYERS
]


@pytest.mark.parametrize("name, settings, setup, expected", CASES, ids=[case[0] for case in CASES])
def test_bad_input_is_reported_clearly_and_writes_nothing(tmp_path, capsys, name, settings, setup, expected):
    root = tmp_path / "repo"
    env = make_monorepo(root, ["orders.ts"], settings=settings)
    if setup:
        setup(root)
    out = tmp_path / "cdktf.out"
    write(out / "stacks" / "previous" / "cdk.tf.json", "{}")
    before = sorted((p.relative_to(out), p.stat().st_mtime_ns) for p in out.rglob("*"))

    code = main.main(["--env-file", str(env), "--out", str(out)])

    captured = capsys.readouterr()
    assert code == main.EXIT_BAD_INPUT, captured.err
    assert captured.out == ""
    assert "nothing was synthesized" in captured.err
    for text in expected:
        assert text in captured.err, f"{text!r} not in:\n{captured.err}"
    assert "Traceback" not in captured.err and PLAINTEXT not in captured.err
    assert sorted((p.relative_to(out), p.stat().st_mtime_ns) for p in out.rglob("*")) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".cdktf")] == []


def test_error_counts_the_problems_and_lists_each_on_its_own_line(tmp_path, capsys):
    env = make_monorepo(tmp_path, ["orders.ts"], settings={"WAF_RATE_LIMIT": "5"})
    assert main.main(["workers", "--env-file", str(env)]) == main.EXIT_BAD_INPUT
    where = display_path(env)
    assert capsys.readouterr().err == (
        "1 problem in the inputs (nothing was synthesized):\n"
        f"  - {where}: WAF_RATE_LIMIT: 5 is out of range; use 10 to 2,000,000,000\n")
    env = make_monorepo(tmp_path, ["orders.ts"], settings={"WAF_RATE_LIMIT": "5", "PORT": "0"})
    assert main.main(["workers", "--env-file", str(env)]) == main.EXIT_BAD_INPUT
    assert capsys.readouterr().err == (
        "2 problems in the inputs (nothing was synthesized):\n"
        f"  - {where}: PORT: 0 is out of range; use 1 to 65,535\n"
        f"  - {where}: WAF_RATE_LIMIT: 5 is out of range; use 10 to 2,000,000,000\n")
