"""The metrics of backup runs (names from the catalogue, read by the backup alerts)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from platform_tools.metrics_catalogue import create_metric
from platform_tools.run.runner import RunOutcome

JOB = "campus_backup"


def textfile_name(database: str) -> str:
    """One textfile per database, shared by `create` and `verify` (each keeps the other's)."""
    return f"campus_backup_{database}.prom"


def create_metrics(database: str, outcome: RunOutcome, size_bytes: int | None) -> CollectorRegistry:
    """Duration of every run; last success time and size only when the run succeeded."""
    registry = CollectorRegistry()
    labels = {"database": database}
    create_metric("campus_backup_last_duration_seconds", registry).labels(**labels).set(
        outcome.duration_seconds
    )
    if outcome.ok and size_bytes is not None:
        create_metric("campus_backup_last_success_timestamp_seconds", registry).labels(
            **labels
        ).set(outcome.finished_at)
        create_metric("campus_backup_last_size_bytes", registry).labels(**labels).set(size_bytes)
    return registry


def verify_metrics(
    database: str, outcome: RunOutcome, restore_seconds: float | None
) -> CollectorRegistry:
    """1 or 0 for the verification, its time, and the drill's restore time when it ran."""
    registry = CollectorRegistry()
    labels = {"database": database}
    create_metric("campus_backup_last_verify_success", registry).labels(**labels).set(
        1 if outcome.ok else 0
    )
    create_metric("campus_backup_last_verify_timestamp_seconds", registry).labels(**labels).set(
        outcome.finished_at
    )
    if restore_seconds is not None:
        create_metric("campus_backup_last_restore_duration_seconds", registry).labels(**labels).set(
            restore_seconds
        )
    return registry
