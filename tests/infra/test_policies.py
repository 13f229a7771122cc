"""The CrossGuard policy pack (infra/policy) over the inputs captured under mocks.

Stand-in: there is no Pulumi engine here to call the pack over gRPC, so the tests build
the same argument objects the engine would (pulumi_policy's own ResourceValidationArgs,
StackValidationArgs, PolicyResource) from each captured resource and call each policy's
`validate` with a collecting `report_violation`.
"""

import copy
from typing import Any

import pytest
from campus_policies.rules import POLICIES
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from tests.infra.conftest import STACKS, Rendered

BY_NAME = {policy.name: policy for policy in POLICIES}


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def _urn(record: dict[str, Any]) -> str:
    return f"urn:pulumi:test::campus-platform::{record['type']}::{record['name']}"


def violations(records: list[dict[str, Any]], only: str | None = None) -> list[str]:
    """Every violation the pack reports for these resources, as 'policy: message'."""
    found: list[str] = []
    for policy in POLICIES:
        if only and policy.name != only:
            continue

        def report(message: str, urn: str | None = None, policy=policy) -> None:
            found.append(f"{policy.name}: {message}")

        custom = [r for r in records if r["custom"]]
        if isinstance(policy, ResourceValidationPolicy):
            for record in custom:
                args = ResourceValidationArgs(record["type"], record["inputs"], _urn(record),
                                              record["name"], _options(), None)  # fmt: skip
                policy.validate(args, report)
        elif isinstance(policy, StackValidationPolicy):
            resources = [
                PolicyResource(
                    r["type"], r["inputs"], _urn(r), r["name"], _options(), None, None, [], {}
                )
                for r in custom
            ]
            policy.validate(StackValidationArgs(resources), report)
    return found


def test_the_pack_holds_the_rules_of_the_issue():
    assert set(BY_NAME) == {
        "pod-security-restricted",
        "probes-and-resources",
        "no-latest-tag",
        "secrets-never-inline",
        "pods-selected-by-default-deny",
        "pdb-when-replicated",
    }


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_passes_every_policy(rendered: dict[str, Rendered], stack):
    assert violations(rendered[stack].records) == []


def _mutate(records: list[dict], type_: str, name: str, change) -> list[dict]:
    copied = copy.deepcopy(records)
    # The migration Job is named per image (campus-migrate-<hash>): a prefix finds it.
    (target,) = [r for r in copied if r["type"] == type_ and r["name"].startswith(name)
                 and (r["name"] == name or type_.endswith(":Job"))]  # fmt: skip
    change(target["inputs"])
    return copied


DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def _app_container(inputs: dict) -> dict:
    return inputs["spec"]["template"]["spec"]["containers"][0]


@pytest.mark.parametrize(
    ("policy", "type_", "name", "change", "expected"),
    [
        ("pod-security-restricted", DEPLOYMENT, "campus-app",
         lambda i: _app_container(i)["securityContext"].update(allowPrivilegeEscalation=True),
         "allowPrivilegeEscalation"),
        ("pod-security-restricted", DEPLOYMENT, "campus-app",
         lambda i: i["spec"]["template"]["spec"].update(hostNetwork=True), "hostNetwork"),
        ("pod-security-restricted", DEPLOYMENT, "campus-app",
         lambda i: _app_container(i)["securityContext"]["capabilities"].update(drop=[]),
         "drop ALL"),
        ("pod-security-restricted", DEPLOYMENT, "campus-app",
         lambda i: i["spec"]["template"]["spec"].pop("automountServiceAccountToken"),
         "automountServiceAccountToken"),
        ("pod-security-restricted", "kubernetes:postgresql.cnpg.io/v1:Cluster", "campus-db",
         lambda i: i["spec"].update(postgresUID=0), "postgresUID"),
        ("probes-and-resources", DEPLOYMENT, "campus-app",
         lambda i: _app_container(i).pop("readinessProbe"), "no readinessProbe"),
        ("probes-and-resources", "kubernetes:batch/v1:Job", "campus-migrate",
         lambda i: i["spec"]["template"]["spec"]["containers"][0]["resources"].pop("limits"),
         "no memory limit"),
        ("no-latest-tag", DEPLOYMENT, "campus-app",
         lambda i: _app_container(i).update(image="registry.example.org/campus/app:latest"),
         "latest"),
        ("no-latest-tag", DEPLOYMENT, "campus-app",
         lambda i: _app_container(i).update(image="registry.example.org:5000/campus/app"),
         "no tag"),
        ("secrets-never-inline", DEPLOYMENT, "campus-app",
         lambda i: _app_container(i)["env"].append({"name": "DB_PASSWORD", "value": "hunter2"}),
         "DB_PASSWORD"),
        ("secrets-never-inline", DEPLOYMENT, "campus-app",
         lambda i: _app_container(i)["env"].append(
             {"name": "UPSTREAM", "value": "postgresql://campus:hunter2@db/campus"}),
         "URL with a password"),
        ("pods-selected-by-default-deny", "kubernetes:networking.k8s.io/v1:NetworkPolicy",
         "campus-default-deny", lambda i: i["spec"].update(policyTypes=["Ingress"]),
         "Deployment campus/campus-app"),
        ("pdb-when-replicated", "kubernetes:policy/v1:PodDisruptionBudget", "campus-app",
         lambda i: i["spec"]["selector"].update(matchLabels={"app.kubernetes.io/name": "x"}),
         "Deployment campus-app"),
        ("pdb-when-replicated", "kubernetes:postgresql.cnpg.io/v1:Cluster", "campus-db",
         lambda i: i["spec"].update(enablePDB=False), "enablePDB"),
    ],
)  # fmt: skip
def test_each_policy_reports_what_it_forbids(rendered, policy, type_, name, change, expected):
    records = _mutate(rendered["prod"].records, type_, name, change)
    found = violations(records, only=policy)
    assert any(expected in v for v in found), found


def test_an_inline_secret_object_is_reported():
    secret = {"type": "kubernetes:core/v1:Secret", "name": "db", "custom": True,
              "inputs": {"metadata": {"name": "db", "namespace": "campus"},
                         "stringData": {"password": "hunter2"}}}  # fmt: skip
    assert violations([secret], only="secrets-never-inline")


def test_only_the_declared_copy_of_the_operator_secret_may_carry_data(rendered):
    (copy,) = [r for r in rendered["prod"].records if r["type"] == "kubernetes:core/v1:Secret"
               and "read" not in r]  # fmt: skip
    assert violations([copy], only="secrets-never-inline") == []
    renamed = _mutate([copy], copy["type"], copy["name"],
                      lambda i: i["metadata"].update(name="other"))  # fmt: skip
    assert violations(renamed, only="secrets-never-inline")
    unannotated = _mutate([copy], copy["type"], copy["name"],
                          lambda i: i["metadata"].pop("annotations"))  # fmt: skip
    assert violations(unannotated, only="secrets-never-inline")
