"""The engine's bulk-load limit for the very rows a scenario moves, measured in the same run.

- rows created: PostgreSQL COPYs them (precomputed) into `participation`, the same table with
  its constraints and indexes; SQLite inserts them with one prepared statement executed per
  row (`executemany`), its fastest way in;
- rows removed: one bare DELETE of the same rows by primary key;
- rows only read (a replay, a reconciliation): the same rows read out, COPY … TO STDOUT on
  PostgreSQL, a plain SELECT on SQLite.

Each is timed in a transaction that is then rolled back, so the scenario that follows sees
the database exactly as it was (on PostgreSQL a VACUUM then clears the rolled-back rows).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

from sqlalchemy import Engine, Table, insert, text

Row = tuple[int, int, str, int]


def _vacuum(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM participation"))


def load(engine: Engine, rows: Sequence[Row], setting: Sequence[tuple[Table, list[dict]]]) -> float:
    """Seconds to write `rows` (activity_id, enrolment_id, status, run_id) in bulk.

    `setting` holds the rows the scenario itself created before its participations (new
    enrolments, a new activity): they are written first, untimed, so every reference holds.
    """
    if not rows:
        return 0.0
    with engine.connect().execution_options(writes=True) as conn:
        trans = conn.begin()
        for table, values in setting:
            if values:
                conn.execute(insert(table), values)
        cursor = conn.connection.dbapi_connection.cursor()
        if engine.dialect.name == "postgresql":
            payload = "".join(f"{a}\t{e}\t{s}\t{r}\n" for a, e, s, r in rows).encode()
            started = time.perf_counter()
            with cursor.copy(
                "COPY participation (activity_id, enrolment_id, status, run_id) FROM STDIN"
            ) as copy:
                copy.write(payload)
        else:
            started = time.perf_counter()
            cursor.executemany(
                "INSERT INTO participation (activity_id, enrolment_id, status, run_id) "
                "VALUES (?, ?, ?, ?)",
                rows,
            )
        seconds = time.perf_counter() - started
        trans.rollback()
    _vacuum(engine)
    return seconds


def remove(engine: Engine, ids: Sequence[int]) -> float:
    """Seconds to delete the participations `ids` with one bare statement."""
    if not ids:
        return 0.0
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            started = time.perf_counter()
            cursor.execute("DELETE FROM participation WHERE id = ANY(%s)", (list(ids),))
        else:
            cursor.execute("BEGIN IMMEDIATE")
            started = time.perf_counter()
            cursor.execute(
                "DELETE FROM participation WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps(list(ids)),),
            )
        seconds = time.perf_counter() - started
        raw.rollback()
    finally:
        raw.close()
    _vacuum(engine)
    return seconds


def read(engine: Engine, where: str) -> tuple[float, int]:
    """(seconds, rows) to read out the participations matching the SQL condition `where`."""
    query = f"SELECT activity_id, enrolment_id, status FROM participation WHERE {where}"
    raw = engine.raw_connection()
    count = 0
    try:
        cursor = raw.cursor()
        started = time.perf_counter()
        if engine.dialect.name == "postgresql":
            with cursor.copy(f"COPY ({query}) TO STDOUT") as copy:
                for block in copy:
                    count += bytes(block).count(b"\n")
        else:
            cursor.execute(query)
            while chunk := cursor.fetchmany(10_000):
                count += len(chunk)
        seconds = time.perf_counter() - started
        raw.rollback()
    finally:
        raw.close()
    return seconds, count
