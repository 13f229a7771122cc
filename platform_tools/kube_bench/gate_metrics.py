"""The gate's result as Prometheus metrics (names and help from the catalogue); the shared
run framework writes them as a textfile or pushes them."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from platform_tools.kube_bench.gate import GateDecision
from platform_tools.metrics_catalogue import create_metric


def gate_metrics(decision: GateDecision, now: float) -> CollectorRegistry:
    """A fresh registry holding the decision's counts and the time of the run."""
    registry = CollectorRegistry()
    checks = create_metric("campus_kube_bench_checks", registry)
    for status, count in decision.counts.items():
        checks.labels(status=status.lower()).set(count)
    create_metric("campus_kube_bench_blocking_failures", registry).set(len(decision.blocking))
    create_metric("campus_kube_bench_allowlisted_failures", registry).set(len(decision.excused))
    create_metric("campus_kube_bench_gate_last_run_timestamp_seconds", registry).set(now)
    return registry
