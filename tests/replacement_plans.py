"""Which inputs replace which resource types, read from terraform's own plans against an applied example.

The base is the example applied on the emulator (tests/test_day2.py's Platform, on either backend), taken right
after its first apply (`Base.take`). Each `Variant` changes one input in a copy of that monorepo and is
synthesized as synth does it; every variant becomes a module of one root configuration, whose state holds the
applied resources of each module, and one `terraform plan -refresh=false` plans them all against the base. A type is
replaced by an input when that input's module replaces an instance of it, or deletes one and creates another of
the same type (a renamed worker, a new secret's rule).

Kept lean, as the whole example costs seconds per plan (mostly the provider's work for every resource in the
state, and a provider process per provider configuration):
- a module holds only what its input can change: the resources whose block differs from the base's, is new or
  is gone, and whatever refers to one of those, transitively (all resources when the provider block changes:
  its default tags reach every one). A reference to anything else is a local holding its applied attributes,
  which is what the plan of the whole stack would use (the base's own plan is empty), and so are the data
  sources no changed block reaches (they answer as they did for the base);
- the modules share one provider configuration per distinct provider block (the root's, passed to them).
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from dotenv import dotenv_values

from constructs_lib.app import StackInput, build_app
from constructs_lib.replacements import AUDIT
from workers_scan import load_workers
from workers_scan.settings import EXAMPLE_SETTINGS

from .helpers import CODECONNECTIONS_ARN, VALID_ARN, settings_from

EXAMPLE_ENV = ".env.example"
REFERENCE = re.compile(r"\b(?:data\.)?[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*")
AWS = "registry.terraform.io/hashicorp/aws"


@dataclass(frozen=True)
class Variant:
    """One input changed: settings set (None unsets) and/or an edit of the monorepo copy (worker files, workers.toml,
    .env.workers)."""

    input: str
    settings: dict[str, str | None] = field(default_factory=dict)
    edit: Callable[[Path], None] | None = None
    # A delete and a create of one type count as a replacement (a renamed worker's resources, a new secret's rule),
    # except where the input swaps one set of resources for another (COMPUTE).
    renames: bool = True


@dataclass(frozen=True)
class Base:
    """The applied example: its monorepo as applied, its settings overrides, its state and synthesized JSON."""

    monorepo: Path
    overrides: dict[str, str | None]
    state: dict
    stack: dict
    provider_override: dict   # the emulator's endpoints (*_override.tf.json)

    @classmethod
    def take(cls, platform, folder: Path) -> "Base":
        """A copy of `platform` (tests/test_day2.py) as it is now: call it right after the first apply."""
        shutil.copytree(platform.monorepo, folder / "monorepo")
        state = json.loads((platform.out.parent / f"terraform.{platform.stack_dir.name}.tfstate").read_text())
        return cls(monorepo=folder / "monorepo", overrides=dict(platform.overrides), state=state,
                   stack=json.loads((platform.stack_dir / "cdk.tf.json").read_text()),
                   provider_override=json.loads((platform.stack_dir / "emulator_override.tf.json").read_text()))


def synth_variant(base: Base, variant: Variant, folder: Path) -> dict:
    """The stack of the base monorepo with `variant` applied, synthesized as synth does (its cdk.tf.json)."""
    monorepo = folder / "monorepo"
    shutil.copytree(base.monorepo, monorepo)
    settings_dir = monorepo / "infra" / "aws"
    overrides = {**base.overrides, **variant.settings}
    example = (settings_dir / EXAMPLE_ENV).read_text()
    lines = [line for line in example.splitlines() if line.split("=", 1)[0] not in overrides]
    lines += [f"{k}={v}" for k, v in overrides.items() if v is not None]
    (settings_dir / ".env").write_text("\n".join(lines))
    if variant.edit:
        variant.edit(monorepo)
    settings = settings_from(settings_dir / ".env")
    # build_app and its synth, as synthesize() does before checking quotas and secrets (they change nothing).
    app, _ = build_app([StackInput(settings, tuple(load_workers(settings)))], folder / "out")
    app.synth()
    return json.loads((folder / "out" / "stacks" / settings.stack_name / "cdk.tf.json").read_text())


def _blocks(stack: dict) -> dict[str, dict]:
    """address -> body (without cdktf's "//" metadata) of every resource and data source."""
    found = {}
    for mode, prefix in (("resource", ""), ("data", "data.")):
        for rtype, items in stack.get(mode, {}).items():
            for name, body in items.items():
                found[f"{prefix}{rtype}.{name}"] = {k: v for k, v in body.items() if k != "//"}
    return found


def _references(body, addresses) -> set[str]:
    return set(REFERENCE.findall(json.dumps(body))) & addresses


def changed_addresses(base: dict, variant: dict) -> set[str]:
    """The addresses (resources and data sources) of `variant` or `base` whose plan can differ from the base's:
    those whose block differs, is new or is gone, and whatever refers to one of those, transitively; and every
    resource when the provider block (default tags, region) or the locals changed."""
    before, after = _blocks(base), _blocks(variant)
    changed = {a for a in before.keys() | after.keys() if before.get(a) != after.get(a)}
    referrers: dict[str, set[str]] = {}
    for address, body in after.items():
        for used in _references(body, after.keys()):
            referrers.setdefault(used, set()).add(address)
    reached, todo = set(changed), list(changed)
    while todo:
        for referrer in referrers.get(todo.pop(), ()):
            if referrer not in reached:
                reached.add(referrer)
                todo.append(referrer)
    if base.get("provider") != variant.get("provider") or base.get("locals") != variant.get("locals"):
        # Every resource; the data sources no changed block reaches answer as before (a region change moves the
        # whole stack anyway: docs/day-2.md).
        reached |= {a for a in after if not a.startswith("data.")}
    return reached


def _literal(value):
    """A state value as a Terraform JSON literal: its strings' template sequences escaped, its dynamic values
    (terraform_data's input and output: {"value", "type"}) unwrapped."""
    if isinstance(value, str):
        return value.replace("${", "$${").replace("%{", "%%{")
    if isinstance(value, list):
        return [_literal(v) for v in value]
    if isinstance(value, dict) and value.keys() == {"value", "type"}:
        return _literal(value["value"])
    if isinstance(value, dict):
        return {k: _literal(v) for k, v in value.items()}
    return value


def _applied_values(state: dict) -> dict[str, object]:
    """address -> what a reference to it evaluates to when it has nothing to do: its applied attributes (a list or
    map of them for count and for_each)."""
    values = {}
    for resource in state["resources"]:
        prefix = "data." if resource["mode"] == "data" else ""
        instances = resource["instances"]
        address = f"{prefix}{resource['type']}.{resource['name']}"
        if "index_key" not in instances[0]:
            values[address] = instances[0]["attributes"]
        elif isinstance(instances[0]["index_key"], int):
            values[address] = [i["attributes"] for i in instances]
        else:
            values[address] = {i["index_key"]: i["attributes"] for i in instances}
    return values


def trimmed(variant: dict, state: dict, wanted: set[str]) -> tuple[dict, list[dict]]:
    """`variant` cut down to the resources in `wanted` and the data sources they read: a reference to anything
    else becomes a local holding its applied value. Returns the module's configuration (without provider block)
    and its state's resources (the kept ones, and the ones the variant no longer has)."""
    blocks = _blocks(variant)
    keep = {a for a in wanted & blocks.keys() if not a.startswith("data.")}
    read, todo = set(), list(keep)
    while todo:   # the changed data sources the kept resources read, and what those read
        for used in _references(blocks[todo.pop()], blocks.keys()):
            if used.startswith("data.") and used in wanted and used not in read:
                read.add(used)
                todo.append(used)
    applied = _applied_values(state)
    stubbed = sorted((blocks.keys() - keep - read) & applied.keys(), key=len, reverse=True)
    names = {address: f"applied_{n}" for n, address in enumerate(stubbed)}
    pattern = re.compile(r"(?<![\w.-])(" + "|".join(map(re.escape, stubbed)) + r")(?![\w-])") if stubbed else None
    used: set[str] = set()

    def local(match) -> str:
        used.add(match.group(1))
        return f"local.{names[match.group(1)]}"

    def rewrite(body: dict) -> dict:
        body = {k: v for k, v in body.items() if k != "//"}
        if "depends_on" in body:
            body["depends_on"] = [d for d in body["depends_on"] if d in keep | read]
        return json.loads(pattern.sub(local, json.dumps(body))) if pattern else body

    config: dict = {"terraform": {"required_providers": {"aws": {"source": "hashicorp/aws"}}}}
    for address in sorted(keep | read):
        mode, rest = ("data", address[5:]) if address.startswith("data.") else ("resource", address)
        rtype, name = rest.split(".", 1)
        body = rewrite(blocks[address])
        body.get("lifecycle", {}).pop("prevent_destroy", None)   # its error would stop the whole plan
        config.setdefault(mode, {}).setdefault(rtype, {})[name] = body
    locals_ = {**rewrite(variant.get("locals", {})), **{names[a]: _literal(applied[a]) for a in sorted(used)}}
    if locals_:
        config["locals"] = locals_
    gone = {a for a in wanted - blocks.keys() if not a.startswith("data.")}
    resources = [r for r in state["resources"] if r["mode"] == "managed"
                 and f"{r['type']}.{r['name']}" in keep | gone]
    return config, resources


def _module_state(resources: list[dict], module: str, provider: str) -> list[dict]:
    """State resources as module `module` holds them, planned with the root's provider configuration `provider`."""
    moved = []
    for resource in resources:
        instances = [{**instance, "dependencies": [f"module.{module}.{d}" for d in instance.get("dependencies", [])]}
                     for instance in resource["instances"]]
        moved.append({**resource, "module": f"module.{module}", "instances": instances,
                      "provider": provider if AWS in resource["provider"] else resource["provider"]})
    return moved


@dataclass
class PlannedVariants:
    """What one plan of every variant found: input -> resource type -> the planned actions."""

    actions: dict[str, dict[str, set[str]]]   # an input whose JSON equals the base's is not planned: none
    renames: dict[str, bool]                  # input -> its Variant.renames

    def replaced(self, input_: str) -> set[str]:
        """The types a change of `input_` replaces: an instance replaced, or (when it renames) one deleted and
        another created."""
        return {rtype for rtype, actions in self.actions.get(input_, {}).items()
                if "replace" in actions or (self.renames[input_] and {"create", "delete"} <= actions)}


def plan_variants(base: Base, variants: list[Variant], folder: Path, terraform) -> PlannedVariants:
    """Synthesize every variant, then plan them all in one run; `terraform(args, cwd)` runs terraform there
    (tests/terraform.py's run)."""
    root = folder / "plan"
    root.mkdir(parents=True)
    modules, providers, state_resources = {}, {}, []
    for index, variant in enumerate(variants):
        module = f"v{index}"
        stack = synth_variant(base, variant, folder / module)
        wanted = changed_addresses(base.stack, stack)
        if not wanted:
            continue
        config, resources = trimmed(stack, base.state, wanted)
        [block] = stack["provider"]["aws"]
        alias = providers.setdefault(json.dumps(block, sort_keys=True), f"p{len(providers)}")
        modules[module] = (variant.input, alias)
        (root / module).mkdir()
        (root / module / "cdk.tf.json").write_text(json.dumps(config))
        state_resources += _module_state(resources, module, f'provider["{AWS}"].{alias}')
    endpoints = base.provider_override["provider"]["aws"]
    (root / "main.tf.json").write_text(json.dumps({
        "terraform": {"required_providers": {"aws": base.stack["terraform"]["required_providers"]["aws"]}},
        "provider": {"aws": [{**json.loads(block), **endpoints, "alias": alias} for block, alias in providers.items()]},
        "module": {m: {"source": f"./{m}", "providers": {"aws": f"aws.{alias}"}} for m, (_, alias) in modules.items()},
    }))
    (root / "terraform.tfstate").write_text(json.dumps({**base.state, "outputs": {}, "resources": state_resources}))
    init = terraform(["init", "-input=false", "-no-color"], root)
    assert init.returncode == 0, f"terraform init in {root}:\n{init.stdout[-3000:]}\n{init.stderr[-3000:]}"
    plan = terraform(["plan", "-refresh=false", "-input=false", "-no-color", "-json", "-parallelism=20"], root)
    events = [json.loads(line) for line in plan.stdout.splitlines() if line.startswith("{")]
    errors = [f"{d['diagnostic'].get('address', '')}: {d['diagnostic']['summary']}: {d['diagnostic']['detail'][:500]}"
              for d in events if d.get("type") == "diagnostic" and d["diagnostic"]["severity"] == "error"]
    assert plan.returncode == 0 and not errors, f"terraform plan in {root} (modules: {modules}):\n" + \
        "\n".join(errors or [plan.stderr[-3000:]])
    actions: dict[str, dict[str, set[str]]] = {}
    for event in events:
        if event.get("type") == "planned_change":
            change = event["change"]
            input_ = modules[change["resource"]["module"].removeprefix("module.")][0]
            actions.setdefault(input_, {}).setdefault(change["resource"]["resource_type"], set()).add(change["action"])
    return PlannedVariants(actions=actions, renames={v.input: v.renames for v in variants})


# What the example's inputs are changed to, one input at a time. An input's name is a settings key or one of
# constructs_lib/replacements.py's WORKER_INPUTS.
WORKERS_TOML = "infra/aws/workers.toml"
ENV_WORKERS = "infra/aws/.env.workers"
KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"


def _replace_in(path: str, old: str, new: str) -> Callable[[Path], None]:
    def edit(monorepo: Path) -> None:
        text = (monorepo / path).read_text()
        assert old in text, f"{path} no longer holds {old!r}: update tests/replacement_plans.py"
        (monorepo / path).write_text(text.replace(old, new))
    return edit


def _move_secrets(region: str, to: str) -> Callable[[Path], None]:
    def edit(monorepo: Path) -> None:
        for path in (monorepo / ENV_WORKERS).parent.glob(".env.workers*"):
            path.write_text(path.read_text().replace(f":{region}:", f":{to}:"))
    return edit


def _rename_worker(monorepo: Path) -> None:
    """orders.ts becomes purchases.ts, its route kept: only the file's name changes."""
    workers = monorepo / "apps" / "api" / "src" / "workers"
    (workers / "orders.ts").rename(workers / "purchases.ts")
    toml = monorepo / WORKERS_TOML
    toml.write_text(toml.read_text() + '\n[purchases]\nroute = "orders"\n')


def variants_of(backend: str, existing_vpc: tuple[str, list[str]]) -> list[Variant]:
    """Every input planned on `backend`, each changed alone from the example's value. `existing_vpc`: the id and
    private subnets of another VPC, for VPC_ID."""
    vpc, subnets = existing_vpc
    connection = "APP_RUNNER_CONNECTION_ARN" if backend == "apprunner" else "CODECONNECTIONS_ARN"
    applied_connection = dotenv_values(EXAMPLE_SETTINGS)["APP_RUNNER_CONNECTION_ARN"] if backend == "apprunner" \
        else CODECONNECTIONS_ARN   # tests/helpers.py's ECS_SETTINGS
    found = [
        Variant("PROJECT_NAME", {"PROJECT_NAME": "acme2"}),
        Variant("ENVIRONMENT", {"ENVIRONMENT": "qa"}),
        # Connections and secrets are used in their own region.
        Variant("AWS_REGION", {"AWS_REGION": "eu-west-2", "AVAILABILITY_ZONES": "eu-west-2a,eu-west-2b",
                               connection: applied_connection.replace(":eu-west-1:", ":eu-west-2:")},
                edit=_move_secrets("eu-west-1", "eu-west-2")),
        Variant("VPC_CIDR", {"VPC_CIDR": "10.1.0.0/16"}),
        Variant("AVAILABILITY_ZONES", {"AVAILABILITY_ZONES": "eu-west-1b,eu-west-1c"}),
        Variant("AZ_COUNT", {"AZ_COUNT": "3", "AVAILABILITY_ZONES": "eu-west-1a,eu-west-1b,eu-west-1c"}),
        Variant("VPC_ID", {"VPC_ID": vpc, "PRIVATE_SUBNET_IDS": ",".join(subnets)}),
        Variant("NAT_PER_AZ", {"NAT_PER_AZ": "true"}),
        Variant("VPC_FLOW_LOGS", {"VPC_FLOW_LOGS": "false"}),
        Variant("PORT", {"PORT": "8080"}),
        Variant("START_COMMAND", {"START_COMMAND": "bash apps/api/scripts/start-worker.sh {worker_file} --quiet"}),
        Variant("BUILD_COMMAND", {"BUILD_COMMAND": "pnpm install --frozen-lockfile && pnpm turbo run build"}),
        Variant("BRANCH", {"BRANCH": "release"}),
        Variant("REPOSITORY_URL", {"REPOSITORY_URL": "https://github.com/acme/platform-next"}),
        Variant("SOURCE_DIRECTORY", {"SOURCE_DIRECTORY": "/services"}),
        Variant("RUNTIME", {"RUNTIME": "NODEJS_18"}),
        Variant("AUTO_DEPLOYMENTS", {"AUTO_DEPLOYMENTS": "false"}),
        Variant("REDEPLOY_ON_SECRET_CHANGE", {"REDEPLOY_ON_SECRET_CHANGE": "false"}),
        Variant("WAF_RATE_LIMIT", {"WAF_RATE_LIMIT": "1500"}),
        Variant("WAF_COUNT_RULES", {"WAF_COUNT_RULES": "SizeRestrictions_BODY"}),
        Variant("WAF_LOG_ALL_REQUESTS", {"WAF_LOG_ALL_REQUESTS": "false"}),
        Variant("API_AUTHORIZATION", {"API_AUTHORIZATION": "AWS_IAM"}),
        Variant("API_THROTTLE_RATE_LIMIT", {"API_THROTTLE_RATE_LIMIT": "500"}),
        Variant("API_THROTTLE_BURST_LIMIT", {"API_THROTTLE_BURST_LIMIT": "1000"}),
        Variant("MANAGE_API_GATEWAY_ACCOUNT", {"MANAGE_API_GATEWAY_ACCOUNT": "false"}),
        Variant("LOG_RETENTION_DAYS", {"LOG_RETENTION_DAYS": "30"}),
        Variant("LOGS_KMS_KEY_ARN", {"LOGS_KMS_KEY_ARN": KMS_KEY}),
        Variant("SECRETS_KMS_KEY_ARNS", {"SECRETS_KMS_KEY_ARNS": KMS_KEY}),
        Variant("WORKER_EGRESS_PORTS", {"WORKER_EGRESS_PORTS": "443,465"}),
        Variant("WORKER_CPU", {"WORKER_CPU": "2048", "WORKER_MEMORY": "4096"}),
        Variant("WORKER_MEMORY", {"WORKER_MEMORY": "3072"}),
        Variant("WORKER_MIN_INSTANCES", {"WORKER_MIN_INSTANCES": "2"}),
        Variant("WORKER_MAX_INSTANCES", {"WORKER_MAX_INSTANCES": "4"}),
        Variant("AURORA_ENABLED", {"AURORA_ENABLED": "false"}),
        Variant("AURORA_ENGINE_VERSION", {"AURORA_ENGINE_VERSION": "16.8"}),
        Variant("AURORA_AUTO_MINOR_UPGRADE", {"AURORA_AUTO_MINOR_UPGRADE": "false"}),
        Variant("AURORA_MIN_ACU", {"AURORA_MIN_ACU": "1"}),
        Variant("AURORA_MAX_ACU", {"AURORA_MAX_ACU": "8"}),
        Variant("AURORA_DATABASE_NAME", {"AURORA_DATABASE_NAME": "orders"}),
        Variant("AURORA_MASTER_USERNAME", {"AURORA_MASTER_USERNAME": "owner"}),
        Variant("AURORA_IAM_USER", {"AURORA_IAM_USER": "workers"}),
        Variant("AURORA_READER", {"AURORA_READER": "true"}),
        Variant("AURORA_BACKUP_RETENTION_DAYS", {"AURORA_BACKUP_RETENTION_DAYS": "14"}),
        Variant("AURORA_PERFORMANCE_INSIGHTS", {"AURORA_PERFORMANCE_INSIGHTS": "false"}),
        Variant("AURORA_MONITORING_INTERVAL", {"AURORA_MONITORING_INTERVAL": "30"}),
        Variant("AURORA_KMS_KEY_ARN", {"AURORA_KMS_KEY_ARN": KMS_KEY}),
        Variant("ALLOW_DESTROY_DATA", {"ALLOW_DESTROY_DATA": "true"}),
        Variant("SECRET_KEY_ALLOWLIST", {"SECRET_KEY_ALLOWLIST": "STRIPE_PUBLISHABLE_KEY"}),
        Variant("route", edit=_replace_in(WORKERS_TOML, "[billing]\n", '[billing]\nroute = "invoices"\n')),
        Variant("worker file", edit=_rename_worker),
        Variant("size", edit=_replace_in(WORKERS_TOML, "cpu = 512\nmemory = 1024", "cpu = 1024\nmemory = 2048")),
        Variant("min_instances", edit=_replace_in(WORKERS_TOML, "min_instances = 1", "min_instances = 2")),
        Variant("max_instances", edit=_replace_in(WORKERS_TOML, "max_instances = 5", "max_instances = 6")),
        Variant("health_check_path", edit=_replace_in(WORKERS_TOML, '"/health"', '"/healthz"')),
        # Deletes what routes to the worker, updates its service: nothing is renamed.
        Variant("private", edit=_replace_in(WORKERS_TOML, "[billing]\n", "[billing]\nprivate = true\n"),
                renames=False),
        Variant("variables", edit=_replace_in(ENV_WORKERS, "LOG_LEVEL=info", "LOG_LEVEL=warn")),
        Variant("secrets", edit=_replace_in(ENV_WORKERS, "secret:acme/dev/stripe-AbCdEf",
                                            "secret:acme/dev/stripe-next-GhIjKl")),
        Variant("calls", edit=_replace_in(WORKERS_TOML, "[billing]\n", '[billing]\ncalls = ["email-sender"]\n')),
    ]
    if backend == "apprunner":
        found += [
            Variant("COMPUTE", {"COMPUTE": "ecs", "APP_RUNNER_CONNECTION_ARN": None,
                                "CODECONNECTIONS_ARN": CODECONNECTIONS_ARN}, renames=False),
            Variant("APP_RUNNER_CONNECTION_ARN", {"APP_RUNNER_CONNECTION_ARN": VALID_ARN}),
            Variant("WORKER_VPC_EGRESS", {"WORKER_VPC_EGRESS": "false", "AURORA_ENABLED": "false"}),
            Variant("WORKER_MAX_CONCURRENCY", {"WORKER_MAX_CONCURRENCY": "80"}),
            Variant("APPRUNNER_SCALING_CONFIGURATION_QUOTA", {"APPRUNNER_SCALING_CONFIGURATION_QUOTA": "20"}),
            Variant("max_concurrency", edit=_replace_in(WORKERS_TOML, "max_concurrency = 50", "max_concurrency = 80")),
        ]
    else:
        found += [
            Variant("COMPUTE", {"COMPUTE": "apprunner", "CODECONNECTIONS_ARN": None,
                                "APP_RUNNER_CONNECTION_ARN": VALID_ARN}, renames=False),
            Variant("CODECONNECTIONS_ARN",
                    {"CODECONNECTIONS_ARN": CODECONNECTIONS_ARN.replace("0f1e2d3c", "1f1e2d3c")}),
            # A certificate needs a domain a public CA can name (settings say so).
            Variant("ECS_CERTIFICATE_ARN", {"ECS_CERTIFICATE_ARN": "arn:aws:acm:eu-west-1:123456789012:certificate/"
                                                                  "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
                                            "ECS_ROUTING_DOMAIN": "workers.example.com"}),
            Variant("ECS_ROUTING_DOMAIN", {"ECS_ROUTING_DOMAIN": "services.internal"}),
            Variant("ECS_REQUESTS_PER_TARGET", {"ECS_REQUESTS_PER_TARGET": "500"}),
        ]
    return found


def other_vpc(ec2) -> tuple[str, list[str]]:
    """A VPC beside the example's, with two private subnets, for VPC_ID (its data sources read it)."""
    vpc = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.50.{n * 16}.0/20", AvailabilityZone=f"eu-west-1{zone}")
               ["Subnet"]["SubnetId"] for n, zone in enumerate("ab")]
    return vpc, subnets


def audit_problems(planned: PlannedVariants, backend: str, synthesized: set[str]) -> list[str]:
    """Where constructs_lib/replacements.py's AUDIT disagrees with the plans of `backend`, whose base synthesizes
    the types `synthesized`: an input that replaces a type its entry does not list, or that its entry lists but
    replaces nothing of that type."""
    problems = []
    for input_ in planned.renames:
        replaced = planned.replaced(input_)
        for rtype in sorted(replaced - {t for t in replaced if AUDIT[t].lists(input_, backend)}):
            problems.append(f"{rtype}: {input_} replaces it on {backend}, and its entry does not say so")
        for rtype in sorted(t for t, entry in AUDIT.items() if t in synthesized and t not in replaced
                            and entry.lists(input_, backend)):
            problems.append(f"{rtype}: its entry says {input_} replaces it on {backend}, which the plan does not do")
    return problems


def check_the_audit(platform, backend: str, folder: Path) -> None:
    """Plan every input of `backend` against `platform.base` (tests/test_day2.py's Platform) and compare with the
    audit."""
    from .terraform import run

    planned = plan_variants(platform.base, variants_of(backend, other_vpc(platform.client("ec2"))), folder,
                            lambda args, cwd: run(args, cwd, platform.env, timeout=600))
    print({i: sorted(planned.replaced(i)) for i in planned.renames})   # what each input replaced: shown on a failure
    problems = audit_problems(planned, backend, set(platform.base.stack["resource"]))
    assert not problems, "constructs_lib/replacements.py disagrees with the plans:\n" + "\n".join(problems)


# Inputs no variant changes, and why: tests/test_replacements.py fails on a settings key that is in neither.
NOT_PLANNED = {
    **dict.fromkeys(("REDIS_ENABLED", "REDIS_ENGINE", "REDIS_ENGINE_VERSION", "REDIS_NODE_TYPE", "REDIS_NODES",
                     "REDIS_KMS_KEY_ARN", "REDIS_SNAPSHOT_RETENTION_DAYS"),
                    "Redis is off on the emulator (moto's replication groups do not read back)"),
    "PRIVATE_SUBNET_IDS": "planned with VPC_ID, which needs it",
    **dict.fromkeys(("MONOREPO_ROOT", "WORKERS_DIR", "WORKER_INCLUDE", "WORKER_EXCLUDE", "WORKER_DEFAULT_EXCLUSIONS",
                     "WORKER_FOLDER_ENTRY"),
                    "says which files are workers and their entry files: planned as a worker's file name"),
    "ENVIRONMENTS": "picks the stacks to synthesize; each is the stack planned here",
    **dict.fromkeys(("STATE_BACKEND", "STATE_KEY", "STATE_REGION", "STATE_USE_LOCKFILE", "TFC_ORGANIZATION",
                     "TFC_WORKSPACE", "TFC_WORKSPACE_TAGS", "TFC_HOSTNAME"),
                    "says where the state is: the backend block, no resource"),
    **dict.fromkeys(("STATE_BUCKET", "STATE_LOCK_TABLE", "STATE_KMS_KEY_ARN", "STATE_BOOTSTRAP"),
                    "the state bootstrap stack's, which is not applied here"),
}
