"""`python tests/fake_aws.py <service> <command> [--option value]...`: a stand-in `aws` command for the image build's
steps (tests/test_image_pipeline.py). ECS, SSM and ECR as far as the buildspec uses them, kept in $OUT/state.json;
every call logged to $OUT/calls; --query and --output applied as the AWS CLI applies them (JMESPath; text prints a
scalar as is). Each registered task definition is also copied to $OUT/registered-<n>.json.

ECS deployments move on when describe-services reads them: a new deployment is IN_PROGRESS the first time it is
read and settles at the second: COMPLETED, or, for a service named in $FAILING_SERVICES deploying $FAILING_IMAGE,
FAILED as ECS's circuit breaker leaves it. ECS then rolls back: a deployment of the service's last completed task
definition becomes PRIMARY (the failed one stays listed, ACTIVE, while the rollback runs). With $STUCK set nothing
settles. With $LATER_IMAGE set, a read of a deployment in progress writes it to the parameter, as a later build
that starts rolling meanwhile would.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import jmespath

ACCOUNT, REGION = "123456789012", "eu-west-1"
CIRCUIT_BREAKER = "ECS deployment circuit breaker: tasks failed to start."
# What DescribeTaskDefinition returns and RegisterTaskDefinition refuses ("Unknown parameter in input").
OUTPUT_ONLY = {"taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities", "registeredAt",
               "registeredBy", "deregisteredAt"}


def options(args: list[str]) -> dict[str, str | bool]:
    found, key = {}, None
    for arg in args:
        if arg.startswith("--"):
            key = arg[2:]
            found[key] = True
        elif key is not None:
            found[key] = arg
            key = None
    return found


def seed(out: Path, parameter: str, services: dict[str, dict], tags: list[dict]) -> None:
    """The state before a build: the parameter, and each service (ARN -> its task definition, revision 7) deployed."""
    state = {"parameter": parameter, "families": {}, "services": {}, "registered": 0, "deployments": 0}
    for arn, definition in services.items():
        family = definition["family"]
        task_arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:7"
        state["families"][family] = {"7": {"taskDefinition": {**definition, "taskDefinitionArn": task_arn,
                                                              "revision": 7, "status": "ACTIVE"}, "tags": tags}}
        state["services"][arn] = {"serviceArn": arn, "serviceName": arn.rsplit("/", 1)[-1], "taskDefinition": task_arn,
                                  "lastCompleted": task_arn, "deployments": [
                                      {"id": "ecs-svc/0", "status": "PRIMARY", "taskDefinition": task_arn,
                                       "rolloutState": "COMPLETED", "rolloutStateReason": "ECS deployment completed."}]}
    (out / "state.json").write_text(json.dumps(state, indent=1))


def task_definition(state: dict, name: str) -> dict:
    """By ARN, family:revision or family (its latest revision, as ECS answers)."""
    family, _, revision = name.rsplit("/", 1)[-1].partition(":")
    revisions = state["families"][family]
    return revisions[revision or max(revisions, key=int)]


def image_of(state: dict, task_arn: str) -> str:
    [worker] = [c for c in task_definition(state, task_arn)["taskDefinition"]["containerDefinitions"]
                if c["name"] == "worker"]
    return worker["image"]


def deploy(state: dict, service: dict, task_arn: str) -> None:
    state["deployments"] += 1
    for deployment in service["deployments"]:
        deployment["status"] = "ACTIVE"
    service["deployments"].insert(0, {"id": f"ecs-svc/{state['deployments']}", "status": "PRIMARY",
                                      "taskDefinition": task_arn, "rolloutState": "IN_PROGRESS",
                                      "rolloutStateReason": "ECS deployment in progress.", "reads": 0})
    service["taskDefinition"] = task_arn


def settle(state: dict, service: dict) -> None:
    primary = service["deployments"][0]
    if primary["rolloutState"] != "IN_PROGRESS" or os.environ.get("STUCK"):
        return
    if os.environ.get("LATER_IMAGE"):
        state["parameter"] = os.environ["LATER_IMAGE"]
    primary["reads"] += 1
    if primary["reads"] < 2:
        return
    failing = service["serviceName"] in os.environ.get("FAILING_SERVICES", "").split()
    if failing and image_of(state, primary["taskDefinition"]) == os.environ.get("FAILING_IMAGE"):
        primary.update(rolloutState="FAILED", rolloutStateReason=CIRCUIT_BREAKER)
        deploy(state, service, service["lastCompleted"])
    else:
        primary.update(rolloutState="COMPLETED", rolloutStateReason="ECS deployment completed.")
        service["deployments"] = [primary]
        service["lastCompleted"] = primary["taskDefinition"]


def public(service: dict) -> dict:
    return {"serviceArn": service["serviceArn"], "serviceName": service["serviceName"],
            "taskDefinition": service["taskDefinition"],
            "deployments": [{k: v for k, v in d.items() if k != "reads"} for d in service["deployments"]]}


def answer(state: dict, out: Path, service: str, command: str, given: dict) -> dict | None:
    match service, command:
        case ("ecr" | "ecr-public"), "get-login-password":
            print("not-a-real-token")
        case "ecr", "describe-images":
            if not os.environ.get("IMAGE_EXISTS"):
                sys.exit(254)
            return {"imageDetails": [{}]}
        case "ssm", "get-parameter":
            return {"Parameter": {"Name": given["name"], "Value": state["parameter"]}}
        case "ssm", "put-parameter":
            assert given.get("overwrite") is True, "the parameter exists: put-parameter needs --overwrite"
            state["parameter"] = given["value"]
            return {"Version": 2}
        case "ecs", "describe-services":
            assert given["cluster"].startswith(f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/")
            found = state["services"][given["services"]]
            settle(state, found)
            return {"services": [public(found)], "failures": []}
        case "ecs", "update-service":
            found = state["services"][given["service"]]
            task_definition(state, given["task-definition"])   # ECS refuses an unknown one
            deploy(state, found, given["task-definition"])
            return {"service": public(found)}
        case "ecs", "describe-task-definition":
            found = task_definition(state, given["task-definition"])
            return {"taskDefinition": found["taskDefinition"],
                    **({"tags": found["tags"]} if given.get("include") == "TAGS" else {})}
        case "ecs", "register-task-definition":
            request = json.loads(Path(given["cli-input-json"].removeprefix("file://")).read_text())
            unknown = OUTPUT_ONLY & request.keys()
            if unknown:
                print(f"Parameter validation failed: Unknown parameter in input: {sorted(unknown)}", file=sys.stderr)
                sys.exit(252)
            (out / f"registered-{state['registered']}.json").write_text(json.dumps(request))
            state["registered"] += 1
            family = request["family"]
            revision = max(map(int, state["families"][family])) + 1
            arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:{revision}"
            tags = request.pop("tags", [])
            definition = {**request, "taskDefinitionArn": arn, "revision": revision, "status": "ACTIVE"}
            state["families"][family][str(revision)] = {"taskDefinition": definition, "tags": tags}
            return {"taskDefinition": definition, "tags": tags}
        case _:
            print(f"fake aws: {service} {command} is not emulated (tests/fake_aws.py)", file=sys.stderr)
            sys.exit(2)
    return None


def main(args: list[str]) -> None:
    out = Path(os.environ["OUT"])
    with open(out / "calls", "a") as calls:
        calls.write(" ".join(["aws", *args]) + "\n")
    service, command, given = args[0], args[1], options(args[2:])
    state_file = out / "state.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    result = answer(state, out, service, command, given)
    state_file.write_text(json.dumps(state, indent=1))
    if result is None:
        return
    if isinstance(given.get("query"), str):
        result = jmespath.search(given["query"], result)
    if given.get("output") == "text":
        print("None" if result is None else result if isinstance(result, str) else
              "\t".join(map(str, result)) if isinstance(result, list) else json.dumps(result))
    else:
        print(json.dumps(result, indent=4))


if __name__ == "__main__":
    main(sys.argv[1:])
