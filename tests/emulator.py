"""A moto server on localhost, and the Terraform settings that point the AWS provider and the S3 backend at it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from .terraform import emulator_log, unavailable

SERVICES = ("apigateway", "appautoscaling", "apprunner", "cloudwatchlogs", "codebuild", "dynamodb", "ec2", "ecr", "ecs",
            "elasticache", "elbv2", "events", "iam", "kms", "rds", "s3", "secretsmanager", "servicediscovery", "sfn",
            "ssm", "sts", "wafv2")
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def moto_server(log_path: Path, faults: tuple[str, ...] = (), failing_images: tuple[str, ...] = ()):
    """Start `moto.server` on a free loopback port; always stopped, even when the test fails.

    faults: actions (CreateVpc, or `POST /restapis` for a REST API) that fail as a bug of the emulator would, to
    test that one fails fast (tests/moto_patched.py). failing_images: parts of image names whose ECS deployments
    fail and roll back, as ECS's circuit breaker would (tests/moto_patched.py)."""
    try:
        import moto.server  # noqa: F401
    except ImportError:
        unavailable("moto[server] is not installed (pip install -c requirements/app.txt -e '.[test]')")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true", **CREDENTIALS)
    env.pop("MOTO_PATCHED_FAULT", None)
    if faults:
        env["MOTO_PATCHED_FAULT"] = ",".join(faults)
    env["MOTO_PATCHED_FAILING_IMAGES"] = ",".join(failing_images)
    with open(log_path, "wb") as log:
        # moto's server plus the API Gateway updates a day-2 apply needs (tests/moto_patched.py).
        process = subprocess.Popen([sys.executable, "-m", "tests.moto_patched", "-H", "127.0.0.1", "-p", str(port)],
                                   stdout=log, stderr=subprocess.STDOUT, env=env, cwd=Path(__file__).parent.parent)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"{url}/moto-api/", timeout=2).read()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"moto server did not start:\n{log_path.read_text()[-2000:]}")
                    time.sleep(0.2)
            with emulator_log(log_path, "moto"):
                yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def provider_override(url: str, apprunner: str | None = None) -> dict:
    """`*_override.tf.json` content: merged by Terraform into the synthesized provider block.

    `apprunner`: the App Runner stand-in's URL (tests/apprunner_standin.py); moto has no App Runner.
    """
    return {"provider": {"aws": {
        "access_key": CREDENTIALS["AWS_ACCESS_KEY_ID"], "secret_key": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        # The account id comes from moto's STS: without it the provider writes "<account>/<sg-id>" for groups.
        "skip_credentials_validation": True, "skip_requesting_account_id": False, "skip_metadata_api_check": "true",
        "skip_region_validation": True, "s3_use_path_style": True,
        # Retries on throttling and transient errors (the default, 25, made explicit): a waiter that sees one
        # 5xx from a local emulator under load must not fail the run.
        "max_retries": 25,
        "endpoints": [{**{service: url for service in SERVICES}, **({"apprunner": apprunner} if apprunner else {})}],
    }}}


def backend_config(url: str) -> str:
    """A partial backend configuration (-backend-config=FILE), merged with the synthesized S3 backend."""
    return "\n".join([
        f'endpoints = {{ s3 = "{url}", dynamodb = "{url}" }}',
        "use_path_style = true",
        "skip_credentials_validation = true",
        "skip_region_validation = true",
        "skip_requesting_account_id = true",
        "skip_metadata_api_check = true",
        f'access_key = "{CREDENTIALS["AWS_ACCESS_KEY_ID"]}"',
        f'secret_key = "{CREDENTIALS["AWS_SECRET_ACCESS_KEY"]}"',
    ]) + "\n"


def lift_tls_only_policy(url: str, bucket: str) -> dict:
    """moto evaluates aws:SecureTransport as false even over TLS, so the state bucket's TLS-only policy
    denies every request; return the applied policy (for assertions) and remove it from the emulator."""
    import boto3

    s3 = boto3.client("s3", endpoint_url=url, region_name="eu-west-1",
                      aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    s3.delete_bucket_policy(Bucket=bucket)
    return policy
