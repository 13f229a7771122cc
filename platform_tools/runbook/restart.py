"""`runbook restart app`: a rolling restart, the way `kubectl rollout restart` does it.

The pod template gets a `kubectl.kubernetes.io/restartedAt` annotation: a template change, so
the Deployment rolls its pods out under its own strategy (maxUnavailable 0: capacity never
drops). Then the command waits, as `kubectl rollout status` does, until every replica runs the
new template and is available.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kubernetes.client.exceptions import ApiException

from platform_tools.run.errors import ProblemFound, UsageError
from platform_tools.runbook import targets as t
from platform_tools.runbook.kube import MERGE_PATCH, Kube, api_failure
from platform_tools.runbook.waiting import Waiter


@dataclass
class RolloutProgress:
    """The last state seen while waiting."""

    replicas: int = 0
    updated: int = 0
    available: int = 0
    old_left: int = 0
    message: str = ""


def read_deployment(kube: Kube, namespace: str, name: str, option: str) -> Any:
    """The Deployment; its absence is a usage error naming `option`."""
    try:
        return kube.apps.read_namespaced_deployment(name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            raise UsageError(f"no Deployment {namespace}/{name}", option) from None
        raise api_failure(f"read Deployment {namespace}/{name}", exc) from None


def restart_deployment(kube: Kube, namespace: str, name: str, now: datetime) -> str:
    """Stamp the pod template; returns the stamp."""
    stamp = now.isoformat(timespec="seconds")
    body = {"spec": {"template": {"metadata": {"annotations": {t.RESTARTED_AT_ANNOTATION: stamp}}}}}
    try:
        kube.apps.patch_namespaced_deployment(name, namespace, body, _content_type=MERGE_PATCH)
    except ApiException as exc:
        raise api_failure(f"patch Deployment {namespace}/{name}", exc) from None
    return stamp


def rollout_done(deployment: Any, progress: RolloutProgress) -> bool:
    """kubectl's rollout status rules: observed, all updated, no old pod left, all available."""
    spec, status = deployment.spec, deployment.status
    wanted = spec.replicas if spec.replicas is not None else 1
    observed = (status.observed_generation or 0) if status else 0
    progress.replicas = wanted
    progress.updated = (status.updated_replicas or 0) if status else 0
    progress.available = (status.available_replicas or 0) if status else 0
    progress.old_left = ((status.replicas or 0) if status else 0) - progress.updated
    for condition in (status.conditions or []) if status else []:
        if condition.type == "Progressing" and condition.reason == "ProgressDeadlineExceeded":
            raise ProblemFound(
                f"rollout of {deployment.metadata.name} exceeded its progress deadline: "
                f"{condition.message}"
            )
    if observed < (deployment.metadata.generation or 0):
        progress.message = "waiting for the controller to see the change"
        return False
    if progress.updated < wanted:
        progress.message = f"{progress.updated} of {wanted} replicas updated"
        return False
    if progress.old_left > 0:
        progress.message = f"{progress.old_left} old replicas pending termination"
        return False
    if progress.available < progress.updated:
        progress.message = f"{progress.available} of {progress.updated} updated replicas available"
        return False
    progress.message = "rolled out"
    return True


def wait_for_rollout(kube: Kube, namespace: str, name: str, waiter: Waiter) -> RolloutProgress:
    """Wait until the rollout is complete; ProblemFound on timeout or a stuck rollout."""
    progress = RolloutProgress()

    def done() -> bool:
        return rollout_done(read_deployment(kube, namespace, name, "TARGET"), progress)

    if not waiter.until(done):
        raise ProblemFound(
            f"rollout of {namespace}/{name} not finished after {waiter.timeout_seconds:g} s "
            f"({progress.message}); it goes on: watch it with "
            f"kubectl -n {namespace} rollout status deployment/{name}"
        )
    return progress
