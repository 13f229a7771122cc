"""`platform-tools exams documents`: every notice or attendance sheet of an exam period."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from app.domain.errors import NotFound
from platform_tools.exams.batch import KINDS, generate, load
from platform_tools.exams.batch_metrics import batch_metrics
from platform_tools.run.database import database_settings, open_engine
from platform_tools.run.errors import EnvironmentFailure, UsageError
from platform_tools.run.exit_codes import EXIT_CODES_HELP
from platform_tools.run.metrics_sink import resolve_sink
from platform_tools.run.options import DatabaseUrl, JsonOutput, MetricsFile, Pushgateway
from platform_tools.run.output import emit_json, stdout_console
from platform_tools.run.progress import progress_bar
from platform_tools.run.runner import RunOutcome, command_run

app = typer.Typer(
    name="exams",
    help="Exam periods: batch documents (notices, attendance sheets).",
    no_args_is_help=True,
)


@app.callback()
def exams() -> None:
    """Exam periods."""


@app.command(epilog=EXIT_CODES_HELP)
def documents(
    period: Annotated[int, typer.Option("--period", help="The exam period's id.", min=1)],
    kind: Annotated[str, typer.Option("--kind", help="notices or sheets.")],
    out: Annotated[Path, typer.Option("--out", help="Directory to write the PDFs to.")],
    jobs: Annotated[
        int,
        typer.Option(help="Worker processes; 0: one per CPU of the machine.", min=0, max=64),
    ] = 0,
    database_url: DatabaseUrl = None,
    metrics_file: MetricsFile = None,
    pushgateway: Pushgateway = None,
    json_output: JsonOutput = False,
) -> None:
    """Write every exam notice (final registrations) or attendance sheet (per exam and
    centre) of a period as PDF files in OUT, with a progress bar on a terminal.

    Notices are signed with EXAM_TOKEN_KEY: run it with the app's own key, or the QR codes
    will not verify. Files of the same name in OUT are replaced (each atomically).
    """
    with command_run("exams documents", period=period, kind=kind, out=str(out)) as run:
        if kind not in KINDS:
            raise UsageError(f"expected one of {', '.join(KINDS)}, got {kind!r}", "--kind")
        run.sink = resolve_sink(
            metrics_file,
            pushgateway,
            f"campus_exam_documents_{kind}.prom",
            job="campus_exam_documents",
            grouping={"kind": kind},
        )
        written: list[int] = []

        def metrics(outcome: RunOutcome):  # type: ignore[no-untyped-def]
            return batch_metrics(kind, written[0] if written else None, outcome)

        run.metrics = metrics
        if out.exists() and not out.is_dir():
            raise UsageError(f"{out} exists and is not a directory", "--out")
        settings = database_settings(database_url)
        engine = open_engine(settings, "--database-url" if database_url else "DATABASE_URL")
        try:
            items = load(engine, period, kind, settings.exam_token_key)
        except NotFound as exc:
            raise UsageError(exc.errors[0].message, "--period") from None
        finally:
            engine.dispose()
        workers = jobs or os.cpu_count() or 1
        try:
            with progress_bar(enabled=not json_output) as bar:
                task = bar.add_task(f"{kind} of period {period}", total=len(items))
                result = generate(
                    items,
                    kind,
                    out,
                    settings.site_timezone,
                    min(workers, max(1, len(items))),
                    lambda n: bar.advance(task, n),
                )
        except OSError as exc:
            raise EnvironmentFailure(f"{out}: cannot write documents ({exc.strerror})") from None
        written.append(result.documents)
        run.record(documents=result.documents, bytes=result.bytes_written, jobs=workers)
        if json_output:
            emit_json(
                {
                    "period": period,
                    "kind": kind,
                    "out": str(out),
                    "documents": result.documents,
                    "bytes": result.bytes_written,
                    "files": list(result.files),
                }
            )
        else:
            stdout_console().print(
                f"{result.documents} {kind} of period {period} written to {out} "
                f"({result.bytes_written / 1_000_000:.1f} MB)"
            )
