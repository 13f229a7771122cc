"""An archive run's outcome as Prometheus metrics (names and help from the catalogue), one
series per academic year and period: what `CampusExamArchiveFailed` and the dashboard read."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from platform_tools.metrics_catalogue import create_metric
from platform_tools.run.runner import RunOutcome


def archive_metrics(
    academic_year: str, number: int, size_bytes: int | None, outcome: RunOutcome
) -> CollectorRegistry:
    """A fresh registry for one `exam-period archive` run that reached its period.

    A failed run reports 0 and its duration, and keeps the last size in the textfile.
    """
    registry = CollectorRegistry()
    labels = {"academic_year": academic_year, "period": str(number)}
    create_metric("campus_archive_last_run_timestamp_seconds", registry).labels(**labels).set(
        outcome.finished_at
    )
    create_metric("campus_archive_last_run_success", registry).labels(**labels).set(
        1 if outcome.ok else 0
    )
    create_metric("campus_archive_last_duration_seconds", registry).labels(**labels).set(
        outcome.duration_seconds
    )
    if outcome.ok and size_bytes is not None:
        create_metric("campus_archive_last_size_bytes", registry).labels(**labels).set(size_bytes)
    return registry
