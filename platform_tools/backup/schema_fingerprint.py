"""A fingerprint of the database's structure: tables, columns with their types and
nullability, indexes, constraints and sequences, by name.

Compared by the restore drill, so a restore that lost an index or a constraint fails even
when every row came back. Constraint definitions are left out on purpose: PostgreSQL prints
a restored CHECK constraint's expression differently from the original (the same constraint,
re-parsed), so only names and kinds are compared.
"""

from __future__ import annotations

import hashlib
import sqlite3

from sqlalchemy import Connection, text


def _digest(lines: list[str]) -> str:
    return "sha256:" + hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()


def sqlite_fingerprint(conn: sqlite3.Connection) -> str:
    """Tables, columns, indexes and triggers of a SQLite database."""
    lines = []
    objects = conn.execute(
        "SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
    ).fetchall()
    for kind, name, table in objects:
        lines.append(f"{kind} {table}.{name}")
        if kind == "table":
            quoted = '"' + name.replace('"', '""') + '"'
            for _cid, column, declared, notnull, _default, pk in conn.execute(
                f"PRAGMA table_info({quoted})"
            ):
                lines.append(f"column {name}.{column} {declared} notnull={notnull} pk={pk}")
    return _digest(lines)


def postgres_fingerprint(conn: Connection) -> str:
    """Tables, columns, indexes, constraints and sequences of the current schema."""
    rows = conn.execute(
        text(
            """
            SELECT 'column ' || c.relname || '.' || a.attname || ' '
                   || format_type(a.atttypid, a.atttypmod) || ' notnull=' || a.attnotnull
            FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
              AND a.attnum > 0 AND NOT a.attisdropped
            UNION ALL
            SELECT 'relation ' || c.relkind::text || ' ' || c.relname
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'i', 'S', 'v', 'm')
            UNION ALL
            SELECT 'constraint ' || con.contype::text || ' ' || c.relname || '.' || con.conname
            FROM pg_constraint con
            JOIN pg_class c ON c.oid = con.conrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema()
            """
        )
    ).scalars()
    return _digest(list(rows))
