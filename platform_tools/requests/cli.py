"""`platform-tools requests validate`: the automatic validator of employer requests."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

import typer
from prometheus_client import CollectorRegistry

from app.services.request_validator import DEFAULT_LIMIT, ValidationRun
from platform_tools.metrics_catalogue import create_metric
from platform_tools.requests.workers import validate_until_done
from platform_tools.run.database import database_settings, open_engine
from platform_tools.run.errors import UsageError
from platform_tools.run.exit_codes import EXIT_CODES_HELP
from platform_tools.run.metrics_sink import resolve_sink
from platform_tools.run.options import DatabaseUrl, JsonOutput, MetricsFile, Pushgateway
from platform_tools.run.output import emit_json, stdout_console
from platform_tools.run.runner import RunOutcome, command_run

app = typer.Typer(
    name="requests",
    help="Employer enrolment requests: the automatic validator.",
    no_args_is_help=True,
)


@app.callback()
def requests_group() -> None:
    """Employer enrolment requests."""


@app.command("validate", epilog=EXIT_CODES_HELP)
def validate(
    limit: Annotated[
        int | None,
        typer.Option(min=1, help="Judge at most this many requests (default: every one waiting)."),
    ] = None,
    batch: Annotated[
        int,
        typer.Option(
            min=1, max=10_000, help="Requests judged per transaction (one run of the validator)."
        ),
    ] = DEFAULT_LIMIT,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=16,
            help="Validators at once, each in its own session on its own share of the "
            "organisations (PostgreSQL; about the database server's cores).",
        ),
    ] = 1,
    database_url: DatabaseUrl = None,
    metrics_file: MetricsFile = None,
    pushgateway: Pushgateway = None,
    json_output: JsonOutput = False,
) -> None:
    """Judge submitted requests, oldest first: approve what the rules allow (creating learners
    and enrolments), refer the rest to staff with reasons.

    Each batch is one transaction: safe to run twice at once, and after a crash (an
    interrupted batch commits nothing and is judged by the next run). A batch that lost a race
    with another validator is judged again.
    """
    with command_run("requests validate", limit=limit, workers=workers) as run:
        run.sink = resolve_sink(
            metrics_file, pushgateway, "campus_requests_validate.prom", job="campus_requests"
        )
        # A session for each worker.
        settings = replace(database_settings(database_url), threads=workers)
        engine = open_engine(settings, "--database-url" if database_url else "DATABASE_URL")
        if workers > 1 and engine.dialect.name != "postgresql":
            raise UsageError("above 1 needs PostgreSQL: SQLite writes one at a time", "--workers")
        totals = {"approved": 0, "referred": 0, "enrolments": 0, "runs": 0}

        def metrics(outcome: RunOutcome) -> CollectorRegistry:
            registry = CollectorRegistry()
            judged = create_metric("campus_requests_validate_last_run_requests", registry)
            judged.labels(outcome="approved").set(totals["approved"])
            judged.labels(outcome="referred").set(totals["referred"])
            if outcome.ok:
                create_metric(
                    "campus_requests_validate_last_success_timestamp_seconds", registry
                ).set(outcome.finished_at)
            return registry

        run.metrics = metrics

        def judged(worker: int, result: ValidationRun) -> None:
            totals["approved"] += result.approved
            totals["referred"] += result.referred
            totals["enrolments"] += result.enrolments
            totals["runs"] += 1
            run.log.info(
                "batch_judged", **result.as_dict(), enrolments=result.enrolments, worker=worker
            )

        validate_until_done(engine, batch, limit, workers, judged)
        run.record(**totals)
        if json_output:
            emit_json(totals)
        else:
            stdout_console().print(
                f"requests: {totals['approved']} approved ({totals['enrolments']} enrolments), "
                f"{totals['referred']} referred to staff, in {totals['runs']} batches"
            )
