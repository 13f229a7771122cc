"""Dropping a whole database on PostgreSQL (scratch databases of drills, tests, benchmarks)."""

from __future__ import annotations

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

INSUFFICIENT_PRIVILEGE = "42501"
OBJECT_IN_USE = "55006"


def drop_database(conn: Connection, name: str) -> None:
    """DROP DATABASE `name` if it exists, ending the sessions still in it.

    `conn` is an AUTOCOMMIT connection to another database. WITH (FORCE) ends the caller's
    own sessions there; PostgreSQL 15 refuses it when an autovacuum worker has just started in
    the database (a process of no role the caller may signal), and a plain DROP then stops
    that worker itself. Once more WITH (FORCE) if a session of ours came back meanwhile.
    """
    quoted = conn.dialect.identifier_preparer.quote(name)
    force = text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
    try:
        conn.execute(force)
        return
    except DBAPIError as exc:
        if _sqlstate(exc) != INSUFFICIENT_PRIVILEGE:
            raise
    try:
        conn.execute(text(f"DROP DATABASE IF EXISTS {quoted}"))
    except DBAPIError as exc:
        if _sqlstate(exc) != OBJECT_IN_USE:
            raise
        conn.execute(force)


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)
