"""Checks that the ids a request names exist and belong together, one query per kind of id."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Table, select

from app.store.json_rows import id_rows
from app.store.schema import element, learner_group


def rows_by_id(conn: Connection, table: Table, ids: Iterable[int], *columns: str) -> dict[int, Any]:
    """{id: row} for the ids that exist in `table`, with the given extra columns."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    keys = id_rows(conn.dialect.name, "wanted", wanted)
    query = select(table.c.id, *(table.c[c] for c in columns)).where(
        table.c.id.in_(select(keys.c.id))
    )
    return {row.id: row for row in conn.execute(query)}


def groups_of(conn: Connection, ids: Iterable[int]) -> dict[int, Any]:
    """Groups with their step."""
    return rows_by_id(conn, learner_group, ids, "step_id")


def elements_of(conn: Connection, ids: Iterable[int]) -> dict[int, Any]:
    """Elements with their step, optional flag and choice group."""
    return rows_by_id(conn, element, ids, "step_id", "optional", "choice_group_id")
