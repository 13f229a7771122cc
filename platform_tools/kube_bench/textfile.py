"""The gate's result as Prometheus textfile metrics (names and help from the catalogue)."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry, write_to_textfile

from platform_tools.kube_bench.gate import GateDecision
from platform_tools.metrics_catalogue import create_metric


class MetricsFileError(ValueError):
    """The metrics file cannot be written where asked."""


def write_gate_metrics(decision: GateDecision, path: Path, now: float) -> None:
    """Write the decision atomically (temporary file then rename) for the textfile collector."""
    if path.suffix != ".prom":
        raise MetricsFileError(
            f"{path}: the node exporter's textfile collector only reads files ending in .prom"
        )
    if not path.parent.is_dir():
        raise MetricsFileError(f"{path}: directory {path.parent} does not exist")
    registry = CollectorRegistry()
    checks = create_metric("campus_kube_bench_checks", registry)
    for status, count in decision.counts.items():
        checks.labels(status=status.lower()).set(count)
    create_metric("campus_kube_bench_blocking_failures", registry).set(len(decision.blocking))
    create_metric("campus_kube_bench_allowlisted_failures", registry).set(len(decision.excused))
    create_metric("campus_kube_bench_gate_last_run_timestamp_seconds", registry).set(now)
    try:
        write_to_textfile(str(path), registry)
    except OSError as exc:
        raise MetricsFileError(f"{path}: cannot write metrics ({exc.strerror})") from None
