"""What `python main.py local` runs, read from a synthesized stack (cdk.tf.json), not from a second copy of the rules.

One more consumer of the JSON, beside terraform: the REST API's resources, methods and integrations give the routes;
the integration's URI leads to the worker that serves it (App Runner: the VPC ingress connection's service; ECS: the
ALB listener rule on the URI's host, its target group, the service and its task definition); the worker's service
gives its build and start commands, port, variables, secrets and health check. Values Terraform knows only at apply
time stay references (`${aws_rds_cluster.x.endpoint}`): local_run.py points them at local services.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

REFERENCE = re.compile(r"\$\{([a-z0-9_]+)\.([^.}\[]+)[^}]*\}")
API_KEY_MESSAGE = "Missing Authentication Token"   # API Gateway's 403 for a path no resource matches


class StackReadError(ValueError):
    pass


@dataclass(frozen=True)
class Worker:
    name: str                           # WORKER_NAME
    service: str                        # the App Runner or ECS service name
    start_command: str
    port: int
    variables: dict[str, str]           # plain values, or Terraform references
    secrets: dict[str, str]             # key -> the ARN (or reference) the platform resolves at start
    health_path: str | None             # None: a TCP check on the port
    health_codes: tuple[int, int] = (200, 299)   # the HTTP statuses the check accepts, inclusive


@dataclass(frozen=True)
class Route:
    path: str                           # the resource's full path: /orders or /orders/{proxy+}
    method: str                         # ANY, GET...
    worker: str
    uri: str                            # the integration's URI, e.g. https://<host>/{proxy}
    host: str                           # the Host header API Gateway sends: the URI's host
    authorization: str                  # NONE, AWS_IAM...
    timeout_ms: int


@dataclass(frozen=True)
class LocalPlatform:
    stack: str
    compute: str                        # apprunner or ecs
    stage: str
    build_command: str
    workers: dict[str, Worker]
    routes: tuple[Route, ...]
    dockerignore: str = ""              # ECS: what the image's build context leaves out
    notes: tuple[str, ...] = field(default=())


def read_platform(stack_file: Path) -> LocalPlatform:
    """The platform a synthesized stack describes, as `local` runs it."""
    try:
        document = json.loads(stack_file.read_text())
    except (OSError, ValueError) as error:
        raise StackReadError(f"{stack_file}: not a synthesized stack ({error})") from error
    resources = document.get("resource", {})
    stack = stack_file.parent.name
    if "aws_apprunner_service" in resources:
        compute, workers, by_uri_host, build = "apprunner", *_apprunner_workers(resources)
        dockerignore = ""
    elif "aws_ecs_service" in resources:
        compute, workers, by_uri_host, build, dockerignore = "ecs", *_ecs_workers(resources)
    else:
        raise StackReadError(f"{stack_file}: no App Runner or ECS service: not a platform stack (the state stack?)")
    stages = list(resources.get("aws_api_gateway_stage", {}).values())
    if len(stages) != 1:
        raise StackReadError(f"{stack_file}: expected one API Gateway stage, found {len(stages)}")
    routes = _routes(resources, by_uri_host, workers)
    return LocalPlatform(stack, compute, stages[0]["stage_name"], build, workers, routes, dockerignore)


def _address(reference: str) -> tuple[str, str] | None:
    match = REFERENCE.fullmatch(reference) or REFERENCE.search(reference)
    return (match.group(1), match.group(2)) if match else None


def _block(value):
    """A nested block as cdktf writes it: an object, or a list of one object."""
    if isinstance(value, list):
        return value[0] if value else {}
    return value or {}


def _apprunner_workers(resources: dict) -> tuple[dict[str, Worker], dict[str, str], str]:
    workers: dict[str, Worker] = {}
    by_service: dict[str, str] = {}
    builds = set()
    for address, service in sorted(resources["aws_apprunner_service"].items()):
        values = _block(_block(_block(service["source_configuration"])["code_repository"])["code_configuration"])
        values = _block(values.get("code_configuration_values"))
        variables = dict(values.get("runtime_environment_variables", {}))
        health = _block(service.get("health_check_configuration"))
        name = variables.get("WORKER_NAME") or service["service_name"]
        workers[name] = Worker(name, service["service_name"], values["start_command"], int(values.get("port", 8080)),
                               variables, dict(values.get("runtime_environment_secrets", {})),
                               health.get("path") if health.get("protocol") == "HTTP" else None)
        by_service[address] = name
        builds.add(values.get("build_command", ""))
    # The integration URI names the ingress connection's domain; the connection names its service.
    by_host = {}
    for address, connection in resources.get("aws_apprunner_vpc_ingress_connection", {}).items():
        service = _address(connection["service_arn"])
        if service and service[1] in by_service:
            by_host[f"${{aws_apprunner_vpc_ingress_connection.{address}.domain_name}}"] = by_service[service[1]]
    return workers, by_host, _one(builds, "build command")


def _ecs_workers(resources: dict) -> tuple[dict[str, Worker], dict[str, str], str, str]:
    groups = resources.get("aws_lb_target_group", {})
    by_group: dict[str, str] = {}
    workers: dict[str, Worker] = {}
    for service in resources["aws_ecs_service"].values():
        task = resources["aws_ecs_task_definition"][_address(service["task_definition"])[1]]
        definitions = task["container_definitions"]
        [container] = json.loads(definitions) if isinstance(definitions, str) else definitions
        variables = {e["name"]: e["value"] for e in container.get("environment", [])}
        name = variables.get("WORKER_NAME") or service["name"]
        [mapping] = container.get("portMappings", [{"containerPort": 80}])
        health_path, codes = None, (200, 299)
        balancers = service.get("load_balancer", [])
        for balancer in balancers if isinstance(balancers, list) else [balancers]:
            group_address = _address(balancer["target_group_arn"])[1]
            by_group[group_address] = name
            check = _block(groups.get(group_address, {}).get("health_check"))
            health_path = check.get("path")
            low, _, high = str(check.get("matcher", "200-299")).partition("-")
            codes = (int(low), int(high or low))
        workers[name] = Worker(name, service["name"], " ".join(container["command"]), int(mapping["containerPort"]),
                               variables, {s["name"]: s["valueFrom"] for s in container.get("secrets", [])},
                               health_path, codes)
    by_host = {}
    for rule in resources.get("aws_lb_listener_rule", {}).values():
        actions = rule["action"] if isinstance(rule["action"], list) else [rule["action"]]
        conditions = rule["condition"] if isinstance(rule["condition"], list) else [rule["condition"]]
        group = _address(actions[0].get("target_group_arn", ""))
        for condition in conditions:
            for host in _block(condition.get("host_header")).get("values", []):
                if group and group[1] in by_group:
                    by_host[host] = by_group[group[1]]
    [project] = [p for p in resources.get("aws_codebuild_project", {}).values()
                 if any(v["name"] == "BUILD_COMMAND" for v in _variables(p))]
    variables = {v["name"]: v["value"] for v in _variables(project)}
    return workers, by_host, variables["BUILD_COMMAND"], variables.get("DOCKERIGNORE", "")


def _variables(project: dict) -> list[dict]:
    found = _block(project.get("environment")).get("environment_variable", [])
    return found if isinstance(found, list) else [found]


def _routes(resources: dict, by_host: dict[str, str], workers: dict[str, Worker]) -> tuple[Route, ...]:
    api_resources = resources.get("aws_api_gateway_resource", {})

    def full_path(address: str) -> str:
        resource = api_resources[address]
        parent = _address(resource["parent_id"])
        prefix = full_path(parent[1]) if parent and parent[0] == "aws_api_gateway_resource" else ""
        return f"{prefix}/{resource['path_part']}"

    methods = resources.get("aws_api_gateway_method", {})
    routes = []
    for integration in resources.get("aws_api_gateway_integration", {}).values():
        if integration.get("type") != "HTTP_PROXY":
            continue
        resource = _address(integration["resource_id"])
        path = full_path(resource[1]) if resource and resource[0] == "aws_api_gateway_resource" else "/"
        method = methods[_address(integration["http_method"])[1]]
        uri = integration["uri"]
        host = re.match(r"https?://([^/]+)", uri).group(1)
        if host not in by_host:
            raise StackReadError(f"the integration of {path} sends to {host}, which no worker serves")
        name = by_host[host]
        # App Runner's ingress domain is known at apply time only: a stand-in named after the service.
        sent = f"{workers[name].service}.ingress.local" if host.startswith("${") else host
        routes.append(Route(path, method["http_method"], name, uri, sent,
                            method.get("authorization", "NONE"), int(integration.get("timeout_milliseconds", 29000))))
    return tuple(sorted(routes, key=lambda r: r.path))


def _one(values: set[str], what: str) -> str:
    if len(values) != 1:
        raise StackReadError(f"expected one {what} for every worker, found {len(values)}")
    return next(iter(values))
