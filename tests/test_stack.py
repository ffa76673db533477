"""Assertions on the synthesized request path of the example and of generated monorepos."""

import hashlib
import json

import pytest

from workers_scan.waf_rules import MANAGED_RULE_GROUPS, MANAGED_RULES

from .helpers import ECS_SETTINGS, one, resources


def ref(stack: dict, rtype: str, match) -> str:
    """The Terraform address of the only resource of rtype matching the predicate."""
    names = [name for name, body in resources(stack, rtype).items() if match(body)]
    assert len(names) == 1, names
    return f"{rtype}.{names[0]}"


def test_provider_region_and_default_tags(example_stack):
    [provider] = example_stack["provider"]["aws"]
    assert provider["region"] == "eu-west-1"
    assert provider["default_tags"] == [{"tags": {"Environment": "dev", "ManagedBy": "cdktf-apprunner-platform",
                                                  "Project": "acme"}}]


def test_one_private_service_per_worker(example_stack, example_workers):
    services = resources(example_stack, "aws_apprunner_service")
    by_name = {s["service_name"]: s for s in services.values()}
    assert sorted(by_name) == sorted(w.service_name for w in example_workers)
    for worker in example_workers:
        service = by_name[worker.service_name]
        network = service["network_configuration"]
        assert network["ingress_configuration"]["is_publicly_accessible"] is False
        assert network["egress_configuration"]["egress_type"] == "VPC"
        assert "${aws_apprunner_vpc_connector." in network["egress_configuration"]["vpc_connector_arn"]
        source = service["source_configuration"]
        assert source["authentication_configuration"]["connection_arn"].startswith("arn:aws:apprunner:eu-west-1:")
        assert source["auto_deployments_enabled"] is True
        repo = source["code_repository"]
        assert repo["repository_url"] == "https://github.com/acme/platform"
        assert repo["source_code_version"] == {"type": "BRANCH", "value": "main"}
        code = repo["code_configuration"]
        assert code["configuration_source"] == "API"
        values = code["code_configuration_values"]
        assert values["runtime"] == "NODEJS_22"
        assert values["start_command"] == f"bash apps/api/scripts/start-worker.sh {worker.worker_file}"
        assert values["build_command"].startswith("curl -fsSL https://get.pnpm.io/install.sh")
        assert values["port"] == "3000"
        variables = values["runtime_environment_variables"]
        assert (variables["NODE_ENV"], variables["PORT"], variables["WORKER_NAME"]) == ("production", "3000",
                                                                                         worker.name)
        assert service["instance_configuration"]["cpu"] == str(worker.cpu)
        assert service["instance_configuration"]["memory"] == str(worker.memory)
        assert service["observability_configuration"]["observability_enabled"] is True


def test_health_check_is_http_when_a_path_is_configured_else_tcp(example_stack):
    checks = {s["service_name"]: s["health_check_configuration"]
              for s in resources(example_stack, "aws_apprunner_service").values()}
    assert checks["acme-dev-email-sender"]["protocol"] == "HTTP"
    assert checks["acme-dev-email-sender"]["path"] == "/health"
    assert checks["acme-dev-orders"]["protocol"] == "TCP" and "path" not in checks["acme-dev-orders"]


def test_autoscaling_follows_workers_toml_and_workers_alike_share_one_configuration(example_stack, example_workers):
    configurations = resources(example_stack, "aws_apprunner_auto_scaling_configuration_version")
    by_profile = {(c["min_size"], c["max_size"], c["max_concurrency"]): (address, c)
                  for address, c in configurations.items()}
    assert len(by_profile) == len(configurations) == len({w.scaling for w in example_workers})
    services = {s["service_name"]: s for s in resources(example_stack, "aws_apprunner_service").values()}
    for worker in example_workers:
        address, configuration = by_profile[worker.scaling]
        assert services[worker.service_name]["auto_scaling_configuration_arn"] == \
            f"${{aws_apprunner_auto_scaling_configuration_version.{address}.arn}}"
        # Named after its values: a resize moves the service to another configuration, never replaces one in use.
        assert configuration["auto_scaling_configuration_name"] == "acme-dev-{}-{}-{}".format(*worker.scaling)
        assert configuration["lifecycle"] == {"create_before_destroy": True}
    billing = next(w for w in example_workers if w.name == "billing")
    assert billing.scaling == (1, 5, 50)


def test_instance_roles_are_assumable_only_by_apprunner_tasks(example_stack, example_workers):
    roles = [r for r in resources(example_stack, "aws_iam_role").values() if r["name"].endswith("-instance")]
    assert len(roles) == len(example_workers)   # the private one's too
    for role in roles:
        policy = json.loads(role["assume_role_policy"])
        assert policy["Statement"] == [{"Action": "sts:AssumeRole", "Effect": "Allow",
                                        "Principal": {"Service": "tasks.apprunner.amazonaws.com"}}]


def test_every_role_trusts_one_service_and_flow_logs_only_from_this_accounts_flow_logs(example_stack):
    trusts = {r["name"]: json.loads(r["assume_role_policy"])["Statement"]
              for r in resources(example_stack, "aws_iam_role").values()}
    for name, statements in trusts.items():
        [statement] = statements
        assert (statement["Effect"], statement["Action"], list(statement["Principal"])) == \
            ("Allow", "sts:AssumeRole", ["Service"]), name
    [flow_logs] = trusts["acme-dev-vpc-flow-logs"]
    assert flow_logs["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    # The account of the App Runner connection ARN of the example's settings.
    assert flow_logs["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": "arn:aws:ec2:eu-west-1:123456789012:vpc-flow-log/*"}}


def test_vpc_connector_gets_a_new_name_when_its_placement_changes(stack_for):
    # New subnets replace the connector (create before destroy), and App Runner keeps one revision per name.
    two, three = (one(stack_for(("orders.ts",), **zones), "aws_apprunner_vpc_connector")
                  for zones in ({}, {"AZ_COUNT": "3"}))
    assert len(two["subnets"]) == 2 and len(three["subnets"]) == 3
    assert two["vpc_connector_name"] != three["vpc_connector_name"]
    assert all(c["vpc_connector_name"].startswith("acme-dev-workers-") for c in (two, three))


def test_one_ingress_connection_per_service_on_the_shared_endpoint(example_stack):
    connections = resources(example_stack, "aws_apprunner_vpc_ingress_connection")
    assert len(connections) == 3
    endpoint = ref(example_stack, "aws_vpc_endpoint", lambda b: True)
    for connection in connections.values():
        assert connection["ingress_vpc_configuration"]["vpc_endpoint_id"] == f"${{{endpoint}.id}}"
        assert connection["service_arn"].startswith("${aws_apprunner_service.")


def test_requests_endpoint_is_private_interface_in_private_subnets(example_stack):
    endpoint = one(example_stack, "aws_vpc_endpoint")
    assert endpoint["service_name"] == "com.amazonaws.eu-west-1.apprunner.requests"
    assert endpoint["vpc_endpoint_type"] == "Interface"
    assert endpoint["private_dns_enabled"] is False
    private = {name for name, s in resources(example_stack, "aws_subnet").items() if s["tags"]["Tier"] == "private"}
    assert sorted(endpoint["subnet_ids"]) == sorted(f"${{aws_subnet.{n}.id}}" for n in private)


def test_the_endpoint_admits_only_the_nlbs_group_and_the_nlb_admits_nothing_but_its_vpc_link(example_stack):
    """Nothing inside the VPC bypasses the WAF, the stage and its authorization: not another worker, not a task."""
    endpoint_group = one(example_stack, "aws_vpc_endpoint")["security_group_ids"][0].split(".")[1]
    [nlb_group] = [ref.split(".")[1] for ref in one(example_stack, "aws_lb")["security_groups"]]
    ingress = resources(example_stack, "aws_vpc_security_group_ingress_rule").values()
    rules = [r for r in ingress if r["security_group_id"] == f"${{aws_security_group.{endpoint_group}.id}}"]
    assert [(r["ip_protocol"], r["from_port"], r["to_port"], r["referenced_security_group_id"], r.get("cidr_ipv4"))
            for r in rules] == [("tcp", 443, 443, f"${{aws_security_group.{nlb_group}.id}}", None)]
    # Changed only once the stage has moved to the new NLB's link (the migration from the VPC-wide rule).
    assert rules[0]["depends_on"] == [f"aws_api_gateway_stage.{next(iter(resources(example_stack, 'aws_api_gateway_stage')))}"]
    assert not [r for r in ingress if r["security_group_id"] == f"${{aws_security_group.{nlb_group}.id}}"]
    assert one(example_stack, "aws_lb")["enforce_security_group_inbound_rules_on_private_link_traffic"] == "off"
    egress = [r for r in resources(example_stack, "aws_vpc_security_group_egress_rule").values()
              if r["security_group_id"] == f"${{aws_security_group.{nlb_group}.id}}"]
    assert [(r["from_port"], r["referenced_security_group_id"]) for r in egress] == [
        (443, f"${{aws_security_group.{endpoint_group}.id}}")]
    assert not [r for r in ingress if r.get("cidr_ipv4") in ("0.0.0.0/0", "10.0.0.0/16")]
    for group in resources(example_stack, "aws_security_group").values():
        assert "ingress" not in group and "egress" not in group


def test_the_forgotten_addresses_of_the_old_ingress_are_none_of_either_backends_resources(example_stack,
                                                                                       ecs_example_stack):
    """A `removed` block naming an address the configuration has is an error: none may."""
    from constructs_lib.private_ingress import FORGOTTEN_ADDRESSES

    for stack in (example_stack, ecs_example_stack):
        addresses = {f"{rtype}.{name}" for rtype, named in stack["resource"].items() for name in named}
        assert not addresses & set(FORGOTTEN_ADDRESSES)
        assert {address.split(".")[0] for address in FORGOTTEN_ADDRESSES} <= set(stack["resource"])


def test_nlb_is_internal_tcp_passthrough_to_endpoint_ips(example_stack):
    nlb = one(example_stack, "aws_lb")
    assert nlb["internal"] is True and nlb["load_balancer_type"] == "network"
    group = one(example_stack, "aws_lb_target_group")
    assert (group["target_type"], group["protocol"], group["port"]) == ("ip", "TCP", 443)
    assert group["health_check"]["protocol"] == "TCP"
    listener = one(example_stack, "aws_lb_listener")
    assert (listener["protocol"], listener["port"]) == ("TCP", 443)
    assert listener["default_action"][0]["type"] == "forward"


def test_one_target_per_endpoint_eni_without_count_over_unknowns(example_stack):
    lookups = example_stack["data"]["aws_network_interface"]
    attachments = resources(example_stack, "aws_lb_target_group_attachment")
    assert len(lookups) == len(attachments) == 2  # AZ_COUNT
    # The endpoint's interfaces are read back after its update (depends_on), not from its planned state.
    [(current_name, current)] = example_stack["data"]["aws_vpc_endpoint"].items()
    assert current["id"] == f"${{aws_vpc_endpoint.{_endpoint_name(example_stack)}.id}}"
    assert current["depends_on"] == [f"aws_vpc_endpoint.{_endpoint_name(example_stack)}"]
    for index, (name, lookup) in enumerate(sorted(lookups.items())):
        assert lookup["id"] == f"${{element(tolist(data.aws_vpc_endpoint.{current_name}" \
                               f".network_interface_ids), {index})}}"
    assert {a["target_id"] for a in attachments.values()} == {
        f"${{data.aws_network_interface.{name}.private_ip}}" for name in lookups}
    for kind in ("resource", "data"):
        for items in example_stack.get(kind, {}).values():
            for body in items.values():
                assert "count" not in body and "for_each" not in body


def _endpoint_name(stack):
    return next(iter(resources(stack, "aws_vpc_endpoint")))


def test_two_resources_methods_and_integrations_per_routed_worker_none_for_a_private_one(example_stack,
                                                                                         example_workers):
    routed = [w for w in example_workers if not w.private]
    assert [w.name for w in example_workers if w.private] == ["email-outbox"]
    api_resources = resources(example_stack, "aws_api_gateway_resource")
    methods = resources(example_stack, "aws_api_gateway_method")
    integrations = resources(example_stack, "aws_api_gateway_integration")
    assert len(api_resources) == len(methods) == len(integrations) == 2 * len(routed)
    top = {r["path_part"] for r in api_resources.values() if "root_resource_id" in r["parent_id"]}
    assert top == {w.route for w in routed}
    assert sum(r["path_part"] == "{proxy+}" for r in api_resources.values()) == len(routed)
    for method in methods.values():
        assert (method["http_method"], method["authorization"]) == ("ANY", "NONE")
    link = next(iter(resources(example_stack, "aws_api_gateway_vpc_link")))
    for integration in integrations.values():
        assert integration["type"] == "HTTP_PROXY"
        assert integration["connection_type"] == "VPC_LINK"
        assert integration["connection_id"] == f"${{aws_api_gateway_vpc_link.{link}.id}}"
        assert integration["uri"].startswith("https://${aws_apprunner_vpc_ingress_connection.")
        assert integration["uri"].endswith(".domain_name}/") or integration["uri"].endswith(".domain_name}/{proxy}")
        if integration["uri"].endswith("{proxy}"):
            assert integration["request_parameters"] == {"integration.request.path.proxy": "method.request.path.proxy"}


def test_each_route_targets_its_own_workers_ingress_domain(example_stack):
    api_resources = resources(example_stack, "aws_api_gateway_resource")
    connections = resources(example_stack, "aws_apprunner_vpc_ingress_connection")
    connection_by_service = {c["name"]: name for name, c in connections.items()}
    for integration in resources(example_stack, "aws_api_gateway_integration").values():
        resource_name = integration["resource_id"].split(".")[1]
        path_part = api_resources[resource_name]["path_part"]
        if path_part == "{proxy+}":
            parent = api_resources[resource_name]["parent_id"].split(".")[1]
            path_part = api_resources[parent]["path_part"]
        expected = connection_by_service[f"acme-dev-{path_part}"]
        assert f"aws_apprunner_vpc_ingress_connection.{expected}.domain_name" in integration["uri"]


def test_vpc_link_targets_the_nlb(example_stack):
    link = one(example_stack, "aws_api_gateway_vpc_link")
    assert link["target_arns"] == [f"${{aws_lb.{next(iter(resources(example_stack, 'aws_lb')))}.arn}}"]
    api = one(example_stack, "aws_api_gateway_rest_api")
    assert api["endpoint_configuration"]["types"] == ["REGIONAL"]


def assert_trigger_covers_every_route_argument(stack: dict) -> str:
    """Recompute the deployment trigger's list from the synthesized methods and integrations: every argument
    they carry (not only the ones the code meant to hash) and every apply-time reference must be in it."""
    trigger = one(stack, "aws_api_gateway_deployment")["triggers"]["redeployment"]
    listed = trigger.removeprefix("${sha1(jsonencode([").removesuffix("]))}").split(", ")
    paths = {f"${{aws_api_gateway_resource.{a}.id}}": r["path_part"]
             for a, r in resources(stack, "aws_api_gateway_resource").items()}
    link = f"aws_api_gateway_vpc_link.{next(iter(resources(stack, 'aws_api_gateway_vpc_link')))}.id"
    expected = []
    methods = resources(stack, "aws_api_gateway_method")
    for address, integration in resources(stack, "aws_api_gateway_integration").items():
        method_address, method = next((a, m) for a, m in methods.items() if m["resource_id"] == integration["resource_id"])
        domain, uri_path = integration["uri"].removeprefix("https://${").split("}", 1)
        applied = {"//", "rest_api_id", "resource_id", "http_method", "uri", "connection_id"}
        known = json.dumps({
            "path_part": paths[integration["resource_id"]], "uri_path": uri_path,
            "method": {"request_parameters": None, **{k: v for k, v in method.items() if k not in applied - {"http_method"}}},
            "integration": {"request_parameters": None, **{k: v for k, v in integration.items() if k not in applied}},
        }, sort_keys=True)
        assert integration["connection_id"] == f"${{{link}}}"
        expected += [hashlib.sha256(known.encode()).hexdigest(), integration["resource_id"][2:-1],
                     f"aws_api_gateway_method.{method_address}.id", f"aws_api_gateway_integration.{address}.id",
                     domain, link]
    assert sorted(item.strip('"') for item in listed) == sorted(expected)
    return trigger


def test_api_authorization_changes_the_deployment_trigger(stack_for):
    open_api = assert_trigger_covers_every_route_argument(stack_for(("orders.ts",)))
    signed = assert_trigger_covers_every_route_argument(stack_for(("orders.ts",), API_AUTHORIZATION="AWS_IAM"))
    assert open_api != signed


def test_deployment_redeploys_on_any_route_change_and_stage_is_separate(example_stack):
    deployment = one(example_stack, "aws_api_gateway_deployment")
    assert "stage_name" not in deployment
    assert deployment["lifecycle"]["create_before_destroy"] is True
    assert_trigger_covers_every_route_argument(example_stack)
    stage = one(example_stack, "aws_api_gateway_stage")
    assert stage["stage_name"] == "dev" and stage["xray_tracing_enabled"] is True
    access = stage["access_log_settings"]
    assert access["destination_arn"].startswith("${aws_cloudwatch_log_group.")
    assert json.loads(access["format"])["requestId"] == "$context.requestId"
    settings = one(example_stack, "aws_api_gateway_method_settings")
    assert settings["method_path"] == "*/*" and settings["settings"]["metrics_enabled"] is True
    assert one(example_stack, "aws_api_gateway_account")["cloudwatch_role_arn"].startswith("${aws_iam_role.")


def test_waf_rate_limit_and_managed_rules_on_the_stage(example_stack):
    acl = one(example_stack, "aws_wafv2_web_acl")
    assert acl["scope"] == "REGIONAL" and acl["default_action"] == {"allow": {}}
    rules = {r["name"]: r for r in acl["rule"]}
    rate = rules["rate-limit-per-ip"]["statement"]["rate_based_statement"]
    assert rate == {"limit": 2000, "aggregate_key_type": "IP", "evaluation_window_sec": 300}
    assert rules["rate-limit-per-ip"]["action"] == {"block": {}}
    for group in MANAGED_RULE_GROUPS:
        assert rules[group]["statement"]["managed_rule_group_statement"] == {"name": group, "vendor_name": "AWS"}
        assert rules[group]["override_action"] == {"none": {}}
    assert set(MANAGED_RULE_GROUPS) == {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"}
    for rule in acl["rule"]:
        assert rule["visibility_config"]["cloudwatch_metrics_enabled"] is True
    association = one(example_stack, "aws_wafv2_web_acl_association")
    assert association["resource_arn"].startswith("${aws_api_gateway_stage.")
    logging = one(example_stack, "aws_wafv2_web_acl_logging_configuration")
    group_name = logging["log_destination_configs"][0].split(".")[1]
    assert resources(example_stack, "aws_cloudwatch_log_group")[group_name]["name"].startswith("aws-waf-logs-")
    assert logging["redacted_fields"] == [{"single_header": {"name": "authorization"}},
                                          {"single_header": {"name": "cookie"}}]
    assert "logging_filter" not in logging   # every request is logged by default


def test_waf_rules_set_to_count_override_only_those_rules_and_logs_can_keep_matches_only(stack_for):
    stack = stack_for(("orders.ts",), WAF_COUNT_RULES="NoUserAgent_HEADER,Log4JRCE_BODY,SizeRestrictions_BODY",
                      WAF_LOG_ALL_REQUESTS="false")
    statements = {r["name"]: r["statement"].get("managed_rule_group_statement")
                  for r in one(stack, "aws_wafv2_web_acl")["rule"]}
    counted = {group: [o["name"] for o in statements[group].get("rule_action_override", [])]
               for group in MANAGED_RULE_GROUPS}
    assert counted == {"AWSManagedRulesCommonRuleSet": ["NoUserAgent_HEADER", "SizeRestrictions_BODY"],
                       "AWSManagedRulesKnownBadInputsRuleSet": ["Log4JRCE_BODY"]}
    for group in MANAGED_RULE_GROUPS:
        assert all(o["action_to_use"] == {"count": {}} for o in statements[group]["rule_action_override"])
        assert all(o["name"] in MANAGED_RULES[group] for o in statements[group]["rule_action_override"])
    log_filter = one(stack, "aws_wafv2_web_acl_logging_configuration")["logging_filter"]
    assert log_filter["default_behavior"] == "DROP"
    [kept] = log_filter["filter"]
    assert (kept["behavior"], kept["requirement"]) == ("KEEP", "MEETS_ANY")
    assert sorted(c["action_condition"]["action"] for c in kept["condition"]) == ["BLOCK", "COUNT"]


def test_waf_rate_limit_comes_from_settings(stack_for):
    stack = stack_for(("orders.ts",), WAF_RATE_LIMIT="500")
    [rule] = [r for r in one(stack, "aws_wafv2_web_acl")["rule"] if r["name"] == "rate-limit-per-ip"]
    assert rule["statement"]["rate_based_statement"]["limit"] == 500


def test_outputs_have_stable_names(example_stack):
    assert sorted(example_stack["output"]) == ["database_endpoint", "database_secret_arn", "ingress_domains",
                                               "invoke_url", "nlb_arn", "redis_endpoint", "service_arns",
                                               "vpc_endpoint_id", "waf_web_acl_arn", "worker_urls"]
    urls = example_stack["output"]["worker_urls"]["value"]
    assert sorted(urls) == ["billing", "email-sender", "orders"]
    assert urls["orders"].endswith("invoke_url}/orders")


def test_network_spreads_over_two_azs_with_one_nat_outside_prod(example_stack):
    subnets = resources(example_stack, "aws_subnet").values()
    assert sorted(s["cidr_block"] for s in subnets) == ["10.0.0.0/20", "10.0.128.0/20", "10.0.144.0/20",
                                                        "10.0.16.0/20"]
    assert len(resources(example_stack, "aws_nat_gateway")) == 1
    assert all(e["domain"] == "vpc" for e in resources(example_stack, "aws_eip").values())


def test_looked_up_zones_are_only_those_offering_the_requests_endpoint(stack_for):
    stack = stack_for(("orders.ts",), AZ_COUNT="3")
    [zones] = stack["data"]["aws_availability_zones"]
    [(name, service)] = stack["data"]["aws_vpc_endpoint_service"].items()
    assert service["service_name"] == "com.amazonaws.eu-west-1.apprunner.requests"
    [(local, expression)] = stack["locals"].items()
    assert expression == (f"${{[for zone in data.aws_availability_zones.{zones}.names : zone if "
                          f"contains(data.aws_vpc_endpoint_service.{name}.availability_zones, zone)]}}")
    subnet_zones = sorted(s["availability_zone"] for s in resources(stack, "aws_subnet").values())
    assert subnet_zones == sorted(f"${{element(local.{local}, {i})}}" for i in range(3) for _ in ("private", "public"))
    [check] = service["lifecycle"]["postcondition"]
    assert check["condition"].endswith(">= 3}") and "lower AZ_COUNT" in check["error_message"]
    pinned = stack_for(("orders.ts",), AVAILABILITY_ZONES="eu-west-1a,eu-west-1b")
    assert "aws_vpc_endpoint_service" not in pinned.get("data", {}) and "locals" not in pinned


def test_production_gets_a_nat_per_az(stack_for):
    stack = stack_for(("orders.ts",), ENVIRONMENT="prod", AZ_COUNT="3")
    assert len(resources(stack, "aws_nat_gateway")) == 3
    assert len(resources(stack, "aws_lb_target_group_attachment")) == 3


@pytest.mark.parametrize("compute", ["apprunner", "ecs"])
def test_the_nlb_has_deletion_protection_in_every_environment_until_destroying_is_allowed(stack_for, compute):
    ecs = ECS_SETTINGS if compute == "ecs" else {}
    nlb = [lb for lb in resources(stack_for(("orders.ts",), **ecs), "aws_lb").values()
           if lb["load_balancer_type"] == "network"]
    assert [lb["enable_deletion_protection"] for lb in nlb] == [True]
    allowed = stack_for(("orders.ts",), ALLOW_DESTROY_DATA="true", **ecs)
    assert [lb["enable_deletion_protection"] for lb in resources(allowed, "aws_lb").values()
            if lb["load_balancer_type"] == "network"] == [False]


def test_existing_vpc_creates_no_network(stack_for):
    stack = stack_for(("orders.ts",), VPC_ID="vpc-0123456789abcdef0",
                      PRIVATE_SUBNET_IDS="subnet-0123456789abcdef0,subnet-0123456789abcdef1")
    for rtype in ("aws_vpc", "aws_subnet", "aws_nat_gateway", "aws_internet_gateway", "aws_route_table"):
        assert rtype not in stack["resource"]
    assert one(stack, "aws_vpc_endpoint")["subnet_ids"] == ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
    [vpc] = stack["data"]["aws_vpc"]
    assert len(resources(stack, "aws_lb_target_group_attachment")) == 2
    # The endpoint admits the NLB's group, wherever in the VPC's blocks the NLB's subnets are.
    endpoint_group = "${aws_security_group." + one(stack, "aws_vpc_endpoint")["security_group_ids"][0].split(".")[1]
    rules = [r for r in resources(stack, "aws_vpc_security_group_ingress_rule").values()
             if r["security_group_id"].startswith(endpoint_group)]
    assert [r["referenced_security_group_id"] for r in rules] == one(stack, "aws_lb")["security_groups"]
    assert "locals" not in stack and vpc


TOPOLOGY_PER_WORKER = ("aws_apprunner_service", "aws_apprunner_vpc_ingress_connection")
TOPOLOGY_SHARED = ("aws_vpc", "aws_vpc_endpoint", "aws_lb", "aws_lb_listener", "aws_lb_target_group",
                   "aws_apprunner_vpc_connector", "aws_apprunner_observability_configuration",
                   "aws_apprunner_auto_scaling_configuration_version",  # workers alike share one
                   "aws_api_gateway_rest_api", "aws_api_gateway_vpc_link", "aws_api_gateway_deployment",
                   "aws_api_gateway_stage", "aws_wafv2_web_acl", "aws_wafv2_web_acl_association")


@pytest.mark.parametrize("count", [1, 3, 20])
def test_no_part_of_the_topology_is_missing(stack_for, count):
    stack = stack_for(tuple(f"worker{i:02d}.ts" for i in range(count)))
    for rtype in TOPOLOGY_SHARED:
        assert len(resources(stack, rtype)) == 1, rtype
    for rtype in TOPOLOGY_PER_WORKER:
        assert len(resources(stack, rtype)) == count, rtype
    for rtype in ("aws_api_gateway_resource", "aws_api_gateway_method", "aws_api_gateway_integration"):
        assert len(resources(stack, rtype)) == 2 * count, rtype


def test_api_gateway_account_role_can_be_left_to_another_stack(stack_for):
    stack = stack_for(("orders.ts",), MANAGE_API_GATEWAY_ACCOUNT="false")
    assert "aws_api_gateway_account" not in stack["resource"]
    assert "depends_on" not in one(stack, "aws_api_gateway_stage")
    assert one(stack, "aws_api_gateway_method_settings")["settings"]["logging_level"] == "OFF"


def test_routes_can_require_iam_authorization(stack_for):
    stack = stack_for(("orders.ts",), API_AUTHORIZATION="AWS_IAM")
    assert {m["authorization"] for m in resources(stack, "aws_api_gateway_method").values()} == {"AWS_IAM"}


def test_shell_syntax_in_commands_and_variables_stays_text_in_terraform(stack_for, tmp_path):
    stack = stack_for(("orders.ts",), BUILD_COMMAND="'echo ${HOME} %{x} && pnpm install --frozen-lockfile'")
    values = one(stack, "aws_apprunner_service")["source_configuration"]["code_repository"]["code_configuration"][
        "code_configuration_values"]
    assert values["build_command"] == "echo $${HOME} %%{x} && pnpm install --frozen-lockfile"
    assert values["runtime_environment_variables"]["WORKER_NAME"] == "orders"   # not escaped: not a template
