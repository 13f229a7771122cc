"""`platform-tools backup …`: create, verify, restore, list, prune, upload, download."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from platform_tools.backup.create import create_backup
from platform_tools.backup.object_storage import (
    download_backup,
    parse_s3_url,
    s3_client,
    upload_backup,
)
from platform_tools.backup.prune import Candidate, Policy, plan_prune
from platform_tools.backup.repository import (
    PARTIAL_PREFIX,
    BackupEntry,
    RepositoryError,
    check_backup_dir,
    discard,
    find_backup,
    scan,
)
from platform_tools.backup.restore import TARGET_OPTION, restore_backup
from platform_tools.backup.run_metrics import (
    JOB,
    create_metrics,
    textfile_name,
    verify_metrics,
)
from platform_tools.backup.verify import verify_backup
from platform_tools.run.database import database_name, database_settings, database_url
from platform_tools.run.errors import ProblemFound, UsageError
from platform_tools.run.exit_codes import EXIT_CODES_HELP
from platform_tools.run.metrics_sink import resolve_sink
from platform_tools.run.options import DatabaseUrl, JsonOutput, MetricsFile, Pushgateway, Yes
from platform_tools.run.output import emit_json, stdout_console
from platform_tools.run.progress import progress_bar
from platform_tools.run.runner import Run, command_run

BACKUP_DIR_ENV = "PLATFORM_TOOLS_BACKUP_DIR"
MAX_JOBS = 64

app = typer.Typer(
    name="backup",
    help="Database backups you can restore: create, verify (restore drill), restore, list, "
    "prune, upload, download.",
    no_args_is_help=True,
)

BackupDir = Annotated[
    Path | None,
    typer.Option(
        help=f"Directory holding the backups. Default: ${BACKUP_DIR_ENV}.", show_default=False
    ),
]
Jobs = Annotated[
    int,
    typer.Option(help="Parallel pg_dump / pg_restore jobs (PostgreSQL).", show_default=True),
]
BackupName = Annotated[
    str | None,
    typer.Argument(help="A backup id as `backup list` shows it. Default: the newest complete."),
]
S3Endpoint = Annotated[
    str | None,
    typer.Option(
        help="S3-compatible endpoint URL (MinIO, Ceph...). Default: $AWS_ENDPOINT_URL, or AWS.",
        show_default=False,
    ),
]


def _backup_dir(option: Path | None, create: bool = False) -> Path:
    raw = option or (Path(os.environ[BACKUP_DIR_ENV]) if os.environ.get(BACKUP_DIR_ENV) else None)
    where = "--backup-dir" if option else BACKUP_DIR_ENV
    if raw is None:
        raise UsageError(f"required (or set {BACKUP_DIR_ENV})", "--backup-dir")
    try:
        return check_backup_dir(raw, create=create)
    except RepositoryError as exc:
        raise UsageError(str(exc), where) from None


def _jobs(jobs: int) -> int:
    if not 1 <= jobs <= MAX_JOBS:
        raise UsageError(f"expected 1 to {MAX_JOBS}, got {jobs}", "--jobs")
    return jobs


def _find(backup_dir: Path, name: str | None) -> BackupEntry:
    try:
        return find_backup(backup_dir, name)
    except RepositoryError as exc:
        raise UsageError(str(exc), "BACKUP") from None


def _sink(run: Run, database: str, metrics_file: Path | None, pushgateway: str | None) -> None:
    run.sink = resolve_sink(
        metrics_file, pushgateway, textfile_name(database), job=JOB, grouping={"database": database}
    )


@app.callback()
def backup() -> None:
    """Database backups (SQLite and PostgreSQL, through DATABASE_URL)."""


@app.command(epilog=EXIT_CODES_HELP)
def create(
    backup_dir: BackupDir = None,
    database_url_option: DatabaseUrl = None,
    jobs: Jobs = 2,
    upload_to: Annotated[
        str | None,
        typer.Option(help="Also upload the backup to s3://BUCKET/PREFIX.", show_default=False),
    ] = None,
    s3_endpoint: S3Endpoint = None,
    metrics_file: MetricsFile = None,
    pushgateway: Pushgateway = None,
    json_output: JsonOutput = False,
) -> None:
    """Back up the database: SQLite's online backup API, or pg_dump's directory format.

    Writes a manifest (sha256 of each file, sizes, engine and server version, migration, rows
    and a content checksum per table, start and end times); an interrupted backup is never
    listed as complete.
    """
    with command_run("backup create") as run:
        settings = database_settings(database_url_option)
        database = database_name(settings)
        run.log = run.log.bind(database=database)
        _sink(run, database, metrics_file, pushgateway)
        created: dict[str, Any] = {}
        run.metrics = lambda outcome: create_metrics(database, outcome, created.get("size"))
        directory = _backup_dir(backup_dir, create=True)
        workers = _jobs(jobs)
        location = parse_s3_url(upload_to, "--upload-to") if upload_to else None
        with progress_bar(not json_output) as progress:
            result = create_backup(settings, database, directory, workers, progress)
            if location is not None:
                entry = find_backup(directory, result.manifest.id)
                upload_backup(entry, location, s3_client(s3_endpoint), progress)
        created["size"] = result.manifest.size_bytes
        manifest = result.manifest
        run.record(
            backup=manifest.id,
            size_bytes=manifest.size_bytes,
            tables=len(manifest.tables),
            path=str(result.path),
        )
        if json_output:
            emit_json({**manifest.to_json(), "path": str(result.path)})
            return
        rows = sum(table.rows for table in manifest.tables.values())
        stdout_console().print(
            f"Backup [bold]{manifest.id}[/] complete: {manifest.size_bytes:,} bytes, "
            f"{len(manifest.tables)} tables, {rows:,} rows, {manifest.duration_seconds:.1f} s "
            f"({manifest.method}) in {result.path}"
            + (f"; uploaded to {location}/{manifest.id}" if location else "")
        )


@app.command(epilog=EXIT_CODES_HELP)
def verify(
    name: BackupName = None,
    backup_dir: BackupDir = None,
    scratch_url: Annotated[
        str | None,
        typer.Option(
            help="PostgreSQL server for the drill's scratch database (the role needs CREATEDB). "
            "Default: $DATABASE_URL.",
            show_default=False,
        ),
    ] = None,
    scratch_dir: Annotated[
        Path | None,
        typer.Option(help="Directory for the SQLite drill's copy. Default: the temp directory."),
    ] = None,
    jobs: Jobs = 2,
    metrics_file: MetricsFile = None,
    pushgateway: Pushgateway = None,
    json_output: JsonOutput = False,
) -> None:
    """Check every file's sha256, then restore the backup into a scratch database, run the
    engine's integrity checks and compare rows and content per table with the manifest.

    Exit 1 when anything differs. Reports the restore time (the recovery time objective).
    """
    with command_run("backup verify") as run:
        directory = _backup_dir(backup_dir)
        workers = _jobs(jobs)
        entry = _find(directory, name)
        manifest = entry.manifest
        assert manifest is not None
        run.log = run.log.bind(database=manifest.database, backup=entry.id)
        _sink(run, manifest.database, metrics_file, pushgateway)
        drilled: dict[str, float | None] = {"restore": None}
        run.metrics = lambda outcome: verify_metrics(manifest.database, outcome, drilled["restore"])
        server = None
        if manifest.engine == "postgresql":
            server = _scratch_server(scratch_url)
        if scratch_dir is not None and not scratch_dir.is_dir():
            raise UsageError(f"{scratch_dir}: no such directory", "--scratch-dir")
        with progress_bar(not json_output) as progress:
            report = verify_backup(entry, server, scratch_dir, workers, progress)
        drilled["restore"] = report.restore_seconds
        run.record(ok=report.ok, restore_seconds=report.restore_seconds, problems=report.problems)
        if json_output:
            emit_json(report.to_json())
        else:
            out = stdout_console()
            for note in report.notes:
                out.print(f"[dim]{note}[/]")
            for problem in report.problems:
                out.print(f"[red]✗ {problem}[/]")
            if report.ok:
                out.print(
                    f"Backup [bold]{entry.id}[/] [bold green]VERIFIED[/]: {report.files_checked} "
                    f"files match their sha256, {report.tables_compared} tables restored "
                    f"identical; restore took {report.restore_seconds:.2f} s"
                )
        if not report.ok:
            raise ProblemFound(
                f"backup {entry.id} FAILED verification ({len(report.problems)} problems)"
            )


def _scratch_server(scratch_url: str | None):  # type: ignore[no-untyped-def]
    option = "--scratch-url" if scratch_url else "DATABASE_URL"
    settings = database_settings(scratch_url)
    url = database_url(settings)
    if url.get_backend_name() != "postgresql":
        raise UsageError(
            "a PostgreSQL backup's restore drill needs a PostgreSQL server: set DATABASE_URL "
            "or give --scratch-url",
            option,
        )
    return url


@app.command(epilog=EXIT_CODES_HELP)
def restore(
    name: Annotated[str, typer.Argument(help="The backup id to restore (see `backup list`).")],
    target_url: Annotated[
        str,
        typer.Option(
            "--target-url",
            help="Where to restore: sqlite:///FILE or postgresql://.../DBNAME (created if absent).",
        ),
    ],
    backup_dir: BackupDir = None,
    jobs: Jobs = 2,
    yes: Yes = False,
    json_output: JsonOutput = False,
) -> None:
    """Restore a backup into a named target after checking its files; refuses a target that
    holds data unless given --yes (then replaces it in one transaction). The target is then
    compared table by table with the manifest."""
    with command_run("backup restore") as run:
        directory = _backup_dir(backup_dir)
        workers = _jobs(jobs)
        entry = _find(directory, name)
        target = database_url(database_settings(target_url))
        run.log = run.log.bind(backup=entry.id, target=target.render_as_string(hide_password=True))
        with progress_bar(not json_output) as progress:
            report = restore_backup(entry, target, yes, workers, progress)
        run.record(**report.to_json())
        if json_output:
            emit_json(report.to_json())
            return
        stdout_console().print(
            f"Restored [bold]{entry.id}[/] into {report.target}"
            + (" (existing data replaced)" if report.replaced else "")
            + f": {report.tables} tables, {report.rows:,} rows identical to the backup, "
            f"{report.restore_seconds:.2f} s"
        )


@app.command("list", epilog=EXIT_CODES_HELP)
def list_backups(backup_dir: BackupDir = None, json_output: JsonOutput = False) -> None:
    """List the backups, oldest first: complete ones with size and verification, and any
    interrupted one (never usable)."""
    with command_run("backup list") as run:
        directory = _backup_dir(backup_dir)
        entries = scan(directory)
        run.record(backups=len(entries), complete=sum(e.complete for e in entries))
        if json_output:
            emit_json([_entry_json(entry) for entry in entries])
            return
        table = Table(title=f"Backups in {directory}", title_justify="left")
        for column in ("backup", "status", "engine", "started (UTC)", "size", "verified"):
            table.add_column(column)
        for entry in entries:
            manifest = entry.manifest
            table.add_row(
                entry.id,
                "complete" if entry.complete else f"[red]{entry.problem}[/]",
                manifest.engine if manifest else "",
                f"{manifest.started_at:%Y-%m-%d %H:%M:%S}" if manifest else "",
                f"{manifest.size_bytes:,}" if manifest else "",
                _verified_text(entry),
            )
        stdout_console().print(table)


def _verified_text(entry: BackupEntry) -> str:
    if entry.verification is None:
        return "no" if entry.complete else ""
    verdict = "yes" if entry.verification.ok else "[red]FAILED[/]"
    return f"{verdict} {entry.verification.verified_at:%Y-%m-%d %H:%M}"


def _entry_json(entry: BackupEntry) -> dict[str, Any]:
    manifest = entry.manifest
    return {
        "id": entry.id,
        "complete": entry.complete,
        "problem": entry.problem,
        "database": manifest.database if manifest else None,
        "engine": manifest.engine if manifest else None,
        "started_at": manifest.started_at.isoformat() if manifest else None,
        "finished_at": manifest.finished_at.isoformat() if manifest else None,
        "size_bytes": manifest.size_bytes if manifest else None,
        "schema_version": manifest.schema_version if manifest else None,
        "verified": entry.verified,
        "verification": entry.verification.to_json() if entry.verification else None,
    }


@app.command(epilog=EXIT_CODES_HELP)
def prune(
    backup_dir: BackupDir = None,
    keep_daily: Annotated[int, typer.Option(help="Newest days that keep a backup.")] = 7,
    keep_weekly: Annotated[int, typer.Option(help="Newest ISO weeks that keep a backup.")] = 4,
    keep_monthly: Annotated[int, typer.Option(help="Newest months that keep a backup.")] = 6,
    incomplete_after_hours: Annotated[
        int,
        typer.Option(help="Also delete interrupted backups older than this (hours)."),
    ] = 24,
    yes: Yes = False,
    json_output: JsonOutput = False,
) -> None:
    """Grandfather-father-son retention: keep the newest backup of each of the newest N days,
    W weeks and M months, and always the newest verified backup. A dry run unless --yes."""
    with command_run("backup prune") as run:
        directory = _backup_dir(backup_dir)
        for option, value, low in (
            ("--keep-daily", keep_daily, 1),
            ("--keep-weekly", keep_weekly, 0),
            ("--keep-monthly", keep_monthly, 0),
            ("--incomplete-after-hours", incomplete_after_hours, 1),
        ):
            if not low <= value <= 10_000:
                raise UsageError(f"expected {low} to 10000, got {value}", option)
        entries = scan(directory)
        complete = {entry.id: entry for entry in entries if entry.complete}
        plan = plan_prune(
            [
                Candidate(e.id, e.started_at, e.verified)
                for e in complete.values()
                if e.started_at is not None
            ],
            Policy(daily=keep_daily, weekly=keep_weekly, monthly=keep_monthly),
        )
        cutoff = time.time() - incomplete_after_hours * 3600
        # Only the tool's own `.partial-` directories: a directory with a damaged manifest may
        # be evidence, or something else entirely, and is left to a human.
        stale = [
            e
            for e in entries
            if e.path.name.startswith(PARTIAL_PREFIX) and e.path.stat().st_mtime < cutoff
        ]
        doomed = [complete[backup].path for backup in plan.delete] + [e.path for e in stale]
        if yes:
            for path in doomed:
                discard(path)
        run.record(kept=len(plan.keep), deleted=len(doomed) if yes else 0, dry_run=not yes)
        if json_output:
            emit_json(
                {
                    "dry_run": not yes,
                    "keep": [
                        {"backup": backup, "reasons": reasons}
                        for backup, reasons in plan.keep.items()
                    ],
                    "delete": plan.delete,
                    "delete_incomplete": [e.path.name for e in stale],
                }
            )
            return
        out = stdout_console()
        for backup, reasons in plan.keep.items():
            out.print(f"keep    {backup}  ({', '.join(reasons)})")
        verb = "deleted" if yes else "would delete"
        for backup in plan.delete:
            out.print(f"[red]{verb}[/] {backup}")
        for entry in stale:
            out.print(f"[red]{verb}[/] {entry.path.name} (interrupted)")
        if not yes and doomed:
            out.print("Dry run: nothing deleted. Rerun with --yes to delete.")


@app.command(epilog=EXIT_CODES_HELP)
def upload(
    name: BackupName = None,
    to: Annotated[str, typer.Option("--to", help="s3://BUCKET/PREFIX to upload to.")] = "",
    backup_dir: BackupDir = None,
    s3_endpoint: S3Endpoint = None,
) -> None:
    """Upload a complete backup to S3-compatible object storage (data first, manifest last)."""
    with command_run("backup upload") as run:
        if not to:
            raise UsageError("required: s3://BUCKET/PREFIX", "--to")
        location = parse_s3_url(to, "--to")
        directory = _backup_dir(backup_dir)
        entry = _find(directory, name)
        with progress_bar() as progress:
            sent = upload_backup(entry, location, s3_client(s3_endpoint), progress)
        run.record(backup=entry.id, bytes=sent, location=str(location))
        stdout_console().print(f"Uploaded {entry.id} ({sent:,} bytes) to {location}/{entry.id}")


@app.command(epilog=EXIT_CODES_HELP)
def download(
    name: Annotated[str, typer.Argument(help="The backup id to download.")],
    source: Annotated[str, typer.Option("--from", help="s3://BUCKET/PREFIX it was uploaded to.")],
    backup_dir: BackupDir = None,
    s3_endpoint: S3Endpoint = None,
) -> None:
    """Download a backup from object storage into the backup directory, every file checked
    against its manifest; then `verify` or `restore` it as any other."""
    with command_run("backup download") as run:
        location = parse_s3_url(source, "--from")
        directory = _backup_dir(backup_dir, create=True)
        with progress_bar() as progress:
            path = download_backup(location, name, directory, s3_client(s3_endpoint), progress)
        run.record(backup=name, path=str(path))
        stdout_console().print(f"Downloaded {name} into {path}; every file matches its sha256")


__all__ = ["TARGET_OPTION", "app"]
