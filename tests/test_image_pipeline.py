"""The ECS image pipeline built alone, from its props: no settings file, no monorepo, no platform stack.

Besides the JSON, its build commands are run with bash against stand-in `aws` and `docker` commands (jq is the
real one), so what the build does with the synthesized values is checked, not only that the values are there.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess

import cdktf
import pytest
import yaml

from constructs_lib.image_pipeline import (BASE_IMAGE, DOCKERIGNORE, ImagePipeline, ImagePipelineProps, ImageRepository,
                                           ImageRepositoryProps, dockerfile)

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
             codeconnections_connection_arn=CONNECTION, build_command=BUILD_COMMAND, start_script=START_SCRIPT,
             logs_kms_key_arn=KEY, log_retention_days=30, cluster_arn=CLUSTER, cluster_name="globex-qa",
             service_arns=SERVICES, passed_role_suffixes=("-task", "-execution"))
REPOSITORY_PROPS = dict(name_prefix="globex-qa", keep_images=25)


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

FAKE_AWS = r"""#!/usr/bin/env bash
printf '%s\n' "aws $*" >> "$OUT/calls"
case "$1 $2" in
  "ecr get-login-password"|"ecr-public get-login-password") echo not-a-real-token ;;
  "ssm get-parameter") cat "$OUT/parameter" ;;
  "ecr describe-images") [ -n "$IMAGE_EXISTS" ] || exit 254 ;;
  "ecs describe-services") echo "arn:aws:ecs:eu-west-1:123456789012:task-definition/${6##*/}:7" ;;
  "ecs describe-task-definition")
    case "$*" in *"--include TAGS"*) ;; *) echo "the copy must keep its tags" >&2; exit 9 ;; esac
    cat "$OUT/task-definition.json" ;;
  "ecs register-task-definition")
    n=$(ls "$OUT" | grep -c '^registered' || true); cp "${4#file://}" "$OUT/registered-$n.json"
    echo "arn:aws:ecs:eu-west-1:123456789012:task-definition/new-$n:8" ;;
esac
"""
FAKE_DOCKER = r"""#!/usr/bin/env bash
printf '%s\n' "docker $1" >> "$OUT/calls"
if [ "$1" = build ]; then printf '%s\n' "$@" > "$OUT/build-args"; cp Dockerfile.workers* "$OUT/"; fi
if [ "$1" = push ]; then printf '%s\n' "$2" >> "$OUT/pushed"; fi
cat > /dev/null
"""
TASK_DEFINITION = {
    "taskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/orders:7", "revision": 7,
    "status": "ACTIVE", "family": "orders", "requiresAttributes": [], "compatibilities": ["FARGATE"],
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


def run_build(pipeline: dict, tmp_path, image_exists: bool, live: str = f"{REPOSITORY}:unbuilt"
              ) -> tuple[str, list[str]]:
    if not shutil.which("jq"):
        unavailable("jq is not on PATH (the CodeBuild image has it)")
    project = one(pipeline, "aws_codebuild_project")
    spec = yaml.safe_load(untemplate(project["source"]["buildspec"]))
    env = {v["name"]: RESOLVED.get(v["value"], untemplate(v["value"]))
           for v in project["environment"]["environment_variable"]}
    out, bin_dir, clone = tmp_path / "out", tmp_path / "bin", tmp_path / "clone"
    for folder in (out, bin_dir, clone):
        folder.mkdir()
    for name, text in (("aws", FAKE_AWS), ("docker", FAKE_DOCKER)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(stat.S_IRWXU)
    (out / "task-definition.json").write_text(json.dumps({"taskDefinition": TASK_DEFINITION, "tags": TAGS}))
    (out / "parameter").write_text(live + "\n")
    git = {"GIT_AUTHOR_DATE": f"@{COMMIT_TIME} +0000", "GIT_COMMITTER_DATE": f"@{COMMIT_TIME} +0000",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"}
    for args in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "the pushed commit"]):
        subprocess.run(["git", *args], cwd=clone, env={**os.environ, **git}, check=True)
    env.update(PATH=f"{bin_dir}:{os.environ['PATH']}", OUT=str(out), AWS_REGION="eu-west-1",
               CODEBUILD_RESOLVED_SOURCE_VERSION=SHA, IMAGE_EXISTS="1" if image_exists else "")
    phases = spec["phases"]
    for command in phases["pre_build"]["commands"] + phases["build"]["commands"]:
        done = subprocess.run(["bash", "-c", command], cwd=clone, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{command[:80]}...\n{done.stdout}\n{done.stderr}"
    return str(out), (out / "calls").read_text().splitlines()


def test_the_build_pushes_the_commit_tag_then_registers_each_service_on_that_image(pipeline, tmp_path):
    out, calls = run_build(pipeline, tmp_path, image_exists=False)
    image = f"{REPOSITORY}:{TAG}"
    with open(f"{out}/pushed") as pushed:
        assert pushed.read().split() == [image]
    args = open(f"{out}/build-args").read().splitlines()
    assert args[args.index("--tag") + 1] == image
    assert f"BUILD_COMMAND={BUILD_COMMAND}" in args          # unchanged through Terraform, JSON and bash
    assert open(f"{out}/Dockerfile.workers").read() == dockerfile(START_SCRIPT) + "\n"
    assert open(f"{out}/Dockerfile.workers.dockerignore").read() == DOCKERIGNORE
    assert f"aws ssm put-parameter --name /globex-qa/workers/image --value {image} --overwrite" in calls
    for n, service in enumerate(SERVICES):
        registered = json.load(open(f"{out}/registered-{n}.json"))
        worker, router = registered["containerDefinitions"]
        assert worker["image"] == image and worker["command"] == ["bash", START_SCRIPT, "orders.ts"]
        assert worker["secrets"] == TASK_DEFINITION["containerDefinitions"][0]["secrets"]
        assert router == TASK_DEFINITION["containerDefinitions"][1]
        assert not {"taskDefinitionArn", "revision", "status", "registeredAt"} & registered.keys()
        assert registered["tags"] == TAGS  # else the next plan would put the provider's default tags back
        new = f"arn:aws:ecs:eu-west-1:123456789012:task-definition/new-{n}:8"
        assert f"aws ecs update-service --cluster {CLUSTER} --service {service} --task-definition {new}" in calls
    assert calls.index("docker push") < min(i for i, c in enumerate(calls) if "update-service" in c)


def test_a_retried_commit_is_not_rebuilt_over_its_immutable_tag_but_still_rolls(pipeline, tmp_path):
    out, calls = run_build(pipeline, tmp_path, image_exists=True)
    assert not [c for c in calls if c.startswith("docker build") or c.startswith("docker push")]
    assert len([c for c in calls if "update-service" in c]) == len(SERVICES)


def test_a_build_of_an_older_commit_than_the_live_image_does_not_roll_back(pipeline, tmp_path):
    newer = f"{REPOSITORY}:{COMMIT_TIME + 60}-fedcba9876543210fedcba9876543210fedcba98"
    out, calls = run_build(pipeline, tmp_path, image_exists=False, live=newer)
    assert "docker push" in calls   # its image is still pushed (a rollback can pick it)...
    assert not [c for c in calls if "put-parameter" in c or "update-service" in c]   # ...but nothing rolls to it
    older = f"{REPOSITORY}:{COMMIT_TIME - 60}-fedcba9876543210fedcba9876543210fedcba98"
    (tmp_path / "again").mkdir()
    _, calls = run_build(pipeline, tmp_path / "again", image_exists=True, live=older)
    assert len([c for c in calls if "update-service" in c]) == len(SERVICES)


def test_dotenv_files_stay_out_of_the_image():
    assert {"**/.env", "**/.env.*", ".git", "**/node_modules"} == set(DOCKERIGNORE.split())


def test_terraform_validates_the_pipeline_alone_without_warnings(tmp_path):
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    stack = pipeline_stack()
    AwsProvider(stack, "aws", region="eu-west-1")
    assert_alone_stack_validates(stack, tmp_path)
