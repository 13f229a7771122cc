"""Idempotency records: the SQL behind claims, takeovers, answers and their expiry."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from app.store.schema import idempotency_record as record


def _key(token_id: int, key: str) -> list[Any]:
    return [record.c.token_id == token_id, record.c.key == key]


def find(conn: Connection, token_id: int, key: str) -> Row[Any] | None:
    """The record of a token's key, if any."""
    return conn.execute(select(record).where(*_key(token_id, key))).first()


def claim(conn: Connection, token_id: int, key: str, digest: str, now: datetime) -> bool:
    """Insert a `running` record; False when another request holds the key already."""
    try:
        with conn.begin_nested():
            conn.execute(
                record.insert().values(
                    token_id=token_id, key=key, request_hash=digest, state="running", created_at=now
                )
            )
        return True
    except IntegrityError:
        return False


def take_over(
    conn: Connection, token_id: int, key: str, seen_created_at: datetime, now: datetime
) -> bool:
    """Renew a stale `running` claim, only if it is still the one seen (no two takers win)."""
    renewed = conn.execute(
        update(record)
        .where(
            *_key(token_id, key),
            record.c.state == "running",
            record.c.created_at == seen_created_at,
        )
        .values(created_at=now)
    )
    return renewed.rowcount == 1


def forget(conn: Connection, token_id: int, key: str, seen_created_at: datetime) -> None:
    """Remove an expired record, only if it is still the one seen."""
    conn.execute(delete(record).where(*_key(token_id, key), record.c.created_at == seen_created_at))


def complete(conn: Connection, token_id: int, key: str, status: int, body: Any) -> None:
    """Store the answer a replay will get."""
    text = body if isinstance(body, str) else json.dumps(body)
    conn.execute(
        update(record)
        .where(*_key(token_id, key))
        .values(state="done", response_status=status, response_body=text)
    )


def release(conn: Connection, token_id: int, key: str) -> None:
    """Drop a claim whose work did not commit, so the client's retry may run."""
    conn.execute(delete(record).where(*_key(token_id, key), record.c.state == "running"))


def purge(conn: Connection, created_before: datetime) -> int:
    """Delete every record made before `created_before`; the number deleted."""
    return conn.execute(delete(record).where(record.c.created_at < created_before)).rowcount


def count_expired(conn: Connection, created_before: datetime) -> int:
    """How many records a purge would delete."""
    return conn.execute(
        select(func.count()).select_from(record).where(record.c.created_at < created_before)
    ).scalar_one()
