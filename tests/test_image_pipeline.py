"""The ECS image pipeline built alone, from its props: no settings file, no monorepo, no platform stack.

Besides the JSON, its build commands are run with bash against stand-in `aws` (tests/fake_aws.py: ECS deployments
that complete, fail or never settle) and `docker` commands (jq is the real one), so what the build does with the
synthesized values is checked, not only that the values are there.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cdktf
import pytest
import yaml

from constructs_lib.image_pipeline import (BASE_IMAGE, BUILD_TIMEOUT_MINUTES, DOCKERIGNORE, REVERT_MINUTES, ROLL,
                                           ImagePipeline, ImagePipelineProps, ImageRepository, ImageRepositoryProps,
                                           dockerfile)

from .fake_aws import seed
from .helpers import one, plaintext_secrets
from .terraform import assert_alone_stack_validates, unavailable

ACCOUNT = "123456789012"
CONNECTION = f"arn:aws:codeconnections:eu-west-1:{ACCOUNT}:connection/0a1b2c3d-0000-4000-8000-0123456789ab"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/0a1b2c3d-0000-4000-8000-0123456789ab"
CLUSTER = f"arn:aws:ecs:eu-west-1:{ACCOUNT}:cluster/globex-qa"
SERVICES = (f"arn:aws:ecs:eu-west-1:{ACCOUNT}:service/globex-qa/orders",
            f"arn:aws:ecs:eu-west-1:{ACCOUNT}:service/globex-qa/report-generator")
START_SCRIPT = "apps/api/scripts/start-worker.sh"
# Quotes, a brace expansion and a $ that Terraform would read as a template: all must reach docker unchanged.
BUILD_COMMAND = """corepack enable && pnpm install --frozen-lockfile && pnpm --filter "@monorepo/api" build \
&& echo "built in ${PWD}" && cp -R apps/api/src/i18n apps/api/dist/i18n"""
PROPS = dict(name_prefix="globex-qa", region="eu-west-1", account_id=ACCOUNT,
             repository_url="https://github.com/globex/platform", branch="release/1.x",
             codeconnections_connection_arn=CONNECTION, build_command=BUILD_COMMAND, start_scripts=(START_SCRIPT,),
             logs_kms_key_arn=KEY, log_retention_days=30, cluster_arn=CLUSTER, cluster_name="globex-qa",
             service_arns=SERVICES, passed_role_suffixes=("-task", "-execution"))
REPOSITORY_PROPS = dict(name_prefix="globex-qa", keep_images=25)
FAKE_AWS = Path(__file__).parent / "fake_aws.py"


def pipeline_stack(**overrides) -> cdktf.TerraformStack:
    stack = cdktf.TerraformStack(cdktf.Testing.app(), "image-pipeline-alone")
    repository = {k: overrides.pop(k) for k in list(overrides) if k in ImageRepositoryProps.__dataclass_fields__
                  and k != "name_prefix"}
    images = ImageRepository(stack, "repository", props=ImageRepositoryProps(**{**REPOSITORY_PROPS, **repository}))
    ImagePipeline(stack, "images", props=ImagePipelineProps(**{**PROPS, **overrides, "images": images}))
    return stack


def pipeline_alone(**overrides) -> dict:
    return json.loads(cdktf.Testing.synth(pipeline_stack(**overrides)))


@pytest.fixture(scope="module")
def pipeline():
    return pipeline_alone()


def statements(stack: dict) -> dict[str, dict]:
    policy = json.loads(one(stack, "aws_iam_role_policy")["policy"])
    return {s["Sid"]: s for s in policy["Statement"]}


def untemplate(value: str) -> str:
    """A synthesized string as Terraform hands it to AWS (its template escapes undone)."""
    assert not re.search(r"(?<!\$)\$\{(?!aws_)|(?<!%)%\{", value), f"Terraform would interpolate: {value[:200]}"
    return value.replace("$${", "${").replace("%%{", "%{")


def test_the_repository_scans_on_push_is_kms_encrypted_and_never_moves_a_tag(pipeline):
    repository = one(pipeline, "aws_ecr_repository")
    assert repository["name"] == "globex-qa-workers"
    assert repository["image_scanning_configuration"] == {"scan_on_push": True}
    assert repository["encryption_configuration"] == [{"encryption_type": "KMS"}]  # AWS-managed aws/ecr key
    assert repository["image_tag_mutability"] == "IMMUTABLE"
    keyed = pipeline_alone(image_kms_key_arn=KEY)
    assert one(keyed, "aws_ecr_repository")["encryption_configuration"] == [{"encryption_type": "KMS",
                                                                            "kms_key": KEY}]


def test_the_lifecycle_expires_untagged_images_after_a_day_and_keeps_the_last_n(pipeline):
    policy = json.loads(one(pipeline, "aws_ecr_lifecycle_policy")["policy"])
    rules = sorted(policy["rules"], key=lambda r: r["rulePriority"])
    assert [(r["selection"], r["action"]) for r in rules] == [
        ({"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 1},
         {"type": "expire"}),
        ({"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 25}, {"type": "expire"}),
    ]
    assert one(pipeline, "aws_ecr_lifecycle_policy")["repository"].startswith("${aws_ecr_repository.")


def test_the_webhook_builds_pushes_to_exactly_the_branch(pipeline):
    webhook = one(pipeline, "aws_codebuild_webhook")
    [group] = webhook["filter_group"]
    filters = {f["type"]: f["pattern"] for f in group["filter"]}
    assert filters == {"EVENT": "PUSH", "HEAD_REF": r"^refs/heads/release/1\.x$"}
    head = re.compile(filters["HEAD_REF"])
    assert head.match("refs/heads/release/1.x")
    assert not any(head.match(ref) for ref in ("refs/heads/release/1ax", "refs/heads/release/1.x-old",
                                               "refs/heads/hotfix/release/1.x", "refs/tags/release/1.x"))
    project = one(pipeline, "aws_codebuild_project")
    assert webhook["project_name"] == "${aws_codebuild_project.images_project_CC737C70.name}"
    assert project["source_version"] == "refs/heads/release/1.x"
    # No concurrent build limit: CodeBuild would reject (not queue) a push arriving during a build.
    assert "concurrent_build_limit" not in project


def test_the_project_clones_through_the_connection_and_has_no_artifacts(pipeline):
    project = one(pipeline, "aws_codebuild_project")
    source = project["source"]
    assert (source["type"], source["location"]) == ("GITHUB", "https://github.com/globex/platform")
    assert source["auth"] == {"type": "CODECONNECTIONS", "resource": CONNECTION}
    assert project["artifacts"] == {"type": "NO_ARTIFACTS"}
    assert project["environment"]["privileged_mode"] is True


def test_the_build_log_group_is_kms_encrypted_with_a_retention_and_is_the_projects(pipeline):
    group = one(pipeline, "aws_cloudwatch_log_group")
    assert (group["name"], group["kms_key_id"], group["retention_in_days"]) == (
        "/aws/codebuild/globex-qa-workers-image", KEY, 30)
    logs = one(pipeline, "aws_codebuild_project")["logs_config"]["cloudwatch_logs"]
    assert logs == {"group_name": "${aws_cloudwatch_log_group.images_logs_198E2C0E.name}", "status": "ENABLED"}


def test_the_generated_dockerfile_is_node_22_from_public_ecr_with_bash_and_no_worker_baked_in():
    text = dockerfile(START_SCRIPT)
    [base] = re.findall(r"^FROM (\S+)", text, re.M)
    assert base == BASE_IMAGE and base.startswith("public.ecr.aws/docker/library/node:22-")
    assert "alpine" not in base  # no bash there, and every worker starts with `bash <start script>`
    assert f"RUN test -f {START_SCRIPT}" in text
    lines = text.splitlines()
    assert lines[lines.index('RUN bash -c "$BUILD_COMMAND"'):].count("USER node") == 1  # workers run unprivileged
    assert "USER node" not in lines[:lines.index('RUN bash -c "$BUILD_COMMAND"')]  # the build runs as root
    assert not re.search(r"^(CMD|ENTRYPOINT)\b", text, re.M)  # each task gives its own command


def test_the_buildspec_is_yaml_and_rolls_after_pushing(pipeline):
    spec_text = untemplate(one(pipeline, "aws_codebuild_project")["source"]["buildspec"])
    spec = yaml.safe_load(spec_text)
    assert spec == json.loads(spec_text) and spec["version"] == "0.2"
    build = spec["phases"]["build"]["commands"]
    assert "docker push" in build[0] and "update-service" in build[1]


def test_the_role_is_assumed_only_by_codebuild_for_this_project(pipeline):
    trust = json.loads(one(pipeline, "aws_iam_role")["assume_role_policy"])
    [statement] = trust["Statement"]
    assert statement["Principal"] == {"Service": "codebuild.amazonaws.com"}
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:codebuild:eu-west-1:{ACCOUNT}:project/globex-qa-workers-image"}}
    assert one(pipeline, "aws_codebuild_project")["name"] == "globex-qa-workers-image"


def test_the_role_may_touch_only_its_repository_connection_log_group_parameter_and_services(pipeline):
    by_sid = statements(pipeline)
    resources = {sid: s["Resource"] for sid, s in by_sid.items()}
    families = f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task-definition/globex-qa-*:*"
    assert resources == {
        "WriteItsLogGroup": "${aws_cloudwatch_log_group.images_logs_198E2C0E.arn}:*",
        "LogInToEcr": "*",            # ecr:GetAuthorizationToken has no resource-level permissions
        "LogInToPublicEcr": "*",      # nor ecr-public:GetAuthorizationToken, sts:GetServiceBearerToken
        "PushToItsRepository": "${aws_ecr_repository.repository_5D02F86B.arn}",
        "UseItsConnection": CONNECTION,
        "PublishTheImage": "${aws_ssm_parameter.repository_image_A434759F.arn}",
        "RollItsServices": f"arn:aws:ecs:eu-west-1:{ACCOUNT}:service/globex-qa/*",
        "ReadTaskDefinitions": "*",   # ecs:DescribeTaskDefinition: no resource level
        "CopyTheirTaskDefinitions": families,
        "TagTheCopies": families,     # ecs:TagResource, only as part of RegisterTaskDefinition (below)
        "PassTheirRolesToEcs": [f"arn:aws:iam::{ACCOUNT}:role/globex-qa-*-task",
                                f"arn:aws:iam::{ACCOUNT}:role/globex-qa-*-execution"],
    }
    assert by_sid["LogInToEcr"]["Action"] == "ecr:GetAuthorizationToken"
    assert by_sid["ReadTaskDefinitions"]["Action"] == "ecs:DescribeTaskDefinition"
    assert by_sid["CopyTheirTaskDefinitions"]["Action"] == "ecs:RegisterTaskDefinition"
    assert by_sid["RollItsServices"]["Condition"] == {"ArnEquals": {"ecs:cluster": CLUSTER}}
    assert by_sid["TagTheCopies"]["Condition"] == {"StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}}
    assert by_sid["PassTheirRolesToEcs"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    # The roll step reads the live image before it writes its own.
    assert by_sid["PublishTheImage"]["Action"] == ["ssm:GetParameter", "ssm:PutParameter"]
    # docker push asks for the manifest first (ECR user guide, "Required IAM permissions for pushing an image").
    assert "ecr:BatchGetImage" in by_sid["PushToItsRepository"]["Action"]
    assert by_sid["UseItsConnection"]["Action"] == ["codeconnections:GetConnection",
                                                    "codeconnections:GetConnectionToken"]
    assert not any("*" in str(s["Action"]) for s in by_sid.values())
    assert all(s["Effect"] == "Allow" for s in by_sid.values())


def test_a_codestar_connections_arn_is_granted_with_its_own_action_prefix():
    older = CONNECTION.replace(":codeconnections:", ":codestar-connections:")
    statement = statements(pipeline_alone(codeconnections_connection_arn=older))["UseItsConnection"]
    assert (statement["Resource"], statement["Action"]) == (
        older, ["codestar-connections:GetConnection", "codestar-connections:GetConnectionToken"])


def test_the_policy_does_not_grow_with_the_services():
    many = tuple(f"arn:aws:ecs:eu-west-1:{ACCOUNT}:service/globex-qa/worker-{i:03d}" for i in range(100))
    policy = lambda stack: one(stack, "aws_iam_role_policy")["policy"]  # noqa: E731
    assert policy(pipeline_alone(service_arns=many)) == policy(pipeline_alone(service_arns=SERVICES[:1]))


def test_without_services_the_role_has_no_ecs_or_pass_role_permission():
    alone = pipeline_alone(cluster_arn="", cluster_name="", service_arns=(), passed_role_suffixes=())
    actions = [a for s in statements(alone).values() for a in ([s["Action"]] if isinstance(s["Action"], str)
                                                                else s["Action"])]
    assert not [a for a in actions if a.startswith(("ecs:", "iam:"))]
    with pytest.raises(ValueError, match="cluster_arn and cluster_name"):
        pipeline_alone(cluster_name="")


def test_no_secret_value_is_in_the_json(pipeline):
    assert plaintext_secrets(pipeline) == []
    text = json.dumps(pipeline)
    assert "aws_codebuild_source_credential" not in text and "aws_secretsmanager" not in text
    assert not re.search(r"gh[pousr]_[A-Za-z0-9]{20,}|AKIA[0-9A-Z]{16}", text)


# --- the build's commands, run -------------------------------------------------------------------------------

FAKE_DOCKER = r"""#!/usr/bin/env bash
printf '%s\n' "docker $1" >> "$OUT/calls"
if [ "$1" = build ]; then printf '%s\n' "$@" > "$OUT/build-args"; cp Dockerfile.workers* "$OUT/"; fi
if [ "$1" = push ]; then printf '%s\n' "$2" >> "$OUT/pushed"; fi
cat > /dev/null
"""
FAKE_SLEEP = """#!/usr/bin/env bash
printf 'sleep %s\\n' "$*" >> "$OUT/calls"
"""
TASK_DEFINITION = {
    "requiresAttributes": [], "compatibilities": ["FARGATE"],
    "registeredAt": "2026-11-27T10:00:00Z", "registeredBy": "arn:aws:sts::123456789012:assumed-role/x",
    "cpu": "512", "memory": "1024", "networkMode": "awsvpc", "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/globex-qa-orders-execution",
    "containerDefinitions": [
        {"name": "worker", "image": "old:sha0", "command": ["bash", START_SCRIPT, "orders.ts"],
         "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"}]},
        {"name": "log-router", "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"},
    ],
}
SHA = "0123456789abcdef0123456789abcdef01234567"
TAGS = [{"key": "Project", "value": "globex"}, {"key": "Environment", "value": "qa"}]
REPOSITORY = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/globex-qa-workers"
RESOLVED = {  # what Terraform puts where the JSON holds references
    "${aws_ecr_repository.repository_5D02F86B.repository_url}": REPOSITORY,
    "${aws_ecr_repository.repository_5D02F86B.name}": "globex-qa-workers",
    "${aws_ssm_parameter.repository_image_A434759F.name}": "/globex-qa/workers/image",
}


COMMIT_TIME = 1764230400  # 2025-11-27T08:00:00Z, the stand-in clone's one commit
TAG = f"{COMMIT_TIME}-{SHA}"
IMAGE = f"{REPOSITORY}:{TAG}"
EARLIER = f"{REPOSITORY}:{COMMIT_TIME - 3600}-{'ab' * 20}"   # the last build's image, live before this one
UNBUILT = f"{REPOSITORY}:unbuilt"


def service_definition(service_arn: str, image: str) -> dict:
    """The revision a service runs before the build: its family is its name, as FargateWorkerService writes it."""
    name = service_arn.rsplit("/", 1)[-1]
    worker, router = TASK_DEFINITION["containerDefinitions"]
    return {**TASK_DEFINITION, "family": name,
            "containerDefinitions": [{**worker, "image": image, "command": ["bash", START_SCRIPT, f"{name}.ts"]},
                                     router]}


@dataclass
class Build:
    out: Path
    calls: list[str]
    returncode: int
    log: str          # the failing (else the last) command's stdout and stderr

    @property
    def state(self) -> dict:
        return json.loads((self.out / "state.json").read_text())

    def latest(self, service_arn: str) -> dict:
        """The latest revision of a service's family: what Terraform's task definition (track_latest) reads."""
        revisions = self.state["families"][service_arn.rsplit("/", 1)[-1]]
        return revisions[max(revisions, key=int)]["taskDefinition"]

    def runs(self, service_arn: str) -> str:
        return self.state["services"][service_arn]["taskDefinition"]

    def parameters_written(self) -> list[str]:
        return [c.split("--value ")[1].split()[0] for c in self.calls if c.startswith("aws ssm put-parameter")]


def worker_image(definition: dict) -> str:
    return definition["containerDefinitions"][0]["image"]


def run_build(pipeline: dict, tmp_path: Path, image_exists: bool, live: str = UNBUILT, **scenario: str) -> Build:
    """The buildspec's commands in order, as CodeBuild runs them (stopping at the first that fails), against
    tests/fake_aws.py with the services running `live`; `scenario`: its variables (FAILING_SERVICES...)."""
    if not shutil.which("jq"):
        unavailable("jq is not on PATH (the CodeBuild image has it)")
    project = one(pipeline, "aws_codebuild_project")
    spec = yaml.safe_load(untemplate(project["source"]["buildspec"]))
    env = {v["name"]: RESOLVED.get(v["value"], untemplate(v["value"]))
           for v in project["environment"]["environment_variable"]}
    out, bin_dir, clone = tmp_path / "out", tmp_path / "bin", tmp_path / "clone"
    for folder in (out, bin_dir, clone):
        folder.mkdir()
    fake_aws = f'#!/usr/bin/env bash\nexec {shlex.quote(sys.executable)} {shlex.quote(str(FAKE_AWS))} "$@"\n'
    for name, text in (("aws", fake_aws), ("docker", FAKE_DOCKER), ("sleep", FAKE_SLEEP)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(stat.S_IRWXU)
    seed(out, live, {arn: service_definition(arn, live) for arn in SERVICES}, TAGS)
    git = {"GIT_AUTHOR_DATE": f"@{COMMIT_TIME} +0000", "GIT_COMMITTER_DATE": f"@{COMMIT_TIME} +0000",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"}
    for args in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "the pushed commit"]):
        subprocess.run(["git", *args], cwd=clone, env={**os.environ, **git}, check=True)
    env.update(PATH=f"{bin_dir}:{os.environ['PATH']}", OUT=str(out), AWS_REGION="eu-west-1",
               CODEBUILD_RESOLVED_SOURCE_VERSION=SHA, IMAGE_EXISTS="1" if image_exists else "",
               **{"CODEBUILD_START_TIME": str(int(time.time()) * 1000), **scenario})
    phases = spec["phases"]
    for command in phases["pre_build"]["commands"] + phases["build"]["commands"]:
        done = subprocess.run(["bash", "-c", command], cwd=clone, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            break
    return Build(out, (out / "calls").read_text().splitlines(), done.returncode, done.stdout + done.stderr)


def test_the_build_pushes_the_commit_tag_then_registers_each_service_on_that_image(pipeline, tmp_path):
    build = run_build(pipeline, tmp_path, image_exists=False)
    assert build.returncode == 0, build.log
    out, calls = build.out, build.calls
    assert (out / "pushed").read_text().split() == [IMAGE]
    args = (out / "build-args").read_text().splitlines()
    assert args[args.index("--tag") + 1] == IMAGE
    assert f"BUILD_COMMAND={BUILD_COMMAND}" in args          # unchanged through Terraform, JSON and bash
    assert (out / "Dockerfile.workers").read_text() == dockerfile(START_SCRIPT) + "\n"
    assert (out / "Dockerfile.workers.dockerignore").read_text() == DOCKERIGNORE
    assert f"aws ssm put-parameter --name /globex-qa/workers/image --value {IMAGE} --overwrite" in calls
    for n, service in enumerate(SERVICES):
        name = service.rsplit("/", 1)[-1]
        registered = json.loads((out / f"registered-{n}.json").read_text())
        worker, router = registered["containerDefinitions"]
        assert worker["image"] == IMAGE and worker["command"] == ["bash", START_SCRIPT, f"{name}.ts"]
        assert worker["secrets"] == TASK_DEFINITION["containerDefinitions"][0]["secrets"]
        assert router == TASK_DEFINITION["containerDefinitions"][1]
        assert not {"taskDefinitionArn", "revision", "status", "registeredAt"} & registered.keys()
        assert registered["tags"] == TAGS  # else the next plan would put the provider's default tags back
        new = f"arn:aws:ecs:eu-west-1:123456789012:task-definition/{name}:8"
        assert f"aws ecs update-service --cluster {CLUSTER} --service {service} --task-definition {new}" in calls
    assert calls.index("docker push") < min(i for i, c in enumerate(calls) if "update-service" in c)


def test_a_retried_commit_is_not_rebuilt_over_its_immutable_tag_but_still_rolls(pipeline, tmp_path):
    build = run_build(pipeline, tmp_path, image_exists=True)
    assert build.returncode == 0, build.log
    assert not [c for c in build.calls if c.startswith("docker build") or c.startswith("docker push")]
    assert len([c for c in build.calls if "update-service" in c]) == len(SERVICES)


def test_a_build_of_an_older_commit_than_the_live_image_does_not_roll_back(pipeline, tmp_path):
    newer = f"{REPOSITORY}:{COMMIT_TIME + 60}-fedcba9876543210fedcba9876543210fedcba98"
    build = run_build(pipeline, tmp_path, image_exists=False, live=newer)
    assert build.returncode == 0, build.log
    assert "docker push" in build.calls   # its image is still pushed (a rollback can pick it)...
    assert not [c for c in build.calls if "put-parameter" in c or "update-service" in c]   # ...but nothing rolls to it
    older = f"{REPOSITORY}:{COMMIT_TIME - 60}-fedcba9876543210fedcba9876543210fedcba98"
    (tmp_path / "again").mkdir()
    build = run_build(pipeline, tmp_path / "again", image_exists=True, live=older)
    assert len([c for c in build.calls if "update-service" in c]) == len(SERVICES)


def test_the_build_waits_until_every_deployment_has_completed_and_reverts_nothing(pipeline, tmp_path):
    build = run_build(pipeline, tmp_path, image_exists=True, live=EARLIER)
    assert build.returncode == 0, build.log
    polls = [c for c in build.calls if c.startswith("aws ecs describe-services") and "--output json" in c]
    assert len(polls) == 2 * len(SERVICES) and "sleep 15" in build.calls   # in progress, then completed
    assert build.parameters_written() == [IMAGE]
    for service in SERVICES:
        latest = build.latest(service)
        assert (latest["revision"], worker_image(latest)) == (8, IMAGE)
        assert build.runs(service) == latest["taskDefinitionArn"]
    assert "Every service runs" in build.log


def test_a_failed_deployment_puts_the_parameter_and_every_service_back_and_fails_naming_the_service(
        pipeline, tmp_path):
    """report-generator's deployment fails (ECS's circuit breaker rolls it back to revision 7); orders' completes.
    The parameter is every worker's image, so both go back to the earlier image, each on a new revision that is
    the latest of its family: what Terraform tracks and writes (the parameter's image) is what runs."""
    build = run_build(pipeline, tmp_path, image_exists=True, live=EARLIER,
                      FAILING_SERVICES="report-generator", FAILING_IMAGE=IMAGE)
    assert build.returncode != 0
    assert f"Build failed: the deployment of {IMAGE} failed on report-generator." in build.log
    assert f"report-generator: the deployment of {IMAGE} failed: ECS deployment circuit breaker" in build.log
    assert build.parameters_written() == [IMAGE, EARLIER] and build.state["parameter"] == EARLIER
    for service in SERVICES:
        name = service.rsplit("/", 1)[-1]
        latest = build.latest(service)
        assert (latest["revision"], worker_image(latest)) == (9, EARLIER), name
        assert build.runs(service) == latest["taskDefinitionArn"], name
        # What Terraform writes with the parameter's image, field for field: its next plan changes nothing.
        before = service_definition(service, EARLIER)
        assert latest["containerDefinitions"] == before["containerDefinitions"], name
        assert build.state["families"][name]["9"]["tags"] == TAGS, name
        assert worker_image(build.state["families"][name]["8"]["taskDefinition"]) == IMAGE   # kept, not the latest


def test_a_deployment_still_running_when_the_build_must_end_is_put_back_too(pipeline, tmp_path):
    started = int(time.time()) - (BUILD_TIMEOUT_MINUTES - REVERT_MINUTES) * 60
    build = run_build(pipeline, tmp_path, image_exists=True, live=EARLIER, STUCK="1",
                      CODEBUILD_START_TIME=str(started * 1000))
    assert build.returncode != 0
    assert (f"Build failed: {IMAGE} was still deploying on orders report-generator with {REVERT_MINUTES} minutes "
            "of the build left") in build.log
    assert build.state["parameter"] == EARLIER
    assert all(worker_image(build.latest(s)) == EARLIER and build.runs(s) == build.latest(s)["taskDefinitionArn"]
               for s in SERVICES)


def test_a_build_whose_image_a_later_build_replaced_meanwhile_leaves_the_services_to_it(pipeline, tmp_path):
    later = f"{REPOSITORY}:{COMMIT_TIME + 60}-fedcba9876543210fedcba9876543210fedcba98"
    build = run_build(pipeline, tmp_path, image_exists=True, live=EARLIER, LATER_IMAGE=later,
                      FAILING_SERVICES="orders report-generator", FAILING_IMAGE=IMAGE)
    assert build.returncode == 0, build.log
    assert f"/globex-qa/workers/image now names {later}: a later build has rolled the services since" in build.log
    assert build.parameters_written() == [IMAGE] and build.state["parameter"] == later
    assert len([c for c in build.calls if "update-service" in c]) == len(SERVICES)   # its own roll, no revert


def test_a_failed_first_image_has_no_earlier_image_to_go_back_to(pipeline, tmp_path):
    build = run_build(pipeline, tmp_path, image_exists=True, live=UNBUILT,
                      FAILING_SERVICES="orders", FAILING_IMAGE=IMAGE)
    assert build.returncode != 0
    assert f"failed on orders. No earlier image to go back to ({UNBUILT} was never built)" in build.log
    assert build.parameters_written() == [IMAGE]


def test_the_wait_leaves_the_revert_its_minutes_within_the_build_timeout(pipeline):
    assert one(pipeline, "aws_codebuild_project")["build_timeout"] == BUILD_TIMEOUT_MINUTES
    assert f"DEADLINE=$(( START / 1000 + {(BUILD_TIMEOUT_MINUTES - REVERT_MINUTES) * 60} ))" in ROLL
    assert "services-stable" not in ROLL   # `aws ecs wait services-stable` gives up after 10 minutes


def test_dotenv_files_stay_out_of_the_image():
    assert {"**/.env", "**/.env.*", ".git", "**/node_modules"} == set(DOCKERIGNORE.split())


def test_terraform_validates_the_pipeline_alone_without_warnings(tmp_path):
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    stack = pipeline_stack()
    AwsProvider(stack, "aws", region="eu-west-1")
    assert_alone_stack_validates(stack, tmp_path)
