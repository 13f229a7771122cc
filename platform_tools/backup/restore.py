"""`backup restore`: a backup into a named target, refusing to replace data without --yes."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.progress import Progress
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from platform_tools.backup.postgres_backend import (
    DUMP_DIR,
    admin_engine,
    check_engine_match,
    create_database,
    database_exists,
    postgres_checksums,
    restore_parallel,
    restore_replacing,
    user_relations,
)
from platform_tools.backup.repository import DATA_DIR, BackupEntry
from platform_tools.backup.schema_fingerprint import postgres_fingerprint
from platform_tools.backup.sqlite_backend import (
    DATA_FILE,
    check_sqlite,
    restore_sqlite,
    sqlite_is_empty,
)
from platform_tools.backup.table_checksums import compare_tables
from platform_tools.backup.verify import check_files
from platform_tools.run.errors import EnvironmentFailure, ProblemFound, UsageError

TARGET_OPTION = "--target-url"


@dataclass
class RestoreReport:
    """What a restore did."""

    backup: str
    target: str
    replaced: bool = False
    created: bool = False
    restore_seconds: float = 0.0
    tables: int = 0
    rows: int = 0
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        """The report as printed by `--json`."""
        return {
            "backup": self.backup,
            "target": self.target,
            "replaced_existing_data": self.replaced,
            "created_database": self.created,
            "restore_seconds": self.restore_seconds,
            "tables": self.tables,
            "rows": self.rows,
        }


def restore_backup(
    entry: BackupEntry, target: URL, yes: bool, jobs: int, progress: Progress
) -> RestoreReport:
    """Check the backup's files, restore it into `target`, then prove the target holds the
    manifest's rows and checksums."""
    manifest = entry.manifest
    assert manifest is not None
    check_engine_match(target.get_backend_name(), manifest.engine, TARGET_OPTION)
    report = RestoreReport(backup=entry.id, target=target.render_as_string(hide_password=True))
    problems = check_files(entry.path, manifest, progress)
    if problems:
        raise ProblemFound(
            f"backup {entry.id} does not match its checksums, not restored: " + "; ".join(problems)
        )
    task = progress.add_task("Restoring", total=len(manifest.tables))
    if manifest.engine == "sqlite":
        path = Path(target.database or "")
        found, fingerprint = _restore_sqlite(entry.path, path, yes, progress, task, report)
    else:
        found, fingerprint = _restore_postgres(
            entry.path, target, yes, jobs, progress, task, report
        )
    differences = compare_tables(manifest.tables, found)
    if manifest.schema_fingerprint and fingerprint != manifest.schema_fingerprint:
        differences.append("schema differs from the backup's (tables, columns, indexes)")
    if differences:
        raise ProblemFound(
            f"the restored {report.target} differs from backup {entry.id}: "
            + "; ".join(differences)
        )
    report.tables = len(found)
    report.rows = sum(table.rows for table in found.values())
    return report


def _refuse(target: str, what: str) -> UsageError:
    return UsageError(
        f"{target} is not empty ({what}); rerun with --yes to replace its data", TARGET_OPTION
    )


def _restore_sqlite(
    backup_path: Path, target: Path, yes: bool, progress: Progress, task, report: RestoreReport
):  # type: ignore[no-untyped-def]
    if not target.name or str(target) == ":memory:":
        raise UsageError("expected sqlite:///PATH of a database file", TARGET_OPTION)
    if not sqlite_is_empty(target):
        if not yes:
            raise _refuse(str(target), "it has tables")
        report.replaced = True
    report.created = not target.exists()
    started = time.monotonic()
    restore_sqlite(
        backup_path / DATA_DIR / DATA_FILE,
        target,
        progress=lambda done, total: progress.update(task, completed=done, total=total),
    )
    report.restore_seconds = round(time.monotonic() - started, 3)
    check = check_sqlite(target)
    if check.problems:
        raise ProblemFound(f"the restored {target} fails its checks: " + "; ".join(check.problems))
    return check.tables, check.schema_fingerprint


def _restore_postgres(
    backup_path: Path,
    target: URL,
    yes: bool,
    jobs: int,
    progress: Progress,
    task,  # type: ignore[no-untyped-def]
    report: RestoreReport,
):  # type: ignore[no-untyped-def]
    if not target.database:
        raise UsageError("name the target database: postgresql://.../DBNAME", TARGET_OPTION)
    maintenance = admin_engine(target.set(database="postgres"))
    engine = admin_engine(target)
    try:
        try:
            if not database_exists(maintenance, target.database):
                create_database(maintenance, target.database)
                report.created = True
            with engine.connect() as conn:
                relations = user_relations(conn)
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise EnvironmentFailure(f"target {report.target}: {reason}") from None
        dump = backup_path / DATA_DIR / DUMP_DIR
        if relations:
            if not yes:
                raise _refuse(report.target, f"{relations} tables, views or sequences")
            report.replaced = True
            report.restore_seconds = round(restore_replacing(dump, target), 3)
        else:
            report.restore_seconds = round(
                restore_parallel(dump, target, jobs, lambda _t: progress.advance(task)), 3
            )
        with engine.connect() as conn:
            return postgres_checksums(conn), postgres_fingerprint(conn)
    finally:
        engine.dispose()
        maintenance.dispose()
