"""Batches travel as one JSON parameter and unpack into rows inside the database.

A batch of ten thousand rows is then one statement and one round trip on both engines,
instead of one statement per row or per chunk.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, String, TextClause, column, text
from sqlalchemy.sql import Subquery
from sqlalchemy.types import TypeEngine

_PG_TYPES = {"int": "bigint", "str": "text", "bool": "boolean", "date": "date"}
_SA_TYPES: dict[str, TypeEngine[Any]] = {
    "int": BigInteger(),
    "str": String(),
    "bool": Boolean(),
    "date": Date(),
}


def _default(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} in a JSON batch")


def json_rows(
    dialect_name: str,
    name: str,
    columns: Mapping[str, str],
    rows: Iterable[Mapping[str, Any]],
) -> Subquery:
    """A derived table `name` with `columns` ({column: int|str|bool|date}) holding `rows`."""
    payload = json.dumps([{c: row.get(c) for c in columns} for row in rows], default=_default)
    param = f"{name}_json"
    if dialect_name == "postgresql":
        spec = ", ".join(f"{c} {_PG_TYPES[t]}" for c, t in columns.items())
        clause: TextClause = text(
            f"SELECT {', '.join(columns)} FROM jsonb_to_recordset(CAST(:{param} AS jsonb)) "
            f"AS r({spec})"
        )
    else:
        picks = ", ".join(_sqlite_pick(c, t) for c, t in columns.items())
        clause = text(f"SELECT {picks} FROM json_each(:{param})")
    clause = clause.bindparams(**{param: payload})
    return clause.columns(*(column(c, _SA_TYPES[t]) for c, t in columns.items())).subquery(name)


def _sqlite_pick(name: str, kind: str) -> str:
    extracted = f"json_extract(value, '$.{name}')"
    if kind == "int":
        return f"CAST({extracted} AS INTEGER) AS {name}"
    return f"{extracted} AS {name}"


def id_rows(dialect_name: str, name: str, ids: Iterable[int]) -> Subquery:
    """A derived table `name` with one `id` column."""
    return json_rows(dialect_name, name, {"id": "int"}, ({"id": i} for i in ids))


__all__ = ["id_rows", "json_rows"]
