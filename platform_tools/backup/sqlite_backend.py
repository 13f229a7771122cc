"""SQLite backups through the online backup API: a consistent copy while the app writes."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from platform_tools.backup.manifest import TableEntry
from platform_tools.backup.schema_fingerprint import sqlite_fingerprint
from platform_tools.backup.table_checksums import sqlite_checksums, sqlite_tables
from platform_tools.run.errors import EnvironmentFailure

DATA_FILE = "campus.sqlite3"
# Pages copied per step: small enough that writers of the live database are not held up long.
PAGES_PER_STEP = 4096
BUSY_TIMEOUT_MS = 10_000

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SqliteSnapshot:
    """What a SQLite copy holds: engine version, migration, tables."""

    server_version: str
    schema_version: str | None
    tables: dict[str, TableEntry]
    page_count: int
    schema_fingerprint: str


@contextlib.contextmanager
def _connect(path: Path, read_only: bool = False) -> Iterator[sqlite3.Connection]:
    uri = f"file:{path}?mode=ro" if read_only else f"file:{path}"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise EnvironmentFailure(f"{path}: cannot open SQLite database ({exc})") from None
    try:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        yield conn
    finally:
        conn.close()


def _copy(source: sqlite3.Connection, target: sqlite3.Connection, progress: Progress | None):
    def report(_status: int, remaining: int, total: int) -> None:
        if progress is not None:
            progress(total - remaining, total)

    source.backup(target, pages=PAGES_PER_STEP, progress=report)


def schema_version(conn: sqlite3.Connection) -> str | None:
    """The Alembic revision stored in the database, or None before the first migration."""
    if "alembic_version" not in sqlite_tables(conn):
        return None
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


def backup_sqlite(
    source: Path,
    data_dir: Path,
    progress: Progress | None = None,
    table_done: Callable[[str], None] | None = None,
) -> SqliteSnapshot:
    """Copy the live database at `source` into `data_dir/campus.sqlite3` and describe it.

    The copy is switched to the rollback journal so that it is one self-contained file
    (no -wal or -shm beside it); the checksums are computed from the copy itself.
    """
    target_path = data_dir / DATA_FILE
    try:
        with _connect(source) as src, _connect(target_path) as dst:
            _copy(src, dst, progress)
            dst.execute("PRAGMA journal_mode=DELETE")
            pages = dst.execute("PRAGMA page_count").fetchone()[0]
            snapshot = SqliteSnapshot(
                server_version=sqlite3.sqlite_version,
                schema_version=schema_version(dst),
                tables=sqlite_checksums(dst, table_done),
                page_count=pages,
                schema_fingerprint=sqlite_fingerprint(dst),
            )
    except sqlite3.Error as exc:
        raise EnvironmentFailure(f"SQLite backup of {source} failed: {exc}") from None
    with target_path.open("rb") as stream:
        os.fsync(stream.fileno())
    return snapshot


def sqlite_is_empty(path: Path) -> bool:
    """True when there is no database at `path`, or one without any table."""
    if not path.exists() or path.stat().st_size == 0:
        return True
    with _connect(path, read_only=True) as conn:
        try:
            return not sqlite_tables(conn)
        except sqlite3.DatabaseError as exc:
            raise EnvironmentFailure(f"{path}: not a SQLite database ({exc})") from None


def restore_sqlite(backup_file: Path, target: Path, progress: Progress | None = None) -> None:
    """Copy the backup into `target` with the backup API: one transaction on the target, so
    a failure leaves the target as it was."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with _connect(backup_file, read_only=True) as src, _connect(target) as dst:
            _copy(src, dst, progress)
    except sqlite3.Error as exc:
        raise EnvironmentFailure(f"SQLite restore into {target} failed: {exc}") from None


@dataclass(frozen=True)
class SqliteCheck:
    """What the restored copy says about itself."""

    problems: list[str]
    tables: dict[str, TableEntry]
    schema_version: str | None
    notes: list[str]
    schema_fingerprint: str | None = None


def check_sqlite(path: Path, table_done: Callable[[str], None] | None = None) -> SqliteCheck:
    """PRAGMA integrity_check and foreign_key_check, then the per-table checksums."""
    problems: list[str] = []
    with _connect(path, read_only=True) as conn:
        try:
            integrity = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            if integrity != ["ok"]:
                problems += [f"integrity_check: {line}" for line in integrity[:20]]
            orphans = conn.execute("PRAGMA foreign_key_check").fetchall()
            problems += [
                f"foreign_key_check: {table} row {rowid} points to a missing {parent}"
                for table, rowid, parent, _fk in orphans[:20]
            ]
            tables = sqlite_checksums(conn, table_done)
            version = schema_version(conn)
            fingerprint = sqlite_fingerprint(conn)
        except sqlite3.DatabaseError as exc:
            unreadable = f"the restored copy is not a readable database: {exc}"
            return SqliteCheck([unreadable], {}, None, [])
    return SqliteCheck(
        problems=problems,
        tables=tables,
        schema_version=version,
        notes=["PRAGMA integrity_check: ok" if not problems else "PRAGMA integrity_check failed"],
        schema_fingerprint=fingerprint,
    )
