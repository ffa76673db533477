"""ECS on Fargate: one cluster and one internal Application Load Balancer per environment, one service per worker.

Routing (why an ALB behind the NLB). API Gateway's REST VPC link reaches only a Network Load Balancer. An NLB
routes by port alone, so a listener per worker would stop at 50 workers ("Listeners per Network Load Balancer",
workers_scan/fargate.py), far below the 149 worker routes a REST API holds. Instead the existing NLB gets one
more target group, of type `alb`, whose one target is this internal ALB (NLBs accept an ALB as a target on TCP);
the ALB routes by rule, one rule and one target group per worker. An ALB takes 100 rules and 100 target groups (the
latter not adjustable): past 100 workers, settings refuse the synth, naming both quotas
(`workers_per_load_balancer_problem`). Sharding (a second ALB behind a second NLB listener, 100 workers each)
would lift that, and is not built.

How a worker sees its path without the route prefix. On App Runner, API Gateway's integration URI is
`https://<ingress domain>/{proxy}`: API Gateway forwards only `{proxy}` and sets Host (and SNI) from the URI. The
same trick works here, because with connection type VPC_LINK the URI's host is never resolved (the request goes
to the link's NLB): `/<route>` integrates with `http://<route>.workers.internal/` and `/<route>/{proxy+}` with
`http://<route>.workers.internal/{proxy}`, and each worker's listener rule matches its Host header
(`worker_host`). A path rule (`/<route>`, `/<route>/*`) would need API Gateway to keep the prefix and the ALB to
strip it, and hashicorp/aws 5.100.0's listener rule has no rewrite (its `transform` block is 6.x only); the
worker would see `/<route>/...`. `.internal` is reserved for private use (ICANN, 2024), so the name never leaves
the VPC. For the API construct that is `Route.ingress_domain = worker_host(route)` with an `http://` URI (or
`https://` with a certificate on this listener that covers `*.workers.internal`, which API Gateway verifies).
Rules never overlap (one host each), so their priorities only need to be unique: the provider gives each new rule
the next free one (highest + 1, retried on PriorityInUse, hashicorp/aws 5.x) and keeps it.

What is encrypted where: client to API Gateway TLS; API Gateway to NLB to ALB TLS only with `certificate_arn`
(the NLB passes TCP through, the ALB terminates); ALB to tasks plain HTTP inside the private subnets.
The NLB's `alb` target group health-checks this listener: a Host no rule claims answers 404, so that check must
accept 404 (or the wiring adds a health rule).

Images. The task definition reads the image from the ImagePipeline's SSM parameter. The pipeline rolls a service
by registering a copy of its current task definition with the new image and pointing the service at it. With
`track_latest`, Terraform reads the family's latest revision (the pipeline's) instead of the one it registered:
its image equals the parameter's, so the next plan is empty; a change of ours (a variable, a secret, a size)
registers a new revision on the running image, and the service moves to it. When the circuit breaker rolls a
build's deployment back, the build registers one more revision on the earlier image and writes that image to the
parameter: the latest revision is again the one running, and the next plan is empty, not a redeployment of the
failed image. No `ignore_changes` on the service's
`task_definition`: it would keep every later change of ours off the service, and the pipeline copies what the
service runs, so our change would never ship. What Terraform must not revert is `desired_count`, which
Application Auto Scaling owns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

from cdktf import TerraformResource, TerraformResourceLifecycle, TerraformStack
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicy, AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification)
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_ssm_parameter import DataAwsSsmParameter
from cdktf_cdktf_provider_aws.ecs_cluster import EcsCluster, EcsClusterSetting
from cdktf_cdktf_provider_aws.ecs_service import (EcsService, EcsServiceDeploymentCircuitBreaker,
                                                  EcsServiceLoadBalancer, EcsServiceNetworkConfiguration,
                                                  EcsServiceServiceRegistries)
from cdktf_cdktf_provider_aws.ecs_task_definition import EcsTaskDefinition
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lb import Lb
from cdktf_cdktf_provider_aws.lb_listener import (LbListener, LbListenerDefaultAction,
                                                  LbListenerDefaultActionFixedResponse)
from cdktf_cdktf_provider_aws.lb_listener_rule import (LbListenerRule, LbListenerRuleAction,
                                                       LbListenerRuleCondition, LbListenerRuleConditionHostHeader)
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from workers_scan.aws_names import ELB_NAME_MAX, IAM_ROLE_NAME_MAX, short_hash, shorten
from workers_scan.fargate import ROUTING_DOMAIN, alb_listener, worker_host

from .adoption import Adoption, aws_named_log_group
from .private_ingress import admission
from .iam import policy_json, service_trust_policy
from .worker_service import secret_read_statements

ECS_TASKS = "ecs-tasks.amazonaws.com"
CONTAINER_NAME = "worker"          # the container the ImagePipeline's build re-points at each new image
# The ends of a worker's role names (kept whole by shorten()): the image build may pass exactly these roles to ECS.
TASK_ROLE_SUFFIX, EXECUTION_ROLE_SUFFIX = "-task", "-execution"
CONTAINER_INSIGHTS_LOGS_ADDRESS = "ecs_container_insights_logs"  # pinned: imports.tf names it
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
XRAY_ACTIONS = ["xray:GetSamplingRules", "xray:GetSamplingStatisticSummaries", "xray:GetSamplingTargets",
                "xray:PutTelemetryRecords", "xray:PutTraceSegments"]


def worker_logs_address(service_name: str) -> str:
    """The Terraform address (name part) of the group `/ecs/<service_name>`: it follows the name, not the worker."""
    return f"ecs_worker_logs_{service_name}"


@dataclass(frozen=True)
class FargateClusterProps:
    name_prefix: str                    # <project>-<env>: the cluster's, the ALB's and its group's names
    vpc_id: str
    private_subnet_ids: tuple[str, ...]
    logs_kms_key_arn: str               # of Container Insights' performance log group
    log_retention_days: int
    listener_port: int = 80
    certificate_arn: str | None = None  # HTTPS on the listener (TLS from the NLB, which passes TCP through)
    deletion_protection: bool = False   # like the NLB's: on for prod, so a replacement stops instead of deleting
    # The tasks' shared security group (the data stores admit it, like App Runner's connector group) and the
    # ports it may reach on the internet through NAT (ECR, logs, APIs). None: no shared group.
    worker_egress_ports: tuple[int, ...] | None = None


class FargateCluster(Construct):
    """Exposes `cluster_arn`, `cluster_name`, `load_balancer_arn`, `load_balancer_arn_suffix`, `listener_arn`,
    `listener` (the resource), `listener_port`, `listener_protocol`, `security_group_id` (the ALB's),
    `tasks_security_group_id` (shared by every worker's tasks; None without worker_egress_ports) and `adoptions`
    (constructs_lib/adoption.py)."""

    def __init__(self, scope: Construct, id_: str, *, props: FargateClusterProps):
        super().__init__(scope, id_)
        prefix = props.name_prefix
        # Container Insights writes to a group ECS would make itself (unencrypted, kept forever): made first here.
        insights, adoption = aws_named_log_group(
            self, "insights-logs", name=f"/aws/ecs/containerinsights/{prefix}/performance",
            address=CONTAINER_INSIGHTS_LOGS_ADDRESS, kms_key_arn=props.logs_kms_key_arn,
            retention_days=props.log_retention_days)
        self.adoptions: list[Adoption] = [adoption]
        # Day 2: the name is ForceNew; AWS refuses to delete a cluster with services, which are replaced with it.
        cluster = EcsCluster(self, "cluster", name=prefix, depends_on=[insights],
                             setting=[EcsClusterSetting(name="containerInsights", value="enabled")])
        # Day 2: name and vpc_id are ForceNew; without inline rules the provider removes AWS's allow-all egress,
        # so the ALB reaches only the workers each service opens to it.
        group = SecurityGroup(self, "security-group", name=f"{prefix}-workers-alb", vpc_id=props.vpc_id,
                              description="Workers' internal ALB: from the NLB only, to the workers only",
                              tags={"Name": f"{prefix}-workers-alb"})
        # Day 2: name, internal and load_balancer_type are ForceNew (a new prefix replaces the ALB, and its
        # listener and rules with it); subnets and security groups update in place.
        alb = Lb(self, "load-balancer", name=shorten(f"{prefix}-workers", ELB_NAME_MAX), internal=True,
                 load_balancer_type="application", subnets=list(props.private_subnet_ids),
                 security_groups=[group.id], drop_invalid_header_fields=True, idle_timeout=60,
                 enable_deletion_protection=props.deletion_protection)
        protocol = alb_listener(tls=bool(props.certificate_arn))[0]
        tls = dict(certificate_arn=props.certificate_arn, ssl_policy=TLS_POLICY) if props.certificate_arn else {}
        listener = LbListener(
            self, "listener", load_balancer_arn=alb.arn, port=props.listener_port, protocol=protocol, **tls,
            # A Host no worker claims: 404, never some worker's answer.
            default_action=[LbListenerDefaultAction(type="fixed-response", fixed_response=(
                LbListenerDefaultActionFixedResponse(content_type="text/plain", status_code="404",
                                                     message_body="No worker serves this host")))])
        self.tasks_security_group_id: str | None = None
        if props.worker_egress_ports is not None:
            # Day 2: the name is ForceNew; not App Runner's connector group name, so both backends can coexist.
            tasks = SecurityGroup(self, "tasks-security-group", name=f"{prefix}-ecs-workers", vpc_id=props.vpc_id,
                                  description="Every worker's tasks: to the data stores and through NAT only",
                                  tags={"Name": f"{prefix}-ecs-workers"})
            # The data stores add their own port to this group; DNS to the VPC resolver is not filtered.
            for port in props.worker_egress_ports:
                VpcSecurityGroupEgressRule(
                    self, f"tasks-egress-{port}", security_group_id=tasks.id, ip_protocol="tcp", from_port=port,
                    to_port=port, cidr_ipv4="0.0.0.0/0", description=f"Workers to the internet on TCP {port} through NAT")
            self.tasks_security_group_id = tasks.id
        self.cluster_arn: str = cluster.arn
        self.cluster_name: str = prefix   # known at synth: policies name its services by it (service/<name>/*)
        self.load_balancer_arn: str = alb.arn
        self.load_balancer_arn_suffix: str = alb.arn_suffix
        self.listener = listener
        self.listener_arn: str = listener.arn
        self.listener_protocol = protocol
        self.listener_port = props.listener_port
        self.security_group_id: str = group.id

    def admit(self, security_group_id: str, after: list[TerraformResource]) -> None:
        """The ALB's one inbound rule: the NLB's group on the listener's port, made as
        constructs_lib/private_ingress.py `admission` says (`after` the API's stage, new before old)."""
        VpcSecurityGroupIngressRule(
            self, "ingress-0", security_group_id=self.security_group_id, ip_protocol="tcp",
            referenced_security_group_id=security_group_id, from_port=self.listener_port, to_port=self.listener_port,
            description=f"NLB to the workers' ALB on TCP {self.listener_port}", **admission(after))


@dataclass(frozen=True)
class FargateWorkerServiceProps:
    name: str                             # the worker's service name (unique, <= 40): service, family, roles, logs
    route: str                            # its listener rule matches worker_host(route, routing_domain)
    region: str
    account_id: str                       # may be a token: the task role's confused-deputy guard
    cluster_arn: str
    cluster_name: str
    vpc_id: str
    private_subnet_ids: tuple[str, ...]
    listener_arn: str
    load_balancer_arn_suffix: str
    alb_security_group_id: str
    port: int                             # where the worker listens (PORT)
    cpu: int                              # a pair of workers_scan/fargate.py's table (checked by settings)
    memory: int
    command: tuple[str, ...]              # ("bash", <start script>, <worker file>)
    logs_kms_key_arn: str
    log_retention_days: int
    min_tasks: int
    max_tasks: int
    requests_per_target: int              # per minute per task before scaling out (ALBRequestCountPerTarget)
    image_parameter_name: str | None = None  # the ImagePipeline's parameter (the image it rolls)...
    image: str | None = None              # ...or the image itself (a fixed URI, or ImageRepository.current_image)
    repository_arn: str | None = None     # the ECR repository the execution role may pull from
    health_check_path: str | None = None  # None: any HTTP answer on / is healthy (App Runner's TCP check)
    environment: dict[str, str] = field(default_factory=dict)   # plain variables
    secrets: dict[str, str] = field(default_factory=dict)       # key -> Secrets Manager or SSM parameter ARN
    kms_key_arns: tuple[str, ...] = ()    # keys of those secrets (kms:Decrypt)
    statements: tuple[dict, ...] = ()     # more IAM statements for the task role (data access)
    egress_ports: tuple[int, ...] = (443,)  # to the internet through NAT (ECR, logs, APIs)
    shared_security_group_ids: tuple[str, ...] = ()  # more groups of the tasks (FargateCluster's tasks group)
    # Plain (synth-time) values that say where the VPC is (settings' VPC id, CIDR, subnets): vpc_id may be a token,
    # and a new VPC replaces the target group, whose new name must differ from the old one's.
    network_key: str = ""
    cpu_target_percent: int = 70
    routing_domain: str = ROUTING_DOMAIN  # ECS_ROUTING_DOMAIN
    registry_arn: str | None = None       # a Cloud Map service its tasks register in (other workers call it)
    # No target group, listener rule or inbound rule; scaled on CPU alone; health_check_path, if any, is the
    # container's own health check (`container_health_check`).
    private: bool = False


def container_health_check(port: int, path: str) -> dict:
    """ECS's container health check of a private worker: GET `path` on the task's own port. The image is Node's
    slim image, which has no curl: Node's global fetch (18+); ECS runs the command without a shell."""
    timeout = 5
    # Its own deadline, under ECS's: a worker that accepts and never answers fails the check, not the probe.
    probe = (f"fetch('http://127.0.0.1:{port}{path}',{{signal:AbortSignal.timeout({(timeout - 1) * 1000})}})"
             ".then(r=>process.exit(r.ok?0:1),()=>process.exit(1))")
    return {"command": ["CMD", "node", "-e", probe], "interval": 10, "timeout": timeout, "retries": 5,
            "startPeriod": 60}


class FargateWorkerService(Construct):
    """Exposes `service_name`, `service_arn`, `task_role_arn`, `execution_role_arn`, `security_group_id`,
    `target_group_arn` and `host` (both None when private) and `adoptions` (its log group's,
    constructs_lib/adoption.py)."""

    def __init__(self, scope: Construct, id_: str, *, props: FargateWorkerServiceProps):
        super().__init__(scope, id_)
        if (props.image is None) == (props.image_parameter_name is None):
            raise ValueError("FargateWorkerServiceProps takes exactly one of image and image_parameter_name")
        name, port = props.name, props.port
        self.host: str | None = None if props.private else worker_host(props.route, props.routing_domain)

        logs, adoption = self._build_log_group(props)
        task_role = self._build_task_role(props)
        execution_role, execution_policy = self._build_execution_role(props, logs.arn)

        image = props.image
        if props.image_parameter_name is not None:
            # insecure_value: the parameter is a String (an image URI), and `value` would hide the whole
            # container definition from every plan as sensitive.
            image = DataAwsSsmParameter(self, "image", name=props.image_parameter_name).insecure_value
        container = {
            "name": CONTAINER_NAME, "image": image, "essential": True, "command": list(props.command),
            "portMappings": [{"containerPort": port, "hostPort": port, "protocol": "tcp"}],
            "environment": [{"name": k, "value": v} for k, v in sorted(props.environment.items())],
            # By reference: ECS reads each value with the execution role when a task starts.
            "secrets": [{"name": k, "valueFrom": arn} for k, arn in sorted(props.secrets.items())],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": logs.name, "awslogs-region": props.region, "awslogs-stream-prefix": "worker"}},
        }
        if props.private and props.health_check_path:
            container["healthCheck"] = container_health_check(port, props.health_check_path)
        # Day 2: every argument is ForceNew (a task definition revision is immutable): a change registers a
        # revision and deregisters the tracked one; the service rolls to it.
        task = EcsTaskDefinition(
            self, "task", family=name, requires_compatibilities=["FARGATE"], network_mode="awsvpc",
            cpu=str(props.cpu), memory=str(props.memory), task_role_arn=task_role.arn,
            execution_role_arn=execution_role.arn,
            container_definitions=json.dumps([container], sort_keys=True, separators=(",", ":")),
            track_latest=True,  # the pipeline's revisions are ours (module docstring)
        )

        # Day 2: the description is ForceNew, so it stays when the worker turns private (it then admits nothing).
        group = SecurityGroup(self, "security-group", name=f"{name}-tasks", vpc_id=props.vpc_id,
                              description=f"Tasks of {name}: from the workers' ALB only",
                              tags={"Name": f"{name}-tasks"})
        if not props.private:
            VpcSecurityGroupIngressRule(
                self, "from-alb", security_group_id=group.id,
                referenced_security_group_id=props.alb_security_group_id, ip_protocol="tcp", from_port=port,
                to_port=port, description=f"Workers' ALB to {name} on TCP {port}")
            VpcSecurityGroupEgressRule(
                self, "alb-to-tasks", security_group_id=props.alb_security_group_id,
                referenced_security_group_id=group.id, ip_protocol="tcp", from_port=port, to_port=port,
                description=f"Workers' ALB to {name} on TCP {port}")
        for egress in props.egress_ports:
            VpcSecurityGroupEgressRule(
                self, f"egress-{egress}", security_group_id=group.id, ip_protocol="tcp", cidr_ipv4="0.0.0.0/0",
                from_port=egress, to_port=egress, description=f"{name} to the internet on TCP {egress} through NAT")

        target_group, balancers, after = None, None, [execution_policy]
        if self.host is not None:
            target_group, rule = self._build_routing(props, self.host)
            balancers = [EcsServiceLoadBalancer(target_group_arn=target_group.arn, container_name=CONTAINER_NAME,
                                                container_port=port)]
            after = [rule, execution_policy]
        # Day 2: name, cluster and launch_type are ForceNew (a new route or prefix is a new service, beside the old
        # until the old is deleted); AWS drains a deleted service's tasks before its name is free again.
        service = EcsService(
            self, "service", name=name, cluster=props.cluster_arn, task_definition=task.arn,
            launch_type="FARGATE", platform_version="LATEST", desired_count=props.min_tasks,
            deployment_minimum_healthy_percent=100, deployment_maximum_percent=200,
            deployment_circuit_breaker=EcsServiceDeploymentCircuitBreaker(enable=True, rollback=True),
            health_check_grace_period_seconds=60,
            network_configuration=EcsServiceNetworkConfiguration(
                subnets=list(props.private_subnet_ids), security_groups=[group.id, *props.shared_security_group_ids],
                assign_public_ip=False),
            # Day 2: load_balancer updates in place (UpdateService, an empty list when it goes): a worker turning
            # private, or back, keeps its service; the state's dependency updates it before its group is deleted.
            load_balancer=balancers,
            propagate_tags="SERVICE", enable_ecs_managed_tags=True,
            # In place: a worker that becomes a callee keeps its service.
            service_registries=EcsServiceServiceRegistries(registry_arn=props.registry_arn)
            if props.registry_arn else None,
            # ECS refuses a target group no listener uses yet; tasks read secrets with the role as they start.
            depends_on=after,
            # Application Auto Scaling owns the count once the service runs.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["desired_count"]),
        )

        scaling = AppautoscalingTarget(
            self, "scaling", service_namespace="ecs", scalable_dimension="ecs:service:DesiredCount",
            resource_id=f"service/{props.cluster_name}/{service.name}",
            min_capacity=props.min_tasks, max_capacity=props.max_tasks)
        target = dict(resource_id=scaling.resource_id, scalable_dimension=scaling.scalable_dimension,
                      service_namespace=scaling.service_namespace, policy_type="TargetTrackingScaling")
        Metric = AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification
        if target_group is not None:   # a private worker gets no requests: CPU alone scales it
            AppautoscalingPolicy(
                self, "scale-on-requests", name=f"{name}-requests", **target,
                target_tracking_scaling_policy_configuration=(
                    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                        target_value=props.requests_per_target, scale_in_cooldown=300, scale_out_cooldown=60,
                        predefined_metric_specification=Metric(
                            predefined_metric_type="ALBRequestCountPerTarget",
                            resource_label=f"{props.load_balancer_arn_suffix}/{target_group.arn_suffix}"))))
        AppautoscalingPolicy(
            self, "scale-on-cpu", name=f"{name}-cpu", **target,
            target_tracking_scaling_policy_configuration=AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                target_value=props.cpu_target_percent, scale_in_cooldown=300, scale_out_cooldown=60,
                predefined_metric_specification=Metric(predefined_metric_type="ECSServiceAverageCPUUtilization")))

        self.service_name: str = service.name
        self.service_arn: str = service.id  # the provider's id of a service is its ARN
        self.task_role_arn: str = task_role.arn
        self.execution_role_arn: str = execution_role.arn
        self.security_group_id: str = group.id
        self.target_group_arn: str | None = target_group.arn if target_group is not None else None
        self.adoptions: list[Adoption] = [adoption]

    def _build_log_group(self, props: FargateWorkerServiceProps) -> tuple[CloudwatchLogGroup, Adoption]:
        """Day 2: the name is ForceNew and follows the route, and a replaced or removed group would take its logs
        with it. So the group is kept when it leaves the configuration (skip_destroy: a new route, a removed worker,
        a destroy; its logs expire by its retention), and adopted again when its name comes back (the import
        block). Its address is its name's (`worker_logs_address`), never the worker's: an address only ever holds
        one group, so the import never meets another one there. Key and retention update in place."""
        name = f"/ecs/{props.name}"
        group, adoption = aws_named_log_group(
            self, "logs", name=name, address=worker_logs_address(props.name), kms_key_arn=props.logs_kms_key_arn,
            retention_days=props.log_retention_days, skip_destroy=True)
        # Until this release the group sat at the construct's own address, without skip_destroy: there it is
        # forgotten, not destroyed, and adopted at the new address in the same apply, whatever else changes then.
        earlier = TerraformStack.of(self).get_logical_id(group)
        return group, replace(adoption, previous_address=f"aws_cloudwatch_log_group.{earlier}")

    def _build_routing(self, props: FargateWorkerServiceProps, host: str) -> tuple[LbTargetGroup, LbListenerRule]:
        """The worker's target group and its Host rule on the workers' ALB."""
        # Day 2: name, port, protocol, target_type and vpc_id are ForceNew, names are unique per region, and a
        # target group in use by a rule cannot be deleted: the new one is created first, under a name hashed from
        # what placed it, the rule moves, then the old one goes. Health check and deregistration delay update.
        port = props.port
        target_group = LbTargetGroup(
            self, "target-group", name=shorten(props.name, ELB_NAME_MAX, suffix=f"-{short_hash(port, 'HTTP', 'ip', props.network_key)}"),
            port=port, protocol="HTTP", target_type="ip", vpc_id=props.vpc_id,
            deregistration_delay="30",  # the default 300 s makes every deployment wait five minutes per task
            health_check=self._health_check(props.health_check_path),
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        rule = LbListenerRule(
            self, "rule", listener_arn=props.listener_arn,
            condition=[LbListenerRuleCondition(host_header=LbListenerRuleConditionHostHeader(values=[host]))],
            action=[LbListenerRuleAction(type="forward", target_group_arn=target_group.arn)],
        )
        return target_group, rule

    @staticmethod
    def _health_check(path: str | None) -> LbTargetGroupHealthCheck:
        common = dict(enabled=True, protocol="HTTP", interval=10, timeout=5, healthy_threshold=2,
                      unhealthy_threshold=5)
        if path:
            return LbTargetGroupHealthCheck(path=path, matcher="200-399", **common)
        # An HTTP target group has no TCP check: any HTTP answer means the worker listens, like App Runner's.
        return LbTargetGroupHealthCheck(path="/", matcher="200-499", **common)

    def _build_task_role(self, props: FargateWorkerServiceProps) -> IamRole:
        role = IamRole(
            self, "task-role", name=shorten(props.name, IAM_ROLE_NAME_MAX, suffix=TASK_ROLE_SUFFIX),
            description=f"Runtime identity of the ECS service {props.name}",
            # ECS documents both keys for task roles ("Amazon ECS task IAM role"); aws:SourceArn cannot name one
            # cluster ("not currently supported"), so it is any ECS resource of this account and region.
            assume_role_policy=service_trust_policy(
                ECS_TASKS, source_account=props.account_id,
                source_arn=f"arn:aws:ecs:{props.region}:{props.account_id}:*"))
        # X-Ray accepts no resource-level permissions for these actions.
        IamRolePolicy(self, "tracing-policy", name="xray-tracing", role=role.id,
                      policy=policy_json([{"Effect": "Allow", "Resource": "*", "Action": XRAY_ACTIONS}]))
        if props.statements:
            IamRolePolicy(self, "data-access-policy", name="data-access", role=role.id,
                          policy=policy_json(list(props.statements)))
        # Today's instance-role policy: a worker may read its secrets again at run time (DB_SECRET_ARN after RDS
        # rotates the password).
        statements = secret_read_statements(list(props.secrets.values()), list(props.kms_key_arns))
        if statements:
            IamRolePolicy(self, "secrets-policy", name="read-runtime-secrets", role=role.id,
                          policy=policy_json(statements))
        return role

    def _build_execution_role(self, props: FargateWorkerServiceProps, log_group_arn: str):
        role = IamRole(
            self, "execution-role", name=shorten(props.name, IAM_ROLE_NAME_MAX, suffix=EXECUTION_ROLE_SUFFIX),
            description=f"Starts the tasks of {props.name}: image, logs and secrets",
            assume_role_policy=service_trust_policy(ECS_TASKS))
        statements: list[dict] = [
            {"Sid": "WriteItsLogGroup", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": f"{log_group_arn}:*"},
        ]
        if props.repository_arn:
            statements += [
                # GetAuthorizationToken has no resource-level permissions: AWS requires "*".
                {"Sid": "LogInToEcr", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
                {"Sid": "PullFromItsRepository", "Effect": "Allow", "Resource": props.repository_arn,
                 "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]},
            ]
        statements += secret_read_statements(list(props.secrets.values()), list(props.kms_key_arns))
        policy = IamRolePolicy(self, "execution-policy", name="start-tasks", role=role.id,
                               policy=policy_json(statements))
        return role, policy
