"""Kubernetes building blocks shared by the components: names, labels, hardened pods."""

from typing import Any

NS_APP = "campus"
NS_DB = "campus-db"
NS_MONITORING = "monitoring"
NS_FALCO = "falco"
NS_KUBE_BENCH = "kube-bench"
NS_ARGOCD = "argocd"
NS_LOAD = "campus-load"
NS_CNPG = "cnpg-system"

DB_CLUSTER = "campus-db"
APP_NAME = "campus-app"
APP_PORT = 8000
OTEL_SERVICE = "otel-collector"
# The app's gauge of requests being served (multiprocess livesum: one value per pod), which
# the Prometheus adapter serves to the app's HPA.
IN_FLIGHT_METRIC = "campus_http_requests_in_flight"
PART_OF = "campus-platform"
# Pods of ours that open database connections (the app and its migration Job) carry this.
DB_CLIENT_PODS = {"app.kubernetes.io/part-of": PART_OF, "campus.example.org/db-client": "true"}
# The node exporter's textfile directory on every node (playbooks/roles/k8s_node makes it
# root:10001 0775 so the kube-bench gate, uid 10001, can write its metrics there).
TEXTFILE_DIR = "/var/lib/node_exporter/textfile_collector"
# The image's user (Containerfile): uid and gid 10001, no login shell.
APP_UID = 10001


def labels(name: str, component: str, **extra: str) -> dict[str, str]:
    """Recommended labels; `name` is the selector key every policy matches on."""
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
        **extra,
    }


def selector(name: str) -> dict[str, str]:
    """The immutable part of the labels, for selectors."""
    return {"app.kubernetes.io/name": name}


def restricted_pod_security(uid: int = APP_UID) -> dict[str, Any]:
    """Pod-level fields of the Pod Security `restricted` profile."""
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "fsGroup": uid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def restricted_container_security(uid: int = APP_UID) -> dict[str, Any]:
    """Container-level fields of `restricted`, plus a read-only root filesystem."""
    return {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def tmp_volume() -> tuple[dict[str, Any], dict[str, Any]]:
    """The only writable path of our containers: /tmp on a size-capped emptyDir."""
    volume = {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}
    mount = {"name": "tmp", "mountPath": "/tmp"}  # noqa: S108 (a path in the container)
    return volume, mount


def checkov_skips(**reasons: str) -> dict[str, str]:
    """Annotations that tell checkov which checks do not apply to this object, and why.

    Keys are check ids (CKV_K8S_43=...); the reason is kept next to the resource so a
    reviewer sees it where the exception is made.
    """
    return {
        f"checkov.io/skip{i}": f"{check}={reason}"
        for i, (check, reason) in enumerate(sorted(reasons.items()), start=1)
    }


# Checks that cannot pass for reasons outside any one manifest, shared by our workloads.
DIGEST_SKIP = {
    "CKV_K8S_43": "images pinned by exact tag in code; CI renders the app by digest",
}
