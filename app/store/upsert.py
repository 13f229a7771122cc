"""INSERT … ON CONFLICT for whichever engine the connection runs on."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, Table, true
from sqlalchemy.dialects import postgresql, sqlite


def insert_for(conn: Connection, table: Table):  # type: ignore[no-untyped-def]
    """A dialect insert that offers `on_conflict_do_nothing` / `on_conflict_do_update`."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(table)


def upsert_select(  # type: ignore[no-untyped-def]
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Select[Any],
    key: Sequence[str],
    update: Sequence[str],
    where: Callable[[Any], ColumnElement[bool]] | None = None,
):
    """`INSERT INTO table (columns) rows ON CONFLICT (key) DO UPDATE SET update [WHERE …]`.

    `where` receives the dialect's `excluded` row and returns the condition an existing row
    must meet to be updated (and returned by `RETURNING`); with `update` empty, conflicting
    rows are left alone and not returned.
    """
    # SQLite reads an `ON` right after the SELECT's FROM as a join constraint: a WHERE
    # clause ends the SELECT so that `ON CONFLICT` parses as the upsert it is.
    if rows.whereclause is None:
        rows = rows.where(true())
    statement = insert_for(conn, table).from_select(list(columns), rows)
    if not update:
        return statement.on_conflict_do_nothing(index_elements=list(key))
    return statement.on_conflict_do_update(
        index_elements=list(key),
        set_={name: statement.excluded[name] for name in update},
        where=where(statement.excluded) if where else None,
    )
