"""A loopback stand-in for the AWS App Runner API, for tests.

moto has no App Runner, so plans and applies of aws_apprunner_* resources had nothing to talk to. This
server speaks the AWS JSON 1.0 protocol (POST /, X-Amz-Target: AppRunner.<Action>) well enough for
hashicorp/aws 5.100.0 to create, read, update and delete services, auto scaling configurations,
observability configurations, VPC connectors and VPC ingress connections, and it refuses what AWS
refuses, so an apply that AWS would reject fails here too. Transitions are immediate by default: a create
answers OPERATION_IN_PROGRESS / PENDING_CREATION and the next describe already shows the final status, so
the provider's waiters return on their first poll. Pure stdlib; state is in memory.

Test hooks: GET /_standin/calls (every request as [action, body]) and GET /_standin/state (every record).
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

ACCOUNT = "123456789012"
DEFAULT_REGION = "eu-west-1"
ASC_NAME_QUOTA = 10      # distinct auto scaling configuration names per account and Region (default quota)
ASC_REVISION_QUOTA = 5   # active revisions per auto scaling configuration name
# App Runner answers auto scaling configuration statuses in lower case (the provider compares with
# "active"/"inactive"); the other configurations use the upper-case enum.
ASC_ACTIVE, ASC_INACTIVE = "active", "inactive"
CREDENTIAL_REGION = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/")


class ApiError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _not_found(kind: str, arn: str) -> ApiError:
    return ApiError("ResourceNotFoundException", f"{kind} with ARN {arn} doesn't exist")


def _hex() -> str:
    return secrets.token_hex(16)


class AppRunner:
    """In-memory App Runner for one account. Each record is the API shape plus private `_` keys."""

    def __init__(self, settle_seconds: float = 0.0):
        self.settle = settle_seconds
        self.lock = threading.Lock()
        self.calls: list[tuple[str, dict]] = []
        self.records: dict[str, dict] = {}          # ARN -> record
        self.tags: dict[str, dict[str, str]] = {}   # ARN -> {key: value}
        self.operations: dict[str, list[dict]] = {}  # service ARN -> operations, newest first

    # -- helpers ---------------------------------------------------------------------------------------
    def _of(self, kind: str, region: str) -> list[dict]:
        return [r for r in self.records.values() if r["_kind"] == kind and r["_region"] == region]

    def _settle(self, record: dict) -> dict:
        """Finish a pending transition once settle_seconds have passed since it started."""
        if record.get("_next") and time.time() >= record["_since"] + self.settle:
            record["Status"], record["_next"] = record["_next"], None
            record["UpdatedAt"] = time.time()
            if record["Status"] == "DELETED":
                record["DeletedAt"] = time.time()
            if record["_kind"] == "service":
                self.operations[record["ServiceArn"]][0].update(Status="SUCCEEDED", EndedAt=time.time(),
                                                                UpdatedAt=time.time())
        return record

    def _start(self, record: dict, pending: str, final: str) -> None:
        record.update(Status=pending, _next=final, _since=time.time())

    def _get(self, kind: str, arn: str, label: str) -> dict:
        record = self.records.get(arn)
        if not record or record["_kind"] != kind:
            raise _not_found(label, arn)
        return self._settle(record)

    def _revision(self, kind: str, arn: str, label: str, region: str) -> dict:
        """A full ARN, or a partial one ending in .../name or .../name/revision (latest active revision)."""
        if arn in self.records:
            return self._get(kind, arn, label)
        parts = arn.split(f":{kind}/", 1)[-1].split("/")
        active = [r for r in self._of(kind, region) if r[f"{PREFIX[kind]}Name"] == parts[0] and _active(r)]
        if len(parts) > 1:
            active = [r for r in active if str(r[f"{PREFIX[kind]}Revision"]) == parts[1]]
        if not active or len(parts) > 2:
            raise _not_found(label, arn)
        return max(active, key=lambda r: r[f"{PREFIX[kind]}Revision"])

    def _new_revision(self, kind: str, region: str, name: str, body: dict, fields: dict) -> dict:
        known = [r for r in self._of(kind, region) if r[f"{PREFIX[kind]}Name"] == name]
        revision = max((r[f"{PREFIX[kind]}Revision"] for r in known), default=0) + 1
        prefix = PREFIX[kind]
        arn = f"arn:aws:apprunner:{region}:{ACCOUNT}:{kind}/{name}/{revision}/{_hex()}"
        record = {f"{prefix}Arn": arn, f"{prefix}Name": name, f"{prefix}Revision": revision,
                  "CreatedAt": time.time(), **fields, "_kind": kind, "_region": region}
        self.records[arn] = record
        self.tags[arn] = {t["Key"]: t["Value"] for t in body.get("Tags", [])}
        return record

    def _latest(self, record: dict) -> bool:
        prefix = PREFIX[record["_kind"]]
        same = [r for r in self._of(record["_kind"], record["_region"])
                if r[f"{prefix}Name"] == record[f"{prefix}Name"] and _active(r)]
        return _active(record) and record[f"{prefix}Revision"] == max(r[f"{prefix}Revision"] for r in same)

    def _live_services(self, region: str) -> list[dict]:
        return [s for s in map(self._settle, self._of("service", region)) if s["Status"] != "DELETED"]

    def _users_of_asc(self, arn: str, region: str) -> list[dict]:
        return [s for s in self._live_services(region) if s["_asc"] == arn]

    def _users_of_connector(self, arn: str, region: str) -> list[dict]:
        return [s for s in self._live_services(region)
                if s["NetworkConfiguration"]["EgressConfiguration"].get("VpcConnectorArn") == arn]

    def _asc_view(self, record: dict) -> dict:
        return {**_public(record), "Latest": self._latest(record),
                "HasAssociatedService": bool(self._users_of_asc(record["AutoScalingConfigurationArn"],
                                                                record["_region"]))}

    def _default_asc(self, region: str) -> dict:
        for record in self._of("autoscalingconfiguration", region):
            if record["IsDefault"] and _active(record):
                return record
        return self._new_revision("autoscalingconfiguration", region, "DefaultConfiguration", {}, dict(
            MaxConcurrency=100, MinSize=1, MaxSize=25, Status=ASC_ACTIVE, IsDefault=True))

    # -- auto scaling configurations -------------------------------------------------------------------
    def create_auto_scaling_configuration(self, region: str, body: dict) -> dict:
        name = body["AutoScalingConfigurationName"]
        active = [r for r in self._of("autoscalingconfiguration", region) if _active(r) and not r["IsDefault"]]
        names = {r["AutoScalingConfigurationName"] for r in active}
        # AWS: at most 10 unique auto scaling configuration names per account and Region (default quota).
        if name not in names and len(names) >= ASC_NAME_QUOTA:
            raise ApiError("ServiceQuotaExceededException",
                           f"You have reached the maximum number of auto scaling configurations ({ASC_NAME_QUOTA})"
                           f" in {region}; delete one before creating {name}")
        # AWS: at most 5 active revisions of one auto scaling configuration name.
        if sum(r["AutoScalingConfigurationName"] == name for r in active) >= ASC_REVISION_QUOTA:
            raise ApiError("ServiceQuotaExceededException",
                           f"Auto scaling configuration {name} already has the maximum of {ASC_REVISION_QUOTA}"
                           " active revisions; delete a revision before creating another")
        record = self._new_revision("autoscalingconfiguration", region, name, body, dict(
            MaxConcurrency=body.get("MaxConcurrency", 100), MinSize=body.get("MinSize", 1),
            MaxSize=body.get("MaxSize", 25), Status=ASC_ACTIVE, IsDefault=False))
        return {"AutoScalingConfiguration": self._asc_view(record)}

    def describe_auto_scaling_configuration(self, region: str, body: dict) -> dict:
        arn = body["AutoScalingConfigurationArn"]
        record = self._revision("autoscalingconfiguration", arn, "Auto scaling configuration", region)
        return {"AutoScalingConfiguration": self._asc_view(record)}

    def delete_auto_scaling_configuration(self, region: str, body: dict) -> dict:
        arn = body["AutoScalingConfigurationArn"]
        record = self._revision("autoscalingconfiguration", arn, "Auto scaling configuration", region)
        targets = [record]
        if body.get("DeleteAllRevisions"):
            targets = [r for r in self._of("autoscalingconfiguration", region) if _active(r)
                       and r["AutoScalingConfigurationName"] == record["AutoScalingConfigurationName"]]
        for target in targets:
            # AWS: you can't delete the default auto scaling configuration...
            if target["IsDefault"]:
                raise ApiError("InvalidRequestException", "You can't delete the default auto scaling "
                               f"configuration: {target['AutoScalingConfigurationArn']}")
            # ...or a configuration that's used by one or more App Runner services.
            users = self._users_of_asc(target["AutoScalingConfigurationArn"], region)
            if users:
                raise ApiError("InvalidRequestException", "Provided auto scaling configuration arn is being used"
                               f" by other services. ARN: {target['AutoScalingConfigurationArn']} (used by "
                               + ", ".join(s["ServiceName"] for s in users) + ")")
        for target in targets:
            target.update(Status=ASC_INACTIVE, DeletedAt=time.time())
        return {"AutoScalingConfiguration": self._asc_view(record)}

    def list_auto_scaling_configurations(self, region: str, body: dict) -> dict:
        records = [r for r in self._of("autoscalingconfiguration", region) if _active(r)
                   and body.get("AutoScalingConfigurationName") in (None, r["AutoScalingConfigurationName"])]
        if body.get("LatestOnly"):
            records = [r for r in records if self._latest(r)]
        keys = ("AutoScalingConfigurationArn", "AutoScalingConfigurationName", "AutoScalingConfigurationRevision",
                "Status", "CreatedAt", "HasAssociatedService", "IsDefault")
        return {"AutoScalingConfigurationSummaryList": [
            {k: self._asc_view(r)[k] for k in keys} for r in records]}

    # -- observability configurations ------------------------------------------------------------------
    def create_observability_configuration(self, region: str, body: dict) -> dict:
        fields = {"Status": "ACTIVE"}
        if body.get("TraceConfiguration"):
            fields["TraceConfiguration"] = body["TraceConfiguration"]
        record = self._new_revision("observabilityconfiguration", region, body["ObservabilityConfigurationName"],
                                    body, fields)
        return {"ObservabilityConfiguration": self._obs_view(record)}

    def _obs_view(self, record: dict) -> dict:
        return {**_public(record), "Latest": self._latest(record)}

    def describe_observability_configuration(self, region: str, body: dict) -> dict:
        record = self._revision("observabilityconfiguration", body["ObservabilityConfigurationArn"],
                                "Observability configuration", region)
        return {"ObservabilityConfiguration": self._obs_view(record)}

    def delete_observability_configuration(self, region: str, body: dict) -> dict:
        record = self._revision("observabilityconfiguration", body["ObservabilityConfigurationArn"],
                                "Observability configuration", region)
        record.update(Status="INACTIVE", DeletedAt=time.time())
        return {"ObservabilityConfiguration": self._obs_view(record)}

    def list_observability_configurations(self, region: str, body: dict) -> dict:
        return {"ObservabilityConfigurationSummaryList": [
            {k: r[k] for k in ("ObservabilityConfigurationArn", "ObservabilityConfigurationName",
                               "ObservabilityConfigurationRevision")}
            for r in self._of("observabilityconfiguration", region) if _active(r)]}

    # -- VPC connectors --------------------------------------------------------------------------------
    def create_vpc_connector(self, region: str, body: dict) -> dict:
        name = body["VpcConnectorName"]
        # AWS: a connector revision is unique among the ACTIVE connectors sharing a name, and App Runner
        # supports only one revision per name: a second create with an active name is refused.
        for record in self._of("vpcconnector", region):
            if record["VpcConnectorName"] == name and _active(record):
                raise ApiError("InvalidRequestException", f"A VPC connector named {name} already exists (ARN: "
                               f"{record['VpcConnectorArn']}); App Runner supports only one active revision per"
                               " VPC connector name")
        record = self._new_revision("vpcconnector", region, name, body, dict(
            Subnets=body["Subnets"], SecurityGroups=body.get("SecurityGroups", []), Status="ACTIVE"))
        return {"VpcConnector": _public(record)}

    def describe_vpc_connector(self, region: str, body: dict) -> dict:
        return {"VpcConnector": _public(self._get("vpcconnector", body["VpcConnectorArn"], "VPC connector"))}

    def delete_vpc_connector(self, region: str, body: dict) -> dict:
        arn = body["VpcConnectorArn"]
        record = self._get("vpcconnector", arn, "VPC connector")
        if not _active(record):
            raise _not_found("VPC connector", arn)
        # AWS: a connector that a service's egress configuration still references can't be deleted.
        if self._users_of_connector(arn, region):
            raise ApiError("InvalidRequestException",
                           f"Provided VPC connector arn is being used by other services. ARN: {arn}")
        record.update(Status="INACTIVE", DeletedAt=time.time())
        return {"VpcConnector": _public(record)}

    def list_vpc_connectors(self, region: str, body: dict) -> dict:
        return {"VpcConnectors": [_public(r) for r in self._of("vpcconnector", region) if _active(r)]}

    # -- services --------------------------------------------------------------------------------------
    def _resolve_service_refs(self, region: str, body: dict, service: dict) -> None:
        if "AutoScalingConfigurationArn" in body:
            asc = self._usable(region, "autoscalingconfiguration", body["AutoScalingConfigurationArn"],
                               "Auto scaling configuration")
            service["_asc"] = asc["AutoScalingConfigurationArn"]
        elif not service["_asc"]:
            service["_asc"] = self._default_asc(region)["AutoScalingConfigurationArn"]
        network = service["NetworkConfiguration"]
        egress = network["EgressConfiguration"]
        if egress["EgressType"] == "VPC":
            connector = self._usable(region, "vpcconnector", egress.get("VpcConnectorArn", ""), "VPC connector")
            egress["VpcConnectorArn"] = connector["VpcConnectorArn"]
        else:
            egress.pop("VpcConnectorArn", None)
        observability = service.get("ObservabilityConfiguration") or {}
        if observability.get("ObservabilityEnabled"):
            self._usable(region, "observabilityconfiguration",
                         observability.get("ObservabilityConfigurationArn", ""), "Observability configuration")

    def _usable(self, region: str, kind: str, arn: str, label: str) -> dict:
        try:
            record = self._revision(kind, arn, label, region)
        except ApiError:
            record = None
        if not record or not _active(record):
            raise ApiError("InvalidRequestException", f"{label} {arn or '(none)'} doesn't exist or isn't active")
        return record

    def _service_view(self, service: dict) -> dict:
        asc = self.records[service["_asc"]]
        view = _public(service)
        view["AutoScalingConfigurationSummary"] = {k: self._asc_view(asc)[k] for k in (
            "AutoScalingConfigurationArn", "AutoScalingConfigurationName", "AutoScalingConfigurationRevision",
            "Status", "CreatedAt", "HasAssociatedService", "IsDefault")}
        return view

    def _operation(self, service: dict, kind: str) -> str:
        operation = {"Id": _hex(), "Type": kind, "Status": "IN_PROGRESS", "TargetArn": service["ServiceArn"],
                     "StartedAt": time.time(), "UpdatedAt": time.time()}
        self.operations.setdefault(service["ServiceArn"], []).insert(0, operation)
        return operation["Id"]

    def create_service(self, region: str, body: dict) -> dict:
        name = body["ServiceName"]
        if any(s["ServiceName"] == name for s in self._live_services(region)):
            raise ApiError("InvalidRequestException", f"Service with the provided name already exists: {name}")
        service_id = _hex()
        service = {
            "ServiceName": name, "ServiceId": service_id,
            "ServiceArn": f"arn:aws:apprunner:{region}:{ACCOUNT}:service/{name}/{service_id}",
            "ServiceUrl": f"{secrets.token_hex(5)}.{region}.awsapprunner.com",
            "CreatedAt": time.time(), "UpdatedAt": time.time(),
            "SourceConfiguration": _source(body["SourceConfiguration"]),
            "InstanceConfiguration": _instance({"Cpu": "1024", "Memory": "2048"}, body.get("InstanceConfiguration")),
            "HealthCheckConfiguration": _health({}, body.get("HealthCheckConfiguration")),
            "NetworkConfiguration": _network(None, body.get("NetworkConfiguration")),
            "_kind": "service", "_region": region, "_asc": None,
        }
        for key in ("EncryptionConfiguration", "ObservabilityConfiguration"):
            if body.get(key):
                service[key] = _observability(body[key]) if key == "ObservabilityConfiguration" else body[key]
        self._resolve_service_refs(region, body, service)
        self.records[service["ServiceArn"]] = service
        self.tags[service["ServiceArn"]] = {t["Key"]: t["Value"] for t in body.get("Tags", [])}
        operation = self._operation(service, "CREATE_SERVICE")
        self._start(service, "OPERATION_IN_PROGRESS", "RUNNING")
        return {"Service": self._service_view(service), "OperationId": operation}

    def _live_service(self, arn: str) -> dict:
        service = self._get("service", arn, "Service")
        if service["Status"] == "DELETED":
            raise _not_found("Service", arn)
        return service

    def describe_service(self, region: str, body: dict) -> dict:
        return {"Service": self._service_view(self._get("service", body["ServiceArn"], "Service"))}

    def update_service(self, region: str, body: dict) -> dict:
        service = self._live_service(body["ServiceArn"])
        _require_running(service, "updated")
        updated = json.loads(json.dumps(service))
        if body.get("SourceConfiguration"):
            updated["SourceConfiguration"] = _source(body["SourceConfiguration"])
        updated["InstanceConfiguration"] = _instance(updated["InstanceConfiguration"],
                                                     body.get("InstanceConfiguration"))
        updated["HealthCheckConfiguration"] = _health(updated["HealthCheckConfiguration"],
                                                      body.get("HealthCheckConfiguration"))
        updated["NetworkConfiguration"] = _network(updated["NetworkConfiguration"], body.get("NetworkConfiguration"))
        if "ObservabilityConfiguration" in body:
            updated["ObservabilityConfiguration"] = _observability(body["ObservabilityConfiguration"])
        self._resolve_service_refs(region, body, updated)
        service.update(updated)
        operation = self._operation(service, "UPDATE_SERVICE")
        self._start(service, "OPERATION_IN_PROGRESS", "RUNNING")
        return {"Service": self._service_view(service), "OperationId": operation}

    def delete_service(self, region: str, body: dict) -> dict:
        service = self._live_service(body["ServiceArn"])
        _require_running(service, "deleted")
        operation = self._operation(service, "DELETE_SERVICE")
        self._start(service, "OPERATION_IN_PROGRESS", "DELETED")
        return {"Service": self._service_view(service), "OperationId": operation}

    def list_services(self, region: str, body: dict) -> dict:
        keys = ("ServiceName", "ServiceId", "ServiceArn", "ServiceUrl", "CreatedAt", "UpdatedAt", "Status")
        return {"ServiceSummaryList": [{k: s[k] for k in keys} for s in self._live_services(region)]}

    def list_operations(self, region: str, body: dict) -> dict:
        self._get("service", body["ServiceArn"], "Service")
        return {"OperationSummaryList": self.operations.get(body["ServiceArn"], [])}

    def describe_custom_domains(self, region: str, body: dict) -> dict:
        service = self._live_service(body["ServiceArn"])
        return {"DNSTarget": service["ServiceUrl"], "ServiceArn": service["ServiceArn"], "CustomDomains": [],
                "VpcDNSTargets": []}

    # -- VPC ingress connections -----------------------------------------------------------------------
    def create_vpc_ingress_connection(self, region: str, body: dict) -> dict:
        name = body["VpcIngressConnectionName"]
        service = self._live_service(body["ServiceArn"])
        # AWS: the name must be unique across the active VPC ingress connections in the account and Region.
        for record in map(self._settle, self._of("vpcingressconnection", region)):
            if record["VpcIngressConnectionName"] == name and record["Status"] != "DELETED":
                raise ApiError("InvalidRequestException", f"A VPC ingress connection named {name} already exists: "
                               f"{record['VpcIngressConnectionArn']}")
        arn = f"arn:aws:apprunner:{region}:{ACCOUNT}:vpcingressconnection/{name}/{_hex()}"
        record = {"VpcIngressConnectionArn": arn, "VpcIngressConnectionName": name,
                  "ServiceArn": service["ServiceArn"], "AccountId": ACCOUNT,
                  "DomainName": f"{secrets.token_hex(5)}.{region}.awsapprunner.com",
                  "IngressVpcConfiguration": body.get("IngressVpcConfiguration", {}), "CreatedAt": time.time(),
                  "_kind": "vpcingressconnection", "_region": region}
        self.records[arn] = record
        self.tags[arn] = {t["Key"]: t["Value"] for t in body.get("Tags", [])}
        self._start(record, "PENDING_CREATION", "AVAILABLE")
        return {"VpcIngressConnection": _public(record)}

    def describe_vpc_ingress_connection(self, region: str, body: dict) -> dict:
        arn = body["VpcIngressConnectionArn"]
        return {"VpcIngressConnection": _public(self._get("vpcingressconnection", arn, "VPC ingress connection"))}

    def delete_vpc_ingress_connection(self, region: str, body: dict) -> dict:
        arn = body["VpcIngressConnectionArn"]
        record = self._get("vpcingressconnection", arn, "VPC ingress connection")
        if record["Status"] == "DELETED":
            raise _not_found("VPC ingress connection", arn)
        # AWS: only AVAILABLE or FAILED_* connections can be deleted.
        if record["Status"] not in ("AVAILABLE", "FAILED_CREATION", "FAILED_UPDATE", "FAILED_DELETION"):
            raise ApiError("InvalidStateException", f"VPC ingress connection {arn} can't be deleted while it's "
                           f"{record['Status']}")
        self._start(record, "PENDING_DELETION", "DELETED")
        return {"VpcIngressConnection": _public(record)}

    def list_vpc_ingress_connections(self, region: str, body: dict) -> dict:
        return {"VpcIngressConnectionSummaryList": [
            {k: r[k] for k in ("VpcIngressConnectionArn", "ServiceArn")}
            for r in map(self._settle, self._of("vpcingressconnection", region)) if r["Status"] != "DELETED"]}

    # -- tags ------------------------------------------------------------------------------------------
    def _tagged(self, arn: str) -> dict[str, str]:
        if arn not in self.tags:
            raise ApiError("ResourceNotFoundException", f"Resource with ARN {arn} doesn't exist")
        return self.tags[arn]

    def tag_resource(self, region: str, body: dict) -> dict:
        self._tagged(body["ResourceArn"]).update({t["Key"]: t["Value"] for t in body["Tags"]})
        return {}

    def untag_resource(self, region: str, body: dict) -> dict:
        tags = self._tagged(body["ResourceArn"])
        for key in body["TagKeys"]:
            tags.pop(key, None)
        return {}

    def list_tags_for_resource(self, region: str, body: dict) -> dict:
        return {"Tags": [{"Key": k, "Value": v} for k, v in self._tagged(body["ResourceArn"]).items()]}

    # -- dispatch --------------------------------------------------------------------------------------
    def handle(self, action: str, region: str, body: dict) -> dict:
        with self.lock:
            self.calls.append((action, body))
            handler = ACTIONS.get(action)
            if handler is None:
                raise ApiError("UnknownOperationException", f"The stand-in does not implement {action}")
            return handler(self, region, body)

    def dump(self) -> dict:
        with self.lock:
            for record in self.records.values():
                self._settle(record)
            return json.loads(json.dumps({"records": self.records, "tags": self.tags,
                                          "operations": self.operations}))


PREFIX = {"autoscalingconfiguration": "AutoScalingConfiguration", "vpcconnector": "VpcConnector",
          "observabilityconfiguration": "ObservabilityConfiguration"}

ACTIONS = {
    "CreateAutoScalingConfiguration": AppRunner.create_auto_scaling_configuration,
    "DescribeAutoScalingConfiguration": AppRunner.describe_auto_scaling_configuration,
    "DeleteAutoScalingConfiguration": AppRunner.delete_auto_scaling_configuration,
    "ListAutoScalingConfigurations": AppRunner.list_auto_scaling_configurations,
    "CreateObservabilityConfiguration": AppRunner.create_observability_configuration,
    "DescribeObservabilityConfiguration": AppRunner.describe_observability_configuration,
    "DeleteObservabilityConfiguration": AppRunner.delete_observability_configuration,
    "ListObservabilityConfigurations": AppRunner.list_observability_configurations,
    "CreateVpcConnector": AppRunner.create_vpc_connector,
    "DescribeVpcConnector": AppRunner.describe_vpc_connector,
    "DeleteVpcConnector": AppRunner.delete_vpc_connector,
    "ListVpcConnectors": AppRunner.list_vpc_connectors,
    "CreateService": AppRunner.create_service,
    "DescribeService": AppRunner.describe_service,
    "UpdateService": AppRunner.update_service,
    "DeleteService": AppRunner.delete_service,
    "ListServices": AppRunner.list_services,
    "ListOperations": AppRunner.list_operations,
    "DescribeCustomDomains": AppRunner.describe_custom_domains,
    "CreateVpcIngressConnection": AppRunner.create_vpc_ingress_connection,
    "DescribeVpcIngressConnection": AppRunner.describe_vpc_ingress_connection,
    "DeleteVpcIngressConnection": AppRunner.delete_vpc_ingress_connection,
    "ListVpcIngressConnections": AppRunner.list_vpc_ingress_connections,
    "TagResource": AppRunner.tag_resource,
    "UntagResource": AppRunner.untag_resource,
    "ListTagsForResource": AppRunner.list_tags_for_resource,
}


def _active(record: dict) -> bool:
    return record["Status"] in ("ACTIVE", ASC_ACTIVE)


def _public(record: dict) -> dict:
    return {k: v for k, v in record.items() if not k.startswith("_")}


def _require_running(service: dict, verb: str) -> None:
    # AWS: a service can't be changed while an operation on it is in progress.
    if service["Status"] != "RUNNING":
        raise ApiError("InvalidStateException", f"Service {service['ServiceArn']} can't be {verb} while its status"
                       f" is {service['Status']}")


def _source(source: dict) -> dict:
    source = json.loads(json.dumps(source))
    if "CodeRepository" in source:
        source["CodeRepository"].setdefault("SourceDirectory", "/")
    return source


def _units(value: str, per_unit: int) -> str:
    """App Runner answers "1 vCPU" as "1024" and "2 GB" as "2048"."""
    number = value.split()[0]
    return str(int(float(number) * per_unit)) if " " in value else value


def _instance(current: dict, given: dict | None) -> dict:
    merged = {**current, **(given or {})}
    return {**merged, "Cpu": _units(merged["Cpu"], 1024), "Memory": _units(merged["Memory"], 1024)}


def _health(current: dict, given: dict | None) -> dict:
    defaults = {"Protocol": "TCP", "Path": "/", "Interval": 5, "Timeout": 2, "HealthyThreshold": 1,
                "UnhealthyThreshold": 5}
    return {**defaults, **current, **(given or {})}


def _network(current: dict | None, given: dict | None) -> dict:
    """Absent booleans are false (the Go SDK leaves them out); absent blocks keep their old or default value."""
    network = current or {"EgressConfiguration": {"EgressType": "DEFAULT"},
                          "IngressConfiguration": {"IsPubliclyAccessible": True}, "IpAddressType": "IPV4"}
    network = json.loads(json.dumps(network))
    given = given or {}
    if "EgressConfiguration" in given:
        network["EgressConfiguration"] = {"EgressType": "DEFAULT", **given["EgressConfiguration"]}
    if "IngressConfiguration" in given:
        network["IngressConfiguration"] = {"IsPubliclyAccessible": False, **given["IngressConfiguration"]}
    network["IpAddressType"] = given.get("IpAddressType", network["IpAddressType"])
    return network


def _observability(given: dict) -> dict:
    return {"ObservabilityEnabled": False, **given}


def _handler_class(state: AppRunner, log):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as AWS does (the Go SDK pools connections)

        def log_message(self, fmt, *args):  # noqa: D401 - http.server's hook: goes to the log file
            log(fmt % args)

        def _send(self, status: int, payload, headers: dict | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", secrets.token_hex(16))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/_standin/calls":
                with state.lock:
                    return self._send(200, [[action, body] for action, body in state.calls])
            if self.path == "/_standin/state":
                return self._send(200, state.dump())
            self._send(404, {"message": f"no such path {self.path}"})

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            target = self.headers.get("X-Amz-Target", "")
            action = target.split(".", 1)[1] if target.startswith("AppRunner.") else target
            match = CREDENTIAL_REGION.search(self.headers.get("Authorization", ""))
            region = match.group(1) if match else DEFAULT_REGION
            log(f"{action} {region} {json.dumps(body)}")
            try:
                self._send(200, state.handle(action, region, body))
            except ApiError as error:
                log(f"  -> {error.code}: {error.message}")
                self._send(400, {"__type": error.code, "Message": error.message},
                           {"X-Amzn-ErrorType": error.code})
            except KeyError as missing:
                self._send(400, {"__type": "InvalidRequestException", "Message": f"{missing} is required"},
                           {"X-Amzn-ErrorType": "InvalidRequestException"})
            except Exception as error:  # a stand-in bug: answer like AWS's 500 and keep the trace in the log
                log(f"  -> {traceback.format_exc()}")
                self._send(500, {"__type": "InternalServiceErrorException", "Message": repr(error)},
                           {"X-Amzn-ErrorType": "InternalServiceErrorException"})

    return Handler


@contextmanager
def apprunner_standin(log_path: Path, settle_seconds: float = 0.0):
    """Serve the stand-in on a free 127.0.0.1 port in a background thread; yields its base URL.

    settle_seconds: how long OPERATION_IN_PROGRESS / PENDING_* last (0: over by the first describe)."""
    state = AppRunner(settle_seconds)
    log_lock = threading.Lock()
    with open(log_path, "a", encoding="utf-8") as log_file:
        def log(line: str) -> None:
            with log_lock:
                log_file.write(f"{time.strftime('%H:%M:%S')} {line}\n")
                log_file.flush()

        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(state, log))
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, name="apprunner-standin", daemon=True)
        thread.start()
        try:
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
    return [tuple(call) for call in _get(url, "/_standin/calls")]


def standin_state(url: str) -> dict:
    """{"records": {arn: record}, "tags": {arn: tags}, "operations": {service arn: [operation]}}."""
    return _get(url, "/_standin/state")
