"""One image per commit of BRANCH for every ECS worker: an ECR repository and a CodeBuild project behind a webhook.

Why a CodeBuild webhook and not CodePipeline V2: what we need is one build per push that ends by rolling the
services, and one CodeBuild project does exactly that. A pipeline would add an S3 artifact bucket (and its key and
policy), a second role and a source stage that only hands CodeBuild the same commit CodeBuild can clone itself
through the connection (source auth type CODECONNECTIONS). The build has no artifacts at all: its output is the
image in ECR. What a pipeline does better is superseding an older execution by a newer one; here pushes build
concurrently (a concurrent build limit would reject a push that arrives during a build, not queue it), and the roll
step of an older commit's build that finishes last sees the newer commit's image in the parameter and stops: the
tags begin with the commit time. Two builds finishing within the same seconds can still race; the next push
settles it.

How the services roll: by registering a new task definition revision per service, not by
`update-service --force-new-deployment`. Tags are immutable (the tag is `<commit time>-<commit SHA>`, so an image can
never change under a running task), and ECS resolves a tag to a digest when a deployment starts: forcing a new deployment of the
same task definition would start the same image again. So for each service the build copies its current task
definition, replaces the image of the container `container_name`, registers it and points the service at it. Every
other field stays what Terraform wrote. The build also writes the image to an SSM parameter
(`image_parameter_name`): the task definitions that Terraform writes (next step) read it, so an apply registers
the image that is running, never an older one.

When a deployment fails. The build waits for its deployments and, when ECS's circuit breaker rolls one back,
puts the parameter and every service it rolled back on the earlier image, on revisions that are again the latest of
their families, and fails naming the service (ROLL says how). Why the build and not a rule on ECS's
SERVICE_DEPLOYMENT_FAILED event: only the build knows which services it moved and to what (it must move the ones that
succeeded back too), whether a later build has taken over since, and it fails where the push is watched; an event
rule would need its own role and a state machine that finds all this again, and EventBridge delivers at least once
and in no set order. What the build cannot see is a deployment that fails after it has ended: the wait lasts until
REVERT_MINUTES before the build's timeout, and a deployment still running then is put back like a failed one.

The Dockerfile is generated here, so the monorepo needs none: Node 22 from the public ECR mirror of Docker's
official image (no Docker Hub pull limits), the user's BUILD_COMMAND run inside it (the same Node the workers run
on), and no CMD: every worker's task gives its own command (`bash <start script> <worker file>`).
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.codebuild_project import (CodebuildProject, CodebuildProjectArtifacts,
                                                        CodebuildProjectCache, CodebuildProjectEnvironment,
                                                        CodebuildProjectEnvironmentEnvironmentVariable,
                                                        CodebuildProjectLogsConfig,
                                                        CodebuildProjectLogsConfigCloudwatchLogs,
                                                        CodebuildProjectSource, CodebuildProjectSourceAuth)
from cdktf_cdktf_provider_aws.codebuild_webhook import (CodebuildWebhook, CodebuildWebhookFilterGroup,
                                                        CodebuildWebhookFilterGroupFilter)
from cdktf_cdktf_provider_aws.data_aws_ssm_parameter import DataAwsSsmParameter
from cdktf_cdktf_provider_aws.ecr_lifecycle_policy import EcrLifecyclePolicy
from cdktf_cdktf_provider_aws.ecr_repository import (EcrRepository, EcrRepositoryEncryptionConfiguration,
                                                     EcrRepositoryImageScanningConfiguration)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter
from constructs import Construct

from workers_scan.aws_names import IAM_ROLE_NAME_MAX, shorten
from workers_scan.fargate import IMAGE_IGNORED

from .iam import policy_json, service_trust_policy
from .terraform_text import terraform_literal

CODEBUILD = "codebuild.amazonaws.com"
ECS_TASKS = "ecs-tasks.amazonaws.com"
# Docker's official Node image, mirrored on public ECR. Debian slim, not alpine: the start command runs bash.
def base_image(node_major: int) -> str:
    return f"public.ecr.aws/docker/library/node:{node_major}-bookworm-slim"


BASE_IMAGE = base_image(22)
# Amazon Linux 2023 standard image: Docker for the build (privileged mode); Node comes from BASE_IMAGE.
BUILD_IMAGE = "aws/codebuild/amazonlinux-x86_64-standard:5.0"
BUILD_COMPUTE = "BUILD_GENERAL1_MEDIUM"  # 7 GB: a monorepo install and build; SMALL (3 GB) runs out
DOCKERFILE_NAME = "Dockerfile.workers"   # written next to the monorepo's own files, never over one of them
UNBUILT_TAG = "unbuilt"                  # the parameter's value until the first build pushes an image


def dockerfile(start_scripts: str | tuple[str, ...] | None, node_major: int = 22) -> str:
    """The image every worker runs. BUILD_COMMAND arrives as a build argument, so no quoting can break it."""
    scripts = (start_scripts,) if isinstance(start_scripts, str) else tuple(start_scripts or ())
    return "\n".join((
        "# Generated by the image pipeline (constructs_lib/image_pipeline.py).",
        f"FROM {base_image(node_major)}",
        # The default BUILD_COMMAND installs pnpm with curl; the slim image has neither curl nor CA certificates.
        "RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl"
        " && rm -rf /var/lib/apt/lists/*",
        "WORKDIR /app",
        "COPY . .",
        "ARG BUILD_COMMAND",
        # A RUN step has no SHELL, and pnpm's installer (`pnpm setup`) refuses to run without one: a BUILD_COMMAND
        # that pipes get.pnpm.io/install.sh into `sh -` works here as it does on a developer's machine.
        "ENV SHELL=/bin/bash",
        # As root, like App Runner's build (`corepack enable` writes to /usr/local/bin).
        'RUN bash -c "$BUILD_COMMAND"',
        # Fail the build, not every task: each worker's command is `bash <start script> <worker file>`.
        *([f"RUN {' && '.join(f'test -f {shlex.quote(script)}' for script in scripts)}"] if scripts else []),
        # The workers run unprivileged: /app is theirs to read, not to write (no `chown -R`, which would copy
        # the whole tree, node_modules included, into one more layer); /tmp is writable.
        "USER node",
        "ENV NODE_ENV=production",
        "",
    ))


# The build context: the fresh clone, without its history, installed dependencies or dotenv files
# (workers_scan/fargate.py IMAGE_IGNORED says why; synth notes the committed .env files this leaves out).
DOCKERIGNORE = "".join(f"{pattern}\n" for pattern in IMAGE_IGNORED)


def branch_pattern(branch: str) -> str:
    """The webhook's HEAD_REF regex for exactly this branch."""
    special = set(".^$*+?{}[]\\|()")
    return "^refs/heads/" + "".join(f"\\{c}" if c in special else c for c in branch) + "$"


# Each entry is one shell command of the build phase (CodeBuild stops at the first that fails).
LOGIN = ('aws ecr get-login-password --region "$AWS_REGION" | docker login --username AWS --password-stdin'
         ' "$(echo "$IMAGE_REPOSITORY_URL" | cut -d/ -f1)"')
# Public ECR serves the base image; anonymous pulls are limited per source address, which CodeBuild's hosts share.
# Its authorization token is issued in us-east-1 only (Amazon ECR Public guide, "Registry authentication").
LOGIN_PUBLIC = ("aws ecr-public get-login-password --region us-east-1 | docker login --username AWS "
                "--password-stdin public.ecr.aws")
# Tags are <commit time>-<commit SHA>: immutable (an image never changes under a running task), and ordered, so a
# build of an older commit that finishes last does not roll the services back to it (builds run concurrently:
# a concurrent build limit would reject, not queue, a push that arrives during a build).
TAG = 'TAG="$(git log -1 --format=%ct)-$CODEBUILD_RESOLVED_SOURCE_VERSION"'
BUILD_AND_PUSH = f"""set -euo pipefail
{TAG}
IMAGE="$IMAGE_REPOSITORY_URL:$TAG"
if aws ecr describe-images --repository-name "$IMAGE_REPOSITORY_NAME" --image-ids imageTag="$TAG" >/dev/null 2>&1; then
  echo "$IMAGE is already pushed (tags are immutable): a retry of this commit only rolls the services"
else
  cd "$BUILD_CONTEXT"
  printf '%s\\n' "$DOCKERFILE" > "$DOCKERFILE_NAME"
  printf '%s' "$DOCKERIGNORE" > "$DOCKERFILE_NAME.dockerignore"
  DOCKER_BUILDKIT=1 docker build --file "$DOCKERFILE_NAME" --build-arg BUILD_COMMAND="$BUILD_COMMAND" --tag "$IMAGE" .
  docker push "$IMAGE"
fi"""
BUILD_TIMEOUT_MINUTES = 90  # the project's build_timeout: clone, build, push, roll and wait for the services
REVERT_MINUTES = 10         # of those, what the roll step keeps for putting every service back
POLL_SECONDS = 15           # between two reads of the deployments' rolloutState
# What a service's deployment of revision $next has come to, from `describe-services`: COMPLETED, FAILED (the
# circuit breaker gave up and ECS is rolling back), IN_PROGRESS, or REPLACED (ECS no longer lists it and runs
# another revision: a rollback already over); then the revision the service runs now, and ECS's reason.
ROLLOUT = """.services[0] as $s
| ([$s.deployments[] | select(.taskDefinition == $next)] | first) as $d
| [if $d == null then (if $s.taskDefinition == $next then "COMPLETED" else "REPLACED" end)
   else ($d.rolloutState // "IN_PROGRESS") end,
   $s.taskDefinition, ($d.rolloutStateReason // "")] | join(" ")"""
# The roll step. It waits for the deployments by polling their rolloutState, bounded by the build's own timeout,
# and not with `aws ecs wait services-stable`, which gives up after 10 minutes: a circuit breaker can take longer to
# decide. A build is all or nothing: the image parameter is every worker's image (their task definitions read it),
# so when one service's deployment fails (or is still running when the build must end), every service the build
# rolled goes back to the image ECS rolled the failed one back to (else the image live before the build), on a new
# revision that is the latest of its family, and the parameter with them. Terraform, which tracks the latest revision
# and reads the parameter, then plans nothing; with the parameter left on the failed image, its next apply would
# deploy it again. A build whose image is no longer the parameter's (a later build has rolled since) leaves the
# services to that build. The copies keep their revision's tags (--include TAGS): Terraform tracks the latest revision
# (track_latest) and would otherwise plan to put the provider's default tags back on every revision the build
# registers.
ROLL = f"""set -euo pipefail
shopt -s inherit_errexit
{TAG}
IMAGE="$IMAGE_REPOSITORY_URL:$TAG"
LIVE=$(aws ssm get-parameter --name "$IMAGE_PARAMETER" --query Parameter.Value --output text)
LIVE_TIME="${{LIVE##*:}}"; LIVE_TIME="${{LIVE_TIME%%-*}}"
if [[ "$LIVE_TIME" =~ ^[0-9]+$ ]] && (( LIVE_TIME > ${{TAG%%-*}} )); then
  echo "$LIVE is from a newer commit: this build of an older one does not roll the services back"
  exit 0
fi
copy_with_image() {{  # registers a copy of task definition $1 with image $2 in CONTAINER_NAME; prints its ARN
  aws ecs describe-task-definition --task-definition "$1" --include TAGS > current.json
  jq -e --arg name "$CONTAINER_NAME" 'any(.taskDefinition.containerDefinitions[]; .name == $name)' current.json >/dev/null \\
    || {{ echo "$1 has no container named $CONTAINER_NAME" >&2; return 1; }}
  jq --arg image "$2" --arg name "$CONTAINER_NAME" \\
    '(.tags // []) as $tags
     | .taskDefinition
     | .containerDefinitions |= map(if .name == $name then .image = $image else . end)
     | del(.taskDefinitionArn, .revision, .status, .requiresAttributes, .compatibilities,
           .registeredAt, .registeredBy, .deregisteredAt)
     | if ($tags | length) > 0 then .tags = $tags else . end' current.json > next.json
  aws ecs register-task-definition --cli-input-json file://next.json --query taskDefinition.taskDefinitionArn --output text
}}
names() {{ for arn in "$@"; do printf ' %s' "${{arn##*/}}"; done; }}
aws ssm put-parameter --name "$IMAGE_PARAMETER" --value "$IMAGE" --overwrite >/dev/null
declare -A NEXT
for SERVICE in $ECS_SERVICES; do
  CURRENT=$(aws ecs describe-services --cluster "$ECS_CLUSTER" --services "$SERVICE" --query 'services[0].taskDefinition' --output text)
  NEXT[$SERVICE]=$(copy_with_image "$CURRENT" "$IMAGE")
  aws ecs update-service --cluster "$ECS_CLUSTER" --service "$SERVICE" --task-definition "${{NEXT[$SERVICE]}}" >/dev/null
  echo "${{SERVICE##*/}} is deploying ${{NEXT[$SERVICE]}} ($IMAGE)"
done
# CodeBuild's environment has the build's start (ms); without it, the deadline counts from here.
START="${{CODEBUILD_START_TIME:-$(date +%s)000}}"
DEADLINE=$(( START / 1000 + {(BUILD_TIMEOUT_MINUTES - REVERT_MINUTES) * 60} ))
PENDING="$ECS_SERVICES"; FAILED=""; BACK=""
while [ -n "$PENDING" ]; do
  OWNER=$(aws ssm get-parameter --name "$IMAGE_PARAMETER" --query Parameter.Value --output text)
  if [ "$OWNER" != "$IMAGE" ]; then
    echo "$IMAGE_PARAMETER now names $OWNER: a later build has rolled the services since; this one leaves them to it"
    exit 0
  fi
  STILL=""
  for SERVICE in $PENDING; do
    ROLLOUT_NOW=$(aws ecs describe-services --cluster "$ECS_CLUSTER" --services "$SERVICE" --output json \\
      | jq -r --arg next "${{NEXT[$SERVICE]}}" '{ROLLOUT}')
    read -r STATE RUNS REASON <<< "$ROLLOUT_NOW"
    case "$STATE" in
      COMPLETED) echo "${{SERVICE##*/}} runs $IMAGE" ;;
      FAILED|REPLACED)
        echo "${{SERVICE##*/}}: the deployment of $IMAGE failed: ${{REASON:-ECS replaced it}} (it runs $RUNS)" >&2
        FAILED="$FAILED $SERVICE"
        [ "$RUNS" = "${{NEXT[$SERVICE]}}" ] || BACK="${{BACK:-$RUNS}}" ;;
      *) STILL="$STILL $SERVICE" ;;
    esac
  done
  PENDING="$STILL"
  [ -z "$FAILED" ] || break
  if [ -n "$PENDING" ]; then
    (( $(date +%s) < DEADLINE )) || break
    sleep {POLL_SECONDS}
  fi
done
if [ -z "$FAILED$PENDING" ]; then
  echo "Every service runs $IMAGE"
  exit 0
fi
if [ -n "$FAILED" ]; then
  PROBLEM="the deployment of $IMAGE failed on$(names $FAILED)"
else
  PROBLEM="$IMAGE was still deploying on$(names $PENDING) with {REVERT_MINUTES} minutes of the build left"
fi
PREVIOUS=""
if [ -n "$BACK" ]; then
  PREVIOUS=$(aws ecs describe-task-definition --task-definition "$BACK" --output json \\
    | jq -r --arg name "$CONTAINER_NAME" '[.taskDefinition.containerDefinitions[] | select(.name == $name) | .image] | first // ""')
fi
if [ -z "$PREVIOUS" ] || [ "$PREVIOUS" = "$IMAGE" ]; then PREVIOUS="$LIVE"; fi
PREVIOUS_TIME="${{PREVIOUS##*:}}"; PREVIOUS_TIME="${{PREVIOUS_TIME%%-*}}"
if ! [[ "$PREVIOUS_TIME" =~ ^[0-9]+$ ]]; then
  echo "Build failed: $PROBLEM. No earlier image to go back to ($PREVIOUS was never built)" >&2
  exit 1
fi
OWNER=$(aws ssm get-parameter --name "$IMAGE_PARAMETER" --query Parameter.Value --output text)
if [ "$OWNER" != "$IMAGE" ]; then
  echo "Build failed: $PROBLEM. $IMAGE_PARAMETER now names $OWNER: a later build has rolled since; nothing reverted" >&2
  exit 1
fi
aws ssm put-parameter --name "$IMAGE_PARAMETER" --value "$PREVIOUS" --overwrite >/dev/null
for SERVICE in $ECS_SERVICES; do
  GOOD=$(copy_with_image "${{NEXT[$SERVICE]}}" "$PREVIOUS")
  aws ecs update-service --cluster "$ECS_CLUSTER" --service "$SERVICE" --task-definition "$GOOD" >/dev/null
  echo "${{SERVICE##*/}} is going back to $PREVIOUS ($GOOD)"
done
echo "Build failed: $PROBLEM. Every service it rolled is going back to $PREVIOUS, and $IMAGE_PARAMETER names it again" >&2
exit 1"""


def image_build_project_name(name_prefix: str) -> str:
    """The CodeBuild project of an environment (synth prints it for the first build)."""
    return f"{name_prefix.lower()}-workers-image"


def buildspec() -> str:
    """JSON, which is YAML: CodeBuild reads it as a YAML buildspec, and no value needs YAML quoting rules."""
    return terraform_literal(json.dumps({
        "version": "0.2",
        "env": {"shell": "bash"},
        "phases": {"pre_build": {"commands": [LOGIN, LOGIN_PUBLIC]}, "build": {"commands": [BUILD_AND_PUSH, ROLL]}},
    }, indent=2))


@dataclass(frozen=True)
class ImageRepositoryProps:
    name_prefix: str                     # <project>-<env>: the repository's and the parameter's names
    keep_images: int = 30                # tagged images kept (a rollback can only go back this far)
    image_kms_key_arn: str | None = None  # None: ECR's AWS-managed key (aws/ecr)


class ImageRepository(Construct):
    """Where the images go and which one is current: built before the services (their task definitions read the
    parameter), while the ImagePipeline that fills both is built after them (it rolls them).

    Exposes `repository_name`, `repository_url`, `repository_arn`, `image_parameter_name`, `image_parameter_arn`
    and `current_image` (the parameter's value, read at plan time)."""

    def __init__(self, scope: Construct, id_: str, *, props: ImageRepositoryProps):
        super().__init__(scope, id_)
        prefix = props.name_prefix.lower()
        # Day 2: name and encryption_configuration are ForceNew (hashicorp/aws 5.100.0): a new prefix or image key
        # replaces the repository, and AWS refuses to delete one holding images (force_delete is off on purpose).
        repository = EcrRepository(
            self, "repository", name=f"{prefix}-workers", image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=EcrRepositoryImageScanningConfiguration(scan_on_push=True),
            encryption_configuration=[EcrRepositoryEncryptionConfiguration(
                encryption_type="KMS", kms_key=props.image_kms_key_arn)],
        )
        # A rule with tagStatus "any" must have the highest rulePriority (ECR lifecycle policy rules). The resource
        # has no update: a new policy (or keep_images) replaces it, which only re-puts the policy.
        EcrLifecyclePolicy(self, "lifecycle", repository=repository.name, policy=json.dumps({"rules": [
            {"rulePriority": 1, "description": "Untagged layers of interrupted pushes",
             "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                           "countNumber": 1},
             "action": {"type": "expire"}},
            {"rulePriority": 2, "description": f"Keep the last {props.keep_images} commits",
             "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": props.keep_images},
             "action": {"type": "expire"}},
        ]}, sort_keys=True, separators=(",", ":")))

        # Day 2: the value is the build's from its first run on; Terraform only creates the parameter (name is
        # ForceNew). Type String: an image URI is no secret, and a SecureString would make every reader decrypt.
        parameter = SsmParameter(
            self, "image", name=f"/{prefix}/workers/image", type="String",
            description="The worker image the last build pushed (written by the build)",
            value=f"{repository.repository_url}:{UNBUILT_TAG}",
            lifecycle=TerraformResourceLifecycle(ignore_changes=["value"]),
        )
        self.repository_name: str = repository.name
        self.repository_url: str = repository.repository_url
        self.repository_arn: str = repository.arn
        self.image_parameter_name: str = parameter.name
        self.image_parameter_arn: str = parameter.arn
        # One read for every service (not one per worker): insecure_value, since the parameter is a String (an
        # image URI), and `value` would hide each whole container definition from every plan as sensitive.
        self.current_image: str = DataAwsSsmParameter(self, "current-image", name=parameter.name).insecure_value


@dataclass(frozen=True)
class ImagePipelineProps:
    name_prefix: str                     # <project>-<env>: the project's and role's names
    region: str
    account_id: str                      # may be a token (data.aws_caller_identity): ARNs and the trust policy
    repository_url: str                  # https://github.com/<owner>/<repo>
    branch: str
    codeconnections_connection_arn: str  # arn:aws:codeconnections:... or arn:aws:codestar-connections:...
    build_command: str                   # run with bash inside BASE_IMAGE, at the monorepo root
    start_scripts: tuple[str, ...]       # e.g. apps/api/scripts/start-worker.sh, one per package: in the image
    logs_kms_key_arn: str
    log_retention_days: int
    images: ImageRepository              # where the build pushes, and the parameter it writes
    source_directory: str = "/"          # the monorepo inside the repository: the image's build context
    node_major: int = 22                 # of the base image: the Node.js the build and the workers run on
    build_on_push: bool = True           # False: no webhook, builds are started by hand (AUTO_DEPLOYMENTS=false)
    # What the build rolls (strings, usually tokens of the services' step). Empty: it only builds and pushes.
    cluster_arn: str = ""
    cluster_name: str = ""               # the services' ARNs are service/<cluster name>/<service name>
    service_arns: tuple[str, ...] = ()
    container_name: str = "worker"       # the container whose image the build replaces in each task definition
    # The ends of the names of the roles those task definitions give their tasks (iam:PassRole), after
    # `<name_prefix>-`: e.g. ("-task", "-execution").
    passed_role_suffixes: tuple[str, ...] = ()


class ImagePipeline(Construct):
    """Exposes `project_name` and `role_arn`."""

    def __init__(self, scope: Construct, id_: str, *, props: ImagePipelineProps):
        super().__init__(scope, id_)
        prefix = props.name_prefix.lower()
        region, account = props.region, props.account_id
        images = props.images
        if props.service_arns and not (props.cluster_arn and props.cluster_name):
            raise ValueError("ImagePipelineProps.service_arns needs cluster_arn and cluster_name (update-service "
                             "takes both, and the policy names the cluster's services)")

        project_name = image_build_project_name(prefix)
        project_arn = f"arn:aws:codebuild:{region}:{account}:project/{project_name}"
        # Day 2: the group's name is ForceNew (a new prefix starts an empty group); its key and retention update in
        # place. The project name is ForceNew too, and the role's: both are stateless and replaced freely.
        logs = CloudwatchLogGroup(self, "logs", name=f"/aws/codebuild/{project_name}",
                                  retention_in_days=props.log_retention_days, kms_key_id=props.logs_kms_key_arn)

        role = IamRole(
            self, "role", name=shorten(f"{prefix}-image-build", IAM_ROLE_NAME_MAX),
            description=f"Builds the {prefix} worker image and rolls its ECS services",
            # CodeBuild documents both keys for its service role ("Allow CodeBuild to interact with other AWS
            # services"); the ARN is this one project's.
            assume_role_policy=service_trust_policy(CODEBUILD, source_account=account, source_arn=project_arn),
        )
        IamRolePolicy(self, "role-policy", name="image-build", role=role.id,
                      policy=policy_json(self._statements(props, logs.arn)))

        source_version = f"refs/heads/{props.branch}"
        project = CodebuildProject(
            self, "project", name=project_name, description=f"One image per push to {props.branch}",
            service_role=role.arn, build_timeout=BUILD_TIMEOUT_MINUTES,
            source=CodebuildProjectSource(
                type="GITHUB", location=props.repository_url, git_clone_depth=1, buildspec=buildspec(),
                auth=CodebuildProjectSourceAuth(type="CODECONNECTIONS",
                                                resource=props.codeconnections_connection_arn),
            ),
            source_version=source_version,  # what a build started by hand builds
            artifacts=CodebuildProjectArtifacts(type="NO_ARTIFACTS"),  # the only output is the image in ECR
            cache=CodebuildProjectCache(type="LOCAL", modes=["LOCAL_DOCKER_LAYER_CACHE"]),
            environment=CodebuildProjectEnvironment(
                type="LINUX_CONTAINER", image=BUILD_IMAGE, compute_type=BUILD_COMPUTE,
                privileged_mode=True,  # docker build needs the Docker daemon
                environment_variable=[CodebuildProjectEnvironmentEnvironmentVariable(name=name, value=value)
                                      for name, value in (
                    ("IMAGE_REPOSITORY_URL", images.repository_url),
                    ("IMAGE_REPOSITORY_NAME", images.repository_name),
                    ("IMAGE_PARAMETER", images.image_parameter_name),
                    ("BUILD_COMMAND", terraform_literal(props.build_command)),
                    ("DOCKERFILE_NAME", DOCKERFILE_NAME),
                    ("DOCKERFILE", terraform_literal(dockerfile(props.start_scripts, props.node_major))),
                    ("BUILD_CONTEXT", props.source_directory.strip("/") or "."),
                    ("DOCKERIGNORE", DOCKERIGNORE),
                    ("ECS_CLUSTER", props.cluster_arn),
                    ("ECS_SERVICES", " ".join(props.service_arns)),
                    ("CONTAINER_NAME", props.container_name),
                )],
            ),
            logs_config=CodebuildProjectLogsConfig(cloudwatch_logs=CodebuildProjectLogsConfigCloudwatchLogs(
                group_name=logs.name, status="ENABLED")),
            depends_on=[logs],
        )
        self.project_name: str = project.name
        self.role_arn: str = role.arn
        if props.build_on_push:
            self._build_webhook(props, project)

    def _build_webhook(self, props: ImagePipelineProps, project: CodebuildProject) -> None:
        # Day 2: project_name is ForceNew here, and the project's name too: a new prefix replaces both.
        CodebuildWebhook(self, "webhook", project_name=project.name, build_type="BUILD", filter_group=[
            CodebuildWebhookFilterGroup(filter=[
                CodebuildWebhookFilterGroupFilter(type="EVENT", pattern="PUSH"),
                CodebuildWebhookFilterGroupFilter(type="HEAD_REF", pattern=branch_pattern(props.branch)),
            ])])

    @staticmethod
    def _statements(props: ImagePipelineProps, log_group_arn: str) -> list[dict]:
        """What the buildspec's commands call (tests/test_iam_calls.py makes each call against this policy).

        Its size does not grow with the workers: their services, task definitions and roles are named by patterns
        (`<prefix>-*`), so 100 workers fit IAM's 10,240 characters per role as well as one does."""
        repository_arn, parameter_arn = props.images.repository_arn, props.images.image_parameter_arn
        connection = props.codeconnections_connection_arn
        # A policy's action prefix must be the connection ARN's service ("Renaming connections", Developer Tools
        # console guide): codeconnections for arn:aws:codeconnections:..., codestar-connections for the older ones.
        connections = connection.split(":")[2]
        region, account, prefix = props.region, props.account_id, props.name_prefix.lower()
        statements: list[dict] = [
            {"Sid": "WriteItsLogGroup", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": f"{log_group_arn}:*"},
            # GetAuthorizationToken has no resource-level permissions: AWS requires "*" (it only returns a token;
            # what the token may push is what the statement below allows).
            {"Sid": "LogInToEcr", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            # Pulls of the base image from public ECR, authenticated (no resource-level permissions either).
            {"Sid": "LogInToPublicEcr", "Effect": "Allow", "Resource": "*",
             "Action": ["ecr-public:GetAuthorizationToken", "sts:GetServiceBearerToken"]},
            # What pushing an image takes (Amazon ECR user guide, "Required IAM permissions for pushing an image"):
            # BatchGetImage too, which docker push calls to check for a manifest before it uploads one.
            {"Sid": "PushToItsRepository", "Effect": "Allow", "Resource": repository_arn, "Action": [
                "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload",
                "ecr:DescribeImages", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart"]},
            # What CodeBuild documents for a GitHub App connection ("GitHub App connections", step 2).
            {"Sid": "UseItsConnection", "Effect": "Allow", "Resource": connection, "Action": [
                f"{connections}:GetConnection", f"{connections}:GetConnectionToken"]},
            # The roll step reads the live image (an older commit's build must not roll back a newer one), then
            # writes its own.
            {"Sid": "PublishTheImage", "Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:PutParameter"],
             "Resource": parameter_arn},
        ]
        if props.service_arns:
            families = f"arn:aws:ecs:{region}:{account}:task-definition/{prefix}-*:*"
            statements += [
                # The cluster holds this environment's workers only.
                {"Sid": "RollItsServices", "Effect": "Allow", "Action": ["ecs:DescribeServices", "ecs:UpdateService"],
                 "Resource": f"arn:aws:ecs:{region}:{account}:service/{props.cluster_name}/*",
                 "Condition": {"ArnEquals": {"ecs:cluster": props.cluster_arn}}},
                # DescribeTaskDefinition supports no resource-level permissions: AWS requires "*".
                {"Sid": "ReadTaskDefinitions", "Effect": "Allow", "Action": "ecs:DescribeTaskDefinition",
                 "Resource": "*"},
                # The workers' families are their service names, <prefix>-<route>. Registering a revision grants
                # nothing by itself; only UpdateService above puts one to use.
                {"Sid": "CopyTheirTaskDefinitions", "Effect": "Allow", "Action": "ecs:RegisterTaskDefinition",
                 "Resource": families},
                # The copy keeps its revision's tags, which registering a tagged revision needs; only then.
                {"Sid": "TagTheCopies", "Effect": "Allow", "Action": "ecs:TagResource", "Resource": families,
                 "Condition": {"StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}}},
            ]
        if props.passed_role_suffixes:
            statements.append(
                {"Sid": "PassTheirRolesToEcs", "Effect": "Allow", "Action": "iam:PassRole",
                 "Resource": [f"arn:aws:iam::{account}:role/{prefix}-*{suffix}"
                              for suffix in props.passed_role_suffixes],
                 "Condition": {"StringEquals": {"iam:PassedToService": ECS_TASKS}}})
        return statements
