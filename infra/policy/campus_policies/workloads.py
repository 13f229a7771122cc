"""Finds pod templates and containers in Kubernetes resource inputs, whatever the kind."""

from collections.abc import Iterator, Mapping
from typing import Any

# Pulumi type token -> path from the object to its pod spec.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "kubernetes:core/v1:Pod": ("spec",),
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
# Workloads that run until stopped: these need probes; Jobs run to completion.
LONG_RUNNING = {
    "kubernetes:core/v1:Pod",
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:apps/v1:ReplicaSet",
}
REPLICATED = {"kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet"}


def pod_spec(resource_type: str, props: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The pod spec inside a workload's inputs, or None for other kinds."""
    path = POD_SPEC_PATHS.get(resource_type)
    if path is None:
        return None
    node: Any = props
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node if isinstance(node, Mapping) else None


def pod_labels(resource_type: str, props: Mapping[str, Any]) -> Mapping[str, str]:
    """Labels of the pods a workload creates."""
    path = POD_SPEC_PATHS.get(resource_type, ())
    node: Any = props
    for key in path[:-1]:
        node = node.get(key, {}) if isinstance(node, Mapping) else {}
    metadata = node.get("metadata", {}) if isinstance(node, Mapping) else {}
    return metadata.get("labels", {}) or {}


def containers(spec: Mapping[str, Any], init: bool = True) -> Iterator[Mapping[str, Any]]:
    """Every container of a pod spec (init containers too unless `init` is False)."""
    keys = ("initContainers", "containers") if init else ("containers",)
    for key in keys:
        for container in spec.get(key) or []:
            if isinstance(container, Mapping):
                yield container


def namespace(props: Mapping[str, Any]) -> str | None:
    """metadata.namespace of an object's inputs."""
    metadata = props.get("metadata") or {}
    return metadata.get("namespace") if isinstance(metadata, Mapping) else None


def name(props: Mapping[str, Any]) -> str:
    """metadata.name of an object's inputs (or '?')."""
    metadata = props.get("metadata") or {}
    return str(metadata.get("name", "?")) if isinstance(metadata, Mapping) else "?"
