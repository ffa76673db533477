"""The synthesized JSON against the real hashicorp/aws 5.100.0 schema: no error, no deprecation warning."""

import shutil

import pytest

from constructs_lib.app import StackInput, synthesize
from workers_scan import load_workers

from .helpers import ECS_SETTINGS, make_monorepo, settings_from
from .terraform import assert_valid_without_warnings


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory, example_settings, example_workers):
    """The example and three variants (production with 3 AZs, an IAM database user, an S3 backend, hence the acme-state
    bootstrap stack, and a worker calling another; existing VPC with KMS keys, Redis and WAF rules set to count; no data stores nor VPC egress, with ${...} and %{...} in its build command and variables), synthesized once."""
    root = tmp_path_factory.mktemp("variants")
    prod = settings_from(make_monorepo(root / "prod", ["orders.ts", "reportGenerator/"], settings={
        "ENVIRONMENT": "prod", "AZ_COUNT": "3", "AVAILABILITY_ZONES": "eu-west-1a,eu-west-1b,eu-west-1c",
        "STATE_BACKEND": "s3", "STATE_BUCKET": "acme-terraform-state", "STATE_LOCK_TABLE": "acme-terraform-locks",
        "AURORA_IAM_USER": "app_worker"}, toml='[orders]\ncalls = ["report-generator"]\n'))
    key = "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-0000-4000-8000-0123456789ab"
    existing = settings_from(make_monorepo(root / "existing", ["orders.ts"], settings={
        "ENVIRONMENT": "staging", "VPC_ID": "vpc-0123456789abcdef0",
        "PRIVATE_SUBNET_IDS": "subnet-0123456789abcdef0,subnet-0123456789abcdef1",
        "AURORA_KMS_KEY_ARN": key, "SECRETS_KMS_KEY_ARNS": key, "AURORA_PERFORMANCE_INSIGHTS": "true",
        "REDIS_ENGINE": "redis", "WAF_COUNT_RULES": "SizeRestrictions_BODY,NoUserAgent_HEADER,Log4JRCE_BODY",
        "WAF_LOG_ALL_REQUESTS": "false"}))
    bare_env = make_monorepo(root / "bare", ["orders.ts"], settings={
        "ENVIRONMENT": "sandbox", "AURORA_ENABLED": "false", "REDIS_ENABLED": "false", "WORKER_VPC_EGRESS": "false",
        "MANAGE_API_GATEWAY_ACCOUNT": "false",
        # Shell syntax Terraform would read as its own templates: kept as text.
        "BUILD_COMMAND": "'export PATH=${HOME}/.local/bin:$PATH && pnpm install --frozen-lockfile && echo %{done}'"})
    (bare_env.parent / ".env.workers").write_text("GREETING='Hello ${name}, %{if x}'\n")
    bare = settings_from(bare_env)
    # ECS in an existing VPC, over TLS inside it, built by hand from a subfolder of the repository, with workers
    # sized as only Fargate allows, calling each other.
    ecs = settings_from(make_monorepo(root / "ecs", ["orders.ts", "reportGenerator/"], settings={
        **ECS_SETTINGS, "ENVIRONMENT": "qa", "VPC_ID": "vpc-0123456789abcdef0",
        "PRIVATE_SUBNET_IDS": "subnet-0123456789abcdef0,subnet-0123456789abcdef1",
        "ECS_CERTIFICATE_ARN": "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
        "ECS_ROUTING_DOMAIN": "workers.acme.dev",
        "AUTO_DEPLOYMENTS": "false", "SOURCE_DIRECTORY": "/backend", "AURORA_IAM_USER": "app_worker",
        "MANAGE_API_GATEWAY_ACCOUNT": "false"},
        toml='[orders]\ncalls = ["report-generator"]\n[report-generator]\ncalls = ["orders"]\n'))
    inputs = [StackInput(s, tuple(load_workers(s))) for s in (prod, existing, bare, ecs)]
    inputs.insert(0, StackInput(example_settings, tuple(example_workers)))
    return synthesize(inputs, root / "cdktf.out")


@pytest.mark.parametrize("stack", ["acme-dev", "acme-prod", "acme-staging", "acme-sandbox", "acme-qa", "acme-state"])
def test_terraform_validate_passes_without_warnings(synthesized, tmp_path, stack):
    stack_dir = tmp_path / stack
    shutil.copytree(synthesized.stacks[stack].parent, stack_dir)
    assert_valid_without_warnings(stack_dir, tmp_path)
