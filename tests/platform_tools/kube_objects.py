"""Kubernetes objects as `pulumi up` creates them (names from infra/campus_infra), for the
API stand-in: a cluster a test can start from and then change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.platform_tools.kube_api_standin import KubeApiStandIn

APP_LABELS = {
    "app.kubernetes.io/name": "campus-app",
    "app.kubernetes.io/part-of": "campus-platform",
}
NODES = ("node-a", "node-b", "node-c")
CREATED = "2026-11-01T00:00:00Z"


def deployment(
    replicas: int = 3, generation: int = 1, name: str = "campus-app", namespace: str = "campus"
) -> dict[str, Any]:
    """A Deployment (the app's by default), fully rolled out."""
    return {
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": APP_LABELS,
            "generation": generation,
            "creationTimestamp": CREATED,
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "campus-app"}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"},
            },
            "template": {
                "metadata": {"labels": APP_LABELS},
                "spec": {"containers": [{"name": "app", "image": "campus/app:1.0"}]},
            },
        },
        "status": {
            "observedGeneration": generation,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
        },
    }


def hpa(min_replicas: int = 3, max_replicas: int = 10, current: int = 3) -> dict[str, Any]:
    """The app's HorizontalPodAutoscaler."""
    return {
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "campus-app", "namespace": "campus", "labels": APP_LABELS},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "campus-app"},
            "minReplicas": min_replicas,
            "maxReplicas": max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70},
                    },
                }
            ],
        },
        "status": {"currentReplicas": current, "desiredReplicas": current},
    }


def pod(
    name: str,
    namespace: str = "campus",
    node: str = "node-a",
    labels: dict[str, str] | None = None,
    owner: str | None = "ReplicaSet",
    restarts: int = 0,
    waiting: str | None = None,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A running pod; `owner` None makes it unmanaged."""
    state: dict[str, Any] = {"waiting": {"reason": waiting}} if waiting else {"running": {}}
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "labels": labels if labels is not None else APP_LABELS,
        "annotations": annotations or {},
    }
    if owner:
        metadata["ownerReferences"] = [
            {"apiVersion": "apps/v1", "kind": owner, "name": f"{name}-owner", "uid": "o-1"}
        ]
    return {
        "kind": "Pod",
        "metadata": metadata,
        "spec": {"nodeName": node, "containers": [{"name": "app", "image": "campus/app:1.0"}]},
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "app",
                    "ready": waiting is None,
                    "restartCount": restarts,
                    "image": "campus/app:1.0",
                    "imageID": "",
                    "state": state,
                }
            ],
        },
    }


def node(name: str, unschedulable: bool = False) -> dict[str, Any]:
    """A worker node."""
    return {"kind": "Node", "metadata": {"name": name}, "spec": {"unschedulable": unschedulable}}


def pdb(allowed: int = 1) -> dict[str, Any]:
    """The app's PodDisruptionBudget (maxUnavailable 1)."""
    return {
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "campus-app", "namespace": "campus"},
        "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "campus-app"}},
        },
        "status": {
            "disruptionsAllowed": allowed,
            "currentHealthy": 3,
            "desiredHealthy": 2,
            "expectedPods": 3,
        },
    }


def cnpg_cluster(primary: str = "campus-db-1", phase: str = "Cluster in healthy state") -> dict:
    """The CloudNativePG Cluster `campus-db` with three healthy instances."""
    instances = [f"campus-db-{i}" for i in (1, 2, 3)]
    return {
        "kind": "Cluster",
        "metadata": {"name": "campus-db", "namespace": "campus-db"},
        "spec": {"instances": 3},
        "status": {
            "currentPrimary": primary,
            "targetPrimary": primary,
            "phase": phase,
            "instanceNames": instances,
            "instancesStatus": {"healthy": instances},
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "ClusterIsReady",
                    "message": "Cluster is Ready",
                    "lastTransitionTime": CREATED,
                }
            ],
        },
    }


def backup(name: str, stopped_at: str, phase: str = "completed") -> dict[str, Any]:
    """A CloudNativePG Backup of `campus-db`."""
    return {
        "kind": "Backup",
        "metadata": {"name": name, "namespace": "campus-db"},
        "spec": {"cluster": {"name": "campus-db"}, "method": "plugin"},
        "status": {"phase": phase, "stoppedAt": stopped_at},
    }


def kube_bench_job(name: str, created: str, succeeded: bool) -> dict[str, Any]:
    """One run of the kube-bench CronJob (its gate container decides success)."""
    return {
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": "kube-bench",
            "labels": {"app.kubernetes.io/name": "kube-bench"},
            "creationTimestamp": created,
        },
        "spec": {"template": {"spec": {"containers": []}}},
        "status": {"succeeded": 1} if succeeded else {"failed": 1},
    }


def campus_cluster(standin: KubeApiStandIn) -> None:
    """A healthy platform: 3 app pods over 3 nodes, PDB, HPA, database, backups, gate."""
    for name in NODES:
        standin.add(node(name))
    standin.add(deployment())
    standin.add(deployment(1, name="cnpg-controller-manager", namespace="cnpg-system"))
    standin.add(deployment(1, name="kube-prometheus-stack-operator", namespace="monitoring"))
    standin.add(hpa())
    standin.add(pdb())
    for index, name in enumerate(NODES):
        standin.add(pod(f"campus-app-{index}", node=name))
    for index, name in enumerate(NODES, start=1):
        standin.add(
            pod(
                f"campus-db-{index}",
                namespace="campus-db",
                node=name,
                labels={"cnpg.io/cluster": "campus-db"},
                owner="Cluster",
            )
        )
    standin.add(cnpg_cluster())
    # Backups are judged by their age now: the last one finished two hours ago.
    standin.add(backup("campus-db-daily-last", hours_ago(2)))
    standin.add(kube_bench_job("kube-bench-29000", hours_ago(1), succeeded=True))


def hours_ago(hours: float) -> str:
    """An RFC 3339 time `hours` before now, as the API writes them."""
    moment = datetime.now(UTC) - timedelta(hours=hours)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
