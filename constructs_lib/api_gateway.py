"""The public entry: a regional REST API routing /<route> of each worker through the VPC link."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.api_gateway_account import ApiGatewayAccount
from cdktf_cdktf_provider_aws.api_gateway_deployment import ApiGatewayDeployment
from cdktf_cdktf_provider_aws.api_gateway_integration import ApiGatewayIntegration
from cdktf_cdktf_provider_aws.api_gateway_method import ApiGatewayMethod
from cdktf_cdktf_provider_aws.api_gateway_method_settings import (ApiGatewayMethodSettings,
                                                                  ApiGatewayMethodSettingsSettings)
from cdktf_cdktf_provider_aws.api_gateway_resource import ApiGatewayResource
from cdktf_cdktf_provider_aws.api_gateway_rest_api import ApiGatewayRestApi, ApiGatewayRestApiEndpointConfiguration
from cdktf_cdktf_provider_aws.api_gateway_stage import ApiGatewayStage, ApiGatewayStageAccessLogSettings
from cdktf_cdktf_provider_aws.api_gateway_vpc_link import ApiGatewayVpcLink
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from .iam import service_trust_policy

ACCESS_LOG_FORMAT = json.dumps({
    "requestId": "$context.requestId", "extendedRequestId": "$context.extendedRequestId",
    "ip": "$context.identity.sourceIp", "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod", "resourcePath": "$context.resourcePath", "path": "$context.path",
    "status": "$context.status", "protocol": "$context.protocol", "responseLength": "$context.responseLength",
    "integrationStatus": "$context.integration.status", "integrationLatency": "$context.integration.latency",
    "integrationError": "$context.integration.error", "wafStatus": "$context.waf.status",
    "userAgent": "$context.identity.userAgent",
}, separators=(",", ":"))
PUSH_TO_CLOUDWATCH = "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"


@dataclass(frozen=True)
class Route:
    name: str            # the worker's name: its resources' construct ids and its key in `worker_urls`
    path: str            # the worker's route, /<path> on the stage
    ingress_domain: str  # App Runner: the VPC ingress connection's domain; ECS: the worker's host on the ALB.
                         # API Gateway sends it as Host (and TLS SNI); the VPC link never resolves it.
    scheme: str = "https"  # ECS without a certificate: http


@dataclass(frozen=True)
class RestApiProps:
    name_prefix: str                # <project>-<env>: the API's, VPC link's, log group's and role's names
    stage_name: str                 # the environment
    behind_nlb: str                 # what the NLB fronts, for the VPC link's description
    authorization: str              # of every method: NONE or AWS_IAM
    throttle_rate_limit: int        # requests per second, stage-wide
    throttle_burst_limit: int
    manage_account_logging: bool    # this stack sets the region's API Gateway CloudWatch role (one per region)
    log_retention_days: int
    nlb_arn: str
    routes: tuple[Route, ...]
    logs_kms_key_arn: str


class RestApi(Construct):
    """Exposes `rest_api_id`, `stage` (the resource), `stage_arn`, `stage_name`, `invoke_url` and `worker_urls`
    (name -> URL)."""

    def __init__(self, scope: Construct, id_: str, *, props: RestApiProps):
        super().__init__(scope, id_)
        prefix = props.name_prefix

        api = ApiGatewayRestApi(
            self, "rest-api", name=prefix, description=f"Public entry of {prefix}: one path per worker",
            endpoint_configuration=ApiGatewayRestApiEndpointConfiguration(types=["REGIONAL"]),
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        link = ApiGatewayVpcLink(
            self, "vpc-link", name=prefix,
            description=f"To the internal NLB in front of {props.behind_nlb}",
            target_arns=[props.nlb_arn],
            # AWS refuses to delete a link in use: a new one first (the deployment trigger moves the stage).
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        redeploy_on: list[str] = []
        for route in props.routes:
            redeploy_on.extend(self._build_route(api, link, route, props.authorization))

        deployment = ApiGatewayDeployment(
            self, "deployment", rest_api_id=api.id, description=f"{prefix} routes",
            # Every argument of every route, method and integration, and their ids: an in-place change
            # (authorization, parameters, URI, VPC link) reaches the stage only through a new deployment.
            triggers={"redeployment": Fn.sha1(Fn.jsonencode(redeploy_on))},
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        access_logs = CloudwatchLogGroup(
            self, "access-logs", name=f"/aws/apigateway/{prefix}/access",
            retention_in_days=props.log_retention_days, kms_key_id=props.logs_kms_key_arn,
        )
        account = [self._build_account_logging(prefix)] if props.manage_account_logging else None
        stage = ApiGatewayStage(
            self, "stage", rest_api_id=api.id, deployment_id=deployment.id, stage_name=props.stage_name,
            xray_tracing_enabled=True,
            access_log_settings=ApiGatewayStageAccessLogSettings(
                destination_arn=access_logs.arn, format=ACCESS_LOG_FORMAT),
            depends_on=account,
        )
        ApiGatewayMethodSettings(
            self, "stage-settings", rest_api_id=api.id, stage_name=stage.stage_name, method_path="*/*",
            settings=ApiGatewayMethodSettingsSettings(
                metrics_enabled=True, data_trace_enabled=False,
                # No execution logs: API Gateway writes them to a group it creates itself, unencrypted and kept
                # forever, named after the API's id. A stage applied before has that group already, and no import
                # block can adopt it (a new API's id is unknown at plan time; an import's for_each must be known).
                # The access log has the integration's error, X-Ray the trace.
                logging_level="OFF",
                throttling_rate_limit=props.throttle_rate_limit,
                throttling_burst_limit=props.throttle_burst_limit,
            ),
        )
        self.rest_api_id: str = api.id
        self.stage = stage   # what must change only once the stage has moved depends on it
        self.stage_arn: str = stage.arn
        self.stage_name: str = props.stage_name
        self.invoke_url: str = stage.invoke_url
        self.worker_urls: dict[str, str] = {
            route.name: f"{stage.invoke_url}/{route.path}" for route in props.routes
        }

    def _build_route(self, api, link, route: Route, authorization: str) -> list[str]:
        base = ApiGatewayResource(
            self, f"{route.name}-resource", rest_api_id=api.id, parent_id=api.root_resource_id,
            path_part=route.path,
        )
        proxy = ApiGatewayResource(
            self, f"{route.name}-proxy-resource", rest_api_id=api.id, parent_id=base.id, path_part="{proxy+}",
        )
        redeploy_on: list[str] = []
        for suffix, resource, path, params in (
            ("", base, "/", None),
            ("-proxy", proxy, "/{proxy}", {"method.request.path.proxy": True}),
        ):
            # The arguments that reach the stage, kept in one place: what builds the method and integration
            # also feeds the deployment trigger, so nothing can be added to one and forgotten in the other.
            method_args = dict(http_method="ANY", authorization=authorization, request_parameters=params)
            integration_args = dict(
                type="HTTP_PROXY", integration_http_method="ANY", connection_type="VPC_LINK",
                request_parameters={"integration.request.path.proxy": "method.request.path.proxy"} if params else None)
            uri = f"{route.scheme}://{route.ingress_domain}{path}"  # known at apply time, like the ids below
            method = ApiGatewayMethod(self, f"{route.name}{suffix}-method", rest_api_id=api.id,
                                              resource_id=resource.id, **method_args)
            integration = ApiGatewayIntegration(
                self, f"{route.name}{suffix}-integration", rest_api_id=api.id, resource_id=resource.id,
                http_method=method.http_method, uri=uri, connection_id=link.id, **integration_args)
            # Synth-time values as one digest, apply-time values as references. (Not whole objects: the provider
            # stores null at create and "" or {} after a refresh, which would redeploy once for nothing.)
            known = {"path_part": route.path if resource is base else "{proxy+}", "uri_path": path,
                     "method": method_args, "integration": integration_args}
            if route.scheme != "https":  # https (App Runner's only one) stays out: its stacks' triggers are as before
                known["scheme"] = route.scheme
            known = json.dumps(known, sort_keys=True)
            redeploy_on.extend([hashlib.sha256(known.encode()).hexdigest(), resource.id, method.id, integration.id,
                                route.ingress_domain, link.id])
        return redeploy_on

    def _build_account_logging(self, prefix: str):
        """API Gateway writes the stages' logs with one account-wide role per region."""
        # Every stage of the region logs through this role: destroying it with this environment would break the
        # others. docs/day-2.md says how to hand it over before a destroy.
        keep = TerraformResourceLifecycle(prevent_destroy=True)
        role = IamRole(
            self, "cloudwatch-role", name=f"{prefix}-apigateway-cloudwatch",
            description="Lets API Gateway write execution logs to CloudWatch Logs",
            assume_role_policy=service_trust_policy("apigateway.amazonaws.com"), lifecycle=keep,
        )
        IamRolePolicyAttachment(self, "cloudwatch-role-policy", role=role.name,
                                                 policy_arn=PUSH_TO_CLOUDWATCH, lifecycle=keep)
        return ApiGatewayAccount(self, "account-logging", cloudwatch_role_arn=role.arn)
