"""INSERT … ON CONFLICT for whichever engine the connection runs on."""

from __future__ import annotations

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_for(conn: Connection, table: Table):  # type: ignore[no-untyped-def]
    """A dialect insert that offers `on_conflict_do_nothing` / `on_conflict_do_update`."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(table)
