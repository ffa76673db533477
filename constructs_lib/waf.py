"""WAFv2 in front of the API stage: per-IP rate limit plus two AWS managed rule groups."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.wafv2_web_acl import (Wafv2WebAcl, Wafv2WebAclDefaultAction,
                                                    Wafv2WebAclDefaultActionAllow, Wafv2WebAclRule,
                                                    Wafv2WebAclRuleAction, Wafv2WebAclRuleActionBlock,
                                                    Wafv2WebAclRuleOverrideAction, Wafv2WebAclRuleOverrideActionNone,
                                                    Wafv2WebAclRuleVisibilityConfig, Wafv2WebAclVisibilityConfig)
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import (
    Wafv2WebAclLoggingConfiguration, Wafv2WebAclLoggingConfigurationLoggingFilter,
    Wafv2WebAclLoggingConfigurationLoggingFilterFilter, Wafv2WebAclLoggingConfigurationLoggingFilterFilterCondition,
    Wafv2WebAclLoggingConfigurationLoggingFilterFilterConditionActionCondition,
    Wafv2WebAclLoggingConfigurationRedactedFields, Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader)
from workers_scan.waf_rules import MANAGED_RULE_GROUPS, MANAGED_RULES, REDACTED_HEADERS

RATE_WINDOW_SECONDS = 300


@dataclass(frozen=True)
class WafProps:
    name_prefix: str                 # <project>-<env>: the web ACL's and its log group's name
    rate_limit: int                  # requests per client IP per RATE_WINDOW_SECONDS
    count_rules: tuple[str, ...]     # managed rules that only count (published names, validated by settings)
    log_all_requests: bool           # else only blocked and counted requests are logged
    log_retention_days: int
    stage_arn: str
    logs_kms_key_arn: str


class Waf(Construct):
    """Exposes `web_acl_arn`."""

    def __init__(self, scope: Construct, id_: str, *, props: WafProps):
        super().__init__(scope, id_)
        prefix = props.name_prefix
        metric = prefix.replace("-", "_")

        def visibility(name: str):
            return Wafv2WebAclRuleVisibilityConfig(
                cloudwatch_metrics_enabled=True, metric_name=f"{metric}_{name}", sampled_requests_enabled=True)

        rules = [Wafv2WebAclRule(
            name="rate-limit-per-ip", priority=0,
            action=Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock()),
            statement={"rate_based_statement": {
                "limit": props.rate_limit, "aggregate_key_type": "IP",
                "evaluation_window_sec": RATE_WINDOW_SECONDS,
            }},
            visibility_config=visibility("rate_limit"),
        )]
        for priority, group in enumerate(MANAGED_RULE_GROUPS, start=1):
            counted = [rule for rule in MANAGED_RULES[group] if rule in props.count_rules]
            overrides = {"rule_action_override": [{"name": rule, "action_to_use": {"count": {}}}
                                                  for rule in counted]} if counted else {}
            rules.append(Wafv2WebAclRule(
                name=group, priority=priority,
                override_action=Wafv2WebAclRuleOverrideAction(none=Wafv2WebAclRuleOverrideActionNone()),
                statement={"managed_rule_group_statement": {"name": group, "vendor_name": "AWS", **overrides}},
                visibility_config=visibility(group),
            ))
        web_acl = Wafv2WebAcl(
            self, "web-acl", name=prefix, scope="REGIONAL", description=f"Protects the {prefix} API",
            default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()),
            rule=rules,
            visibility_config=Wafv2WebAclVisibilityConfig(
                cloudwatch_metrics_enabled=True, metric_name=f"{metric}_web_acl", sampled_requests_enabled=True),
        )
        Wafv2WebAclAssociation(self, "stage-association", resource_arn=props.stage_arn,
                                            web_acl_arn=web_acl.arn)
        # WAF delivers only to log groups whose name starts with aws-waf-logs-.
        logs = CloudwatchLogGroup(self, "logs", name=f"aws-waf-logs-{prefix}",
                                             retention_in_days=props.log_retention_days,
                                             kms_key_id=props.logs_kms_key_arn)
        # Only blocked and counted requests, when asked: a busy API's full log costs more than its WAF.
        kept = [Wafv2WebAclLoggingConfigurationLoggingFilterFilterCondition(
            action_condition=Wafv2WebAclLoggingConfigurationLoggingFilterFilterConditionActionCondition(
                action=action)) for action in ("BLOCK", "COUNT")]
        matched_only = None if props.log_all_requests else Wafv2WebAclLoggingConfigurationLoggingFilter(
            default_behavior="DROP", filter=[Wafv2WebAclLoggingConfigurationLoggingFilterFilter(
                behavior="KEEP", requirement="MEETS_ANY", condition=kept)])
        Wafv2WebAclLoggingConfiguration(
            self, "logging", resource_arn=web_acl.arn, log_destination_configs=[logs.arn],
            redacted_fields=[Wafv2WebAclLoggingConfigurationRedactedFields(
                single_header=Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader(name=header))
                for header in REDACTED_HEADERS],
            logging_filter=matched_only)
        self.web_acl_arn: str = web_acl.arn
