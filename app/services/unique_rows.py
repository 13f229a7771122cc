"""Rows keyed by id: one inserted under a unique key (409 when taken), one page in id order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, RowMapping, Table, insert, select
from sqlalchemy.exc import IntegrityError

from app.domain.errors import Conflict
from app.domain.pages import page


def insert_unique(
    conn: Connection, table: Table, row: dict[str, Any], field: str, taken: str
) -> int:
    """Insert `row` and return its id; 409 naming `field` when a unique key is already taken.

    The unique index decides, not a read before the write, so two concurrent requests cannot
    both pass; the savepoint keeps the request's transaction usable for the error answer.
    """
    try:
        with conn.begin_nested():
            return conn.execute(insert(table).values(**row).returning(table.c.id)).scalar_one()
    except IntegrityError:
        raise Conflict.of(field, taken) from None


def page_by_id(
    conn: Connection,
    table: Table,
    limit: int,
    after: int,
    view: Callable[[RowMapping], dict[str, Any]],
) -> dict[str, Any]:
    """One keyset page of every row of `table`, in id order."""
    rows = (
        conn.execute(select(table).where(table.c.id > after).order_by(table.c.id).limit(limit + 1))
        .mappings()
        .all()
    )
    return page(rows, limit, lambda r: r["id"], view)
