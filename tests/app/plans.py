"""What PostgreSQL did to run a statement the app sent: its executed plan, and the rows each
step of it read. Plan regressions are counted, never timed."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from psycopg import sql
from sqlalchemy import Engine, Table, event, text


@contextmanager
def stale_statistics(engine: Engine, tables: Sequence[Table]) -> Iterator[None]:
    """The tables analysed now and not again, as when autovacuum lags a surge of writes."""
    with engine.begin() as conn:
        conn.execute(text(f"ANALYZE {', '.join(table.name for table in tables)}"))
        for table in tables:
            conn.execute(text(f"ALTER TABLE {table.name} SET (autovacuum_enabled = false)"))
    try:
        yield
    finally:
        with engine.begin() as conn:
            for table in tables:
                conn.execute(text(f"ALTER TABLE {table.name} RESET (autovacuum_enabled)"))


def sent(engine: Engine, matches: Callable[[str], bool], work: Callable[[], Any]) -> tuple:
    """The one statement matching `matches` that `work` sent, with its parameters."""
    found: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if matches(statement):
            found.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    ((statement, parameters),) = found
    return statement, parameters


def executed_plan(engine: Engine, statement: str, parameters: dict, generic: bool) -> dict:
    """The plan of `statement` run again (and rolled back), with its actual rows.

    generic: prepared and planned once for any value, as the server may plan a statement
    psycopg prepares (from its fifth execution); otherwise planned for these values.
    """
    names = re.findall(r"%\((\w+)\)s", statement)
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        if generic:
            numbered = re.sub(
                r"%\((\w+)\)s", lambda m: f"${names.index(m.group(1)) + 1}", statement
            )
            values = sql.SQL(", ").join(sql.Literal(parameters[name]) for name in names)
            conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
            conn.exec_driver_sql(f"PREPARE measured AS {numbered}")
            run = f"EXECUTE measured({values.as_string(driver)})"
            plan = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {run}").scalar()
        else:
            plan = conn.exec_driver_sql(
                f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters
            ).scalar()
        conn.rollback()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return plan[0]["Plan"]


def rows_read(node: dict) -> Iterator[int]:
    """Rows each step of the plan yielded or filtered out, over all its loops."""
    removed = node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Join Filter", 0)
    yield (node["Actual Rows"] + removed) * node["Actual Loops"]
    for child in node.get("Plans", []):
        yield from rows_read(child)


def index_names(node: dict) -> Iterator[str]:
    """The indexes the plan's steps read."""
    if "Index Name" in node:
        yield node["Index Name"]
    for child in node.get("Plans", []):
        yield from index_names(child)
