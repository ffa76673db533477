"""A loopback stand-in for the AWS App Runner API, for tests.

moto has no App Runner, so plans and applies of aws_apprunner_* resources had nothing to talk to. This
server speaks the AWS JSON 1.0 protocol (POST /, X-Amz-Target: AppRunner.<Action>) well enough for
hashicorp/aws 5.100.0 to create, read, update and delete services, auto scaling configurations,
observability configurations, VPC connectors and VPC ingress connections, and it refuses what AWS
refuses, so an apply that AWS would reject fails here too. Transitions are immediate by default: a create
answers OPERATION_IN_PROGRESS / PENDING_CREATION and the next describe already shows the final status, so
the provider's waiters return on their first poll. Stdlib only; state lives in memory. Its own bugs answer
a 400 EmulatorInternalError (a 500 would be retried for minutes), their traces in its log.

Test hooks: GET /_standin/calls (every request as [action, body]) and GET /_standin/state (every record,
with private `_kind`, `_region`, `_asc` keys), or standin_calls(url) / standin_state(url).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
import traceback
import urllib.request
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .terraform import INTERNAL_ERROR, emulator_log

ACCOUNT = "123456789012"
DEFAULT_REGION = "eu-west-1"
ASC_NAME_QUOTA = 10      # distinct auto scaling configuration names per account and Region (default quota)
ASC_REVISION_QUOTA = 5   # active revisions per auto scaling configuration name
# App Runner answers auto scaling configuration statuses in lower case (the provider compares with
# "active"/"inactive"); the other configurations use the upper-case enum values.
ASC_ACTIVE, ASC_INACTIVE = "active", "inactive"
CREDENTIAL_REGION = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/")
ASC, OBSERVABILITY, CONNECTOR = "autoscalingconfiguration", "observabilityconfiguration", "vpcconnector"
SERVICE, INGRESS = "service", "vpcingressconnection"
PREFIX = {ASC: "AutoScalingConfiguration", OBSERVABILITY: "ObservabilityConfiguration", CONNECTOR: "VpcConnector"}
ARN_KEY = {ASC: "AutoScalingConfigurationArn", OBSERVABILITY: "ObservabilityConfigurationArn",
           CONNECTOR: "VpcConnectorArn", SERVICE: "ServiceArn", INGRESS: "VpcIngressConnectionArn"}
LABEL = {ASC: "Auto scaling configuration", OBSERVABILITY: "Observability configuration",
         CONNECTOR: "VPC connector", SERVICE: "Service", INGRESS: "VPC ingress connection"}
ASC_SUMMARY = ("AutoScalingConfigurationArn", "AutoScalingConfigurationName", "AutoScalingConfigurationRevision",
               "Status", "CreatedAt", "HasAssociatedService", "IsDefault")


class ApiError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def not_found(kind: str, arn: str) -> ApiError:
    return ApiError("ResourceNotFoundException", f"{LABEL[kind]} with ARN {arn} doesn't exist")


class AppRunner:
    """One account's App Runner. A record is the API shape plus private `_` keys (never sent)."""

    def __init__(self, settle_seconds: float = 0.0, fault: str | None = None):
        self.settle, self.fault = settle_seconds, fault
        self.lock = threading.Lock()
        self.calls: list[tuple[str, dict]] = []
        self.records: dict[str, dict] = {}           # ARN -> record
        self.tags: dict[str, dict[str, str]] = {}    # ARN -> {key: value}
        self.operations: dict[str, list[dict]] = {}  # service ARN -> operations, newest first

    # -- records ---------------------------------------------------------------------------------------
    def of(self, kind: str, region: str) -> list[dict]:
        return [self.settled(r) for r in self.records.values() if r["_kind"] == kind and r["_region"] == region]

    def settled(self, record: dict) -> dict:
        """Finish a pending transition (OPERATION_IN_PROGRESS, PENDING_*) from a later request on, once
        settle_seconds have passed: the response that starts a transition always shows it pending."""
        due = record.get("_next") and record["_call"] < len(self.calls)
        if due and time.time() >= record["_since"] + self.settle:
            record["Status"], record["_next"] = record["_next"], None
            if record["Status"] == "DELETED":
                record["DeletedAt"] = time.time()
            if record["_kind"] == SERVICE:
                record["UpdatedAt"] = time.time()
                self.operations[record["ServiceArn"]][0].update(Status="SUCCEEDED", EndedAt=time.time(),
                                                                UpdatedAt=time.time())
        return record

    def add(self, record: dict, kind: str, region: str, body: dict, pending: str = "", final: str = "") -> dict:
        arn = record[ARN_KEY[kind]]
        record.update(CreatedAt=time.time(), _kind=kind, _region=region)
        self.records[arn] = record
        self.tags[arn] = {t["Key"]: t["Value"] for t in body.get("Tags", [])}
        if pending:
            self.begin(record, pending, final)
        return record

    def begin(self, record: dict, pending: str, final: str) -> None:
        record.update(Status=pending, _next=final, _since=time.time(), _call=len(self.calls))

    def get(self, kind: str, arn: str, region: str, gone: tuple[str, ...] = ()) -> dict:
        """A record by full ARN; versioned kinds also take .../name or .../name/revision (latest active)."""
        record = self.records.get(arn)
        if record is None and kind in PREFIX:
            name, _, revision = arn.split(f":{kind}/", 1)[-1].partition("/")
            record = max((r for r in self.of(kind, region) if r[f"{PREFIX[kind]}Name"] == name and active(r)
                          and revision in ("", str(r[f"{PREFIX[kind]}Revision"]))),
                         key=lambda r: r[f"{PREFIX[kind]}Revision"], default=None)
        if record is None or record["_kind"] != kind or self.settled(record)["Status"] in gone:
            raise not_found(kind, arn)
        return record

    def new_revision(self, kind: str, region: str, body: dict, fields: dict) -> dict:
        prefix = PREFIX[kind]
        name = body[f"{prefix}Name"]
        revision = 1 + max((r[f"{prefix}Revision"] for r in self.of(kind, region) if r[f"{prefix}Name"] == name),
                           default=0)
        arn = f"arn:aws:apprunner:{region}:{ACCOUNT}:{kind}/{name}/{revision}/{secrets.token_hex(16)}"
        return self.add({f"{prefix}Arn": arn, f"{prefix}Name": name, f"{prefix}Revision": revision, **fields},
                        kind, region, body)

    def latest(self, record: dict) -> bool:
        prefix = PREFIX[record["_kind"]]
        revisions = [r[f"{prefix}Revision"] for r in self.of(record["_kind"], record["_region"])
                     if r[f"{prefix}Name"] == record[f"{prefix}Name"] and active(r)]
        return active(record) and record[f"{prefix}Revision"] == max(revisions)

    def services(self, region: str) -> list[dict]:
        return [s for s in self.of(SERVICE, region) if s["Status"] != "DELETED"]

    def versioned_view(self, record: dict) -> dict:
        view = {**public(record), "Latest": self.latest(record)}
        if record["_kind"] == ASC:
            view["HasAssociatedService"] = any(s["_asc"] == record["AutoScalingConfigurationArn"]
                                               for s in self.services(record["_region"]))
        return view

    # -- auto scaling configurations -------------------------------------------------------------------
    def create_auto_scaling_configuration(self, region: str, body: dict) -> dict:
        name = body["AutoScalingConfigurationName"]
        current = [r for r in self.of(ASC, region) if active(r) and not r["IsDefault"]]
        names = {r["AutoScalingConfigurationName"] for r in current}
        # AWS: at most 10 unique auto scaling configuration names per account and Region (default quota).
        if name not in names and len(names) >= ASC_NAME_QUOTA:
            raise ApiError("ServiceQuotaExceededException", f"Can't create auto scaling configuration {name}: you"
                           f" reached the quota of {ASC_NAME_QUOTA} auto scaling configuration names in {region}")
        # AWS: at most 5 revisions of one auto scaling configuration name.
        if sum(r["AutoScalingConfigurationName"] == name for r in current) >= ASC_REVISION_QUOTA:
            raise ApiError("ServiceQuotaExceededException", f"Can't create a revision of auto scaling configuration"
                           f" {name}: it already has the maximum of {ASC_REVISION_QUOTA} active revisions")
        record = self.new_revision(ASC, region, body, dict(
            MaxConcurrency=body.get("MaxConcurrency", 100), MinSize=body.get("MinSize", 1),
            MaxSize=body.get("MaxSize", 25), Status=ASC_ACTIVE, IsDefault=False))
        return {"AutoScalingConfiguration": self.versioned_view(record)}

    def default_scaling(self, region: str) -> dict:
        for record in self.of(ASC, region):
            if record["IsDefault"] and active(record):
                return record
        return self.new_revision(ASC, region, {"AutoScalingConfigurationName": "DefaultConfiguration"}, dict(
            MaxConcurrency=100, MinSize=1, MaxSize=25, Status=ASC_ACTIVE, IsDefault=True))

    def describe_auto_scaling_configuration(self, region: str, body: dict) -> dict:
        record = self.get(ASC, body["AutoScalingConfigurationArn"], region)
        return {"AutoScalingConfiguration": self.versioned_view(record)}

    def delete_auto_scaling_configuration(self, region: str, body: dict) -> dict:
        record = self.get(ASC, body["AutoScalingConfigurationArn"], region, gone=(ASC_INACTIVE,))
        doomed = [r for r in self.of(ASC, region) if active(r) and r["AutoScalingConfigurationName"] == record[
            "AutoScalingConfigurationName"]] if body.get("DeleteAllRevisions") else [record]
        for target in doomed:
            arn = target["AutoScalingConfigurationArn"]
            # AWS: you can't delete the default auto scaling configuration...
            if target["IsDefault"]:
                raise ApiError("InvalidRequestException", f"Can't delete the default auto scaling configuration {arn}")
            # ...or a configuration revision that one or more (not deleted) services use.
            users = [s["ServiceName"] for s in self.services(region) if s["_asc"] == arn]
            if users:
                raise ApiError("InvalidRequestException", "Provided auto scaling configuration arn is being used by"
                               f" other services. ARN: {arn} (services: {', '.join(users)})")
        for target in doomed:
            target.update(Status=ASC_INACTIVE, DeletedAt=time.time())
        return {"AutoScalingConfiguration": self.versioned_view(record)}

    # -- observability configurations ------------------------------------------------------------------
    def create_observability_configuration(self, region: str, body: dict) -> dict:
        trace = {"TraceConfiguration": body["TraceConfiguration"]} if body.get("TraceConfiguration") else {}
        record = self.new_revision(OBSERVABILITY, region, body, {"Status": "ACTIVE", **trace})
        return {"ObservabilityConfiguration": self.versioned_view(record)}

    def describe_observability_configuration(self, region: str, body: dict) -> dict:
        record = self.get(OBSERVABILITY, body["ObservabilityConfigurationArn"], region)
        return {"ObservabilityConfiguration": self.versioned_view(record)}

    def delete_observability_configuration(self, region: str, body: dict) -> dict:
        record = self.get(OBSERVABILITY, body["ObservabilityConfigurationArn"], region, gone=("INACTIVE",))
        record.update(Status="INACTIVE", DeletedAt=time.time())
        return {"ObservabilityConfiguration": self.versioned_view(record)}

    # -- VPC connectors --------------------------------------------------------------------------------
    def create_vpc_connector(self, region: str, body: dict) -> dict:
        name = body["VpcConnectorName"]
        # AWS: a revision is unique among the ACTIVE connectors sharing a name, and App Runner supports only
        # one revision per name: creating a connector whose name has an active revision is refused.
        for record in self.of(CONNECTOR, region):
            if record["VpcConnectorName"] == name and active(record):
                raise ApiError("InvalidRequestException", f"VPC connector {name} already has an active revision "
                               f"({record['VpcConnectorArn']}): App Runner supports only one active revision per"
                               " VPC connector name")
        record = self.new_revision(CONNECTOR, region, body, dict(
            Subnets=body["Subnets"], SecurityGroups=body.get("SecurityGroups", []), Status="ACTIVE"))
        return {"VpcConnector": public(record)}

    def describe_vpc_connector(self, region: str, body: dict) -> dict:
        return {"VpcConnector": public(self.get(CONNECTOR, body["VpcConnectorArn"], region))}

    def delete_vpc_connector(self, region: str, body: dict) -> dict:
        record = self.get(CONNECTOR, body["VpcConnectorArn"], region, gone=("INACTIVE",))
        arn = record["VpcConnectorArn"]
        # AWS: a connector that a service's egress configuration still uses can't be deleted.
        if any(s["NetworkConfiguration"]["EgressConfiguration"].get("VpcConnectorArn") == arn
               for s in self.services(region)):
            raise ApiError("InvalidRequestException",
                           f"Provided VPC connector arn is being used by other services. ARN: {arn}")
        record.update(Status="INACTIVE", DeletedAt=time.time())
        return {"VpcConnector": public(record)}

    # -- services --------------------------------------------------------------------------------------
    def configure(self, region: str, service: dict, body: dict) -> None:
        """Apply a CreateService/UpdateService body: blocks it sends replace or merge into the current ones."""
        if body.get("SourceConfiguration"):
            service["SourceConfiguration"] = source(body["SourceConfiguration"])
        instance = {**service["InstanceConfiguration"], **body.get("InstanceConfiguration", {})}
        service["InstanceConfiguration"] = {**instance, "Cpu": units(instance["Cpu"]),
                                            "Memory": units(instance["Memory"])}
        service["HealthCheckConfiguration"].update(body.get("HealthCheckConfiguration", {}))
        network, given = service["NetworkConfiguration"], body.get("NetworkConfiguration", {})
        # The Go SDK leaves false booleans out: a block that is sent but lacks one means false.
        if "EgressConfiguration" in given:
            network["EgressConfiguration"] = {"EgressType": "DEFAULT", **given["EgressConfiguration"]}
        if "IngressConfiguration" in given:
            network["IngressConfiguration"] = {"IsPubliclyAccessible": False, **given["IngressConfiguration"]}
        network["IpAddressType"] = given.get("IpAddressType", network["IpAddressType"])
        if "EncryptionConfiguration" in body:
            service["EncryptionConfiguration"] = body["EncryptionConfiguration"]
        if "ObservabilityConfiguration" in body:
            service["ObservabilityConfiguration"] = {"ObservabilityEnabled": False,
                                                     **body["ObservabilityConfiguration"]}

        if "AutoScalingConfigurationArn" in body:
            service["_asc"] = self.usable(ASC, body["AutoScalingConfigurationArn"], region)
        service["_asc"] = service["_asc"] or self.default_scaling(region)["AutoScalingConfigurationArn"]
        egress = network["EgressConfiguration"]
        if egress["EgressType"] == "VPC":
            egress["VpcConnectorArn"] = self.usable(CONNECTOR, egress.get("VpcConnectorArn", ""), region)
        else:
            egress.pop("VpcConnectorArn", None)
        observability = service.get("ObservabilityConfiguration", {})
        if observability.get("ObservabilityEnabled"):
            self.usable(OBSERVABILITY, observability.get("ObservabilityConfigurationArn", ""), region)

    def usable(self, kind: str, arn: str, region: str) -> str:
        """The full ARN of an active configuration or connector a service refers to."""
        try:
            record = self.get(kind, arn, region)
        except ApiError:
            record = None
        if record is None or not active(record):
            raise ApiError("InvalidRequestException", f"{LABEL[kind]} {arn or '(none)'} doesn't exist or isn't active")
        return record[ARN_KEY[kind]]

    def service_view(self, service: dict) -> dict:
        asc = self.versioned_view(self.records[service["_asc"]])
        return {**public(service), "AutoScalingConfigurationSummary": {k: asc[k] for k in ASC_SUMMARY}}

    def start_operation(self, service: dict, kind: str, final: str) -> dict:
        operation = {"Id": secrets.token_hex(16), "Type": kind, "Status": "IN_PROGRESS",
                     "TargetArn": service["ServiceArn"], "StartedAt": time.time(), "UpdatedAt": time.time()}
        self.operations.setdefault(service["ServiceArn"], []).insert(0, operation)
        self.begin(service, "OPERATION_IN_PROGRESS", final)
        return {"Service": self.service_view(service), "OperationId": operation["Id"]}

    def running_service(self, region: str, arn: str) -> dict:
        service = self.get(SERVICE, arn, region, gone=("DELETED",))
        # AWS: a service can't be changed while an operation on it is in progress.
        if service["Status"] != "RUNNING":
            raise ApiError("InvalidStateException",
                           f"Service {arn} is in {service['Status']} state; wait until the operation completes")
        return service

    def create_service(self, region: str, body: dict) -> dict:
        name = body["ServiceName"]
        if any(s["ServiceName"] == name for s in self.services(region)):
            raise ApiError("InvalidRequestException", f"Service with the provided name already exists: {name}")
        service_id = secrets.token_hex(16)
        service = {"ServiceName": name, "ServiceId": service_id,
                   "ServiceArn": f"arn:aws:apprunner:{region}:{ACCOUNT}:service/{name}/{service_id}",
                   "ServiceUrl": f"{secrets.token_hex(5)}.{region}.awsapprunner.com", "UpdatedAt": time.time(),
                   "InstanceConfiguration": {"Cpu": "1024", "Memory": "2048"},
                   "HealthCheckConfiguration": {"Protocol": "TCP", "Path": "/", "Interval": 5, "Timeout": 2,
                                                "HealthyThreshold": 1, "UnhealthyThreshold": 5},
                   "NetworkConfiguration": {"EgressConfiguration": {"EgressType": "DEFAULT"},
                                            "IngressConfiguration": {"IsPubliclyAccessible": True},
                                            "IpAddressType": "IPV4"},
                   "_asc": None}
        self.configure(region, service, body)
        self.add(service, SERVICE, region, body)
        return self.start_operation(service, "CREATE_SERVICE", "RUNNING")

    def describe_service(self, region: str, body: dict) -> dict:
        return {"Service": self.service_view(self.get(SERVICE, body["ServiceArn"], region))}

    def update_service(self, region: str, body: dict) -> dict:
        service = self.running_service(region, body["ServiceArn"])
        updated = json.loads(json.dumps(service))
        self.configure(region, updated, body)
        service.update(updated)
        return self.start_operation(service, "UPDATE_SERVICE", "RUNNING")

    def delete_service(self, region: str, body: dict) -> dict:
        return self.start_operation(self.running_service(region, body["ServiceArn"]), "DELETE_SERVICE", "DELETED")

    def list_operations(self, region: str, body: dict) -> dict:
        self.get(SERVICE, body["ServiceArn"], region)
        return {"OperationSummaryList": self.operations.get(body["ServiceArn"], [])}

    def describe_custom_domains(self, region: str, body: dict) -> dict:
        service = self.get(SERVICE, body["ServiceArn"], region, gone=("DELETED",))
        return {"DNSTarget": service["ServiceUrl"], "ServiceArn": service["ServiceArn"], "CustomDomains": [],
                "VpcDNSTargets": []}

    # -- VPC ingress connections -----------------------------------------------------------------------
    def create_vpc_ingress_connection(self, region: str, body: dict) -> dict:
        name = body["VpcIngressConnectionName"]
        service = self.get(SERVICE, body["ServiceArn"], region, gone=("DELETED",))
        # AWS: the name must be unique across the active VPC ingress connections of the account and Region.
        for record in self.of(INGRESS, region):
            if record["VpcIngressConnectionName"] == name and record["Status"] != "DELETED":
                raise ApiError("InvalidRequestException", f"VPC ingress connection name {name} is already used by "
                               f"{record['VpcIngressConnectionArn']}")
        arn = f"arn:aws:apprunner:{region}:{ACCOUNT}:vpcingressconnection/{name}/{secrets.token_hex(16)}"
        record = self.add({"VpcIngressConnectionArn": arn, "VpcIngressConnectionName": name,
                           "ServiceArn": service["ServiceArn"], "AccountId": ACCOUNT,
                           "DomainName": f"{secrets.token_hex(5)}.{region}.awsapprunner.com",
                           "IngressVpcConfiguration": body["IngressVpcConfiguration"]},
                          INGRESS, region, body, "PENDING_CREATION", "AVAILABLE")
        return {"VpcIngressConnection": public(record)}

    def describe_vpc_ingress_connection(self, region: str, body: dict) -> dict:
        return {"VpcIngressConnection": public(self.get(INGRESS, body["VpcIngressConnectionArn"], region))}

    def delete_vpc_ingress_connection(self, region: str, body: dict) -> dict:
        arn = body["VpcIngressConnectionArn"]
        record = self.get(INGRESS, arn, region, gone=("DELETED",))
        # AWS: only an AVAILABLE or FAILED_* connection can be deleted.
        if record["Status"] not in ("AVAILABLE", "FAILED_CREATION", "FAILED_UPDATE", "FAILED_DELETION"):
            raise ApiError("InvalidStateException", f"VPC ingress connection {arn} is {record['Status']}")
        self.begin(record, "PENDING_DELETION", "DELETED")
        return {"VpcIngressConnection": public(record)}

    # -- tags ------------------------------------------------------------------------------------------
    def tags_of(self, arn: str) -> dict[str, str]:
        if arn not in self.tags:
            raise ApiError("ResourceNotFoundException", f"Resource with ARN {arn} doesn't exist")
        return self.tags[arn]

    def tag_resource(self, region: str, body: dict) -> dict:
        self.tags_of(body["ResourceArn"]).update({t["Key"]: t["Value"] for t in body["Tags"]})
        return {}

    def untag_resource(self, region: str, body: dict) -> dict:
        tags = self.tags_of(body["ResourceArn"])
        for key in body["TagKeys"]:
            tags.pop(key, None)
        return {}

    def list_tags_for_resource(self, region: str, body: dict) -> dict:
        return {"Tags": [{"Key": k, "Value": v} for k, v in self.tags_of(body["ResourceArn"]).items()]}

    # -- dispatch --------------------------------------------------------------------------------------
    def handle(self, action: str, region: str, body: dict) -> dict:
        with self.lock:
            self.calls.append((action, body))
            if action not in ACTIONS:
                raise ApiError("UnknownOperationException", f"The App Runner stand-in does not implement {action}")
            if action == self.fault:  # test hook: this action fails as a bug of the stand-in would
                raise RuntimeError(f"injected fault in {action}")
            return ACTIONS[action](self, region, body)

    def dump(self) -> dict:
        with self.lock:
            for record in self.records.values():
                self.settled(record)
            return json.loads(json.dumps({"records": self.records, "tags": self.tags,
                                          "operations": self.operations}))


ACTIONS = {
    "CreateAutoScalingConfiguration": AppRunner.create_auto_scaling_configuration,
    "DescribeAutoScalingConfiguration": AppRunner.describe_auto_scaling_configuration,
    "DeleteAutoScalingConfiguration": AppRunner.delete_auto_scaling_configuration,
    "CreateObservabilityConfiguration": AppRunner.create_observability_configuration,
    "DescribeObservabilityConfiguration": AppRunner.describe_observability_configuration,
    "DeleteObservabilityConfiguration": AppRunner.delete_observability_configuration,
    "CreateVpcConnector": AppRunner.create_vpc_connector,
    "DescribeVpcConnector": AppRunner.describe_vpc_connector,
    "DeleteVpcConnector": AppRunner.delete_vpc_connector,
    "CreateService": AppRunner.create_service,
    "DescribeService": AppRunner.describe_service,
    "UpdateService": AppRunner.update_service,
    "DeleteService": AppRunner.delete_service,
    "ListOperations": AppRunner.list_operations,
    "DescribeCustomDomains": AppRunner.describe_custom_domains,  # the provider's fallback for a missing URL
    "CreateVpcIngressConnection": AppRunner.create_vpc_ingress_connection,
    "DescribeVpcIngressConnection": AppRunner.describe_vpc_ingress_connection,
    "DeleteVpcIngressConnection": AppRunner.delete_vpc_ingress_connection,
    "TagResource": AppRunner.tag_resource,
    "UntagResource": AppRunner.untag_resource,
    "ListTagsForResource": AppRunner.list_tags_for_resource,
}


def active(record: dict) -> bool:
    return record["Status"] in ("ACTIVE", ASC_ACTIVE)


def public(record: dict) -> dict:
    return {k: v for k, v in record.items() if not k.startswith("_")}


def source(given: dict) -> dict:
    given = json.loads(json.dumps(given))
    if "CodeRepository" in given:
        given["CodeRepository"].setdefault("SourceDirectory", "/")
    return given


def units(value: str) -> str:
    """App Runner answers "1 vCPU" as "1024" and "2 GB" as "2048"."""
    number, _, unit = value.partition(" ")
    return str(int(float(number) * 1024)) if unit else value


def _handler(state: AppRunner, log):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as AWS
        # One write per response: the provider's Go client reads the body after the headers and, on loopback,
        # a body arriving in a second segment intermittently failed with "use of closed network connection".
        wbufsize = 1 << 16

        def log_message(self, fmt, *args):  # http.server's own access log: every call is logged in do_POST
            pass

        def reply(self, status: int, payload, error: str = "") -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", secrets.token_hex(16))
            if error:
                self.send_header("X-Amzn-ErrorType", error)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/_standin/calls":
                with state.lock:
                    return self.reply(200, [[action, body] for action, body in state.calls])
            if self.path == "/_standin/state":
                return self.reply(200, state.dump())
            self.reply(404, {"message": f"no such path: {self.path}"})

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            target = self.headers.get("X-Amz-Target", "")
            action = target.removeprefix("AppRunner.")
            match = CREDENTIAL_REGION.search(self.headers.get("Authorization", ""))
            region = match.group(1) if match else DEFAULT_REGION
            try:
                self.reply(200, state.handle(action, region, body))
                log(f"{action} {region} {json.dumps(body)} -> 200")
            except ApiError as error:
                self.reply(400, {"__type": error.code, "Message": error.message}, error.code)
                log(f"{action} {region} {json.dumps(body)} -> {error.code}: {error.message}")
            except KeyError as missing:
                self.reply(400, {"__type": "InvalidRequestException", "Message": f"Missing parameter {missing}"},
                           "InvalidRequestException")
                log(f"{action} {region} {json.dumps(body)} -> missing {missing}: {traceback.format_exc()}")
            except Exception as error:
                # A stand-in bug: a 400 the SDK does not retry (a 500 would be retried for minutes), trace in the log.
                self.reply(400, {"__type": INTERNAL_ERROR, "Message": f"{error!r} (a bug of the stand-in, see its log)"},
                           INTERNAL_ERROR)
                log(f"{action} {region} {json.dumps(body)} -> {INTERNAL_ERROR}: {traceback.format_exc()}")

    return Handler


@contextmanager
def apprunner_standin(log_path: Path, settle_seconds: float = 0.0, fault: str | None = None):
    """Serve the stand-in on a free 127.0.0.1 port from a background thread; yield its base URL.

    settle_seconds: how long OPERATION_IN_PROGRESS / PENDING_* last; with 0 the next describe shows the end.
    fault: an action that fails as a bug of the stand-in would (to test that one fails fast)."""
    state = AppRunner(settle_seconds, fault)
    log_lock = threading.Lock()
    with open(log_path, "a", encoding="utf-8") as log_file:
        def log(line: str) -> None:
            with log_lock:
                log_file.write(f"{time.strftime('%H:%M:%S')} {line}\n")
                log_file.flush()

        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state, log))
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, name="apprunner-standin", daemon=True)
        thread.start()
        try:
            with emulator_log(log_path, "App Runner stand-in"):
                yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)


def _get(url: str, path: str):
    with urllib.request.urlopen(f"{url}{path}", timeout=10) as response:
        return json.loads(response.read())


def standin_calls(url: str) -> list[tuple[str, dict]]:
    """Every request the stand-in has served, in order, as (action, body)."""
    return [(action, body) for action, body in _get(url, "/_standin/calls")]


def standin_state(url: str) -> dict:
    """{"records": {arn: record}, "tags": {arn: {key: value}}, "operations": {service arn: [operation]}}."""
    return _get(url, "/_standin/state")
