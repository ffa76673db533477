"""An emulator's own bug fails the running step at once, with the emulator's trace in the failure.

AWS's SDKs retry a 500 with backoff: against a broken emulator the provider retried for minutes. The emulators
answer their own bugs with a 400 EmulatorInternalError in each protocol's error shape, which no SDK retries, and
tests/terraform.py's run() adds the trace they logged to the failed step's output."""

from __future__ import annotations

import json
import time

import pytest

from .apprunner_standin import apprunner_standin, standin_calls
from .emulator import CREDENTIALS, moto_server, provider_override
from .terraform import INTERNAL_ERROR, run, terraform_env

pytestmark = pytest.mark.emulator

REGION = "eu-west-1"
# One call per protocol moto speaks: EC2's XML, the query protocol, JSON 1.1, REST-XML, REST-JSON.
CALLS = {
    "ec2": ("CreateVpc", lambda client: client.create_vpc(CidrBlock="10.0.0.0/16")),
    "rds": ("CreateDBSubnetGroup", lambda client: client.create_db_subnet_group(
        DBSubnetGroupName="g", DBSubnetGroupDescription="d", SubnetIds=["subnet-1"])),
    "logs": ("CreateLogGroup", lambda client: client.create_log_group(logGroupName="g")),
    "s3": ("PUT /b", lambda client: client.create_bucket(Bucket="b", CreateBucketConfiguration={
        "LocationConstraint": REGION})),
    "apigateway": ("POST /restapis", lambda client: client.create_rest_api(name="api")),
}


def client(service: str, url: str):
    import boto3

    return boto3.client(service, endpoint_url=url, region_name=REGION,
                        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"])


@pytest.fixture(scope="module")
def broken_moto(tmp_path_factory):
    """moto where each of CALLS raises."""
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with moto_server(log, faults=tuple(action for action, _ in CALLS.values())) as url:
        yield url, log


@pytest.mark.parametrize("service", sorted(CALLS))
def test_a_moto_bug_is_a_400_the_sdk_does_not_retry_and_its_trace_is_logged(broken_moto, service):
    from botocore.exceptions import ClientError

    url, log = broken_moto
    action, call = CALLS[service]
    with pytest.raises(ClientError) as raised:
        call(client(service, url))
    response = raised.value.response
    assert (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]) == (INTERNAL_ERROR, 400)
    assert response["ResponseMetadata"]["RetryAttempts"] == 0
    assert f"RuntimeError: injected fault in {action}" in response["Error"]["Message"]
    assert "Traceback (most recent call last)" in log.read_text()


def test_terraform_stops_within_seconds_with_the_emulator_trace(broken_moto, tmp_path):
    url, _ = broken_moto
    (tmp_path / "main.tf.json").write_text(json.dumps({
        "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": "5.100.0"}}},
        **provider_override(url), "resource": {"aws_vpc": {"main": {"cidr_block": "10.0.0.0/16"}}}}))
    env = dict(terraform_env(tmp_path), **CREDENTIALS, AWS_REGION=REGION)
    assert run(["init", "-input=false", "-no-color"], tmp_path, env).returncode == 0
    started = time.monotonic()
    # Against a 500, the provider was still retrying after 8 minutes; the step's own limit stops this test at 120 s.
    applied = run(["apply", "-auto-approve", "-input=false", "-no-color"], tmp_path, env, timeout=120)
    elapsed = time.monotonic() - started
    assert applied.returncode == 1
    assert elapsed < 60, f"the apply took {elapsed:.0f} s to fail"
    assert f"{INTERNAL_ERROR}: RuntimeError: injected fault in CreateVpc" in applied.stderr
    trace = applied.stderr[applied.stderr.index("--- moto ("):]
    assert "Traceback (most recent call last)" in trace and "moto_patched.py" in trace


def test_an_app_runner_standin_bug_is_a_400_the_sdk_does_not_retry(tmp_path):
    from botocore.exceptions import ClientError

    log = tmp_path / "apprunner.log"
    with apprunner_standin(log, fault="ListOperations") as url:
        with pytest.raises(ClientError) as raised:
            client("apprunner", url).list_operations(ServiceArn="arn:aws:apprunner:eu-west-1:1:service/s/1")
        calls = standin_calls(url)
    response = raised.value.response
    assert (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]) == (INTERNAL_ERROR, 400)
    assert [action for action, _ in calls] == ["ListOperations"]  # asked once, not retried
    assert "RuntimeError: injected fault in ListOperations" in log.read_text()
