"""`backup verify`: every file against its checksum, then a restore drill into a scratch
database with the engine's integrity checks and a per-table comparison with the manifest."""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from rich.progress import Progress
from sqlalchemy.engine import URL

from platform_tools.backup.files import data_files, sha256_file
from platform_tools.backup.manifest import FileEntry, Manifest
from platform_tools.backup.postgres_backend import (
    DUMP_DIR,
    check_postgres,
    restore_parallel,
    scratch_database,
)
from platform_tools.backup.repository import (
    DATA_DIR,
    BackupEntry,
    Verification,
    manifest_digest,
    write_verification,
)
from platform_tools.backup.sqlite_backend import DATA_FILE, check_sqlite, restore_sqlite
from platform_tools.backup.table_checksums import compare_tables


@dataclass
class VerifyReport:
    """What a verification found."""

    backup: str
    database: str
    engine: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files_checked: int = 0
    tables_compared: int = 0
    restore_seconds: float | None = None
    drill_run: bool = False

    @property
    def ok(self) -> bool:
        """True when the checksums matched and the drill restored the same content."""
        return not self.problems and self.drill_run

    def to_json(self) -> dict[str, object]:
        """The report as printed by `--json`."""
        return {
            "backup": self.backup,
            "database": self.database,
            "engine": self.engine,
            "ok": self.ok,
            "problems": self.problems,
            "notes": self.notes,
            "files_checked": self.files_checked,
            "tables_compared": self.tables_compared,
            "restore_seconds": self.restore_seconds,
        }


class ListsFiles(Protocol):
    """What check_files needs of a manifest: a backup's, or an exam-period archive's."""

    @property
    def files(self) -> tuple[FileEntry, ...]: ...

    @property
    def size_bytes(self) -> int: ...


def check_files(path: Path, manifest: ListsFiles, progress: Progress) -> list[str]:
    """Compare every data file with the manifest: presence, size, sha256; no extra file."""
    problems = []
    task = progress.add_task("Checking sha256", total=manifest.size_bytes)
    listed = {entry.path for entry in manifest.files}
    for found in data_files(path / DATA_DIR):
        relative = found.relative_to(path).as_posix()
        if relative not in listed:
            problems.append(f"{relative}: not listed in the manifest")
    for entry in manifest.files:
        file = path / entry.path
        if not file.is_file():
            problems.append(f"{entry.path}: missing")
            continue
        size = file.stat().st_size
        if size != entry.size:
            problems.append(f"{entry.path}: {size} bytes, the manifest says {entry.size}")
            progress.advance(task, entry.size)
            continue
        digest = sha256_file(file, advance=lambda n: progress.advance(task, n))
        if digest != entry.sha256:
            problems.append(f"{entry.path}: sha256 {digest[:12]}… differs from the manifest's")
    return problems


def verify_backup(
    entry: BackupEntry,
    scratch_server: URL | None,
    scratch_dir: Path | None,
    jobs: int,
    progress: Progress,
) -> VerifyReport:
    """Verify one complete backup and record the outcome next to it."""
    manifest = entry.manifest
    assert manifest is not None
    report = VerifyReport(backup=entry.id, database=manifest.database, engine=manifest.engine)
    report.problems += check_files(entry.path, manifest, progress)
    report.files_checked = len(manifest.files)
    if not report.problems:
        _drill(entry.path, manifest, scratch_server, scratch_dir, jobs, progress, report)
    else:
        report.notes.append("restore drill skipped: the files do not match their checksums")
    write_verification(
        entry.path,
        Verification(
            ok=report.ok,
            verified_at=dt.datetime.now(dt.UTC),
            restore_seconds=report.restore_seconds,
            problems=tuple(report.problems),
            manifest_sha256=manifest_digest(entry.path),
        ),
    )
    return report


def _drill(
    path: Path,
    manifest: Manifest,
    scratch_server: URL | None,
    scratch_dir: Path | None,
    jobs: int,
    progress: Progress,
    report: VerifyReport,
) -> None:
    restored = progress.add_task("Restore drill", total=len(manifest.tables))
    compared = progress.add_task("Comparing tables", total=len(manifest.tables))
    if manifest.engine == "sqlite":
        with tempfile.TemporaryDirectory(prefix="campus-drill-", dir=scratch_dir) as scratch:
            target = Path(scratch) / "restored.sqlite3"
            started = time.monotonic()
            restore_sqlite(
                path / DATA_DIR / DATA_FILE,
                target,
                progress=lambda done, total: progress.update(restored, completed=done, total=total),
            )
            report.restore_seconds = round(time.monotonic() - started, 3)
            check = check_sqlite(target, table_done=lambda _t: progress.advance(compared))
    else:
        assert scratch_server is not None
        with scratch_database(scratch_server, manifest.database) as scratch_url:
            report.restore_seconds = round(
                restore_parallel(
                    path / DATA_DIR / DUMP_DIR,
                    scratch_url,
                    jobs,
                    table_done=lambda _t: progress.advance(restored),
                ),
                3,
            )
            check = check_postgres(scratch_url, table_done=lambda _t: progress.advance(compared))
    report.drill_run = True
    report.problems += check.problems
    report.notes += check.notes
    report.problems += compare_tables(manifest.tables, check.tables)
    report.tables_compared = len(check.tables)
    if manifest.schema_fingerprint and check.schema_fingerprint != manifest.schema_fingerprint:
        report.problems.append(
            "schema differs from the backup's (tables, columns, indexes or constraints)"
        )
    if check.schema_version != manifest.schema_version:
        report.problems.append(
            f"migration {check.schema_version} restored, {manifest.schema_version} backed up"
        )
