"""`runbook surge-prepare` and `surge-end`: raise the HPA floor before a rush, then restore it.

The previous floor and ceiling are written in an annotation on the HPA itself, so `surge-end`
restores exactly what was there, whoever runs it and from wherever. Running `surge-prepare`
again (another floor) keeps the values saved the first time. Every write carries the
resourceVersion it was computed from: a concurrent change makes it 409, and the change is
recomputed from a fresh read.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from kubernetes.client.exceptions import ApiException

from platform_tools.run.errors import EnvironmentFailure, ProblemFound, UsageError
from platform_tools.runbook import targets as t
from platform_tools.runbook.kube import MERGE_PATCH, Kube, api_failure

CONFLICT_RETRIES = 5


@dataclass(frozen=True)
class HpaChange:
    """What surge-prepare or surge-end does to the HPA's floor and ceiling."""

    hpa: str
    min_before: int
    max_before: int
    min_after: int
    max_after: int
    saved: dict[str, int] | None  # what the annotation remembers (None once restored)
    applied: bool

    @property
    def changes_anything(self) -> bool:
        """False when the HPA already is as wanted."""
        return (self.min_before, self.max_before) != (self.min_after, self.max_after)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**asdict(self), "changes_anything": self.changes_anything}


def _read(kube: Kube, namespace: str, name: str) -> Any:
    try:
        return kube.autoscaling.read_namespaced_horizontal_pod_autoscaler(name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            raise UsageError(f"no HorizontalPodAutoscaler {namespace}/{name}", "--hpa") from None
        raise api_failure(f"read HPA {namespace}/{name}", exc) from None


def _saved(hpa: Any) -> dict[str, int] | None:
    raw = (hpa.metadata.annotations or {}).get(t.SURGE_ANNOTATION)
    if raw is None:
        return None
    try:
        saved = json.loads(raw)
        if not (
            isinstance(saved.get("minReplicas"), int) and isinstance(saved.get("maxReplicas"), int)
        ):
            raise ValueError
    except (ValueError, AttributeError):
        raise ProblemFound(
            f"annotation {t.SURGE_ANNOTATION} holds {raw!r}, not the saved floor and ceiling: "
            "restore them by hand (kubectl patch hpa) and remove the annotation"
        ) from None
    return {"minReplicas": saved["minReplicas"], "maxReplicas": saved["maxReplicas"]}


def _write(kube: Kube, namespace: str, name: str, body: dict[str, Any]) -> bool:
    """Patch; False on a 409 (someone changed the HPA since it was read)."""
    try:
        kube.autoscaling.patch_namespaced_horizontal_pod_autoscaler(
            name, namespace, body, _content_type=MERGE_PATCH
        )
    except ApiException as exc:
        if exc.status == 409:
            return False
        raise api_failure(f"patch HPA {namespace}/{name}", exc) from None
    return True


def surge_prepare(
    kube: Kube, namespace: str, name: str, min_replicas: int, *, apply: bool
) -> HpaChange:
    """Raise the floor to `min_replicas` (and the ceiling to at least it), saving the old ones."""
    for _ in range(CONFLICT_RETRIES):
        hpa = _read(kube, namespace, name)
        current_min, current_max = hpa.spec.min_replicas or 1, hpa.spec.max_replicas
        saved = _saved(hpa)
        if saved is None:
            if min_replicas <= current_min:
                raise UsageError(
                    f"{min_replicas} does not raise the floor of {namespace}/{name} "
                    f"(now {current_min})",
                    "--min-replicas",
                )
            saved = {"minReplicas": current_min, "maxReplicas": current_max}
        new_max = max(current_max, min_replicas)
        change = HpaChange(
            f"{namespace}/{name}", current_min, current_max, min_replicas, new_max, saved, apply
        )
        if not apply or not change.changes_anything:
            return change
        body = {
            "metadata": {
                "resourceVersion": hpa.metadata.resource_version,
                "annotations": {t.SURGE_ANNOTATION: json.dumps(saved, sort_keys=True)},
            },
            "spec": {"minReplicas": min_replicas, "maxReplicas": new_max},
        }
        if _write(kube, namespace, name, body):
            return change
    raise EnvironmentFailure(
        f"HPA {namespace}/{name} kept changing under us ({CONFLICT_RETRIES} conflicts): rerun"
    )


def surge_end(kube: Kube, namespace: str, name: str, *, apply: bool) -> HpaChange:
    """Restore the saved floor and ceiling and drop the annotation; nothing saved, no change."""
    for _ in range(CONFLICT_RETRIES):
        hpa = _read(kube, namespace, name)
        current_min, current_max = hpa.spec.min_replicas or 1, hpa.spec.max_replicas
        saved = _saved(hpa)
        if saved is None:
            return HpaChange(
                f"{namespace}/{name}",
                current_min,
                current_max,
                current_min,
                current_max,
                None,
                apply,
            )
        change = HpaChange(
            f"{namespace}/{name}",
            current_min,
            current_max,
            saved["minReplicas"],
            saved["maxReplicas"],
            None,
            apply,
        )
        if not apply:
            return change
        body = {
            "metadata": {
                "resourceVersion": hpa.metadata.resource_version,
                "annotations": {t.SURGE_ANNOTATION: None},
            },
            "spec": {"minReplicas": saved["minReplicas"], "maxReplicas": saved["maxReplicas"]},
        }
        if _write(kube, namespace, name, body):
            return change
    raise EnvironmentFailure(
        f"HPA {namespace}/{name} kept changing under us ({CONFLICT_RETRIES} conflicts): rerun"
    )
