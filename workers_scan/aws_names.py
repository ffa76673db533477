"""AWS naming rules that our settings feed, checked when settings load (so AWS never refuses a name at apply).

Every name of a stack starts with `<PROJECT_NAME>-<ENVIRONMENT>`, and ENVIRONMENT is letters and digits
only, so the rules below about a name's start or its hyphens are rules on PROJECT_NAME. Lengths are not
refused: a name longer than its service allows is shortened with a stable hash (`shorten`), to the limits below.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re

# Name length limits, as each service documents them.
APPRUNNER_NAME_MAX = 40          # App Runner service, VPC connector and VPC ingress connection names: 4-40
APPRUNNER_CONFIG_NAME_MAX = 32   # App Runner auto scaling and observability configuration names: 4-32
ELB_NAME_MAX = 32                # Elastic Load Balancing load balancer and target group names
RDS_IDENTIFIER_MAX = 63          # RDS DB cluster and DB instance identifiers
ELASTICACHE_ID_MAX = 40          # ElastiCache replication group ids
IAM_ROLE_NAME_MAX = 64           # IAM role names
EVENT_RULE_NAME_MAX = 64         # EventBridge rule names


def short_hash(*values) -> str:
    """A stable 6-hex digest of `values` (for names that must change when those values do)."""
    return hashlib.sha256("\x1f".join(map(str, values)).encode()).hexdigest()[:6]


def shorten(full: str, limit: int, suffix: str = "") -> str:
    """`full` + `suffix` if it fits in `limit` characters, else a prefix of `full` plus a stable 6-hex hash of
    it, then `suffix` (kept whole: it is what tells names apart)."""
    limit -= len(suffix)
    if len(full) <= limit:
        return full + suffix
    return f"{full[:limit - 7].rstrip('-_')}-{short_hash(full)}{suffix}"

# (rule, services that enforce it, test on the project name): each is an AWS-documented naming constraint.
PROJECT_NAME_RULES: tuple[tuple[str, str, object], ...] = (
    # RDS DB cluster/instance identifiers and ElastiCache replication group ids: "can't contain two consecutive
    # hyphens".
    ("may not contain two consecutive hyphens", "RDS and ElastiCache identifiers", lambda name: "--" in name),
    # Elastic Load Balancing: a load balancer name "must not begin with internal-".
    ("may not start with 'internal-' or be 'internal'", "load balancer names",
     lambda name: f"{name}-".startswith("internal-")),
    # EC2 security group names "cannot start with sg-".
    ("may not start with 'sg-' or be 'sg'", "security group names", lambda name: f"{name}-".startswith("sg-")),
)

# S3 general purpose bucket naming rules beyond the character set and length.
BUCKET_PREFIXES_RESERVED = ("xn--", "sthree-", "amzn-s3-demo-")
BUCKET_SUFFIXES_RESERVED = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def project_name_problems(name: str) -> list[str]:
    return [f"{rule} ({services} refuse it)" for rule, services, broken in PROJECT_NAME_RULES if broken(name)]


def bucket_name_problems(name: str) -> list[str]:
    problems = []
    if ".." in name:
        problems.append("may not contain two adjacent periods")
    if re.fullmatch(r"[\d.]+", name):
        try:
            ipaddress.IPv4Address(name)
            problems.append("may not be formatted as an IP address")
        except ValueError:
            pass
    problems += [f"may not start with {p!r} (reserved by S3)" for p in BUCKET_PREFIXES_RESERVED if name.startswith(p)]
    problems += [f"may not end with {s!r} (reserved by S3)" for s in BUCKET_SUFFIXES_RESERVED if name.endswith(s)]
    return problems
