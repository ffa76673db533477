"""The AWS managed rule groups the web ACL runs, with the rules AWS publishes for each.

Source: AWS WAF Developer Guide, "Baseline rule groups" (core rule set) and "Known bad inputs". A rule named in
WAF_COUNT_RULES must be one of these; AWS would otherwise accept the override and silently match nothing.
"""

from __future__ import annotations

MANAGED_RULES: dict[str, tuple[str, ...]] = {
    "AWSManagedRulesCommonRuleSet": (
        "NoUserAgent_HEADER", "UserAgent_BadBots_HEADER", "SizeRestrictions_QUERYSTRING",
        "SizeRestrictions_Cookie_HEADER", "SizeRestrictions_BODY", "SizeRestrictions_URIPATH",
        "EC2MetaDataSSRF_BODY", "EC2MetaDataSSRF_COOKIE", "EC2MetaDataSSRF_URIPATH", "EC2MetaDataSSRF_QUERYARGUMENTS",
        "GenericLFI_QUERYARGUMENTS", "GenericLFI_URIPATH", "GenericLFI_BODY", "RestrictedExtensions_URIPATH",
        "RestrictedExtensions_QUERYARGUMENTS", "GenericRFI_QUERYARGUMENTS", "GenericRFI_BODY", "GenericRFI_URIPATH",
        "CrossSiteScripting_COOKIE", "CrossSiteScripting_QUERYARGUMENTS", "CrossSiteScripting_BODY",
        "CrossSiteScripting_URIPATH",
    ),
    "AWSManagedRulesKnownBadInputsRuleSet": (
        "JavaDeserializationRCE_HEADER", "JavaDeserializationRCE_BODY", "JavaDeserializationRCE_URIPATH",
        "JavaDeserializationRCE_QUERYSTRING", "Host_localhost_HEADER", "PROPFIND_METHOD", "ExploitablePaths_URIPATH",
        "Log4JRCE_HEADER", "Log4JRCE_QUERYSTRING", "Log4JRCE_BODY", "Log4JRCE_URIPATH", "ReactJSRCE_BODY",
    ),
}
MANAGED_RULE_GROUPS = tuple(MANAGED_RULES)
# Rules of the core rule set that block ordinary API traffic (docs/what-gets-created.md, "The WAF and your API").
API_SENSITIVE_RULES = {
    "SizeRestrictions_BODY": "blocks request bodies over 8 KB (8,192 bytes): file uploads, large JSON documents, batch "
                             "endpoints",
    "NoUserAgent_HEADER": "blocks requests without a `User-Agent` header: some HTTP clients, IoT devices and "
                          "server-to-server callers send none",
}
# Request headers WAF logs would otherwise keep in full (bearer tokens, SigV4 signatures, session cookies).
REDACTED_HEADERS = ("authorization", "cookie")


def group_of(rule: str) -> str | None:
    return next((group for group, rules in MANAGED_RULES.items() if rule in rules), None)
