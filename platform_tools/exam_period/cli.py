"""`platform-tools exam-period`: archive, verify, show, open-next."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from platform_tools.exam_period.archive import (
    archive_lock,
    check_archive_dir,
    plan_archive,
    refusal,
    run_archive,
)
from platform_tools.exam_period.archive_format import archive_id, read_archive_manifest
from platform_tools.exam_period.archive_metrics import archive_metrics
from platform_tools.exam_period.archive_show import configuration, summary
from platform_tools.exam_period.archive_verify import (
    ArchiveTableError,
    table_rows,
    verify_archive,
)
from platform_tools.exam_period.open_next import open_next as open_next_period
from platform_tools.exam_period.period_export import TABLES
from platform_tools.run.database import database_name, database_settings, open_engine
from platform_tools.run.errors import ProblemFound, UsageError
from platform_tools.run.exit_codes import EXIT_CODES_HELP
from platform_tools.run.metrics_sink import resolve_sink
from platform_tools.run.options import (
    DatabaseUrl,
    JsonOutput,
    MetricsFile,
    Pushgateway,
    Yes,
)
from platform_tools.run.output import emit_json, stdout_console
from platform_tools.run.progress import progress_bar
from platform_tools.run.runner import RunOutcome, command_run

ARCHIVE_DIR_ENV = "PLATFORM_TOOLS_ARCHIVE_DIR"
IMAGE_ENV = "CAMPUS_APP_IMAGE"

app = typer.Typer(
    name="exam-period",
    help="Exam periods: archive a finished one, verify and browse archives, open the next.",
    no_args_is_help=True,
)

ArchiveDir = Annotated[
    Path | None,
    typer.Option(
        "--archive-dir",
        help=f"Where archives live. Default: ${ARCHIVE_DIR_ENV}.",
        show_default=False,
    ),
]
ArchivePath = Annotated[
    Path,
    typer.Argument(
        help="The archive: its directory, or its name (exam-period-YYYY-YYYY-N) in --archive-dir."
    ),
]


@app.callback()
def exam_period() -> None:
    """Exam periods: archives and the next period."""


def _env_dir() -> Path | None:
    value = os.environ.get(ARCHIVE_DIR_ENV)
    return Path(value) if value else None


def _archive_dir(option: Path | None) -> Path:
    value = option or _env_dir()
    if value is None:
        raise UsageError(f"required (or set ${ARCHIVE_DIR_ENV})", "--archive-dir")
    return value


def _resolve(archive: Path, archive_dir: Path | None) -> Path:
    if archive.is_dir():
        return archive
    base = archive_dir or _env_dir()
    if base is not None and "/" not in str(archive) and (base / archive).is_dir():
        return base / archive
    raise UsageError(f"{archive}: no such archive directory", "ARCHIVE")


@app.command(epilog=EXIT_CODES_HELP)
def archive(
    period: Annotated[int, typer.Option("--period", help="The exam period's id.", min=1)],
    archive_dir: ArchiveDir = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Archive although the period is open or registrations are still in progress "
            "(they are frozen as they are); needs --reason.",
        ),
    ] = False,
    reason: Annotated[
        str | None,
        typer.Option("--reason", help="Why --force: recorded in the archive's manifest."),
    ] = None,
    image: Annotated[
        str | None,
        typer.Option(
            "--image",
            help=f"The app's image reference in use, for the manifest. Default: ${IMAGE_ENV}.",
        ),
    ] = None,
    yes: Yes = False,
    database_url: DatabaseUrl = None,
    metrics_file: MetricsFile = None,
    pushgateway: Pushgateway = None,
    json_output: JsonOutput = False,
) -> None:
    """Copy a finished exam period into a verifiable archive, then freeze it (status archived:
    the app answers 409 to every write to it). Safe to run again: an archived period with a
    sound archive is left alone; one whose archive is missing gets it written again.
    """
    with command_run("exam-period archive", period=period) as run:
        if reason is not None and not force:
            raise UsageError("only with --force", "--reason")
        if force and not (reason and reason.strip()):
            raise UsageError(
                "--force needs a reason: say why the period is archived now", "--reason"
            )
        force_reason = reason.strip() if force and reason else None
        directory = _archive_dir(archive_dir)
        settings = database_settings(database_url)
        engine = open_engine(settings, "--database-url" if database_url else "DATABASE_URL")
        try:
            check_archive_dir(directory, create=yes)
            plan = plan_archive(engine, period, directory)
            year, number = plan.period["academic_year"], plan.period["number"]
            run.record(archive=plan.archive, academic_year=year, number=number)
            run.sink = resolve_sink(
                metrics_file,
                pushgateway,
                f"campus_archive_{year.replace('-', '_')}_{number}.prom",
                job="campus_archive",
                grouping={"academic_year": year, "period": str(number)},
            )
            size: list[int] = []

            def metrics(outcome: RunOutcome):  # type: ignore[no-untyped-def]
                return archive_metrics(year, number, size[0] if size else None, outcome)

            if yes:
                run.metrics = metrics
            blocked = refusal(plan, force_reason)
            if blocked is not None:
                raise ProblemFound(blocked)
            if not yes:
                _print_plan(plan, force_reason, json_output)
                return
            with archive_lock(directory), progress_bar(enabled=not json_output) as bar:
                result = run_archive(
                    engine,
                    plan,
                    directory,
                    force_reason,
                    image or os.environ.get(IMAGE_ENV) or None,
                    database_name(settings),
                    bar,
                )
        finally:
            engine.dispose()
        size.append(result.manifest.size_bytes)
        run.record(action=result.action, path=str(result.path), size_bytes=size[0])
        document = {
            "action": result.action,
            "archive": result.manifest.id,
            "path": str(result.path),
            "period": plan.period["id"],
            "tables": result.manifest.tables,
            "size_bytes": size[0],
            "applied": True,
        }
        if json_output:
            emit_json(document)
        else:
            words = {"created": "archived", "rebuilt": "re-written", "kept": "already archived"}
            stdout_console().print(
                f"period {plan.period['id']} ({year}, period {number}) {words[result.action]}: "
                f"{result.path} ({size[0]} bytes, {sum(result.manifest.tables.values())} rows)"
            )


def _print_plan(plan: Any, force_reason: str | None, json_output: bool) -> None:
    if plan.already_archived and plan.published:
        action = "keep"
    elif plan.already_archived:
        action = "rebuild"
    else:
        action = "create"
    document = {
        "action": action,
        "archive": plan.archive,
        "path": str(plan.path),
        "period": plan.period,
        "in_progress": plan.in_progress,
        "forced_reason": force_reason,
        "applied": False,
    }
    if json_output:
        emit_json(document)
        return
    stdout_console().print(
        f"would {action} {plan.path} for period {plan.period['id']} "
        f"({plan.period['academic_year']}, period {plan.period['number']}, "
        f"{plan.period['status']}) and mark it archived; run again with --yes to apply"
    )


@app.command(epilog=EXIT_CODES_HELP)
def verify(
    archive: ArchivePath,
    archive_dir: ArchiveDir = None,
    json_output: JsonOutput = False,
) -> None:
    """Check an archive without the database: every file's sha256, every table's rows, and
    that every row belongs to the archived period. Exit 1 on any difference."""
    with command_run("exam-period verify", archive=str(archive)) as run:
        path = _resolve(archive, archive_dir)
        with progress_bar(enabled=not json_output) as bar:
            report = verify_archive(path, bar)
        run.record(ok=report.ok, files=report.files_checked, rows=report.rows_checked)
        if json_output:
            emit_json(report.to_json())
        elif report.ok:
            stdout_console().print(
                f"{path}: ok ({report.files_checked} files, {report.rows_checked} rows)"
            )
        if not report.ok:
            raise ProblemFound(f"{path}: " + "; ".join(report.problems))


@app.command(epilog=EXIT_CODES_HELP)
def show(
    archive: ArchivePath,
    table: Annotated[
        str | None,
        typer.Option("--table", help=f"Print this table's rows: {', '.join(TABLES)}."),
    ] = None,
    archive_dir: ArchiveDir = None,
    json_output: JsonOutput = False,
) -> None:
    """Read-only: an archived period's registrations, payments, exams and configuration, from
    the archive alone (it is verified first)."""
    with command_run("exam-period show", archive=str(archive)) as run:
        path = _resolve(archive, archive_dir)
        if table is not None and table not in TABLES:
            raise UsageError(f"expected one of {', '.join(TABLES)}, got {table!r}", "--table")
        with progress_bar(enabled=not json_output) as bar:
            report = verify_archive(path, bar)
        if not report.ok:
            raise ProblemFound(f"{path} does not verify: " + "; ".join(report.problems))
        manifest = read_archive_manifest(path)
        try:
            if table is not None:
                rows = list(table_rows(path, table))
                run.record(table=table, rows=len(rows))
                _print_rows(table, rows, json_output)
                return
            document = summary(path, manifest)
        except ArchiveTableError as exc:
            raise ProblemFound(str(exc)) from None
        if json_output:
            emit_json(document)
        else:
            _print_summary(document)


def _print_rows(table: str, rows: list[dict[str, Any]], json_output: bool) -> None:
    if json_output:
        emit_json({"table": table, "rows": rows})
        return
    grid = Table(title=f"{table} ({len(rows)} rows)")
    columns = list(rows[0]) if rows else []
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*("" if row[c] is None else str(row[c]) for c in columns))
    stdout_console().print(grid)


def _print_summary(document: dict[str, Any]) -> None:
    console = stdout_console()
    period = document["period"]
    console.print(
        f"[bold]{document['archive']}[/]: period {period['id']} ({period['academic_year']}, "
        f"period {period['number']}), archived {document['archived_at']} by app "
        f"{document['app_version']} (image {document['image'] or 'not recorded'})"
    )
    if document["forced_reason"]:
        console.print(
            f"forced: {document['forced_reason']} "
            f"(in progress then: {document['in_progress_when_archived']})"
        )
    console.print(
        f"registrations: {document['registrations_by_status']}; "
        f"payments: {document['payments_total_cents'] / 100:.2f}; exams: {document['exams']}"
    )
    grid = Table(title="modalities and fees")
    for column in ("code", "label", "fixed", "per hour", "centres"):
        grid.add_column(column)
    config = document["configuration"]
    for modality in config["modalities"]:
        centres = [c["code"] for c in config["centres"] if c["modality"] == modality["code"]]
        grid.add_row(
            modality["code"],
            modality["label"],
            f"{modality['fixed_fee_cents'] / 100:.2f}",
            f"{modality['fee_per_hour_cents'] / 100:.2f}",
            ", ".join(centres),
        )
    console.print(grid)
    signatory = config["signatory"]
    console.print(
        f"signatory: {signatory['name']}, {signatory['title']}" if signatory else "no signatory"
    )


@app.command("open-next", epilog=EXIT_CODES_HELP)
def open_next(
    source: Annotated[int, typer.Option("--from", help="The archived period's id.", min=1)],
    opens_at: Annotated[
        str, typer.Option("--opens-at", help="The new period's opening (ISO 8601 with offset).")
    ],
    closes_at: Annotated[
        str, typer.Option("--closes-at", help="The new period's closing (ISO 8601 with offset).")
    ],
    archive_dir: ArchiveDir = None,
    yes: Yes = False,
    database_url: DatabaseUrl = None,
    json_output: JsonOutput = False,
) -> None:
    """Create the period after an archived one (planned, with its exams moved to the new
    window), using the same modalities, fees, centres and signatory; compared with the
    archive's when --archive-dir (or its variable) holds it."""
    with command_run("exam-period open-next", source=source) as run:
        settings = database_settings(database_url)
        engine = open_engine(settings, "--database-url" if database_url else "DATABASE_URL")
        try:
            result = open_next_period(engine, source, opens_at, closes_at, apply=yes)
        finally:
            engine.dispose()
        result["configuration_matches_archive"] = _matches_archive(result, archive_dir)
        run.record(new_period=result["period"]["id"], exams=len(result["exams"]), applied=yes)
        if json_output:
            emit_json(result)
            return
        period = result["period"]
        verb = "created" if yes else "would create"
        stdout_console().print(
            f"{verb} period {period['academic_year']} {period['number']} (id {period['id']}, "
            f"planned, {period['opens_at']} to {period['closes_at']}) with "
            f"{len(result['exams'])} exams; configuration as archived: "
            f"{result['configuration_matches_archive']}"
            + ("" if yes else "; run again with --yes to apply")
        )


def _matches_archive(result: dict[str, Any], archive_dir: Path | None) -> bool | None:
    """True/False when the source period's archive is found, None otherwise."""
    base = archive_dir or _env_dir()
    if base is None:
        return None
    source = result["from"]
    path = base / archive_id(source["academic_year"], source["number"])
    if not path.is_dir():
        return None
    return configuration(path) == result["configuration"]
