"""The AWS provider of a stack, with the tags every resource carries."""

from __future__ import annotations

from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags

MANAGED_BY = "cdktf-apprunner-platform"


def add_aws_provider(stack: TerraformStack, *, region: str, tags: dict[str, str]) -> None:
    """`tags` plus ManagedBy become the provider's default_tags, so every resource has them."""
    AwsProvider(stack, "aws", region=region,
                          default_tags=[AwsProviderDefaultTags(tags={**tags, "ManagedBy": MANAGED_BY})])
