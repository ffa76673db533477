"""AWS naming rules that our settings feed, checked when settings load (so AWS never refuses a name at apply).

Every name of a stack starts with `<PROJECT_NAME>-<ENVIRONMENT>`, and ENVIRONMENT is letters and digits
only, so the rules below about a name's start or its hyphens are rules on PROJECT_NAME. Lengths are not
checked here: names longer than a service allows are shortened with a stable hash (`discovery.shorten`).
"""

from __future__ import annotations

import ipaddress
import re

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
