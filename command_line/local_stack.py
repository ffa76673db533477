"""What `python main.py local` runs, read from a synthesized stack (cdk.tf.json), not from a second copy of the rules.

One more consumer of the JSON, beside terraform: the REST API's resources, methods and integrations give the routes;
the integration's URI leads to the worker that serves it (App Runner: the VPC ingress connection's service; ECS: the
ALB listener rule on the URI's host, its target group, the service and its task definition); the worker's service
gives its build and start commands, port, variables, secrets and health check. Strings are read as Terraform hands
them to AWS (its `$${` escapes undone); a value Terraform knows only at apply time (`${aws_rds_cluster.x.endpoint}`)
is kept as the reference, and local_run.py points it at a local service or refuses it.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from constructs_lib.terraform_text import terraform_text

# A Terraform expression (not a `$${` escape): a value known at apply time only.
EXPRESSION = re.compile(r"(?<!\$)\$\{")
REFERENCE = re.compile(r"(?<!\$)\$\{([a-z0-9_]+)\.([^.}\[]+)[^}]*\}")


class StackReadError(ValueError):
    pass


@dataclass(frozen=True)
class Worker:
    name: str                           # WORKER_NAME
    service: str                        # the App Runner or ECS service name
    start_command: str
    port: int
    variables: dict[str, str]           # as AWS gets them; the keys in `references` hold Terraform references
    secrets: dict[str, str]             # key -> the ARN (or reference) the platform resolves at start
    health_path: str | None             # None: a TCP check on the port
    health_codes: tuple[int, int] = (200, 299)   # the HTTP statuses the check accepts, inclusive
    references: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Route:
    path: str                           # the resource's full path: /orders or /orders/{proxy+}
    method: str                         # ANY, GET...
    worker: str
    uri_path: str                       # the integration URI's path: / or /{proxy}
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


def read_platform(stack_file: Path) -> LocalPlatform:
    """The platform a synthesized stack describes, as `local` runs it; StackReadError naming the file otherwise."""
    try:
        document = json.loads(stack_file.read_text())
    except (OSError, ValueError) as error:
        raise StackReadError(f"{stack_file}: not a synthesized stack ({error})") from error
    try:
        return _platform(stack_file.parent.name, document.get("resource", {}))
    except StackReadError as error:
        raise StackReadError(f"{stack_file}: {error}") from error
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as error:
        raise StackReadError(f"{stack_file}: not the shape this app synthesizes ({type(error).__name__}: {error}); "
                             "synthesize it again with this version") from error


def _platform(stack: str, resources: dict) -> LocalPlatform:
    if "aws_apprunner_service" in resources:
        compute, (workers, by_uri_host, build), dockerignore = "apprunner", _apprunner_workers(resources), ""
    elif "aws_ecs_service" in resources:
        compute, (workers, by_uri_host, build, dockerignore) = "ecs", _ecs_workers(resources)
    else:
        raise StackReadError("no App Runner or ECS service: not a platform stack (the state stack?)")
    stages = list(resources.get("aws_api_gateway_stage", {}).values())
    if len(stages) != 1:
        raise StackReadError(f"expected one API Gateway stage, found {len(stages)}")
    routes = _routes(resources, by_uri_host, workers)
    return LocalPlatform(stack, compute, stages[0]["stage_name"], build, workers, routes, dockerignore)


def _address(reference: str, rtype: str) -> str:
    """The name of the `rtype` resource a `${rtype.name.attribute}` reference points at."""
    match = REFERENCE.search(reference)
    if not match or match.group(1) != rtype:
        raise StackReadError(f"expected a reference to a {rtype}, found {reference!r}")
    return match.group(2)


def _block(value):
    """A nested block as cdktf writes it: an object, or a list of one object."""
    if isinstance(value, list):
        return value[0] if value else {}
    return value or {}


def _blocks(value) -> list:
    return value if isinstance(value, list) else [value]


def _environment(values: dict[str, str]) -> tuple[dict[str, str], frozenset[str]]:
    """Variables as AWS gets them, and the keys whose values are Terraform references."""
    references = frozenset(k for k, v in values.items() if EXPRESSION.search(v))
    return {k: v if k in references else terraform_text(v) for k, v in values.items()}, references


def _apprunner_workers(resources: dict) -> tuple[dict[str, Worker], dict[str, str], str]:
    workers: dict[str, Worker] = {}
    by_service: dict[str, str] = {}
    builds = set()
    for address, service in sorted(resources["aws_apprunner_service"].items()):
        values = _block(_block(_block(service["source_configuration"])["code_repository"])["code_configuration"])
        values = _block(values["code_configuration_values"])
        variables, references = _environment(dict(values.get("runtime_environment_variables", {})))
        health = _block(service.get("health_check_configuration"))
        name = variables.get("WORKER_NAME") or service["service_name"]
        workers[name] = Worker(name, service["service_name"], terraform_text(values["start_command"]),
                               int(values.get("port", 8080)), variables,
                               dict(values.get("runtime_environment_secrets", {})),
                               health.get("path") if health.get("protocol") == "HTTP" else None,
                               references=references)
        by_service[address] = name
        builds.add(terraform_text(values.get("build_command", "")))
    # The integration URI names the ingress connection's domain; the connection names its service.
    by_host = {}
    for address, connection in resources.get("aws_apprunner_vpc_ingress_connection", {}).items():
        service = _address(connection["service_arn"], "aws_apprunner_service")
        if service in by_service:
            by_host[f"${{aws_apprunner_vpc_ingress_connection.{address}.domain_name}}"] = by_service[service]
    return workers, by_host, _one(builds, "build command")


def _ecs_workers(resources: dict) -> tuple[dict[str, Worker], dict[str, str], str, str]:
    groups = resources.get("aws_lb_target_group", {})
    by_group: dict[str, str] = {}
    workers: dict[str, Worker] = {}
    for service in resources["aws_ecs_service"].values():
        task = resources["aws_ecs_task_definition"][_address(service["task_definition"], "aws_ecs_task_definition")]
        definitions = task["container_definitions"]
        [container] = json.loads(definitions) if isinstance(definitions, str) else definitions
        variables, references = _environment({e["name"]: e["value"] for e in container.get("environment", [])})
        name = variables.get("WORKER_NAME") or service["name"]
        [mapping] = container["portMappings"]
        health_path, codes = None, (200, 299)
        for balancer in _blocks(service.get("load_balancer", [])):
            group_address = _address(balancer["target_group_arn"], "aws_lb_target_group")
            by_group[group_address] = name
            check = _block(groups[group_address].get("health_check"))
            health_path = check.get("path")
            low, _, high = str(check.get("matcher", "200-299")).partition("-")
            codes = (int(low), int(high or low))
        # The container's command is exec form: one word per item (`bash -c "..."` for shell syntax).
        workers[name] = Worker(name, service["name"], shlex.join(terraform_text(w) for w in container["command"]),
                               int(mapping["containerPort"]), variables,
                               {s["name"]: s["valueFrom"] for s in container.get("secrets", [])}, health_path, codes,
                               references)
    by_host = {}
    for rule in resources.get("aws_lb_listener_rule", {}).values():
        group = _address(_blocks(rule["action"])[0]["target_group_arn"], "aws_lb_target_group")
        for condition in _blocks(rule["condition"]):
            for host in _block(condition.get("host_header")).get("values", []):
                if group in by_group:
                    by_host[host] = by_group[group]
    [project] = [p for p in resources.get("aws_codebuild_project", {}).values()
                 if any(v["name"] == "BUILD_COMMAND" for v in _variables(p))]
    variables = {v["name"]: terraform_text(v["value"]) for v in _variables(project)}
    return workers, by_host, variables["BUILD_COMMAND"], variables.get("DOCKERIGNORE", "")


def _variables(project: dict) -> list[dict]:
    return _blocks(_block(project.get("environment")).get("environment_variable", []))


def _routes(resources: dict, by_host: dict[str, str], workers: dict[str, Worker]) -> tuple[Route, ...]:
    api_resources = resources.get("aws_api_gateway_resource", {})

    def full_path(reference: str) -> str:
        if "root_resource_id" in reference:
            return ""
        resource = api_resources[_address(reference, "aws_api_gateway_resource")]
        return f"{full_path(resource['parent_id'])}/{resource['path_part']}"

    methods = resources.get("aws_api_gateway_method", {})
    routes = []
    for integration in resources.get("aws_api_gateway_integration", {}).values():
        if integration.get("type") != "HTTP_PROXY":
            continue
        path = full_path(integration["resource_id"]) or "/"
        method = methods[_address(integration["http_method"], "aws_api_gateway_method")]
        found = re.fullmatch(r"https?://([^/]+)(/.*)?", integration["uri"])
        if not found:
            raise StackReadError(f"the integration of {path} has the URI {integration['uri']!r}, not http(s)://")
        host, uri_path = found.group(1), found.group(2) or "/"
        if host not in by_host:
            raise StackReadError(f"the integration of {path} sends to {host}, which no worker serves")
        name = by_host[host]
        # App Runner's ingress domain is known at apply time only: a stand-in named after the service.
        sent = f"{workers[name].service}.ingress.local" if EXPRESSION.search(host) else host
        routes.append(Route(path, method["http_method"], name, uri_path, sent, method.get("authorization", "NONE"),
                            int(integration.get("timeout_milliseconds", 29000))))
    return tuple(sorted(routes, key=lambda r: r.path))


def _one(values: set[str], what: str) -> str:
    if len(values) != 1:
        raise StackReadError(f"expected one {what} for every worker, found {len(values)}")
    return next(iter(values))
