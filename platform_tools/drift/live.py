"""The stacks as their clusters run them, read through the official `kubernetes` client.

Each stack is one cluster, reached through a kubeconfig context: `--context STACK=CONTEXT`,
else the stack file's `kubernetes:context` (Pulumi.<stack>.yaml), else the stack's name.
Chart versions come from the `helm.sh/chart` label charts put on their workloads.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from platform_tools.drift.model import StackState
from platform_tools.drift.sources import add_object
from platform_tools.run.errors import EnvironmentFailure, UsageError
from platform_tools.runbook.kube import Kube, api_failure, connect

# CloudNativePG's database clusters: a custom resource, absent where the operator is not.
CNPG = ("postgresql.cnpg.io", "v1", "clusters", "Cluster")


def context_for(stack: str, given: dict[str, str], stack_files: Path) -> str:
    """The kubeconfig context of `stack`."""
    if stack in given:
        return given[stack]
    path = stack_files / f"Pulumi.{stack}.yaml"
    if path.is_file():
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            document = {}
        context = (document.get("config") or {}).get("kubernetes:context")
        if isinstance(context, str) and context:
            return context
    return stack


def parse_contexts(values: list[str]) -> dict[str, str]:
    """`STACK=CONTEXT` options as a mapping; a malformed one is a usage error."""
    result = {}
    for value in values:
        stack, sep, context = value.partition("=")
        if not sep or not stack.strip() or not context.strip():
            raise UsageError(f"expected STACK=CONTEXT, got {value!r}", "--context")
        result[stack.strip()] = context.strip()
    return result


def read_live(stack: str, kubeconfig: Path | None, context: str) -> StackState:
    """One stack's state from its cluster."""
    kube = connect(kubeconfig, context)
    try:
        state = StackState(stack)
        listers: list[tuple[str, str, Callable[..., Any]]] = [
            ("Deployment", "apps/v1", kube.apps.list_deployment_for_all_namespaces),
            ("StatefulSet", "apps/v1", kube.apps.list_stateful_set_for_all_namespaces),
            ("DaemonSet", "apps/v1", kube.apps.list_daemon_set_for_all_namespaces),
            ("Job", "batch/v1", kube.batch.list_job_for_all_namespaces),
            ("CronJob", "batch/v1", kube.batch.list_cron_job_for_all_namespaces),
            (
                "HorizontalPodAutoscaler",
                "autoscaling/v2",
                kube.autoscaling.list_horizontal_pod_autoscaler_for_all_namespaces,
            ),
        ]
        for kind, api_version, lister in listers:
            for item in _items(kube, f"list {kind}s in context {context}", lister):
                add_object(state, {"apiVersion": api_version, "kind": kind, **item})
        group, version, plural, kind = CNPG
        for item in _items(
            kube,
            f"list {kind}s in context {context}",
            kube.custom.list_cluster_custom_object,
            group,
            version,
            plural,
        ):
            add_object(state, {**item, "kind": kind})
        return state
    finally:
        kube.close()


def _items(kube: Kube, what: str, lister: Callable[..., Any], *args: Any) -> list[dict]:
    """The listed objects as plain dicts (the API's own field names); a kind the cluster does
    not serve (404: no such CRD) lists nothing."""
    try:
        answer = lister(*args)
    except ApiException as exc:
        if exc.status == 404:
            return []
        raise api_failure(what, exc) from None
    except HTTPError as exc:
        raise EnvironmentFailure(f"{what}: the API server does not answer ({exc})") from None
    document = answer if isinstance(answer, dict) else kube.api.sanitize_for_serialization(answer)
    return [item for item in document.get("items") or [] if isinstance(item, dict)]
