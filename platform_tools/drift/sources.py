"""Turning Kubernetes objects and Helm releases into components (shared by both readers)."""

from __future__ import annotations

from typing import Any

from platform_tools.drift.model import StackState, flatten, split_images

# The kinds whose spec is configuration someone chose; policies and RBAC follow the model and
# are checked elsewhere (tests/infra).
WORKLOAD_KINDS = (
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "Ingress",
    "Cluster",
    "ScheduledBackup",
)
NAME_LABEL = "app.kubernetes.io/name"
CHART_LABEL = "helm.sh/chart"


def component_name(obj: dict[str, Any]) -> str:
    """`namespace/Kind/name`, the name label standing for generated names (a migration Job
    named after its image is the same component in every stack)."""
    metadata = obj.get("metadata") or {}
    labels = metadata.get("labels") or {}
    name = metadata.get("name", "?")
    if obj.get("kind") == "Job" and labels.get(NAME_LABEL):
        name = labels[NAME_LABEL]
    return f"{metadata.get('namespace') or '_cluster'}/{obj.get('kind')}/{name}"


def _without_pod_metadata(spec: dict[str, Any]) -> dict[str, Any]:
    spec = dict(spec)
    spec.pop("selector", None)
    template = spec.get("template")
    if isinstance(template, dict):
        spec["template"] = {k: v for k, v in template.items() if k != "metadata"}
    return spec


def add_object(state: StackState, obj: dict[str, Any]) -> None:
    """Record one object, when it is of a kind the report follows."""
    if obj.get("kind") not in WORKLOAD_KINDS:
        return
    component = state.component(component_name(obj))
    images, spec = split_images(_without_pod_metadata(obj.get("spec") or {}))
    component.images |= images
    component.config.update(flatten(spec, "spec"))
    chart = ((obj.get("metadata") or {}).get("labels") or {}).get(CHART_LABEL)
    if chart:
        component.chart = chart


def add_release(state: StackState, release: dict[str, Any]) -> None:
    """Record one Helm release: its chart version, the images and keys of its values."""
    name = f"{release.get('namespace', '?')}/HelmRelease/{release.get('name', '?')}"
    component = state.component(name)
    component.chart = f"{release.get('chart')}-{release.get('version')}"
    images, values = split_images(release.get("values") or {})
    component.images |= images
    component.config.update(flatten(values, "values"))
