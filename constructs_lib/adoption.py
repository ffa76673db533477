"""Objects that may exist before the stack manages them, adopted by `import` blocks instead of created twice: made
by AWS (a service writing to a group of its own name), or kept by an earlier apply (a worker's ECS log group outlives
its name, and comes back when the name does).

The blocks go to `imports.tf` (HCL) beside each platform stack's cdk.tf.json, not into it: checkov (3.3) cannot
parse a top-level `import` (nor `terraform.required_version`) in Terraform JSON, and then scans none of the file.
Synth writes the file every time, with no block when there is nothing to adopt, so a block never outlives the
resource it names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_cloudwatch_log_groups import DataAwsCloudwatchLogGroups
from constructs import Construct

IMPORTS_FILE = "imports.tf"


@dataclass(frozen=True)
class Adoption:
    """Import `name` into `to` when, and only when, `found` (a list expression known at plan time) holds it."""

    to: str      # resource address
    name: str    # the object's import id, a plain string
    found: str   # Terraform expression of the names that exist (a data source's list)
    # Where an earlier release kept such an object: a `removed` block forgets it there (never destroys it), and this
    # import adopts it at `to` in the same apply. A moved block would carry the old object to `to` even when its name
    # changed in that apply, and the replacement would then delete it with the old state's lifecycle.
    previous_address: str = ""


def imports_tf(adoptions: tuple[Adoption, ...], forgotten: tuple[str, ...] = ()) -> str:
    """The import blocks of `adoptions`, and a `removed` block (destroy = false) per address of `forgotten`: an
    earlier layout's resources Terraform lets go of without deleting them (a block for an address not in the state
    does nothing)."""
    lines = ["# Written by synth, rewritten on every synth: edits are lost (constructs_lib/adoption.py).",
             "# An import block whose for_each is empty imports nothing; once imported, it is a no-op.", ""]
    if adoptions or forgotten:
        # for_each in an import block, removed blocks; here, not in cdk.tf.json, whose required_version checkov
        # cannot parse.
        lines += ["terraform {", '  required_version = ">= 1.7"', "}", ""]
    for adoption in adoptions:
        name = json.dumps(adoption.name)  # an HCL string literal: JSON's escapes are HCL's
        lines += ["import {",
                  f"  for_each = toset([for name in {adoption.found} : name if name == {name}])",
                  f"  to       = {adoption.to}",
                  "  id       = each.value",
                  "}", ""]
        if adoption.previous_address:
            # Not in the state (a stack applied since, or a new worker): nothing to forget, no message.
            lines += ["removed {",
                      f"  from = {adoption.previous_address}",
                      "  lifecycle {",
                      "    destroy = false",
                      "  }",
                      "}", ""]
    for address in forgotten:
        lines += ["removed {", f"  from = {address}", "  lifecycle {", "    destroy = false", "  }", "}", ""]
    return "\n".join(lines)


def aws_named_log_group(scope: Construct, id_: str, *, name: str, address: str, kms_key_arn: str,
                        retention_days: int, skip_destroy: bool = False) -> tuple[CloudwatchLogGroup, Adoption]:
    """The group a service writes to under a name of its own, made first (encrypted, bounded), and its adoption
    for when it exists already: the service made it (unencrypted, kept forever) before the stack managed it, or,
    with `skip_destroy`, an earlier apply kept it when it left the configuration.

    `address` pins the group's Terraform address (the import block names it); the lookup is `<address>_existing`.
    A name prefix also finds longer names (another's ".../postgresql-x"): the block takes the exact one only.
    An import into an address the state holds with another object is skipped, and the create then fails on the
    name: an address that only ever holds one name (one derived from the name) cannot meet that.
    """
    group = CloudwatchLogGroup(scope, id_, name=name, retention_in_days=retention_days, kms_key_id=kms_key_arn,
                               skip_destroy=skip_destroy or None)
    group.override_logical_id(address)
    existing = DataAwsCloudwatchLogGroups(scope, f"{id_}-existing", log_group_name_prefix=name)
    existing.override_logical_id(f"{address}_existing")
    return group, Adoption(to=f"aws_cloudwatch_log_group.{address}", name=name,
                           found=f"data.aws_cloudwatch_log_groups.{address}_existing.log_group_names")
