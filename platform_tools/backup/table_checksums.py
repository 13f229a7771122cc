"""Row counts and content checksums per table, computed the same way on the source at backup
time and on a restored copy, so a restore drill can prove it got back what was saved.

On PostgreSQL the checksum of a table is the sum, modulo 2**64, of a 64-bit digest of each
row's text form (`md5(t::text)`), computed server-side so no row crosses the network: it does
not depend on row order (pg_restore may store rows in another physical order), and any
changed, missing or extra row changes it (up to a 2**-64 chance). On SQLite, whose backups
and restores copy pages (so rows keep their order), it is the sha256 of the rows' text in
storage order, built by SQLite itself.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable

from sqlalchemy import Connection, text

from platform_tools.backup.manifest import TableEntry

_MOD = 1 << 64
_BATCH = 20_000
Advance = Callable[[str], None]


def sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    """The user tables of a SQLite database (SQLite's own tables left out), sorted."""
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    ).fetchall()
    return [name for (name,) in rows]


def sqlite_checksums(
    conn: sqlite3.Connection, advance: Advance | None = None
) -> dict[str, TableEntry]:
    """Rows and content checksum of every table of a SQLite database.

    SQLite builds each row's text with `quote()` (type-preserving: 1 and '1' differ) and the
    rows are hashed in storage order: a copy made or restored with the backup API holds the
    same pages, so the same order.
    """
    result = {}
    for table in sqlite_tables(conn):
        quoted = '"' + table.replace('"', '""') + '"'
        columns = [row[1] for row in conn.execute(f"PRAGMA table_info({quoted})")]
        row_text = " || '|' || ".join(
            'quote("' + column.replace('"', '""') + '")' for column in columns
        )
        digest = hashlib.sha256()
        rows = 0
        cursor = conn.execute(f"SELECT {row_text or 'NULL'} FROM {quoted}")
        while batch := cursor.fetchmany(_BATCH):
            digest.update(("\n".join(text for (text,) in batch) + "\n").encode())
            rows += len(batch)
        result[table] = TableEntry(rows=rows, checksum=f"sha256-rows:{digest.hexdigest()}")
        if advance is not None:
            advance(table)
    return result


def postgres_tables(conn: Connection) -> list[str]:
    """The tables (plain and partitioned) of the connection's current schema, sorted."""
    return list(
        conn.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
                "ORDER BY c.relname"
            )
        ).scalars()
    )


def postgres_checksums(conn: Connection, advance: Advance | None = None) -> dict[str, TableEntry]:
    """Rows and content checksum of every table, in the connection's current snapshot."""
    preparer = conn.dialect.identifier_preparer
    result = {}
    for table in postgres_tables(conn):
        # The first 16 hex digits of md5 as a signed 64-bit integer; summed as numeric so
        # that it cannot overflow, then reduced modulo 2**64 below.
        rows, total = conn.execute(
            text(
                "SELECT count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 16))"
                f"::bit(64)::bigint::numeric), 0) FROM {preparer.quote(table)} AS t"
            )
        ).one()
        result[table] = TableEntry(rows=int(rows), checksum=f"rowsum64:{int(total) % _MOD:016x}")
        if advance is not None:
            advance(table)
    return result


def compare_tables(expected: dict[str, TableEntry], found: dict[str, TableEntry]) -> list[str]:
    """Differences between the manifest's tables and a restored copy's, one line each."""
    problems = []
    for table in sorted(set(expected) | set(found)):
        want, got = expected.get(table), found.get(table)
        if want is None:
            problems.append(f"table {table}: in the restored copy but not in the manifest")
        elif got is None:
            problems.append(f"table {table}: in the manifest but missing from the restored copy")
        elif want.rows != got.rows:
            problems.append(f"table {table}: {got.rows} rows restored, {want.rows} backed up")
        elif want.checksum != got.checksum:
            problems.append(f"table {table}: content differs from the backup ({want.rows} rows)")
    return problems
