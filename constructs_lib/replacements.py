"""The replacement audit: for every resource type we synthesize, which inputs replace it and how that is made safe.

"Replaces" means a ForceNew attribute (schema or CustomizeDiff) in hashicorp/aws 5.100.0, or a new address (a
renamed worker's resources, a new secret's rule): tests/replacement_plans.py changes every input alone and plans
it against the example applied on the emulator, on both backends, and fails on an input that replaces a type
whose entry does not list it, or that an entry lists but replaces nothing. Only inputs a user sets are listed
(settings keys, workers.toml, worker files); constants of this code are not. docs/day-2.md's table is
rendered from AUDIT (tests/test_replacements.py keeps them equal) and the tests check every strategy against the
synthesized JSON: `new before old` needs create_before_destroy, `refused` needs prevent_destroy.

Note on Terraform: create_before_destroy on the API deployment spreads to everything it depends on (routes,
services, connector, security groups, subnets, stores): a replacement of those creates first, so a name
that cannot coexist fails at create, before anything is deleted.
"""

from __future__ import annotations

from dataclasses import dataclass

IN_PLACE = "in place"              # nothing a user sets replaces it
NEW_BEFORE_OLD = "new before old"  # create_before_destroy, with a name that lets old and new coexist
REFUSED = "refused"                # prevent_destroy: the plan stops; docs/day-2.md has the way out
REPLACED = "replaced"              # stateless, nothing refuses its deletion: a replacement just happens
MANUAL = "manual"                  # AWS refuses the replacement while in use: change it by hand, or not at all

BACKENDS = ("apprunner", "ecs")
# A worker's inputs, as the table names them; settings keys are named as they are.
WORKER_INPUTS = {
    "route": "a worker's route",                       # workers.toml route, or the file's name
    "worker file": "a worker's file name",             # its name, WORKER_NAME, the start command's file
    "size": "a worker's cpu or memory",                # workers.toml cpu, memory
    "min_instances": "a worker's min_instances",
    "max_instances": "a worker's max_instances",
    "max_concurrency": "a worker's max_concurrency",
    "health_check_path": "a worker's health_check_path",
    "private": "a worker turning private, or back",    # workers.toml private = true, or its removal
    "variables": "a worker's variables",               # .env.workers, .env.workers.<worker>
    "secrets": "a secret ARN in a worker file",
    "calls": "a worker's calls",                       # workers.toml calls: workers it calls inside the VPC
}
PREFIX = ("PROJECT_NAME", "ENVIRONMENT")
PLACEMENT = ("AZ_COUNT", "AVAILABILITY_ZONES", "VPC_CIDR", "VPC_ID", "PRIVATE_SUBNET_IDS")


@dataclass(frozen=True)
class Replacement:
    inputs: tuple[str, ...]  # settings keys and WORKER_INPUTS that replace it; "ecs:PORT": on that backend only
    strategy: str
    how: str                 # what happens, or what to do
    also: str = ""           # what else replaces it, in words (not an input: "a replaced NLB")

    def lists(self, input_: str, backend: str) -> bool:
        return input_ in self.inputs or f"{backend}:{input_}" in self.inputs

    @property
    def replaced_by(self) -> str:
        """The table's "replaced by": the inputs (those of one backend after it), then `also`."""
        def named(inputs) -> str:
            return ", ".join(WORKER_INPUTS.get(i, i) for i in inputs)

        parts = [named(i for i in self.inputs if ":" not in i)]
        for backend in BACKENDS:
            only = [i.split(":", 1)[1] for i in self.inputs if i.startswith(f"{backend}:")]
            if only:
                parts.append(f"{backend}: {named(only)}")
        return "; ".join(p for p in [*parts, self.also] if p)


AUDIT: dict[str, Replacement] = {
    # Request path
    "aws_api_gateway_rest_api": Replacement((), IN_PLACE, "Name and description update in place."),
    "aws_api_gateway_vpc_link": Replacement((*PREFIX, "VPC_ID"), NEW_BEFORE_OLD,
                                            "The deployment trigger holds the link id, so the stage leaves the old "
                                            "link before it is deleted (AWS refuses to delete a link in use).",
                                            also="a replaced NLB"),
    "aws_api_gateway_resource": Replacement(("worker file",), REPLACED,
                                            "A route change updates path_part in place; a renamed worker file is "
                                            "another worker's resource."),
    "aws_api_gateway_method": Replacement(("worker file",), REPLACED,
                                          "API_AUTHORIZATION updates in place, then redeploys."),
    "aws_api_gateway_integration": Replacement(("worker file",), REPLACED,
                                               "URI and VPC link update in place, then redeploy."),
    "aws_api_gateway_deployment": Replacement(
        (*PREFIX, "VPC_ID", "API_AUTHORIZATION", "COMPUTE", "route", "worker file", "private", "apprunner:AWS_REGION",
         "apprunner:VPC_CIDR", "ecs:ECS_CERTIFICATE_ARN", "ecs:ECS_ROUTING_DOMAIN"), NEW_BEFORE_OLD,
        "The trigger hashes every route argument and id; the stage moves to the new deployment, then the old one is "
        "deleted.", also="any route, method or integration change"),
    "aws_api_gateway_stage": Replacement(("ENVIRONMENT",), REPLACED, "A new stage name is a new URL."),
    "aws_api_gateway_method_settings": Replacement(("ENVIRONMENT",), REPLACED, "Follows the stage."),
    "aws_api_gateway_account": Replacement((), IN_PLACE,
                                           "One per region. Destroy only forgets it, so the role it points to has "
                                           "prevent_destroy; hand it over before a destroy (docs/day-2.md, \"Destroying an environment on purpose\")."),
    "aws_wafv2_web_acl": Replacement(PREFIX, REPLACED, "Rules and WAF_RATE_LIMIT update in place."),
    "aws_wafv2_web_acl_association": Replacement(PREFIX, REPLACED, "A moment without WAF while it is replaced."),
    "aws_wafv2_web_acl_logging_configuration": Replacement(PREFIX, REPLACED, "Follows the web ACL."),
    "aws_lb": Replacement((*PREFIX, "VPC_ID"), MANUAL,
                          "Adding a zone is in place; removing or changing a subnet replaces it. AWS refuses to "
                          "delete an NLB a VPC link uses, and its name is unique: fewer or other zones need a new "
                          "environment. COMPUTE keeps the NLB; its deletion protection is on until "
                          "ALLOW_DESTROY_DATA. Its security group, first given to an NLB made without one, replaced "
                          "it once (docs/day-2.md, \"The NLB's security group\"). The workers' ALB (ecs) follows the prefix, "
                          "with deletion protection in production.",
                          also="removing or changing a subnet (a new VPC_CIDR or zone too, which the plan cannot "
                               "show while the new subnets' ids are unknown)"),
    "aws_lb_listener": Replacement((*PREFIX, "VPC_ID", "ecs:ECS_CERTIFICATE_ARN"), REPLACED,
                                   "Follows its load balancer. The NLB's listener on 443 keeps its address across "
                                   "COMPUTE and only changes target group; on 80 (ecs without a certificate) it is "
                                   "another listener.", also="a replaced load balancer"),
    "aws_lb_target_group": Replacement(
        (*PREFIX, "VPC_CIDR", "VPC_ID", "ecs:PORT", "ecs:ECS_CERTIFICATE_ARN", "ecs:route", "ecs:worker file"),
        MANUAL,
        "The endpoint's group (apprunner): AWS refuses to delete a group a listener uses and its name is unique, so "
        "only with a new VPC, i.e. a new environment. The ALB's and each worker's group (ecs) are named after a hash "
        "of what replaces them and created before the old one goes."),
    "aws_lb_target_group_attachment": Replacement(
        (*PREFIX, "VPC_CIDR", "VPC_ID", "apprunner:AWS_REGION", "apprunner:AZ_COUNT", "apprunner:AVAILABILITY_ZONES",
         "ecs:ECS_CERTIFICATE_ARN"), REPLACED,
        "One per endpoint address (apprunner): a new zone moves the addresses among them; or the ALB (ecs)."),
    "aws_lb_listener_rule": Replacement((*PREFIX, "ecs:worker file"), REPLACED,
                                        "ecs: one Host rule per worker; host and target group update in place, a "
                                        "priority is kept once given."),
    "aws_vpc_endpoint": Replacement(("AWS_REGION", "VPC_CIDR", "VPC_ID"), MANUAL,
                                    "Subnets update in place; a new endpoint would need the ingress connections "
                                    "(unique names) replaced too."),
    # Workers (App Runner)
    "aws_apprunner_service": Replacement((*PREFIX, "route", "worker file"), NEW_BEFORE_OLD,
                                         "A new name is a new service; size, image, environment, scaling and "
                                         "egress update in place."),
    "aws_apprunner_auto_scaling_configuration_version": Replacement(
        (*PREFIX, "min_instances", "max_instances", "max_concurrency", "WORKER_MIN_INSTANCES", "WORKER_MAX_INSTANCES",
         "WORKER_MAX_CONCURRENCY"), NEW_BEFORE_OLD,
        "Named after its values and shared by workers alike: a resize moves the service to another "
        "configuration, then the unused one is deleted (App Runner refuses to delete one in use)."),
    "aws_apprunner_vpc_connector": Replacement((*PREFIX, "AWS_REGION", *PLACEMENT), NEW_BEFORE_OLD,
                                               "Named after a hash of its placement: App Runner keeps one revision "
                                               "per name and refuses to delete a connector in use."),
    "aws_apprunner_observability_configuration": Replacement(PREFIX, NEW_BEFORE_OLD, "A new prefix is a new name."),
    "aws_apprunner_vpc_ingress_connection": Replacement(
        (*PREFIX, "AWS_REGION", "VPC_CIDR", "VPC_ID", "route", "worker file"), NEW_BEFORE_OLD,
        "Follows its service's name and its endpoint; a replaced endpoint is manual (see aws_vpc_endpoint)."),
    # Workers (ECS on Fargate)
    "aws_ecs_cluster": Replacement(PREFIX, REPLACED, "A new prefix is a new cluster; its services are replaced "
                                                     "with it (minutes without workers)."),
    "aws_ecs_service": Replacement((*PREFIX, "route", "worker file"), REPLACED,
                                   "A new name is a new service (a new route is a new path anyway); size, image, "
                                   "variables and scaling roll in place through a new task definition revision, "
                                   "rolled back if it never gets healthy."),
    "aws_ecs_task_definition": Replacement(
        (*PREFIX, "AWS_REGION", "PORT", "START_COMMAND", "WORKER_CPU", "WORKER_MEMORY", "AURORA_ENABLED",
         "AURORA_DATABASE_NAME", "AURORA_MASTER_USERNAME", "AURORA_IAM_USER", "AURORA_KMS_KEY_ARN", "route",
         "worker file", "size", "variables", "secrets", "health_check_path", "calls"), REPLACED,
        "Revisions are immutable: any change of the task (its family, size, command, variables, secrets, roles, a "
        "private worker's health check) "
        "registers a new revision, the service rolls to it; the build's own revisions are tracked "
        "(track_latest), not reverted (after a failed deployment the latest is the build's copy on the earlier "
        "image)."),
    "aws_appautoscaling_target": Replacement((*PREFIX, "route", "worker file"), REPLACED,
                                             "Follows its service; min and max tasks update in place."),
    "aws_appautoscaling_policy": Replacement((*PREFIX, "route", "worker file"), REPLACED,
                                             "Follows its scaling target; ECS_REQUESTS_PER_TARGET updates in place."),
    "aws_ecr_repository": Replacement(PREFIX, MANUAL, "AWS refuses to delete a repository holding images "
                                                      "(force_delete is off): a new prefix needs them moved first."),
    "aws_ecr_lifecycle_policy": Replacement(PREFIX, REPLACED, "Follows the repository; any change re-puts it."),
    "aws_ssm_parameter": Replacement(PREFIX, REPLACED, "The current image; Terraform ignores its value, the next "
                                                       "build writes it."),
    "aws_codebuild_project": Replacement(PREFIX, REPLACED, "BRANCH, BUILD_COMMAND, the connection and the services "
                                                           "it rolls update in place."),
    "aws_codebuild_webhook": Replacement(PREFIX, REPLACED, "Follows the project; AUTO_DEPLOYMENTS=false removes it "
                                                           "(builds are then started by hand)."),
    # Redeploy on a secret's new value
    "aws_sfn_state_machine": Replacement(PREFIX, REPLACED, "Its definition, role and logging update in place."),
    "aws_cloudwatch_event_rule": Replacement((*PREFIX, "AWS_REGION", "secrets"), REPLACED,
                                             "One rule per secret the workers read; its pattern updates in place."),
    "aws_cloudwatch_event_target": Replacement((*PREFIX, "AWS_REGION", "secrets"), REPLACED,
                                               "Follows its rule; the services it lists update in place."),
    # Data stores
    "aws_rds_cluster": Replacement((*PREFIX, "AURORA_DATABASE_NAME", "AURORA_MASTER_USERNAME", "AURORA_KMS_KEY_ARN"),
                                   REFUSED, "Deletion protection, prevent_destroy and a final snapshot named after "
                                            "its creation time; ALLOW_DESTROY_DATA=true lifts them."),
    "aws_rds_cluster_instance": Replacement(
        (*PREFIX, "AURORA_DATABASE_NAME", "AURORA_MASTER_USERNAME", "AURORA_KMS_KEY_ARN"), REFUSED,
        "Follows the cluster, whose replacement is refused."),
    "aws_elasticache_replication_group": Replacement(
        (*PREFIX, "REDIS_ENGINE", "REDIS_ENGINE_VERSION", "REDIS_KMS_KEY_ARN"), REFUSED,
        "prevent_destroy and a final snapshot named after its creation time; ALLOW_DESTROY_DATA=true lifts them.",
        also="REDIS_ENGINE only from valkey to redis, REDIS_ENGINE_VERSION only to a lower one"),
    "terraform_data": Replacement((), IN_PLACE, "Records a store's creation time for its final snapshot name "
                                                "(ignore_changes keeps it)."),
    "aws_db_subnet_group": Replacement(PREFIX, REFUSED, "Follows the cluster; subnets update in place."),
    "aws_elasticache_subnet_group": Replacement(PREFIX, REFUSED, "Follows the cache; subnets update in place."),
    # Network
    "aws_vpc": Replacement(("VPC_CIDR",), MANUAL, "AWS refuses to delete a VPC with anything in it: a new CIDR is a "
                                                  "new environment."),
    "aws_subnet": Replacement(("AWS_REGION", "AVAILABILITY_ZONES", "VPC_CIDR"), MANUAL,
                              "AZ_COUNT up adds subnets in place. AWS refuses to delete a subnet with network "
                              "interfaces; zones looked up (AVAILABILITY_ZONES unset) are kept once created."),
    "aws_security_group": Replacement((*PREFIX, "VPC_CIDR", "VPC_ID", "ecs:route", "ecs:worker file"),
                                      MANUAL,
                                      "A new prefix or VPC renames or moves every group, which also replaces the "
                                      "stores (refused). A worker's task group (ecs) follows its service's name, "
                                      "with the service. Descriptions are kept as created (AWS refuses to delete a "
                                      "group in use)."),
    "aws_vpc_security_group_ingress_rule": Replacement(
        (*PREFIX, "VPC_CIDR", "VPC_ID", "ecs:route", "ecs:worker file"), REPLACED,
        "Follows its group (security_group_id); ports and sources update in place, but a new kind of source (a "
        "CIDR, then a group) is a new rule: the NLB's admission, new before old, once the stage has moved."),
    "aws_vpc_security_group_egress_rule": Replacement(
        (*PREFIX, "VPC_CIDR", "VPC_ID", "COMPUTE", "WORKER_EGRESS_PORTS", "ecs:worker file"), REPLACED,
        "Follows its group (security_group_id); a new port in WORKER_EGRESS_PORTS is a new rule."),
    "aws_default_security_group": Replacement(("VPC_CIDR",), REPLACED,
                                              "Follows the VPC (never deleted, only forgotten)."),
    "aws_internet_gateway": Replacement((), IN_PLACE, "Follows the VPC in place."),
    "aws_eip": Replacement((), IN_PLACE, "NAT_PER_AZ adds and removes addresses."),
    "aws_nat_gateway": Replacement(("AWS_REGION", "AVAILABILITY_ZONES", "VPC_CIDR"), REPLACED,
                                   "Minutes without egress while replaced."),
    "aws_route_table": Replacement(("VPC_CIDR",), REPLACED, "Follows the VPC."),
    "aws_route": Replacement(("VPC_CIDR",), REPLACED, "Follows its route table; the NAT gateway updates in place."),
    "aws_route_table_association": Replacement(("AWS_REGION", "AVAILABILITY_ZONES", "VPC_CIDR"), REPLACED,
                                               "Follows its subnet."),
    "aws_flow_log": Replacement((*PREFIX, "VPC_CIDR"), REPLACED, "Follows its VPC, log group and role."),
    # Logs, keys, roles
    "aws_cloudwatch_log_group": Replacement(
        (*PREFIX, "ecs:route"), REPLACED,
        "A new name is a new group. A worker's ECS group (/ecs/<service name>) is kept: skip_destroy leaves the "
        "old group and its logs (until its retention) when a route changes or a worker goes, and the group is "
        "adopted again when its name comes back. Any other group is deleted with its logs (export first)."),
    "aws_kms_key": Replacement((), IN_PLACE, "Setting LOGS_KMS_KEY_ARN schedules it for deletion (30 days)."),
    "aws_kms_alias": Replacement(PREFIX, REPLACED, "A new name is a new alias."),
    "aws_iam_role": Replacement((*PREFIX, "route", "worker file"), REPLACED,
                                "A new name is a new role; policies update in place."),
    "aws_iam_role_policy": Replacement((*PREFIX, "route", "worker file"), REPLACED, "Follows its role."),
    "aws_iam_role_policy_attachment": Replacement(PREFIX, REFUSED, "Follows the API Gateway account role."),
    # State (bootstrap stack)
    "aws_s3_bucket": Replacement(("STATE_BUCKET",), REFUSED, "A new bucket: create it, `terraform init "
                                                             "-migrate-state`, then `terraform state rm` the old one."),
    "aws_dynamodb_table": Replacement(("STATE_LOCK_TABLE",), REFUSED, "Deletion protection too; same way out as the "
                                                                      "bucket."),
    "aws_s3_bucket_versioning": Replacement(("STATE_BUCKET",), REPLACED, "Follows the bucket."),
    "aws_s3_bucket_server_side_encryption_configuration": Replacement(
        ("STATE_BUCKET",), REPLACED, "Follows the bucket; STATE_KMS_KEY_ARN updates in place."),
    "aws_s3_bucket_public_access_block": Replacement(("STATE_BUCKET",), REPLACED, "Follows the bucket."),
    "aws_s3_bucket_ownership_controls": Replacement(("STATE_BUCKET",), REPLACED, "Follows the bucket."),
    "aws_s3_bucket_policy": Replacement(("STATE_BUCKET",), REPLACED, "Follows the bucket."),
    "aws_s3_bucket_lifecycle_configuration": Replacement(("STATE_BUCKET",), REPLACED, "Follows the bucket."),
    # Workers calling each other (ecs)
    "aws_service_discovery_private_dns_namespace": Replacement(
        (*PREFIX, "VPC_CIDR", "VPC_ID"), REPLACED,
        "Follows the prefix and the VPC. Route 53 refuses to delete it while a discovery service is in it: "
        "Terraform deletes those first."),
    "aws_service_discovery_service": Replacement(
        (*PREFIX, "VPC_CIDR", "VPC_ID", "route"), REPLACED,
        "Named after the callee's route, in its namespace; force_destroy deregisters the tasks ECS has not "
        "deregistered yet, so a callee no longer called or renamed goes in one apply."),
}

# Types whose every instance must carry create_before_destroy / prevent_destroy (unless ALLOW_DESTROY_DATA).
# Some REFUSED types are protected by what they follow, not by a lifecycle of their own.
PROTECTED_BY_THEIR_OWNER = {"aws_rds_cluster_instance", "aws_db_subnet_group", "aws_elasticache_subnet_group"}


def markdown_table() -> str:
    lines = ["| resource type | replaced by | strategy | how |", "| --- | --- | --- | --- |"]
    for rtype, entry in sorted(AUDIT.items()):
        lines.append(f"| `{rtype}` | {entry.replaced_by or '(nothing)'} | {entry.strategy} | {entry.how} |")
    return "\n".join(lines)
