"""Every quota of workers_scan/quotas.py measured on a synthesized stack, before synth writes anything.

Values Terraform knows at apply time only (`${aws_x.y.arn}`) count at the length they plausibly reach (STAND_IN), so
a check errs on the safe side. A size over a limit AWS does not raise is an error naming the quota and the way out;
over an adjustable one, a notice naming its Service Quotas code.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from workers_scan.quotas import Quota, quota

REFERENCE = re.compile(r"(?<!\$)\$\{[^}]*\}")
# The longest a reference's value plausibly is, by its last attribute: an App Runner service ARN is about 130
# characters (region, account, a 40-character name and a 32-character id), an ECS service ARN about 120.
STAND_IN = {"arn": 140, "id": 140, "secret_arn": 140, "name": 64, "domain_name": 100, "endpoint": 100,
            "primary_endpoint_address": 100, "repository_url": 100}
DEFAULT_STAND_IN = 64


@dataclass(frozen=True)
class Measure:
    quota: Quota
    where: str          # the resource (or what) measured
    size: int

    @property
    def over(self) -> bool:
        return self.size > self.quota.value


def expanded_length(text: str, strip_whitespace: bool = False) -> int:
    """The length `text` reaches once Terraform's references are values."""
    plain = REFERENCE.sub("", text)
    if strip_whitespace:
        plain = re.sub(r"\s", "", plain)
    return len(plain.encode()) + sum(STAND_IN.get(ref.strip("${}").split(".")[-1].split("[")[0], DEFAULT_STAND_IN)
                                     for ref in REFERENCE.findall(text))


def _resources(stack: dict, rtype: str) -> dict[str, dict]:
    return stack.get("resource", {}).get(rtype, {})


def _target(reference: str, rtype: str) -> str | None:
    match = re.search(rf"\$\{{{re.escape(rtype)}\.([^.}}]+)", reference or "")
    return match.group(1) if match else None


def _blocks(value) -> list:
    return value if isinstance(value, list) else [value] if value else []


def measures(stack: dict) -> list[Measure]:
    """Every measured size of a synthesized stack, for every quota it can reach."""
    found: list[Measure] = []

    def add(key: str, where: str, size: int) -> None:
        found.append(Measure(quota(key), where, size))

    roles = _resources(stack, "aws_iam_role")
    inline = Counter()
    for policy in _resources(stack, "aws_iam_role_policy").values():
        inline[_target(policy["role"], "aws_iam_role")] += expanded_length(policy["policy"], strip_whitespace=True)
    for name, role in roles.items():
        size = inline[name] + sum(expanded_length(p.get("policy", ""), True) for p in _blocks(role.get("inline_policy")))
        add("iam-role-inline-policies", f"aws_iam_role.{name}", size)
        add("iam-trust-policy", f"aws_iam_role.{name}", expanded_length(role["assume_role_policy"], True))
    for name, policy in _resources(stack, "aws_iam_policy").items():
        add("iam-managed-policy", f"aws_iam_policy.{name}", expanded_length(policy["policy"], True))
    add("iam-roles", "this stack", len(roles))

    rules = _resources(stack, "aws_cloudwatch_event_rule")
    targets = Counter(_target(t["rule"], "aws_cloudwatch_event_rule") for t in
                      _resources(stack, "aws_cloudwatch_event_target").values())
    for name, rule in rules.items():
        add("events-targets-per-rule", f"aws_cloudwatch_event_rule.{name}", targets[name])
        add("events-pattern", f"aws_cloudwatch_event_rule.{name}", expanded_length(rule.get("event_pattern", "")))
    for name, target in _resources(stack, "aws_cloudwatch_event_target").items():
        add("events-target-input", f"aws_cloudwatch_event_target.{name}", expanded_length(target.get("input", "")))
    add("events-rules", "this stack", len(rules))

    apis = Counter(_target(r["rest_api_id"], "aws_api_gateway_rest_api")
                   for r in _resources(stack, "aws_api_gateway_resource").values())
    for name in _resources(stack, "aws_api_gateway_rest_api"):
        add("apigateway-resources", f"aws_api_gateway_rest_api.{name}", apis[name] + 1)   # and the root

    _load_balancers(stack, add)
    _security_groups(stack, add)

    for key, rtype in (("apprunner-services", "aws_apprunner_service"),
                       ("apprunner-vpc-connectors", "aws_apprunner_vpc_connector")):
        add(key, "this stack", len(_resources(stack, rtype)))
    names = {c["auto_scaling_configuration_name"]
             for c in _resources(stack, "aws_apprunner_auto_scaling_configuration_version").values()}
    add("apprunner-auto-scaling-configurations", "this stack", len(names))
    for name, machine in _resources(stack, "aws_sfn_state_machine").items():
        add("sfn-definition", f"aws_sfn_state_machine.{name}", expanded_length(machine["definition"]))
    for name, task in _resources(stack, "aws_ecs_task_definition").items():
        add("ecs-task-definition", f"aws_ecs_task_definition.{name}", expanded_length(task["container_definitions"]))
    clusters = Counter(_target(s["cluster"], "aws_ecs_cluster") for s in _resources(stack, "aws_ecs_service").values())
    for name in _resources(stack, "aws_ecs_cluster"):
        add("ecs-services-per-cluster", f"aws_ecs_cluster.{name}", clusters[name])
    return found


def _load_balancers(stack: dict, add) -> None:
    listeners = {name: _target(listener["load_balancer_arn"], "aws_lb")
                 for name, listener in _resources(stack, "aws_lb_listener").items()}
    rules, groups = Counter(), {}
    for rule in _resources(stack, "aws_lb_listener_rule").values():
        balancer = listeners.get(_target(rule["listener_arn"], "aws_lb_listener"))
        rules[balancer] += 1
        for action in _blocks(rule.get("action")):
            groups.setdefault(balancer, set()).add(action.get("target_group_arn"))
    for name, listener in _resources(stack, "aws_lb_listener").items():
        for action in _blocks(listener.get("default_action")):
            groups.setdefault(listeners[name], set()).add(action.get("target_group_arn"))
    for name, balancer in _resources(stack, "aws_lb").items():
        if balancer.get("load_balancer_type", "application") == "application":
            add("alb-rules", f"aws_lb.{name}", rules[name])
            add("alb-target-groups", f"aws_lb.{name}", len(groups.get(name, set()) - {None}))
        else:
            add("nlb-listeners", f"aws_lb.{name}", sum(1 for b in listeners.values() if b == name))


def _security_groups(stack: dict, add) -> None:
    counts: dict[str, Counter] = {name: Counter() for name in _resources(stack, "aws_security_group")}
    for rtype, way in (("aws_vpc_security_group_ingress_rule", "in"), ("aws_vpc_security_group_egress_rule", "out")):
        for rule in _resources(stack, rtype).values():
            group = _target(rule["security_group_id"], "aws_security_group")
            if group in counts:
                counts[group][way] += 1
    for name, group in _resources(stack, "aws_security_group").items():
        for way, block in (("in", "ingress"), ("out", "egress")):
            counts[name][way] += sum(max(1, len(r.get("cidr_blocks") or []) + len(r.get("security_groups") or []))
                                     for r in _blocks(group.get(block)))
        add("sg-rules", f"aws_security_group.{name}", max(counts[name].values(), default=0))


def check(stack_name: str, stack: dict) -> tuple[list[str], list[str]]:
    """(errors, notices): each size over its quota, an error where AWS does not raise the quota."""
    errors, notices = [], []
    for measure in measures(stack):
        if not measure.over:
            continue
        q = measure.quota
        said = (f"{measure.where}: {measure.size:,} {q.unit.split(' (')[0]}, over the {q.service} quota {q.name!r} "
                f"of {q.value:,} per {q.scope} ({q.source})")
        if q.adjustable:
            notices.append(f"{stack_name}: {said}; ask AWS to raise it before you apply"
                           + (f" (Service Quotas code {q.code})" if q.code else ""))
        else:
            errors.append(f"{said}, which AWS does not raise" + (f": {q.way_out}" if q.way_out else ""))
    return errors, notices
