"""A batch's outcome as Prometheus metrics (names and help from the catalogue): a failed run
reports its duration and keeps the last success's time and count in the textfile."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from platform_tools.metrics_catalogue import create_metric
from platform_tools.run.runner import RunOutcome


def batch_metrics(kind: str, documents: int | None, outcome: RunOutcome) -> CollectorRegistry:
    """A fresh registry for one run of `exams documents --kind kind`."""
    registry = CollectorRegistry()
    create_metric("campus_exam_documents_last_duration_seconds", registry).labels(kind=kind).set(
        outcome.duration_seconds
    )
    if outcome.ok and documents is not None:
        create_metric("campus_exam_documents_last_success_timestamp_seconds", registry).labels(
            kind=kind
        ).set(outcome.finished_at)
        create_metric("campus_exam_documents_last_count", registry).labels(kind=kind).set(documents)
    return registry
