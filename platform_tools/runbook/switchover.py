"""`runbook db-switchover`: move the CloudNativePG primary to a standby, planned.

This is what `kubectl cnpg promote CLUSTER INSTANCE` does at the pinned operator version
(1.29, chart 0.28.3, internal/cmd/plugin/promote): check that the instance's pod exists, then
patch the Cluster's *status* subresource with `targetPrimary`, `targetPrimaryTimestamp` (RFC
3339 with microseconds), phase "Switchover in progress", its reason, and the Ready condition
set to False, under an optimistic lock (a 409 is retried from a fresh read). The operator then
does the switchover. We add what on-call needs: a standby is chosen among the healthy
instances when none is named, a cluster that is not healthy or already switching is refused,
and the command waits until the operator reports the new primary.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from kubernetes.client.exceptions import ApiException

from platform_tools.run.errors import EnvironmentFailure, ProblemFound, UsageError
from platform_tools.runbook import targets as t
from platform_tools.runbook.kube import MERGE_PATCH, Kube, api_failure
from platform_tools.runbook.waiting import Waiter

PHASE_HEALTHY = "Cluster in healthy state"
PHASE_SWITCHOVER = "Switchover in progress"
CONFLICT_RETRIES = 5


@dataclass(frozen=True)
class SwitchoverPlan:
    """From which primary to which instance."""

    cluster: str
    current_primary: str
    target: str
    phase: str
    applied: bool
    completed: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def _read_cluster(kube: Kube, namespace: str, name: str) -> dict[str, Any]:
    try:
        return kube.custom.get_namespaced_custom_object(
            t.CNPG_GROUP, t.CNPG_VERSION, namespace, "clusters", name
        )
    except ApiException as exc:
        if exc.status == 404:
            raise UsageError(f"no CloudNativePG Cluster {namespace}/{name}", "--cluster") from None
        raise api_failure(f"read Cluster {namespace}/{name}", exc) from None


def instance_name(cluster: str, instance: str) -> str:
    """`2` means `CLUSTER-2`, as in the kubectl plugin."""
    return f"{cluster}-{instance}" if instance.isdigit() else instance


def plan_switchover(
    kube: Kube, namespace: str, name: str, instance: str | None, force: bool
) -> SwitchoverPlan:
    """Check the cluster and pick the target; refusals say why."""
    cluster = _read_cluster(kube, namespace, name)
    status = cluster.get("status") or {}
    current, target_primary = status.get("currentPrimary"), status.get("targetPrimary")
    phase = status.get("phase", "")
    if not current:
        raise ProblemFound(f"Cluster {namespace}/{name} reports no current primary")
    if target_primary and target_primary != current:
        raise ProblemFound(
            f"a switchover or failover to {target_primary} is already under way "
            f"(phase {phase!r}); wait for it"
        )
    if phase != PHASE_HEALTHY and not force:
        raise ProblemFound(
            f"Cluster {namespace}/{name} is not healthy (phase {phase!r}); "
            "a switchover now may make things worse (--force to insist)"
        )
    healthy = sorted((status.get("instancesStatus") or {}).get("healthy") or [])
    if instance is None:
        standbys = [pod for pod in healthy if pod != current]
        if not standbys:
            raise ProblemFound(f"Cluster {namespace}/{name} has no healthy standby to promote")
        target = standbys[0]
    else:
        target = instance_name(name, instance)
        if target != current and target not in healthy and not force:
            raise UsageError(
                f"{target} is not a healthy instance of {name} (healthy: "
                f"{', '.join(healthy) or 'none'})",
                "--to",
            )
    if target != current:
        try:
            kube.core.read_namespaced_pod(target, namespace)
        except ApiException as exc:
            if exc.status == 404:
                raise UsageError(f"no pod {namespace}/{target}", "--to") from None
            raise api_failure(f"read pod {namespace}/{target}", exc) from None
    return SwitchoverPlan(f"{namespace}/{name}", current, target, phase, applied=False)


def _ready_condition(conditions: list[dict[str, Any]], now: str) -> list[dict[str, Any]]:
    # The plugin's SetClusterReadyCondition: Ready turns False while the phase is not healthy;
    # lastTransitionTime moves only when the status changes (meta.SetStatusCondition).
    result = [dict(c) for c in conditions if c.get("type") != "Ready"]
    previous = next((c for c in conditions if c.get("type") == "Ready"), None)
    changed = previous is None or previous.get("status") != "False"
    result.append(
        {
            "type": "Ready",
            "status": "False",
            "reason": "ClusterIsNotReady",
            "message": "Cluster Is Not Ready",
            "lastTransitionTime": now if changed else previous.get("lastTransitionTime", now),
        }
    )
    return result


def request_switchover(kube: Kube, namespace: str, name: str, target: str, now: datetime) -> None:
    """Patch the Cluster status as the plugin does, retrying on conflict."""
    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    seconds = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for _ in range(CONFLICT_RETRIES):
        cluster = _read_cluster(kube, namespace, name)
        status = cluster.get("status") or {}
        if status.get("targetPrimary") == target:
            return
        body = {
            "metadata": {"resourceVersion": cluster["metadata"]["resourceVersion"]},
            "status": {
                "targetPrimary": target,
                "targetPrimaryTimestamp": stamp,
                "phase": PHASE_SWITCHOVER,
                "phaseReason": f"Switching over to {target}",
                "conditions": _ready_condition(status.get("conditions") or [], seconds),
            },
        }
        try:
            kube.custom.patch_namespaced_custom_object_status(
                t.CNPG_GROUP,
                t.CNPG_VERSION,
                namespace,
                "clusters",
                name,
                body,
                _content_type=MERGE_PATCH,
            )
            return
        except ApiException as exc:
            if exc.status != 409:
                raise api_failure(f"patch Cluster {namespace}/{name} status", exc) from None
    raise EnvironmentFailure(
        f"Cluster {namespace}/{name} kept changing under us ({CONFLICT_RETRIES} conflicts): rerun"
    )


def wait_for_primary(kube: Kube, namespace: str, name: str, target: str, waiter: Waiter) -> None:
    """Wait until the operator reports `target` as the healthy cluster's primary."""
    last: dict[str, Any] = {}

    def done() -> bool:
        status = _read_cluster(kube, namespace, name).get("status") or {}
        last.update(status)
        return status.get("currentPrimary") == target and status.get("phase") == PHASE_HEALTHY

    if not waiter.until(done):
        raise ProblemFound(
            f"switchover to {target} requested, not finished after {waiter.timeout_seconds:g} s "
            f"(primary {last.get('currentPrimary')}, phase {last.get('phase')!r}); "
            f"follow it with kubectl -n {namespace} get cluster {name} -w"
        )
