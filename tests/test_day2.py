"""Day 2 on the emulators: apply the example, then change it the way a team does, one change at a time.

Every step edits the monorepo or its settings, re-synthesizes in place (same output folder, the same local
state beside it, the same `.terraform/`), plans and applies in one run (its planned changes read from
terraform's JSON log), and plans again with a refresh. For every step: the apply succeeds, no stateful
resource is replaced or destroyed, the last plan is empty (no allowance for emulator quirks:
tests/moto_patched.py mends moto's read-back gaps, so any change left is a real bug), and the API deployment is replaced exactly when the API
changed.

Before the first apply, the group Aurora exports its log to is made as RDS makes it for a cluster applied before
the stack managed that group: the first apply adopts it (an import block) instead of failing on a name taken.

AWS is moto (tests/moto_patched.py) plus the App Runner stand-in (tests/apprunner_standin.py), which refuses
what App Runner refuses: deleting an auto scaling configuration or VPC connector in use, a second connector
revision of one name, an 11th scaling configuration name. Redis is off: moto's ElastiCache replication
groups do not read back. The last step switches the platform to COMPUTE=ecs (tests/test_ecs_emulator.py applies
ECS from scratch).
"""

from __future__ import annotations

import json
import re
import shutil
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from constructs_lib.app import StackInput, synthesize
from constructs_lib.data_stores import AURORA_LOGS_ADDRESS
from constructs_lib.waf import MANAGED_RULE_GROUPS
from workers_scan import load_workers
from workers_scan.settings import EXAMPLE_SETTINGS

from .apprunner_standin import apprunner_standin
from .emulator import CREDENTIALS, moto_server, provider_override
from .helpers import BOOTSTRAP, ECS_SETTINGS, settings_from
from .replacement_plans import Base, check_the_audit
from .terraform import run, terraform_env

pytestmark = pytest.mark.emulator

STACK = "acme-dev"
STATEFUL_TYPES = ("aws_rds_cluster", "aws_rds_cluster_instance", "aws_elasticache_replication_group",
                  "aws_s3_bucket", "aws_dynamodb_table")
DEPLOYMENT = "aws_api_gateway_deployment"
AURORA_EXPORTS = f"/aws/rds/cluster/{STACK}-aurora/postgresql"


class Platform:
    """The example monorepo, its output folder and the emulators' endpoints."""

    def __init__(self, root: Path, endpoints: dict[str, str]):
        self.monorepo = root / "monorepo"
        shutil.copytree(EXAMPLE_SETTINGS.parent.parent.parent, self.monorepo)
        self.settings_dir = self.monorepo / "infra" / "aws"
        self.overrides = {"REDIS_ENABLED": "false", "AVAILABILITY_ZONES": "eu-west-1a,eu-west-1b"}
        self.out = root / "project" / "cdktf.out"
        self.stack_dir = self.out / "stacks" / STACK
        self.env = dict(terraform_env(root), **CREDENTIALS, AWS_REGION="eu-west-1")
        self.endpoints = endpoints

    def synth(self) -> None:
        example = (self.settings_dir / ".env.example").read_text()
        lines = [line for line in example.splitlines() if line.split("=", 1)[0] not in self.overrides]
        # None drops a setting (ECS_SETTINGS' APP_RUNNER_CONNECTION_ARN).
        overrides = [f"{k}={v}" for k, v in self.overrides.items() if v is not None]
        (self.settings_dir / ".env").write_text("\n".join([*lines, *overrides]))
        settings = settings_from(self.settings_dir / ".env")
        synthesize([StackInput(settings, tuple(load_workers(settings)))], self.out)
        override = self.stack_dir / "emulator_override.tf.json"
        if not override.exists():  # written once: a re-synth must keep it, like any file of the user's
            override.write_text(json.dumps(provider_override(self.endpoints["moto"],
                                                             apprunner=self.endpoints.get("apprunner")), indent=2))

    def terraform(self, *args: str, ok=(0,), timeout=600, label: str = ""):
        started = time.monotonic()
        result = run([*args], self.stack_dir, self.env, timeout=timeout)
        print(f"terraform {args[0]} {label}: {time.monotonic() - started:.1f} s")  # shown with pytest -s
        assert result.returncode in ok, f"terraform {' '.join(args)}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        return result

    def plan(self, name: str) -> list[dict]:
        """The plan's changes; [] without reading the plan back when terraform says there are none."""
        result = self.terraform("plan", "-no-color", "-input=false", "-parallelism=20", "-detailed-exitcode",
                                f"-out={name}", ok=(0, 2), label=name)
        if result.returncode == 0:
            return []
        shown = json.loads(self.terraform("show", "-json", name).stdout)
        return [c for c in shown.get("resource_changes", []) if c["mode"] == "managed"
                and c["change"]["actions"] != ["no-op"]]

    def state(self) -> dict[str, list[dict]]:
        """The applied managed resources' attributes by type, from the local state beside the output folder."""
        document = json.loads((self.out.parent / f"terraform.{STACK}.tfstate").read_text())
        found: dict[str, list[dict]] = {}
        for resource in document["resources"]:
            if resource["mode"] == "managed":
                found.setdefault(resource["type"], []).extend(i["attributes"] for i in resource["instances"])
        return found

    def client(self, service: str):
        """A boto3 client of the emulator that serves `service` (App Runner: the stand-in, else moto)."""
        import boto3

        url = self.endpoints["apprunner" if service == "apprunner" else "moto"]
        return boto3.client(service, endpoint_url=url, region_name="eu-west-1",
                            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"])

    def apply(self, step: str) -> list[dict]:
        """`step`'s plan and apply in one run (no refresh: the previous step's last plan read everything back and found
        nothing to do); returns the planned changes as {address, type, action}, from terraform's JSON log."""
        output = self.terraform("apply", "-auto-approve", "-input=false", "-refresh=false", "-parallelism=20",
                                "-json", label=step).stdout
        events = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
        return [{"address": e["change"]["resource"]["addr"], "type": e["change"]["resource"]["resource_type"],
                 "action": e["change"]["action"], "imported": "importing" in e["change"]} for e in events
                if e.get("type") == "planned_change" and e["change"]["resource"].get("resource_type")
                and e["change"]["action"] not in ("noop", "read")]


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    root = tmp_path_factory.mktemp("day2")
    with ExitStack() as stack:
        endpoints = {"moto": stack.enter_context(moto_server(root / "moto.log")),
                     "apprunner": stack.enter_context(apprunner_standin(root / "apprunner.log"))}
        platform = Platform(root, endpoints)
        platform.synth()
        # The first apply is the layout an earlier version synthesized for these settings, before the NLB had a
        # security group (before_nlb_security_group); the second moves it on.
        stack_file, imports = platform.stack_dir / "cdk.tf.json", platform.stack_dir / "imports.tf"
        stack_file.write_text(json.dumps(before_nlb_security_group(json.loads(stack_file.read_text())), indent=2))
        imports.write_text(re.sub(r"removed \{\n(?:.*\n)*?\}\n\n", "", imports.read_text()))
        platform.terraform("init", "-no-color", "-input=false")
        # As RDS makes it for a cluster applied before the stack managed the group: unencrypted, kept forever.
        platform.client("logs").create_log_group(logGroupName=AURORA_EXPORTS)
        first = platform.apply("first")
        assert {c["action"] for c in first if c["address"] != f"aws_cloudwatch_log_group.{AURORA_LOGS_ADDRESS}"} == \
            {"create"}
        # Adopted by the import block, then encrypted and bounded in place (test_what_security_depends_on... reads it).
        assert [(c["action"], c["imported"]) for c in first
                if c["address"] == f"aws_cloudwatch_log_group.{AURORA_LOGS_ADDRESS}"] == [("update", True)]
        # Then today's layout, as test_the_nlb_gets_its_security_group_beside_the_old_one... checks: with docs/day-2.md's
        # command first (the stack's nlb_arn output names the old NLB until then).
        elbv2 = platform.client("elbv2")
        [old] = elbv2.describe_load_balancers()["LoadBalancers"]
        [old_group] = elbv2.describe_target_groups()["TargetGroups"]
        elbv2.modify_load_balancer_attributes(LoadBalancerArn=old["LoadBalancerArn"], Attributes=[
            {"Key": "deletion_protection.enabled", "Value": "false"}])
        platform.migration = (old, old_group, step(platform, "nlb-security-group", api_changes=True))
        platform.base = Base.take(platform, root / "base")   # the applied example, for the replacement audit
        yield platform


# The private ingress as the version before the NLB's security group synthesized it (constructs_lib/private_ingress.py
# names the addresses it forgets); the rest of the stack is today's, which that change did not touch.
NLB, OLD_NLB = "private-ingress_vpc-link-nlb_539BC38F", "private-ingress_nlb_7A033B02"
OLD_ADDRESSES = {
    NLB: OLD_NLB, "private-ingress_vpc-link-https_F91F7822": "private-ingress_https-passthrough_953F5098",
    "private-ingress_vpc-link-endpoint-targets_C99E0443": "private-ingress_endpoint-targets_3125FA23",
    "private-ingress_vpc-link-endpoint-target-0_C4A06E08": "private-ingress_endpoint-target-0_55F603EB",
    "private-ingress_vpc-link-endpoint-target-1_8B596A5F": "private-ingress_endpoint-target-1_B3E71648",
}
ADMISSION = "private-ingress_endpoint-https-from-vpc_C21A281E"


def before_nlb_security_group(stack: dict) -> dict:
    """`stack` (the example's App Runner stack) with its ingress as the earlier layout had it: an NLB without a
    security group named <prefix>-ingress, its listener, target group and attachments at their old addresses and
    names, and the endpoint admitting the VPC's CIDR."""
    text = json.dumps(stack)
    for new, old in OLD_ADDRESSES.items():
        text = text.replace(f".{new}.", f".{old}.").replace(f'"{new}"', f'"{old}"')
    earlier = json.loads(text)
    resources = earlier["resource"]
    del resources["aws_security_group"]["private-ingress_nlb-security-group_A8B66022"]
    del resources["aws_vpc_security_group_egress_rule"]["private-ingress_nlb-to-endpoint_89D6C8CF"]
    if not resources["aws_vpc_security_group_egress_rule"]:
        del resources["aws_vpc_security_group_egress_rule"]
    nlb = resources["aws_lb"][OLD_NLB]
    del nlb["security_groups"], nlb["enforce_security_group_inbound_rules_on_private_link_traffic"]
    nlb["name"] = f"{STACK}-ingress"
    resources["aws_lb_target_group"]["private-ingress_endpoint-targets_3125FA23"]["name"] = f"{STACK}-endpoint"
    rule = resources["aws_vpc_security_group_ingress_rule"][ADMISSION]
    for key in ("referenced_security_group_id", "depends_on", "lifecycle"):
        del rule[key]
    rule["cidr_ipv4"] = "10.0.0.0/16"
    return earlier


def step(platform: Platform, name: str, *, api_changes: bool) -> list[dict]:
    """Re-synthesize in place, apply, plan again; return what the apply changed ({address, type, action})."""
    platform.synth()
    changes = platform.apply(name)
    destroyed = [c["address"] for c in changes if c["action"] in ("delete", "replace") and c["type"] in STATEFUL_TYPES]
    assert not destroyed, f"{name}: stateful resources were replaced or destroyed: {destroyed}"
    redeployed = [c["action"] for c in changes if c["type"] == DEPLOYMENT]
    assert redeployed == (["replace"] if api_changes else []), f"{name}: deployment {redeployed}, API changed: {api_changes}"
    leftover = [(c["address"], c["change"]["actions"], differences(c)) for c in platform.plan(f"{name}-again")]
    assert not leftover, f"{name}: the plan after the apply is not empty: {leftover}"
    return changes


def differences(change: dict) -> dict[str, tuple]:
    """attribute -> (before, after) for every attribute a planned change would alter."""
    before, after = change["change"]["before"] or {}, change["change"]["after"] or {}
    return {k: (before.get(k), after.get(k)) for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)}


def addresses(changes: list[dict], rtype: str, action: str) -> list[str]:
    return sorted(c["address"] for c in changes if c["type"] == rtype and c["action"] == action)


def test_the_nlb_gets_its_security_group_beside_the_old_one_which_goes_once_the_stage_has_moved(platform):
    """From the layout that admitted the VPC's CIDR at the endpoint (AWS adds no security group to an NLB made
    without one, and refuses to delete one a VPC link uses): a new NLB, listener, target group and VPC link beside
    the old ones, the stage moved, the endpoint's rule turned to the NLB's group, then the old link and NLB deleted
    (its protection turned off first, as docs/day-2.md says) and its listener, target group and attachments let go of."""
    elbv2 = platform.client("elbv2")
    old, old_group, changes = platform.migration   # applied by the fixture, before the base of the replacement audit
    assert old["LoadBalancerName"] == f"{STACK}-ingress"
    deleted = sorted((c["type"], c["action"]) for c in changes if c["action"] in ("delete", "replace")
                     and c["type"] != DEPLOYMENT)
    # The endpoint's rule changes source (the VPC's CIDR, then the NLB's group): ForceNew, new before old.
    assert deleted == [("aws_api_gateway_vpc_link", "replace"), ("aws_lb", "delete"),
                       ("aws_vpc_security_group_ingress_rule", "replace")], changes
    assert addresses(changes, "aws_vpc_security_group_ingress_rule", "replace") == [
        "aws_vpc_security_group_ingress_rule.private-ingress_endpoint-https-from-vpc_C21A281E"]
    # In AWS: only the new NLB; the old target group is left (docs/day-2.md: one command deletes it).
    [nlb] = elbv2.describe_load_balancers()["LoadBalancers"]
    assert nlb["LoadBalancerName"] == f"{STACK}-vpc-link" and len(nlb["SecurityGroups"]) == 1
    assert old_group["TargetGroupArn"] in [g["TargetGroupArn"] for g in elbv2.describe_target_groups()["TargetGroups"]]
    state = platform.state()
    [link] = state["aws_api_gateway_vpc_link"]
    assert link["target_arns"] == [nlb["LoadBalancerArn"]]
    rules = [r for r in state["aws_vpc_security_group_ingress_rule"]
             if r.get("referenced_security_group_id") == nlb["SecurityGroups"][0]]
    assert [(r["from_port"], r["cidr_ipv4"]) for r in rules] == [(443, None)]


def test_what_security_depends_on_reads_back_from_the_emulators_after_the_first_apply(platform):
    """Read with boto3, not from the plan: what AWS holds after the apply is what protects the platform."""
    state = platform.state()
    waf, apigw = platform.client("wafv2"), platform.client("apigateway")

    [acl], [stage] = state["aws_wafv2_web_acl"], state["aws_api_gateway_stage"]
    rules = waf.get_web_acl(Name=acl["name"], Id=acl["id"], Scope="REGIONAL")["WebACL"]["Rules"]
    statements = [rule["Statement"] for rule in rules]
    assert [(s["RateBasedStatement"]["Limit"], s["RateBasedStatement"]["AggregateKeyType"])
            for s in statements if "RateBasedStatement" in s] == [(2000, "IP")]
    assert sorted(s["ManagedRuleGroupStatement"]["Name"] for s in statements
                  if "ManagedRuleGroupStatement" in s) == sorted(MANAGED_RULE_GROUPS)
    assert waf.get_web_acl_for_resource(ResourceArn=stage["arn"])["WebACL"]["ARN"] == acl["arn"]

    [link] = state["aws_api_gateway_vpc_link"]
    domains = {c["domain_name"] for c in state["aws_apprunner_vpc_ingress_connection"]}
    integrations = state["aws_api_gateway_integration"]
    connections = state["aws_apprunner_vpc_ingress_connection"]
    assert len(integrations) == 2 * len(connections)
    # Every service has its connection but the example's private consumer.
    assert sorted(s["arn"] for s in state["aws_apprunner_service"] if "outbox" not in s["service_name"]) == \
        sorted(c["service_arn"] for c in connections)
    for applied in integrations:
        read = apigw.get_integration(restApiId=applied["rest_api_id"], resourceId=applied["resource_id"],
                                     httpMethod=applied["http_method"])
        assert (read["type"], read["connectionType"], read["connectionId"]) == ("HTTP_PROXY", "VPC_LINK", link["id"])
        assert read["uri"].split("/")[2] in domains and read["uri"].startswith("https://")

    apprunner = platform.client("apprunner")
    [connector] = state["aws_apprunner_vpc_connector"]
    for service in state["aws_apprunner_service"]:
        network = apprunner.describe_service(ServiceArn=service["arn"])["Service"]["NetworkConfiguration"]
        assert network["IngressConfiguration"]["IsPubliclyAccessible"] is False, service["service_name"]
        assert network["EgressConfiguration"] == {"EgressType": "VPC", "VpcConnectorArn": connector["arn"]}

    [cluster] = state["aws_rds_cluster"]
    [read_cluster] = platform.client("rds").describe_db_clusters(DBClusterIdentifier=cluster["id"])["DBClusters"]
    assert (read_cluster["StorageEncrypted"], read_cluster["DeletionProtection"]) == (True, True)
    for instance in platform.client("rds").describe_db_instances()["DBInstances"]:
        assert instance["PubliclyAccessible"] is False, instance["DBInstanceIdentifier"]

    keys = {key["arn"] for key in state["aws_kms_key"]}
    groups = platform.client("logs").describe_log_groups()["logGroups"]
    assert {g["logGroupName"] for g in groups} >= {g["name"] for g in state["aws_cloudwatch_log_group"]}
    for group in groups:
        assert group.get("kmsKeyId") in keys and group.get("retentionInDays"), group["logGroupName"]


def secret_label_updated(secret_arn: str, label: str = "AWSCURRENT") -> str:
    """The event Secrets Manager sends when a staging label moves (its documented example, for this secret)."""
    return json.dumps({
        "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "Secret Label Updated",
        "source": "aws.secretsmanager", "account": "123456789012", "time": "2024-02-06T16:43:48Z",
        "region": "eu-west-1", "resources": [secret_arn],
        "detail": {"name": secret_arn.split(":")[-1], "labelUpdated": label, "versionId": "a1b2c3d4-5678"}})


def test_a_new_database_password_starts_the_redeploy_of_every_worker(platform):
    """The rule holds the applied cluster's secret, matches Secrets Manager's event for it and nothing else, and
    starts the machine with that secret's label, whose readers in the machine are every service; the machine
    redeploys through App Runner's StartDeployment."""
    state = platform.state()
    events, machines = platform.client("events"), platform.client("stepfunctions")
    [cluster], [machine] = state["aws_rds_cluster"], state["aws_sfn_state_machine"]
    secret = cluster["master_user_secret"][0]["secret_arn"]
    pattern = events.describe_rule(Name=f"{STACK}-redeploy-db-secret")["EventPattern"]
    assert events.test_event_pattern(EventPattern=pattern, Event=secret_label_updated(secret))["Result"]
    assert not events.test_event_pattern(EventPattern=pattern, Event=secret_label_updated(secret, "MYLABEL"))["Result"]
    assert not events.test_event_pattern(EventPattern=pattern, Event=secret_label_updated(secret + "x"))["Result"]
    [target] = events.list_targets_by_rule(Rule=f"{STACK}-redeploy-db-secret")["Targets"]
    assert target["Arn"] == machine["arn"]
    assert json.loads(target["Input"]) == {"secret": "db-secret"}
    definition = json.loads(machines.describe_state_machine(stateMachineArn=machine["arn"])["definition"])
    [branch] = [c["Next"] for c in definition["States"][definition["StartAt"]]["Choices"]
                if c["StringEquals"] == "db-secret"]
    assert sorted(definition["States"][branch]["Result"]) == sorted(s["arn"] for s in state["aws_apprunner_service"])
    [task] = definition["States"]["Redeploy"]["ItemProcessor"]["States"].values()
    assert task["Resource"] == "arn:aws:states:::aws-sdk:apprunner:startDeployment"


def test_state_and_user_files_survive_a_resynth_with_nothing_changed(platform):
    assert (platform.out.parent / f"terraform.{STACK}.tfstate").is_file()
    platform.synth()
    # One plan with a refresh is the whole proof: with nothing to do, an apply would only repeat it.
    leftover = [(c["address"], c["change"]["actions"], differences(c)) for c in platform.plan("unchanged")]
    assert not leftover, f"a re-synth with nothing changed plans changes: {leftover}"
    assert (platform.stack_dir / ".terraform").is_dir() and (platform.stack_dir / ".terraform.lock.hcl").is_file()


def test_adding_then_removing_a_worker(platform):
    worker = platform.monorepo / "apps" / "api" / "src" / "workers" / "reports.ts"
    worker.write_text(BOOTSTRAP)
    added = step(platform, "add-worker", api_changes=True)
    assert {"type": "aws_apprunner_service", "action": "create"} in [{"type": c["type"], "action": c["action"]}
                                                                     for c in added]
    worker.unlink()
    removed = step(platform, "remove-worker", api_changes=True)
    assert {"type": "aws_apprunner_service", "action": "delete"} in [{"type": c["type"], "action": c["action"]}
                                                                     for c in removed]


def test_a_worker_calling_another_moves_to_the_callers_connector_and_back(platform):
    """calls on, then off: the caller's service is updated in place onto the callers' connector (created first),
    the endpoint admits the callers' group; then the caller moves back and the connector goes (the stand-in
    refuses to delete a connector a service still uses, as App Runner does)."""
    toml = platform.settings_dir / "workers.toml"
    before = toml.read_text()
    toml.write_text(before.replace("[billing]\n", '[billing]\ncalls = ["email-sender"]\n'))
    changes = step(platform, "calls-on", api_changes=False)
    assert [(c["type"], c["action"]) for c in changes if c["type"] == "aws_apprunner_service"] == \
        [("aws_apprunner_service", "update")]
    assert addresses(changes, "aws_apprunner_vpc_connector", "create") and \
        not [c for c in changes if c["action"] in ("delete", "replace")], changes
    [billing] = [s for s in platform.state()["aws_apprunner_service"] if s["service_name"] == f"{STACK}-billing"]
    [connector] = [c for c in platform.state()["aws_apprunner_vpc_connector"]
                   if c["vpc_connector_name"].startswith(f"{STACK}-callers-")]
    assert billing["network_configuration"][0]["egress_configuration"][0]["vpc_connector_arn"] == connector["arn"]
    toml.write_text(before)
    changes = step(platform, "calls-off", api_changes=False)
    assert addresses(changes, "aws_apprunner_vpc_connector", "delete") and \
        [c["action"] for c in changes if c["type"] == "aws_apprunner_service"] == ["update"]


SECOND_FOLDER = "apps/api/src/workers,apps/jobs/src/workers"   # the example's second package (docs/worker-folders.md)


def code_values(apprunner, service_arn: str) -> dict:
    return apprunner.describe_service(ServiceArn=service_arn)["Service"]["SourceConfiguration"]["CodeRepository"][
        "CodeConfiguration"]["CodeConfigurationValues"]


def test_adding_a_second_worker_folder_moves_no_address(platform):
    """The second package's workers join the applied platform: their resources are created beside the others, which
    stay where they are (nothing destroyed or replaced but the API's deployment); every service then builds both
    packages, each starts from its own package's script."""
    before = {c_type: {r.get("arn") or r.get("id") for r in rows} for c_type, rows in platform.state().items()}
    platform.overrides["WORKERS_DIR"] = SECOND_FOLDER
    try:
        added = step(platform, "add-worker-folder", api_changes=True)
        moved = [(c["address"], c["action"]) for c in added if c["action"] in ("delete", "replace")
                 and c["type"] != DEPLOYMENT]
        assert not moved, moved
        assert {"type": "aws_apprunner_service", "action": "create"} in [{"type": c["type"], "action": c["action"]}
                                                                         for c in added]
        after = platform.state()
        for c_type, ids in before.items():   # every resource applied before is there, as the same AWS object
            assert c_type == DEPLOYMENT or ids <= {r.get("arn") or r.get("id") for r in after.get(c_type, [])}, c_type
        apprunner = platform.client("apprunner")
        commands = {s["service_name"]: code_values(apprunner, s["arn"]) for s in after["aws_apprunner_service"]}
        assert commands["acme-dev-scheduler"]["StartCommand"] == \
            "bash apps/jobs/scripts/start-worker.sh scheduler.worker.js"
        assert commands["acme-dev-orders"]["StartCommand"] == "bash apps/api/scripts/start-worker.sh orders.js"
        assert {v["BuildCommand"].split(" && ")[3] for v in commands.values()} == {
            "pnpm run build --filter @monorepo/api --filter @monorepo/jobs"}
    finally:
        del platform.overrides["WORKERS_DIR"]
    removed = step(platform, "remove-worker-folder", api_changes=True)
    [gone] = [c["address"] for c in removed if (c["type"], c["action"]) == ("aws_apprunner_service", "delete")]
    assert gone.startswith("aws_apprunner_service.worker-scheduler_"), gone


def test_resizing_a_worker_moves_it_to_another_scaling_configuration(platform):
    toml = platform.settings_dir / "workers.toml"
    original = toml.read_text()
    toml.write_text(original.replace("max_instances = 5", "max_instances = 6"))  # billing: 1-5-50 -> 1-6-50
    changes = step(platform, "max-instances", api_changes=False)
    [old] = addresses(changes, "aws_apprunner_auto_scaling_configuration_version", "delete")
    [new] = addresses(changes, "aws_apprunner_auto_scaling_configuration_version", "create")
    assert "_scaling-1-5-50_" in old and "_scaling-1-6-50_" in new
    toml.write_text(original.replace("max_instances = 5", "max_instances = 6")
                    .replace("max_concurrency = 50", "max_concurrency = 80").replace("min_instances = 1", "min_instances = 2"))
    step(platform, "min-instances-and-concurrency", api_changes=False)
    toml.write_text(toml.read_text() + "cpu = 2048\nmemory = 4096\n")
    sized = step(platform, "cpu-memory", api_changes=False)
    assert [c["action"] for c in sized if c["type"] == "aws_apprunner_service"] == ["update"]


def test_switching_api_authorization_redeploys_the_stage(platform):
    platform.overrides["API_AUTHORIZATION"] = "AWS_IAM"
    changes = step(platform, "authorization", api_changes=True)
    assert {c["action"] for c in changes if c["type"] == "aws_api_gateway_method"} == {"update"}


def test_adding_a_zone_replaces_the_vpc_connector_before_destroying_the_old_one(platform):
    platform.overrides.update(AZ_COUNT="3", AVAILABILITY_ZONES="eu-west-1a,eu-west-1b,eu-west-1c")
    changes = step(platform, "zones", api_changes=False)
    # Created before the old one is deleted (create_before_destroy, checked in tests/test_replacements.py):
    # App Runner would refuse to delete the old one while services use it.
    assert [c["action"] for c in changes if c["type"] == "aws_apprunner_vpc_connector"] == ["replace"]
    assert len(addresses(changes, "aws_lb_target_group_attachment", "create")) == 1  # the new zone's address


def test_changing_the_waf_rate_limit_is_in_place(platform):
    platform.overrides["WAF_RATE_LIMIT"] = "1500"
    changes = step(platform, "waf", api_changes=False)
    assert [(c["type"], c["action"]) for c in changes] == [("aws_wafv2_web_acl", "update")]


def test_adding_a_secret_arn_updates_services_and_their_roles_in_place(platform):
    env_workers = platform.settings_dir / ".env.workers"
    env_workers.write_text(env_workers.read_text() +
                           "\nMAPS_API_KEY=arn:aws:secretsmanager:eu-west-1:123456789012:secret:acme/dev/maps-QwErTy\n")
    changes = step(platform, "secret", api_changes=False)
    updated = {c["type"] for c in changes if c["action"] == "update"}
    # The redeploy machine learns the secret's readers (its definition, in place).
    assert updated and updated <= {"aws_apprunner_service", "aws_iam_role_policy", "aws_sfn_state_machine"}
    assert "aws_sfn_state_machine" in updated
    # Its own rule, which redeploys the workers when it gets a new value; nothing else is created or replaced.
    created = sorted(c["address"].split(".")[0] for c in changes if c["action"] != "update")
    assert created == ["aws_cloudwatch_event_rule", "aws_cloudwatch_event_target"], changes
    assert [c["action"] for c in changes if c["action"] != "update"] == ["create", "create"]


def test_turning_a_worker_private_then_back_keeps_its_service_and_redeploys_the_stage(platform):
    """Only the ingress connection and the worker's API routes go, then come back; the service is not touched."""
    toml = platform.settings_dir / "workers.toml"
    original = toml.read_text()
    apprunner = platform.client("apprunner")
    [billing] = [s for s in platform.state()["aws_apprunner_service"] if s["service_name"] == "acme-dev-billing"]

    def connections() -> list[dict]:
        """The service's ingress connections in the state, as the stand-in describes them."""
        return [apprunner.describe_vpc_ingress_connection(VpcIngressConnectionArn=c["arn"])["VpcIngressConnection"]
                for c in platform.state()["aws_apprunner_vpc_ingress_connection"] if c["service_arn"] == billing["arn"]]

    [connection] = connections()
    toml.write_text(original.replace("[billing]\n", "[billing]\nprivate = true\n"))
    private = step(platform, "private", api_changes=True)
    assert not [c for c in private if c["type"] == "aws_apprunner_service"], private
    api = (DEPLOYMENT, "aws_api_gateway_stage")   # the stage moves to the new deployment
    assert sorted((c["type"], c["action"]) for c in private if c["type"] not in api) == sorted(
        [("aws_apprunner_vpc_ingress_connection", "delete")] + [(t, "delete") for t in (
            "aws_api_gateway_resource", "aws_api_gateway_method", "aws_api_gateway_integration") for _ in (1, 2)]
    ), private
    assert connections() == []
    gone = apprunner.describe_vpc_ingress_connection(VpcIngressConnectionArn=connection["VpcIngressConnectionArn"])
    assert gone["VpcIngressConnection"]["Status"] in ("PENDING_DELETION", "DELETED")
    described = apprunner.describe_service(ServiceArn=billing["arn"])["Service"]
    assert described["NetworkConfiguration"]["IngressConfiguration"]["IsPubliclyAccessible"] is False

    toml.write_text(original)
    back = step(platform, "public-again", api_changes=True)
    assert not [c for c in back if c["type"] == "aws_apprunner_service"], back
    assert {c["action"] for c in back if c["type"] not in api} == {"create"}, back
    [again] = connections()
    assert again["VpcIngressConnectionArn"] != connection["VpcIngressConnectionArn"]


def test_switching_to_ecs_keeps_the_network_the_stores_and_the_way_in(platform):
    """Last: the applied App Runner platform moves to COMPUTE=ecs in one apply."""
    def way_in(state: dict) -> dict:
        return {"nlb": [lb["arn"] for lb in state["aws_lb"] if lb["load_balancer_type"] == "network"],
                "vpc_link": [link["id"] for link in state["aws_api_gateway_vpc_link"]]}

    before = way_in(platform.state())
    assert len(platform.state()["aws_lb"]) == 1  # the NLB: any aws_lb the switch deletes or replaces is that one
    platform.overrides.update(ECS_SETTINGS)
    changes = step(platform, "compute-ecs", api_changes=True)
    kept = ("aws_vpc", "aws_subnet", "aws_nat_gateway", "aws_wafv2_web_acl", "aws_api_gateway_vpc_link", "aws_lb")
    moved = [(c["address"], c["action"]) for c in changes if c["type"] in kept and c["action"] in ("delete", "replace")]
    assert not moved, f"replaced or deleted by the switch: {moved}"
    assert way_in(platform.state()) == before
    assert {"aws_ecs_service", "aws_codebuild_project"} <= {c["type"] for c in changes if c["action"] == "create"}
    assert {c["action"] for c in changes if c["type"].startswith("aws_apprunner_")} == {"delete"}


def test_the_replacement_audit_names_every_input_that_replaces_a_resource(platform, tmp_path):
    """Each input changed alone and planned against the applied example (tests/replacement_plans.py)."""
    check_the_audit(platform, "apprunner", tmp_path)
