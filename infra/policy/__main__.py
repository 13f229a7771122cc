"""Policy pack entry point for `pulumi preview --policy-pack infra/policy`."""

from campus_policies.rules import POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name="campus-platform",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=POLICIES,
)
