"""`platform-tools outbox dispatch`: send the queued messages over SMTP, once each."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from prometheus_client import CollectorRegistry

from platform_tools.metrics_catalogue import create_metric
from platform_tools.outbox.dispatch import DispatchReport, SmtpTarget, current_backlog, dispatch
from platform_tools.outbox.journal import SentJournal
from platform_tools.run.database import database_settings, open_engine
from platform_tools.run.errors import ProblemFound, UsageError
from platform_tools.run.exit_codes import EXIT_CODES_HELP
from platform_tools.run.metrics_sink import resolve_sink
from platform_tools.run.options import DatabaseUrl, JsonOutput, MetricsFile, Pushgateway
from platform_tools.run.output import emit_json, stdout_console
from platform_tools.run.runner import RunOutcome, command_run

SMTP_ENV = "OUTBOX_SMTP"
SENDER_ENV = "OUTBOX_SENDER"
JOURNAL_ENV = "OUTBOX_JOURNAL"
DEFAULT_JOURNAL = Path("var") / "outbox-sent.journal"

app = typer.Typer(
    name="outbox",
    help="The outbox of messages to employers: send them over SMTP.",
    no_args_is_help=True,
)


@app.callback()
def outbox_group() -> None:
    """The outbox of messages to employers."""


def _target(smtp: str | None, sender: str | None) -> SmtpTarget:
    raw = smtp or os.environ.get(SMTP_ENV) or "127.0.0.1:25"
    option = "--smtp" if smtp else SMTP_ENV
    host, _, port = raw.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"expected HOST:PORT, got {raw!r}", option)
    return SmtpTarget(
        host.strip("[]"),
        int(port),
        sender or os.environ.get(SENDER_ENV) or "noreply@campus-platform.example",
    )


@app.command("dispatch", epilog=EXIT_CODES_HELP)
def dispatch_command(
    smtp: Annotated[
        str | None,
        typer.Option(help=f"SMTP server HOST:PORT. Default: ${SMTP_ENV} or 127.0.0.1:25."),
    ] = None,
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="Messages claimed at once.")] = 100,
    sender: Annotated[
        str | None, typer.Option(help=f"From address. Default: ${SENDER_ENV}.")
    ] = None,
    lease: Annotated[
        int,
        typer.Option(
            min=10,
            max=86_400,
            help="Seconds a claimed batch is reserved for this run; after a crash, other runs "
            "take it over once this has passed.",
        ),
    ] = 300,
    journal: Annotated[
        Path | None,
        typer.Option(
            help="File of Message-IDs the server accepted (keep it on persistent storage). "
            f"Default: ${JOURNAL_ENV} or {DEFAULT_JOURNAL}."
        ),
    ] = None,
    dedup_window: Annotated[
        int,
        typer.Option(min=1, max=24 * 30, help="Hours an acceptance is remembered in the journal."),
    ] = 72,
    database_url: DatabaseUrl = None,
    metrics_file: MetricsFile = None,
    pushgateway: Pushgateway = None,
    json_output: JsonOutput = False,
) -> None:
    """Send every due message with its fixed Message-ID; mark each sent once the server accepts.

    Exit 1 when a message was refused (it is retried later with backoff), 3 when the database
    or the SMTP server does not answer.
    """
    with command_run("outbox dispatch") as run:
        run.sink = resolve_sink(
            metrics_file, pushgateway, "campus_outbox.prom", job="campus_outbox"
        )
        target = _target(smtp, sender)
        settings = database_settings(database_url)
        engine = open_engine(settings, "--database-url" if database_url else "DATABASE_URL")
        journal_path = journal or Path(os.environ.get(JOURNAL_ENV) or DEFAULT_JOURNAL)
        report = DispatchReport()
        state: dict[str, Any] = {"report": report, "backlog": None, "engine": engine}

        def metrics(outcome: RunOutcome) -> CollectorRegistry:
            return _metrics(outcome, state)

        run.metrics = metrics
        try:
            report = dispatch(
                engine,
                target,
                SentJournal(journal_path, dedup_window * 3600.0),
                batch,
                timedelta(seconds=lease),
            )
            state["report"] = report
        finally:
            state["backlog"] = current_backlog(engine)
        backlog = state["backlog"]
        document = {
            "sent": report.sent,
            "already_accepted": report.already_accepted,
            "failed": report.failed,
            "backlog": backlog.pending,
            "oldest_unsent_age_seconds": round(backlog.oldest_age_seconds, 3),
            "errors": report.errors,
        }
        run.record(**{k: v for k, v in document.items() if k != "errors"})
        if json_output:
            emit_json(document)
        else:
            stdout_console().print(
                f"outbox: {report.sent} sent, {report.already_accepted} already accepted "
                f"(journal), {report.failed} failed; {backlog.pending} waiting"
            )
        if report.failed:
            raise ProblemFound(f"{report.failed} messages refused; they are retried with backoff")


def _metrics(outcome: RunOutcome, state: dict[str, Any]) -> CollectorRegistry:
    registry = CollectorRegistry()
    report: DispatchReport = state["report"]
    backlog = state["backlog"]
    if backlog is not None:
        create_metric("campus_outbox_backlog_messages", registry).set(backlog.pending)
        create_metric("campus_outbox_oldest_unsent_age_seconds", registry).set(
            backlog.oldest_age_seconds
        )
    messages = create_metric("campus_outbox_last_run_messages", registry)
    messages.labels(outcome="sent").set(report.sent)
    messages.labels(outcome="already_accepted").set(report.already_accepted)
    messages.labels(outcome="failed").set(report.failed)
    create_metric("campus_outbox_dispatch_last_run_timestamp_seconds", registry).set(
        outcome.finished_at
    )
    if outcome.ok:
        create_metric("campus_outbox_dispatch_last_success_timestamp_seconds", registry).set(
            outcome.finished_at
        )
    return registry
