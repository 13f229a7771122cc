"""The metrics of one run of a rollover or runbook command (names from the catalogue).

A run replaces the metric families it reports in its textfile, so each command writes its own
file (`metrics_file_name`) and its own Pushgateway job: one command's run never erases
another's series.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from platform_tools.metrics_catalogue import create_metric
from platform_tools.run.runner import RunOutcome


def command_metrics(command: str, outcome: RunOutcome, changed: int) -> CollectorRegistry:
    """Run time, success, duration and changed objects of `command`'s run."""
    registry = CollectorRegistry()
    create_metric("campus_ops_last_run_timestamp_seconds", registry).labels(command).set(
        outcome.finished_at
    )
    create_metric("campus_ops_last_run_success", registry).labels(command).set(int(outcome.ok))
    create_metric("campus_ops_last_duration_seconds", registry).labels(command).set(
        outcome.duration_seconds
    )
    create_metric("campus_ops_last_changed_objects", registry).labels(command).set(changed)
    if outcome.ok:
        # Only a success moves this one; a failed run keeps the previous success in the file.
        create_metric("campus_ops_last_success_timestamp_seconds", registry).labels(command).set(
            outcome.finished_at
        )
    return registry


def metrics_file_name(command: str) -> str:
    """The textfile a command writes in $PLATFORM_TOOLS_TEXTFILE_DIR (one per command)."""
    return "campus_ops_" + command.replace(" ", "_").replace("-", "_") + ".prom"
