"""`runbook drain NODE`: cordon, then evict every pod through the Eviction API.

An eviction, unlike a delete, is refused with 429 while it would break a PodDisruptionBudget
(the app's `maxUnavailable: 1`, CloudNativePG's own budgets): the command waits and asks again
until the budget allows it or the deadline passes. DaemonSet pods and static (mirror) pods
stay, as with `kubectl drain`; a pod no controller would recreate is only evicted with
`--force`. The node stays cordoned afterwards; `kubectl uncordon NODE` returns it to service.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from platform_tools.run.errors import ProblemFound, UsageError
from platform_tools.runbook.kube import MERGE_PATCH, Kube, api_failure, call, reason_of
from platform_tools.runbook.waiting import Waiter

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"


@dataclass(frozen=True)
class PodRef:
    """A pod on the node."""

    namespace: str
    name: str
    uid: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass
class DrainPlan:
    """Which pods go, which stay and why, and what the run did."""

    node: str
    already_cordoned: bool
    evict: list[PodRef] = field(default_factory=list)
    skipped: list[tuple[PodRef, str]] = field(default_factory=list)
    unmanaged: list[PodRef] = field(default_factory=list)
    evicted: list[PodRef] = field(default_factory=list)
    refusals: int = 0  # 429 answers while a budget held a pod

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "node": self.node,
            "already_cordoned": self.already_cordoned,
            "evict": [str(p) for p in self.evict],
            "skipped": [{"pod": str(p), "reason": why} for p, why in self.skipped],
            "unmanaged": [str(p) for p in self.unmanaged],
            "evicted": [str(p) for p in self.evicted],
            "budget_refusals": self.refusals,
        }


def plan_drain(kube: Kube, node: str, force: bool) -> DrainPlan:
    """Read the node and its pods; refuse unmanaged pods unless `force`."""
    try:
        found = kube.core.read_node(node)
    except ApiException as exc:
        if exc.status == 404:
            raise UsageError(f"no node {node!r}", "NODE") from None
        raise api_failure(f"read node {node}", exc) from None
    plan = DrainPlan(node, bool(found.spec and found.spec.unschedulable))
    pods = call(
        f"list pods on {node}",
        kube.core.list_pod_for_all_namespaces,
        field_selector=f"spec.nodeName={node}",
    ).items
    for pod in sorted(pods, key=lambda p: (p.metadata.namespace, p.metadata.name)):
        ref = PodRef(pod.metadata.namespace, pod.metadata.name, pod.metadata.uid or "")
        owners = pod.metadata.owner_references or []
        if MIRROR_ANNOTATION in (pod.metadata.annotations or {}):
            plan.skipped.append((ref, "static pod (the kubelet owns it)"))
        elif any(owner.kind == "DaemonSet" for owner in owners):
            plan.skipped.append((ref, "DaemonSet pod (it runs on every node)"))
        elif not owners:
            plan.unmanaged.append(ref)
            if force:
                plan.evict.append(ref)
        else:
            plan.evict.append(ref)
    if plan.unmanaged and not force:
        names = ", ".join(str(p) for p in plan.unmanaged)
        raise UsageError(
            f"pods no controller would recreate: {names}; evict them anyway with --force",
            "NODE",
        )
    return plan


def cordon(kube: Kube, node: str) -> None:
    """Mark the node unschedulable."""
    call(
        f"cordon {node}",
        kube.core.patch_node,
        node,
        {"spec": {"unschedulable": True}},
        _content_type=MERGE_PATCH,
    )


def _evict_once(kube: Kube, pod: PodRef) -> str:
    """'evicted', 'gone' or 'refused' (a budget holds it: ask again later)."""
    body = client.V1Eviction(
        api_version="policy/v1",
        kind="Eviction",
        metadata=client.V1ObjectMeta(name=pod.name, namespace=pod.namespace),
    )
    try:
        kube.core.create_namespaced_pod_eviction(pod.name, pod.namespace, body)
    except ApiException as exc:
        if exc.status == 404:
            return "gone"
        if exc.status == 429:
            return "refused"
        raise ProblemFound(f"eviction of {pod} refused: {exc.status} {reason_of(exc)}") from None
    return "evicted"


def _gone(kube: Kube, pod: PodRef) -> bool:
    try:
        current = kube.core.read_namespaced_pod(pod.name, pod.namespace)
    except ApiException as exc:
        if exc.status == 404:
            return True
        raise api_failure(f"read pod {pod}", exc) from None
    # A StatefulSet recreates its pod under the same name: a new uid means the old one left.
    return current.metadata.uid != pod.uid


def evict_all(kube: Kube, plan: DrainPlan, waiter: Waiter) -> None:
    """Evict every planned pod, retrying 429s, then wait until they have left the node."""
    pending = list(plan.evict)

    def attempt() -> bool:
        for pod in list(pending):
            outcome = _evict_once(kube, pod)
            if outcome == "refused":
                plan.refusals += 1
                continue
            pending.remove(pod)
            if outcome == "evicted":
                plan.evicted.append(pod)
        return not pending

    if not waiter.until(attempt):
        raise ProblemFound(
            f"{node_left(plan.node)}: disruption budgets still refuse to let go of "
            f"{', '.join(map(str, pending))} after {waiter.timeout_seconds:g} s; "
            "check `kubectl get pdb -A` and rerun"
        )
    leaving = list(plan.evicted)
    if not waiter.until(lambda: all(_gone(kube, pod) for pod in leaving)):
        raise ProblemFound(
            f"{node_left(plan.node)}: evicted pods still terminating after "
            f"{waiter.timeout_seconds:g} s"
        )


def node_left(node: str) -> str:
    """The start of a failure message: the node is cordoned whatever happened next."""
    return f"node {node} is cordoned"
