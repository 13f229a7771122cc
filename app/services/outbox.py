"""The outbox: messages written in the transaction of the change that causes them, then sent
by `platform-tools outbox dispatch`, which claims, marks and retries them here."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, literal, or_, select, update

from app import clock
from app.domain.outbox_retry import retry_delay
from app.store.json_rows import json_rows
from app.store.schema_employers import outbox_message
from app.store.types import UtcDateTime

MESSAGE_ID_DOMAIN = "campus-platform.example"


@dataclass(frozen=True)
class Message:
    """One message to queue."""

    kind: str
    recipient: str
    subject: str
    body: str


def new_message_id() -> str:
    """A Message-ID fixed once, at creation: every retry of the message carries the same."""
    return f"<{secrets.token_hex(16)}@{MESSAGE_ID_DOMAIN}>"


def enqueue(conn: Connection, messages: Sequence[Message]) -> None:
    """Queue `messages` in the caller's transaction, in one statement."""
    if not messages:
        return
    now = clock.now()
    rows = json_rows(
        conn.dialect.name,
        "new_messages",
        {"message_id": "str", "kind": "str", "recipient": "str", "subject": "str", "body": "str"},
        (
            {
                "message_id": new_message_id(),
                "kind": m.kind,
                "recipient": m.recipient,
                "subject": m.subject[:255],
                "body": m.body,
            }
            for m in messages
        ),
    )
    conn.execute(
        insert(outbox_message).from_select(
            ["message_id", "kind", "recipient", "subject", "body", "created_at", "next_attempt_at"],
            select(
                rows.c.message_id,
                rows.c.kind,
                rows.c.recipient,
                rows.c.subject,
                rows.c.body,
                _instant(now),
                _instant(now),
            ),
        )
    )


def _instant(moment: datetime) -> Any:
    return literal(moment, UtcDateTime())


@dataclass(frozen=True)
class Claimed:
    """A message a dispatcher holds until `claimed_until`."""

    id: int
    message_id: str
    recipient: str
    subject: str
    body: str
    attempts: int


def claim(conn: Connection, batch: int, lease: timedelta) -> list[Claimed]:
    """Take up to `batch` due messages, oldest first, and hold them for `lease`.

    Claimed rows are skipped by concurrent dispatchers (SKIP LOCKED on PostgreSQL; SQLite has
    one writer at a time), and the claim is committed before any message is sent: a
    dispatcher that dies leaves claims that expire, never a message nobody will send.
    """
    now = clock.now()
    due = (
        select(outbox_message.c.id)
        .where(
            outbox_message.c.status == "pending",
            outbox_message.c.next_attempt_at <= now,
            or_(outbox_message.c.claimed_until.is_(None), outbox_message.c.claimed_until <= now),
        )
        .order_by(outbox_message.c.next_attempt_at, outbox_message.c.id)
        .limit(batch)
    )
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(conn.execute(due).scalars())
    if not ids:
        return []
    rows = conn.execute(
        update(outbox_message)
        .where(outbox_message.c.id.in_(ids))
        .values(
            claimed_until=now + lease,
            attempts=outbox_message.c.attempts + 1,
            last_attempt_at=now,
        )
        .returning(
            outbox_message.c.id,
            outbox_message.c.message_id,
            outbox_message.c.recipient,
            outbox_message.c.subject,
            outbox_message.c.body,
            outbox_message.c.attempts,
        )
    ).all()
    return sorted((Claimed(*row) for row in rows), key=lambda m: m.id)


def mark_sent(conn: Connection, ids: Iterable[int]) -> int:
    """Record that the SMTP server accepted these messages."""
    wanted = list(ids)
    if not wanted:
        return 0
    result = conn.execute(
        update(outbox_message)
        .where(outbox_message.c.id.in_(wanted), outbox_message.c.status == "pending")
        .values(status="sent", sent_at=clock.now(), claimed_until=None, last_error=None)
    )
    return result.rowcount


def mark_failed(conn: Connection, message: Claimed, error: str) -> None:
    """Record a failed attempt and when to try again (exponential backoff)."""
    now = clock.now()
    conn.execute(
        update(outbox_message)
        .where(outbox_message.c.id == message.id, outbox_message.c.status == "pending")
        .values(
            claimed_until=None,
            last_error=error[:500],
            next_attempt_at=now + retry_delay(message.attempts),
        )
    )


@dataclass(frozen=True)
class Backlog:
    """Messages not yet sent, and the age of the oldest one."""

    pending: int
    oldest_age_seconds: float


def backlog(conn: Connection) -> Backlog:
    """The unsent messages now (one query)."""
    count, oldest = conn.execute(
        select(func.count(), func.min(outbox_message.c.created_at)).where(
            outbox_message.c.status == "pending"
        )
    ).one()
    if oldest is None:
        return Backlog(0, 0.0)
    return Backlog(count, max(0.0, (clock.now() - oldest).total_seconds()))
