"""`python -m tests.moto_patched -H 127.0.0.1 -p PORT`: moto's server, mended where it reads back what AWS
does not, so a second plan is empty exactly when it would be on AWS.

moto 5.2:
- keeps no API Gateway integration `connectionId` (every second plan would show the VPC link as changed)
  and has no UpdateMethod or UpdateIntegration (switching API_AUTHORIZATION, or moving an integration to
  another VPC link or URI, would fail to apply), nor UpdateVpcLink (switching COMPUTE changes the link's
  description), nor UpdateResource (a worker's new route changes its resources' path part). Added as API Gateway documents them; any other patch path is refused loudly, never ignored.
- returns an empty Serverless v1 ScalingConfigurationInfo for every Aurora cluster (RDS omits it outside
  engine mode `serverless`);
- drops the description of a security group rule that references another group, and ignores a new referenced
  group in ModifySecurityGroupRules (switching COMPUTE moves the data stores' rule to the tasks' group in place);
- gives an interface endpoint no network interface for a subnet added later (AWS adds one per subnet);
- loses a DB subnet group when it is modified;
- keeps no Performance Insights flag of a DB instance (every second plan would turn it on again);
- keeps only some fields of an ECS CreateService (health check grace period, ECS managed tags, availability zone
  rebalancing... are dropped, so every second plan would set them again); UpdateService already keeps them all;
- keeps the one deployment CreateService made for ever: an UpdateService to a task definition now starts a deployment
  that completes at once, or, when an image of the task definition contains one of $MOTO_PATCHED_FAILING_IMAGES
  (a test's failing build), fails as ECS's circuit breaker leaves it: FAILED, with ECS's rollback to the last
  completed deployment's task definition in progress;
- has no Application Auto Scaling tags (ListTagsForResource, TagResource, UntagResource): the provider reads a
  scalable target's tags after registering it, and the apply fails without them;
- keeps only the CodeBuild project fields it knows (concurrentBuildLimit would plan again, for one) and has no
  UpdateProject nor webhook actions (CreateWebhook, UpdateWebhook, DeleteWebhook): a project reads back as
  written, an update (a new worker to roll) applies, and the webhook is kept on its project, where
  BatchGetProjects returns it, as CodeBuild does.
- has no Step Functions ValidateStateMachineDefinition (the provider calls it at every plan that changes a
  definition) nor ListStateMachineVersions (it reads a machine's versions after every read). Added: the
  definition must parse and its StartAt name one of its States, as AWS's first checks; we publish no versions.
- answers EventBridge TestEventPattern with nothing: it now matches with the engine moto routes events by.
- shares one dict of response transformers between the requests of a service (DescribeServices' tags choice),
  which a concurrent request's serializer may be iterating (RuntimeError in CreateService, seen under
  -parallelism=20): each response gets its own copy;
- looks an IAM role up by iterating over the live dict of roles, which a concurrent CreateRole may grow
  (RuntimeError in a role's GetRole or tagging, seen under -parallelism=20 with the example's fourth worker): it
  iterates over a snapshot;
- drops an NLB's EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic given to SetSecurityGroups (every second plan
  would set it again);
- has no CloudWatch Logs AssociateKmsKey nor DisassociateKmsKey (the provider's in-place change of a group's
  key, e.g. when it adopts a group AWS made unencrypted): added, on the group they name.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import signal
import sys
import traceback
from html import escape

from flask import request as flask_request

from moto.apigateway import models, responses
from moto.applicationautoscaling import models as autoscaling_models
from moto.applicationautoscaling import responses as autoscaling_responses
from moto.codebuild import responses as codebuild_responses
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult, BaseResponse, EmptyResult
from moto.core.serialize import never_return
from moto.core.utils import camelcase_to_underscores, utcnow
from moto.ecs import models as ecs_models
from moto.iam import models as iam_models
from moto.ecs import responses as ecs_responses
from moto.elbv2 import responses as elbv2_responses
from moto.events import responses as events_responses
from moto.events.models import EventPattern
from moto.logs import responses as logs_responses
from moto.logs.exceptions import ResourceNotFoundException
from moto.ec2.models import security_groups, vpcs
from moto.ec2.exceptions import InvalidSecurityGroupNotFoundError
from moto.ec2.utils import random_private_ip
from moto.moto_api._internal import mock_random
from moto.rds import models as rds_models
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.stepfunctions import responses as sfn_responses
from werkzeug.exceptions import HTTPException
from werkzeug.serving import run_simple
from werkzeug.wrappers import Response

from .patching import Absent, Function, Patch, Property, apply
from .terraform import INTERNAL_ERROR

_integration_init = models.Integration.__init__
_integration_to_json = models.Integration.to_json
_put_integration = responses.APIGatewayResponse.put_integration


def _init(self, *args, connection_id=None, **kwargs):
    _integration_init(self, *args, **kwargs)
    self.connection_id = connection_id


def _to_json(self):
    return {**_integration_to_json(self), "connectionId": self.connection_id}


def _parts(response):
    parts = response.path.split("/")
    return parts[2], parts[4], parts[6]  # /restapis/{api}/resources/{resource}/methods/{verb}


def put_integration(self):
    status, headers, _ = _put_integration(self)
    integration = self.backend.get_integration(*_parts(self))
    integration.connection_id = self._get_param("connectionId")
    return status, headers, json.dumps(integration.to_json())


def _apply(target, operations, fields: dict[str, tuple[str, callable]], maps: dict[str, str]):
    """JSON-patch operations on `target`: `fields` maps /path -> (attribute, parse); `maps` /prefix -> dict attribute."""
    for operation in operations or []:
        path, value = operation["path"], operation.get("value")
        if path in fields:
            attribute, parse = fields[path]
            setattr(target, attribute, None if operation["op"] == "remove" else parse(value))
            continue
        prefix = next((p for p in maps if path.startswith(p + "/")), None)
        if prefix is None:
            return f"patch path {path} is not emulated (tests/moto_patched.py)"
        entries = dict(getattr(target, maps[prefix]) or {})
        key = path[len(prefix) + 1:].replace("~1", "/")
        if operation["op"] == "remove":
            entries.pop(key, None)
        else:
            entries[key] = value
        setattr(target, maps[prefix], entries)
    return None


def _boolean(value):
    return str(value).lower() == "true"


def update_method(self):
    method = self.backend.get_method(*_parts(self))
    error = _apply(method, self._get_param("patchOperations"), {
        "/authorizationType": ("authorization_type", str), "/authorizerId": ("authorizer_id", str),
        "/apiKeyRequired": ("api_key_required", _boolean), "/operationName": ("operation_name", str),
        "/requestValidatorId": ("request_validator_id", str),
    }, {"/requestParameters": "request_parameters", "/requestModels": "request_models"})
    if error:
        return self.error("BadRequestException", error)
    if method.request_parameters:
        method.request_parameters = {k: _boolean(v) for k, v in method.request_parameters.items()}
    return 200, {}, json.dumps(method.to_json())


def update_integration(self):
    integration = self.backend.get_integration(*_parts(self))
    error = _apply(integration, self._get_param("patchOperations"), {
        "/uri": ("uri", str), "/connectionId": ("connection_id", str), "/connectionType": ("connection_type", str),
        "/httpMethod": ("http_method", str), "/timeoutInMillis": ("timeout_in_millis", int),
        "/passthroughBehavior": ("passthrough_behaviour", str), "/contentHandling": ("content_handling", str),
        "/credentials": ("credentials", str), "/cacheNamespace": ("cache_namespace", str),
    }, {"/requestParameters": "request_parameters", "/requestTemplates": "request_templates"})
    if error:
        return self.error("BadRequestException", error)
    return 200, {}, json.dumps(integration.to_json())


def update_resource(self):
    api, resource_id = self.path.split("/")[2], self.path.split("/")[4]  # /restapis/{api}/resources/{resource}
    resource = self.backend.get_resource(api, resource_id)
    error = _apply(resource, self._get_param("patchOperations"),
                   {"/pathPart": ("path_part", str), "/parentId": ("parent_id", str)}, {})
    if error:
        return self.error("BadRequestException", error)
    return 200, {}, json.dumps(resource.to_dict())


def update_vpc_link(self):
    link = self.backend.get_vpc_link(vpc_link_id=self.path.split("/")[-1])
    error = _apply(link, self._get_param("patchOperations"),
                   {"/name": ("name", str), "/description": ("description", str)}, {})
    if error:
        return self.error("BadRequestException", error)
    return 200, {}, json.dumps(link.to_json())


_scaling_configuration_info = inspect.getattr_static(rds_models.DBCluster, "scaling_configuration_info", None)


def _scaling_info(self):
    return _scaling_configuration_info.fget(self) if self.scaling_configuration else None


def _rule_description(self):
    return self.ip_range.get("Description") or self.source_group.get("Description")


_endpoint_modify = vpcs.VPCEndPoint.modify


def _modify_endpoint(self, policy_doc, add_subnets, remove_subnets, *args):
    before = list(self.subnet_ids or [])
    _endpoint_modify(self, policy_doc, add_subnets, remove_subnets, *args)
    if (self.vpc_endpoint_type or "").lower() != "interface":
        return
    enis = self.ec2_backend.enis
    for subnet_id in [s for s in self.subnet_ids if s not in before]:
        eni = self.ec2_backend.create_network_interface(self.ec2_backend.get_subnet(subnet_id), random_private_ip())
        self.network_interface_ids.append(eni.id)
    for eni_id in [e for e in self.network_interface_ids if enis[e].subnet.id in (remove_subnets or [])]:
        self.network_interface_ids.remove(eni_id)
        enis.pop(eni_id, None)


_modify_security_group_rules = security_groups.SecurityGroupBackend.modify_security_group_rules


def _modify_rules(self, group_id, rules):
    _modify_security_group_rules(self, group_id, rules)
    group = self.get_security_group_by_name_or_id(group_id)
    for rule_id, new_rule in rules.items():
        referenced = new_rule.get("ReferencedGroupId")
        if referenced is None:
            continue
        if self.get_security_group_by_name_or_id(referenced) is None:
            raise InvalidSecurityGroupNotFoundError(referenced)
        rule = group.get_rule(rule_id)
        # moto put the description in the (CIDR) ip_range; a rule names either a CIDR or a group.
        description = rule.ip_range.get("Description", rule.source_group.get("Description"))
        rule.ip_range = {}
        rule.source_group = {"GroupId": referenced, "UserId": self.account_id, "OwnerId": self.account_id,
                             **({"Description": description} if description is not None else {})}


_modify_db_subnet_group = rds_models.RDSBackend.modify_db_subnet_group


def _modify_subnet_group(self, subnet_name, description, subnets):
    group = _modify_db_subnet_group(self, subnet_name, description, subnets)
    self.subnet_groups[subnet_name] = group  # moto pops it and never puts it back
    return group


_db_instance_init = rds_models.DBInstance.__init__


def _db_instance(self, *args, **kwargs):
    _db_instance_init(self, *args, **kwargs)
    # CreateDBInstance's EnablePerformanceInsights; ModifyDBInstance sets the same attribute (moto's update).
    self.enable_performance_insights = bool(kwargs.get("enable_performance_insights"))


# Application Auto Scaling tags, by scalable target ARN (RegisterScalableTarget's Tags, TagResource).
def _target_tags(response) -> dict[str, str]:
    backend = response.applicationautoscaling_backend
    if not hasattr(backend, "tags_by_arn"):
        backend.tags_by_arn = {}
    return backend.tags_by_arn


_register_scalable_target = autoscaling_responses.ApplicationAutoScalingResponse.register_scalable_target


def register_scalable_target(self):
    body = _register_scalable_target(self)
    arn = json.loads(body)["ScalableTargetARN"]
    _target_tags(self).setdefault(arn, {}).update(self._get_param("Tags") or {})
    return body


def _known_target(self, arn):
    targets = self.applicationautoscaling_backend.targets
    return any(t.arn == arn for by_dimension in targets.values() for t in by_dimension.values())


def list_target_tags(self):
    arn = self._get_param("ResourceARN")
    if not _known_target(self, arn):
        raise JsonRESTError("ResourceNotFoundException", f"No scalable target {arn}")
    return json.dumps({"Tags": _target_tags(self).get(arn, {})})


def tag_target(self):
    _target_tags(self).setdefault(self._get_param("ResourceARN"), {}).update(self._get_param("Tags") or {})
    return "{}"


def untag_target(self):
    tags = _target_tags(self).get(self._get_param("ResourceARN"), {})
    for key in self._get_param("TagKeys") or []:
        tags.pop(key, None)
    return "{}"


# CodeBuild: every field of CreateProject and UpdateProject read back as written, and the webhook actions.
_create_project = codebuild_responses.CodeBuildResponse.create_project
# Request fields BatchGetProjects returns under another shape: moto already sets them its way.
_NOT_PROJECT_FIELDS = {"badgeEnabled", "autoRetryLimit"}


def _project(self, name):
    project = self.codebuild_backend.codebuild_projects.get(name)
    if project is None:
        return None
    return project.project_metadata


def _write_project(metadata: dict, request: dict) -> None:
    metadata.update({k: v for k, v in request.items() if k not in _NOT_PROJECT_FIELDS})
    if "badgeEnabled" in request:
        metadata["badge"] = {"badgeEnabled": request["badgeEnabled"]}


def create_project(self):
    result = _create_project(self)
    _write_project(_project(self, self._get_param("name")), json.loads(self.body))
    return result


def update_project(self):
    metadata = _project(self, self._get_param("name"))
    if metadata is None:
        raise JsonRESTError("ResourceNotFoundException", f"Project {self._get_param('name')} does not exist")
    _write_project(metadata, json.loads(self.body))
    return ActionResult({"project": metadata})


def create_webhook(self):
    metadata = _project(self, self._get_param("projectName"))
    if metadata is None:
        raise JsonRESTError("ResourceNotFoundException", f"Project {self._get_param('projectName')} does not exist")
    if "webhook" in metadata:
        raise JsonRESTError("ResourceAlreadyExistsException", "The project already has a webhook")
    request = json.loads(self.body)
    metadata["webhook"] = {
        "url": f"https://api.github.com/repos/webhooks/{metadata['name']}", "secret": "",
        "payloadUrl": f"https://codebuild.{self.region}.amazonaws.com/webhooks?t={metadata['name']}",
        **{k: request[k] for k in ("branchFilter", "filterGroups", "buildType") if k in request}}
    return ActionResult({"webhook": metadata["webhook"]})


def update_webhook(self):
    metadata = _project(self, self._get_param("projectName"))
    if metadata is None or "webhook" not in metadata:
        raise JsonRESTError("ResourceNotFoundException", "No webhook for that project")
    request = json.loads(self.body)
    metadata["webhook"].update({k: request[k] for k in ("branchFilter", "filterGroups", "buildType") if k in request})
    return ActionResult({"webhook": metadata["webhook"]})


def delete_webhook(self):
    metadata = _project(self, self._get_param("projectName"))
    if metadata is None or metadata.pop("webhook", None) is None:
        raise JsonRESTError("ResourceNotFoundException", "No webhook for that project")
    return EmptyResult()


_create_service = ecs_responses.EC2ContainerServiceResponse.create_service


def create_service(self):
    """CreateService keeping every field moto's Service drops (UpdateService already keeps them, the same way)."""
    result = _create_service(self)
    service = result.result["service"]
    for key, value in self._get_params().items():
        attribute = camelcase_to_underscores(key)
        if value is not None and not hasattr(service, attribute) and key != "clientToken":
            setattr(service, attribute, value)
    return result


# Test hook: images (substrings, comma-separated) whose deployments fail, as a build of a broken commit's would.
FAILING_IMAGES_VARIABLE = "MOTO_PATCHED_FAILING_IMAGES"
CIRCUIT_BREAKER = "ECS deployment circuit breaker: tasks failed to start."
_update_service = ecs_responses.EC2ContainerServiceResponse.update_service


def _deployment(service, task_definition: str, rollout: str, reason: str, status: str = "PRIMARY") -> dict:
    deployment_id = f"ecs-svc/{mock_random.randint(0, 32**12)}"
    now = utcnow()
    return {**(service.deployments[0] if service.deployments else {}), "id": deployment_id, "status": status,
            "taskDefinition": task_definition, "rolloutState": rollout, "rolloutStateReason": reason,
            "createdAt": now, "updatedAt": now}


def update_service(self):
    """UpdateService to a task definition starts a deployment: COMPLETED, or FAILED and rolled back (module docstring)."""
    result = _update_service(self)
    task_definition = self._get_param("taskDefinition")
    if not task_definition:
        return result
    service = result.result["service"]
    images = [c.get("image", "") for c in self.ecs_backend.describe_task_definition(task_definition).container_definitions]
    failing = [f for f in os.environ.get(FAILING_IMAGES_VARIABLE, "").split(",") if f]
    completed = getattr(service, "completed_task_definition", None)
    if not any(f in image for f in failing for image in images):
        service.deployments = [_deployment(service, task_definition, "COMPLETED", "ECS deployment completed.")]
        service.completed_task_definition = task_definition
    elif completed is None:   # nothing to roll back to: ECS leaves the failed deployment
        service.deployments = [_deployment(service, task_definition, "FAILED", CIRCUIT_BREAKER)]
    else:
        failed = _deployment(service, task_definition, "FAILED", CIRCUIT_BREAKER, status="ACTIVE")
        service.deployments = [_deployment(service, completed, "IN_PROGRESS", "ECS deployment rolling back."), failed]
        service.task_definition = completed
    return result


def _transform_in_this_response(self, response_key_path: str, transform) -> None:
    """moto writes a request's include/exclude choice into a dict its response class shares (class attribute), which
    another thread's serializer may be iterating: "dictionary changed size during iteration", and one request's
    choice leaking into the next. Each response gets its own copy instead."""
    self.RESPONSE_KEY_PATH_TO_TRANSFORMER = {**self.RESPONSE_KEY_PATH_TO_TRANSFORMER, response_key_path: transform}


_set_security_groups = elbv2_responses.ELBV2Response.set_security_groups


def set_security_groups(self):
    """SetSecurityGroups keeping the NLB's EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic, which
    DescribeLoadBalancers then returns, as ELB does."""
    result = _set_security_groups(self)
    enforce = self._get_param("EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic")
    if enforce is not None:
        balancer = self.elbv2_backend.load_balancers[self._get_param("LoadBalancerArn")]
        balancer.enforce_security_group_inbound_rules_on_private_link_traffic = enforce
        result.result["EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"] = enforce
    return result


def validate_state_machine_definition(self):
    try:
        definition = json.loads(self._get_param("definition"))
        problem = None if definition.get("StartAt") in definition.get("States", {}) else "StartAt names no state"
    except (TypeError, ValueError, AttributeError) as error:
        problem = f"not a JSON object: {error}"
    diagnostics = [{"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "message": problem}] if problem else []
    return ActionResult({"result": "FAIL" if problem else "OK", "diagnostics": diagnostics, "truncated": False})


def list_state_machine_versions(self):
    self.stepfunction_backend.describe_state_machine(self._get_param("stateMachineArn"))  # unknown: refused
    return ActionResult({"stateMachineVersions": []})


def test_event_pattern(self):
    matches = EventPattern.load(self._get_param("EventPattern")).matches_event(json.loads(self._get_param("Event")))
    return json.dumps({"Result": matches}), self.response_headers


def _set_group_key(self, key_id):
    name = self._get_param("logGroupName")
    if name not in self.logs_backend.groups:
        raise ResourceNotFoundException()
    self.logs_backend.groups[name].kms_key_id = key_id
    return ""


_APIGATEWAY, _RDS = responses.APIGatewayResponse, rds_models
CodeBuildResponse = codebuild_responses.CodeBuildResponse
AutoScalingResponse = autoscaling_responses.ApplicationAutoScalingResponse
PATCHES = (
    Patch("API Gateway integration connectionId", models.Integration, "__init__", _init,
          Function(("self", "integration_type", "uri", "http_method"), lacks=("connection_id",))),
    Patch("API Gateway integration connectionId", models.Integration, "connection_id", None, Absent()),
    Patch("API Gateway integration connectionId", models.Integration, "to_json", _to_json, Function()),
    Patch("API Gateway integration connectionId", _APIGATEWAY, "put_integration", put_integration, Function()),
    Patch("API Gateway UpdateMethod", _APIGATEWAY, "update_method", update_method, Absent()),
    Patch("API Gateway UpdateIntegration", _APIGATEWAY, "update_integration", update_integration, Absent()),
    Patch("API Gateway UpdateVpcLink", _APIGATEWAY, "update_vpc_link", update_vpc_link, Absent()),
    Patch("API Gateway UpdateResource", _APIGATEWAY, "update_resource", update_resource, Absent()),
    Patch("Aurora ScalingConfigurationInfo", _RDS.DBCluster, "scaling_configuration_info", property(_scaling_info),
          Property()),
    Patch("security group rule description", security_groups.SecurityGroupRule, "description",
          property(_rule_description), Property()),
    Patch("ModifySecurityGroupRules' referenced group", security_groups.SecurityGroupBackend,
          "modify_security_group_rules", _modify_rules, Function(("self", "group_id", "rules"))),
    Patch("interface endpoint ENIs of added subnets", vpcs.VPCEndPoint, "modify", _modify_endpoint,
          Function(("self", "policy_doc", "add_subnets", "remove_subnets"))),
    Patch("DB subnet group kept when modified", _RDS.RDSBackend, "modify_db_subnet_group", _modify_subnet_group,
          Function(("self", "subnet_name", "description", "subnets"))),
    Patch("DB instance Performance Insights flag", _RDS.DBInstance, "__init__", _db_instance,
          Function(("self",), lacks=("enable_performance_insights",))),
    Patch("DB instance Performance Insights flag", _RDS.DBInstance, "performance_insights_enabled",
          property(lambda self: bool(getattr(self, "enable_performance_insights", False))), Absent()),
    Patch("ECS CreateService fields", ecs_responses.EC2ContainerServiceResponse, "create_service", create_service,
          Function()),
    Patch("ECS deployments", ecs_responses.EC2ContainerServiceResponse, "update_service", update_service, Function()),
    Patch("ECS deployments", ecs_models.Service, "completed_task_definition", None, Absent()),
    Patch("response transformers per request", BaseResponse, "_include_in_response",
          lambda self, response_key_path: _transform_in_this_response(self, response_key_path, lambda x: x),
          Function(("self", "response_key_path"))),
    Patch("response transformers per request", BaseResponse, "_exclude_from_response",
          lambda self, response_key_path: _transform_in_this_response(self, response_key_path, never_return),
          Function(("self", "response_key_path"))),
    Patch("IAM roles iterated as a snapshot", iam_models.IAMBackend, "get_roles",
          lambda self: list(self.roles.values()), Function(("self",))),
    Patch("ELBv2 SetSecurityGroups PrivateLink enforcement", elbv2_responses.ELBV2Response, "set_security_groups",
          set_security_groups, Function(("self",))),
    Patch("Application Auto Scaling tags", autoscaling_models.ApplicationAutoscalingBackend, "tags_by_arn", None,
          Absent()),
    Patch("Application Auto Scaling tags", AutoScalingResponse, "register_scalable_target", register_scalable_target,
          Function()),
    *(Patch("Application Auto Scaling tags", AutoScalingResponse, name, handler, Absent()) for name, handler in (
        ("list_tags_for_resource", list_target_tags), ("tag_resource", tag_target), ("untag_resource", untag_target))),
    Patch("CodeBuild project fields", CodeBuildResponse, "create_project", create_project, Function()),
    *(Patch("CodeBuild UpdateProject and webhooks", CodeBuildResponse, name, handler, Absent()) for name, handler in (
        ("update_project", update_project), ("create_webhook", create_webhook), ("update_webhook", update_webhook),
        ("delete_webhook", delete_webhook))),
    Patch("Step Functions ValidateStateMachineDefinition", sfn_responses.StepFunctionResponse,
          "validate_state_machine_definition", validate_state_machine_definition, Absent()),
    Patch("Step Functions ListStateMachineVersions", sfn_responses.StepFunctionResponse,
          "list_state_machine_versions", list_state_machine_versions, Absent()),
    Patch("EventBridge TestEventPattern", events_responses.EventsHandler, "test_event_pattern", test_event_pattern,
          Function()),
    *(Patch("CloudWatch Logs key association", logs_responses.LogsResponse, name, handler, Absent()) for name, handler
      in (("associate_kms_key", lambda self: _set_group_key(self, self._get_param("kmsKeyId"))),
          ("disassociate_kms_key", lambda self: _set_group_key(self, None)))),
)

apply(PATCHES, package="moto", where="tests/moto_patched.py")

# An emulator bug answers 400 EmulatorInternalError, never a 5xx: the AWS SDK retries a 500 with backoff (for minutes,
# as the provider's max_retries allows), where a 400 fails the terraform step at once. The trace goes to the log.
_CREDENTIAL_SERVICE = re.compile(r"Credential=[^/]+/\d{8}/[a-z0-9-]+/([a-z0-9-]+)/")


def internal_error_response(error: Exception, request) -> Response:
    """The error in the shape the request's protocol reads: JSON (X-Amz-Target, REST-JSON), EC2's XML, S3's XML, or
    the query protocol's ErrorResponse."""
    trace = "".join(traceback.format_exception(error))
    print(f"{INTERNAL_ERROR} on {request.method} {request.path}:\n{trace}", file=sys.stderr, flush=True)
    text = f"{type(error).__name__}: {error} (a bug of the emulator, not of AWS; its log has the trace)"
    message = escape(text)   # for the XML bodies
    match = _CREDENTIAL_SERVICE.search(request.headers.get("Authorization", ""))
    service = match.group(1) if match else ""
    if "X-Amz-Target" in request.headers or "json" in (request.content_type or ""):
        body = json.dumps({"__type": INTERNAL_ERROR, "message": text})
        return Response(body, 400, {"Content-Type": "application/json", "X-Amzn-ErrorType": INTERNAL_ERROR})
    if service == "ec2":
        body = f"<Response><Errors><Error><Code>{INTERNAL_ERROR}</Code><Message>{message}</Message></Error></Errors></Response>"
    elif service == "s3":
        body = f"<Error><Code>{INTERNAL_ERROR}</Code><Message>{message}</Message></Error>"
    else:
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{INTERNAL_ERROR}</Code><Message>{message}</Message>"
                "</Error></ErrorResponse>")
    return Response(body, 400, {"Content-Type": "text/xml"})


# Test hook: every request of these actions raises, as a bug of the emulator would. Comma-separated, each an action
# (CreateVpc) or, for the REST protocols, a method and path (POST /restapis).
FAULT_VARIABLE = "MOTO_PATCHED_FAULT"


def _names(request) -> set[str]:
    target = request.headers.get("X-Amz-Target", "")
    return {target.rsplit(".", 1)[-1] if target else request.values.get("Action", ""),
            f"{request.method} {request.path}"}


def backend_app(service):
    """moto's Flask app of a service, with every exception that is not already an HTTP answer turned into a 400."""
    app = create_backend_app(service)

    def handle(error: Exception):
        return error if isinstance(error, HTTPException) else internal_error_response(error, flask_request)

    def injected_fault():
        faults = set(os.environ.get(FAULT_VARIABLE, "").split(",")) - {""}
        for name in faults & _names(flask_request):
            raise RuntimeError(f"injected fault in {name} ({FAULT_VARIABLE})")

    app.register_error_handler(Exception, handle)
    app.before_request(injected_fault)
    return app


def main(argv: list[str]) -> None:
    """moto.server's main, on an app whose services answer an internal error with a 400 (`-H HOST -p PORT`)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run_simple(args.host, args.port, DomainDispatcherApplication(backend_app), threaded=True,
               request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main(sys.argv[1:])
