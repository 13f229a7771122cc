"""`platform-tools runbook status`: the platform's health in one screen, read-only.

Each check reads one thing and ends in a finding: ok, problem or unknown (the API refused or the
object is absent). One failing check never hides the others: at 3 a.m. a partial picture is
better than none.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from platform_tools.run.errors import EnvironmentFailure, ToolError
from platform_tools.runbook import targets as t
from platform_tools.runbook.kube import Kube, call

# The same threshold as CampusBackupTooOld: backups run daily, one slow run is tolerated.
BACKUP_MAX_AGE_SECONDS = 26 * 3600
PVC_USAGE_LIMIT = 0.85
RESTARTS_NOTED = 5


@dataclass(frozen=True)
class Finding:
    """One check's outcome."""

    check: str
    subject: str
    state: str  # "ok", "problem" or "unknown"
    detail: str

    def as_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class StatusTargets:
    """Where to look (the option defaults are what `pulumi up` creates)."""

    app_namespace: str = t.APP_NAMESPACE
    hpa: str = t.APP_HPA
    db_namespace: str = t.DB_NAMESPACE
    db_cluster: str = t.DB_CLUSTER
    kube_bench_namespace: str = t.KUBE_BENCH_NAMESPACE
    operator_namespaces: tuple[str, ...] = t.OPERATOR_NAMESPACES


def collect_status(kube: Kube, where: StatusTargets, now: datetime) -> list[Finding]:
    """Every check, in a fixed order."""
    checks: list[tuple[str, Callable[[], list[Finding]]]] = [
        ("deployments", lambda: _deployments(kube, where)),
        ("pods", lambda: _pods(kube, where)),
        ("hpa", lambda: _hpa(kube, where)),
        ("pvc", lambda: _volumes(kube, where)),
        ("backup", lambda: _backup(kube, where, now)),
        ("kube-bench", lambda: _kube_bench(kube, where)),
    ]
    findings: list[Finding] = []
    for name, check in checks:
        try:
            findings.extend(check())
        except ToolError as exc:
            findings.append(Finding(name, "-", "unknown", exc.message))
    return findings


def _deployments(kube: Kube, where: StatusTargets) -> list[Finding]:
    found = []
    for namespace in (where.app_namespace, *where.operator_namespaces):
        items = call(
            f"list deployments in {namespace}", kube.apps.list_namespaced_deployment, namespace
        ).items
        for item in items:
            wanted = item.spec.replicas if item.spec.replicas is not None else 1
            ready = (item.status.ready_replicas if item.status else None) or 0
            state = "ok" if ready >= wanted else "problem"
            found.append(
                Finding(
                    "deployments",
                    f"{namespace}/{item.metadata.name}",
                    state,
                    f"{ready}/{wanted} ready",
                )
            )
        if not items:
            found.append(Finding("deployments", namespace, "problem", "no deployment"))
    return found


def _pods(kube: Kube, where: StatusTargets) -> list[Finding]:
    found = []
    for namespace in (where.app_namespace, where.db_namespace):
        pods = call(f"list pods in {namespace}", kube.core.list_namespaced_pod, namespace).items
        for pod in pods:
            statuses = (pod.status.container_statuses if pod.status else None) or []
            restarts = sum(s.restart_count or 0 for s in statuses)
            crashing = [
                s.name
                for s in statuses
                if s.state and s.state.waiting and s.state.waiting.reason == "CrashLoopBackOff"
            ]
            subject = f"{namespace}/{pod.metadata.name}"
            if crashing:
                found.append(
                    Finding(
                        "pods",
                        subject,
                        "problem",
                        f"CrashLoopBackOff ({', '.join(crashing)}), {restarts} restarts",
                    )
                )
            elif restarts >= RESTARTS_NOTED:
                found.append(Finding("pods", subject, "problem", f"{restarts} restarts"))
        if not any(f.subject.startswith(f"{namespace}/") for f in found):
            found.append(Finding("pods", namespace, "ok", f"{len(pods)} pods, none restarting"))
    return found


def _hpa(kube: Kube, where: StatusTargets) -> list[Finding]:
    hpa = call(
        f"read HPA {where.app_namespace}/{where.hpa}",
        kube.autoscaling.read_namespaced_horizontal_pod_autoscaler,
        where.hpa,
        where.app_namespace,
    )
    current = (hpa.status.current_replicas if hpa.status else None) or 0
    maximum = hpa.spec.max_replicas
    surge = (hpa.metadata.annotations or {}).get(t.SURGE_ANNOTATION)
    detail = f"{current} replicas (min {hpa.spec.min_replicas}, max {maximum})"
    if surge:
        detail += "; surge floor set (surge-end restores it)"
    state = "problem" if current >= maximum else "ok"
    if state == "problem":
        detail += ": at maximum"
    return [Finding("hpa", f"{where.app_namespace}/{where.hpa}", state, detail)]


def _volumes(kube: Kube, where: StatusTargets) -> list[Finding]:
    # The API has no PVC usage; the kubelets' summaries do, per mounted volume.
    namespaces = {where.app_namespace, where.db_namespace, where.kube_bench_namespace}
    found: dict[str, Finding] = {}
    for node in call("list nodes", kube.core.list_node).items:
        # Raw bytes: the client would turn the proxied JSON into a Python repr string.
        response = call(
            f"read the kubelet summary of {node.metadata.name}",
            kube.core.connect_get_node_proxy_with_path,
            node.metadata.name,
            "stats/summary",
            _preload_content=False,
        )
        data = _json(response.data)
        for pod in data.get("pods", []):
            for volume in pod.get("volume", []) or []:
                ref = volume.get("pvcRef")
                if not ref or ref.get("namespace") not in namespaces:
                    continue
                used, capacity = volume.get("usedBytes"), volume.get("capacityBytes")
                if not used or not capacity:
                    continue
                share = used / capacity
                subject = f"{ref['namespace']}/{ref['name']}"
                state = "problem" if share >= PVC_USAGE_LIMIT else "ok"
                found[subject] = Finding(
                    "pvc", subject, state, f"{share:.0%} used of {capacity / 2**30:.1f} GiB"
                )
    return [found[k] for k in sorted(found)] or [
        Finding("pvc", "-", "unknown", "no kubelet reported a volume of our namespaces")
    ]


def _json(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        raise EnvironmentFailure("the kubelet summary is not JSON") from None
    return data if isinstance(data, dict) else {}


def _backup(kube: Kube, where: StatusTargets, now: datetime) -> list[Finding]:
    backups = call(
        f"list CloudNativePG backups in {where.db_namespace}",
        kube.custom.list_namespaced_custom_object,
        t.CNPG_GROUP,
        t.CNPG_VERSION,
        where.db_namespace,
        "backups",
    )
    done = [
        item["status"]["stoppedAt"]
        for item in backups.get("items", [])
        if item.get("spec", {}).get("cluster", {}).get("name") == where.db_cluster
        and item.get("status", {}).get("phase") == "completed"
        and item.get("status", {}).get("stoppedAt")
    ]
    subject = f"{where.db_namespace}/{where.db_cluster}"
    if not done:
        return [Finding("backup", subject, "problem", "no completed backup")]
    latest = max(datetime.fromisoformat(stamp.replace("Z", "+00:00")) for stamp in done)
    age = (now - latest).total_seconds()
    state = "problem" if age > BACKUP_MAX_AGE_SECONDS else "ok"
    return [Finding("backup", subject, state, f"last completed {age / 3600:.1f} h ago")]


def _kube_bench(kube: Kube, where: StatusTargets) -> list[Finding]:
    jobs = call(
        f"list kube-bench jobs in {where.kube_bench_namespace}",
        kube.batch.list_namespaced_job,
        where.kube_bench_namespace,
        label_selector=t.KUBE_BENCH_SELECTOR,
    ).items
    if not jobs:
        return [Finding("kube-bench", where.kube_bench_namespace, "problem", "no gate run found")]
    oldest = datetime.min.replace(tzinfo=UTC)
    latest = max(
        jobs, key=lambda job: (job.metadata.creation_timestamp or oldest, job.metadata.name)
    )
    status = latest.status
    subject = f"{where.kube_bench_namespace}/{latest.metadata.name}"
    if status and status.succeeded:
        return [Finding("kube-bench", subject, "ok", "gate passed")]
    if status and status.failed:
        return [Finding("kube-bench", subject, "problem", "gate blocked or failed")]
    return [Finding("kube-bench", subject, "ok", "gate running")]
