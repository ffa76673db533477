"""WAFv2 in front of the API stage: per-IP rate limit plus two AWS managed rule groups."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from workers_scan import Settings
from workers_scan.waf_rules import MANAGED_RULE_GROUPS, MANAGED_RULES, REDACTED_HEADERS

from .aws import load

(acl_, association_, logging_, log_group_) = load(
    "wafv2_web_acl", "wafv2_web_acl_association", "wafv2_web_acl_logging_configuration", "cloudwatch_log_group",
)

RATE_WINDOW_SECONDS = 300


@dataclass(frozen=True)
class WafProps:
    settings: Settings
    stage_arn: str
    logs_kms_key_arn: str


class Waf(Construct):
    """Exposes `web_acl_arn`."""

    def __init__(self, scope: Construct, id_: str, *, props: WafProps):
        super().__init__(scope, id_)
        settings = props.settings
        prefix = settings.name_prefix
        metric = prefix.replace("-", "_")

        def visibility(name: str):
            return acl_.Wafv2WebAclRuleVisibilityConfig(
                cloudwatch_metrics_enabled=True, metric_name=f"{metric}_{name}", sampled_requests_enabled=True)

        rules = [acl_.Wafv2WebAclRule(
            name="rate-limit-per-ip", priority=0,
            action=acl_.Wafv2WebAclRuleAction(block=acl_.Wafv2WebAclRuleActionBlock()),
            statement={"rate_based_statement": {
                "limit": settings.waf_rate_limit, "aggregate_key_type": "IP",
                "evaluation_window_sec": RATE_WINDOW_SECONDS,
            }},
            visibility_config=visibility("rate_limit"),
        )]
        for priority, group in enumerate(MANAGED_RULE_GROUPS, start=1):
            counted = [rule for rule in MANAGED_RULES[group] if rule in settings.waf_count_rules]
            overrides = {"rule_action_override": [{"name": rule, "action_to_use": {"count": {}}}
                                                  for rule in counted]} if counted else {}
            rules.append(acl_.Wafv2WebAclRule(
                name=group, priority=priority,
                override_action=acl_.Wafv2WebAclRuleOverrideAction(none=acl_.Wafv2WebAclRuleOverrideActionNone()),
                statement={"managed_rule_group_statement": {"name": group, "vendor_name": "AWS", **overrides}},
                visibility_config=visibility(group),
            ))
        web_acl = acl_.Wafv2WebAcl(
            self, "web-acl", name=prefix, scope="REGIONAL", description=f"Protects the {prefix} API",
            default_action=acl_.Wafv2WebAclDefaultAction(allow=acl_.Wafv2WebAclDefaultActionAllow()),
            rule=rules,
            visibility_config=acl_.Wafv2WebAclVisibilityConfig(
                cloudwatch_metrics_enabled=True, metric_name=f"{metric}_web_acl", sampled_requests_enabled=True),
        )
        association_.Wafv2WebAclAssociation(self, "stage-association", resource_arn=props.stage_arn,
                                            web_acl_arn=web_acl.arn)
        # WAF delivers only to log groups whose name starts with aws-waf-logs-.
        logs = log_group_.CloudwatchLogGroup(self, "logs", name=f"aws-waf-logs-{prefix}",
                                             retention_in_days=settings.log_retention_days,
                                             kms_key_id=props.logs_kms_key_arn)
        # Only blocked and counted requests, when asked: a busy API's full log costs more than its WAF.
        kept = [logging_.Wafv2WebAclLoggingConfigurationLoggingFilterFilterCondition(
            action_condition=logging_.Wafv2WebAclLoggingConfigurationLoggingFilterFilterConditionActionCondition(
                action=action)) for action in ("BLOCK", "COUNT")]
        matched_only = None if settings.waf_log_all_requests else logging_.Wafv2WebAclLoggingConfigurationLoggingFilter(
            default_behavior="DROP", filter=[logging_.Wafv2WebAclLoggingConfigurationLoggingFilterFilter(
                behavior="KEEP", requirement="MEETS_ANY", condition=kept)])
        logging_.Wafv2WebAclLoggingConfiguration(
            self, "logging", resource_arn=web_acl.arn, log_destination_configs=[logs.arn],
            redacted_fields=[logging_.Wafv2WebAclLoggingConfigurationRedactedFields(
                single_header=logging_.Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader(name=header))
                for header in REDACTED_HEADERS],
            logging_filter=matched_only)
        self.web_acl_arn: str = web_acl.arn
