"""`backup create`: a consistent copy of the database, its files checksummed, its manifest
written last, published by a rename."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from rich.progress import Progress

from app.settings import Settings
from platform_tools.backup.files import data_files, sha256_file
from platform_tools.backup.manifest import FileEntry, Manifest, write_manifest
from platform_tools.backup.postgres_backend import dump_postgres
from platform_tools.backup.repository import (
    DATA_DIR,
    discard,
    finish_backup,
    start_backup,
)
from platform_tools.backup.sqlite_backend import backup_sqlite
from platform_tools.run.database import database_url, open_engine


def tool_version() -> str:
    """The version of the installed platform (the wheel the tools ship in)."""
    try:
        return metadata.version("campus-platform")
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class CreatedBackup:
    """A published backup: where it is and what its manifest says."""

    path: Path
    manifest: Manifest


def create_backup(
    settings: Settings,
    database: str,
    backup_dir: Path,
    jobs: int,
    progress: Progress,
) -> CreatedBackup:
    """Back up the settings' database into a new backup of `backup_dir`.

    The work happens under a `.partial-` directory, removed if anything fails; only a backup
    whose manifest reached the disk is renamed to its final name.
    """
    settings_url = database_url(settings)
    engine = open_engine(settings)
    started_at = dt.datetime.now(dt.UTC)
    backup, partial = start_backup(backup_dir, database, started_at)
    try:
        data = partial / DATA_DIR
        if settings_url.get_backend_name() == "sqlite":
            pages = progress.add_task("Copying pages", total=None)
            tables = progress.add_task("Checksumming tables", total=None)
            snapshot = backup_sqlite(
                Path(settings_url.database or ""),
                data,
                progress=lambda done, total: progress.update(pages, completed=done, total=total),
                table_done=lambda _table: progress.advance(tables),
            )
            method = "sqlite-online-backup"
            details: dict[str, object] = {"page_count": snapshot.page_count}
        else:
            dumped = progress.add_task("Dumping tables (pg_dump)", total=None)
            checked = progress.add_task("Checksumming tables", total=None)
            snapshot = dump_postgres(
                engine,
                settings_url,
                data,
                jobs,
                table_dumped=lambda _table: progress.advance(dumped),
                table_checked=lambda _table: progress.advance(checked),
            )
            method = "pg_dump-directory"
            details = dict(snapshot.details)
        files = checksum_files(partial, progress)
        manifest = Manifest(
            id=backup,
            database=database,
            engine=settings_url.get_backend_name(),
            server_version=snapshot.server_version,
            schema_version=snapshot.schema_version,
            method=method,
            started_at=started_at,
            finished_at=dt.datetime.now(dt.UTC),
            files=files,
            tables=snapshot.tables,
            tool_version=tool_version(),
            schema_fingerprint=snapshot.schema_fingerprint,
            details=details,
        )
        write_manifest(manifest, partial)
        final = finish_backup(partial, backup_dir, backup)
    except BaseException:
        # Interrupted or failed: nothing half-written stays behind under a complete name.
        discard(partial)
        raise
    finally:
        engine.dispose()
    return CreatedBackup(path=final, manifest=manifest)


def checksum_files(backup_path: Path, progress: Progress) -> tuple[FileEntry, ...]:
    """sha256 and size of every file under `backup_path/data/` (backups and exam archives)."""
    paths = data_files(backup_path / DATA_DIR)
    total = sum(path.stat().st_size for path in paths)
    task = progress.add_task("Hashing files (sha256)", total=total)
    entries = []
    for path in paths:
        digest = sha256_file(path, advance=lambda size: progress.advance(task, size))
        entries.append(
            FileEntry(
                path=path.relative_to(backup_path).as_posix(),
                size=path.stat().st_size,
                sha256=digest,
            )
        )
    return tuple(entries)
