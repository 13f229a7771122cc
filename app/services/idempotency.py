"""Idempotency-Key: a retried request gets the first answer and creates nothing twice.

A request first claims its key (state `running`, committed on its own). The answer is recorded
in the same transaction as the work it answers, and counts as recorded only once that
transaction has committed: a failed commit leaves the claim to be released, so the client's
retry runs instead of hearing "still running". A claim whose request died is taken over once
stale, by one taker only. Records expire after TTL and are purged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app import clock
from app.domain.errors import Conflict, InvalidInput
from app.store import idempotency as records
from app.store.request_connection import RequestConnection

HEADER = "Idempotency-Key"
# A claim older than this belongs to a request that died: its retry may run.
STALE_AFTER = timedelta(minutes=5)
# How long a key answers with its first response; clients retry within minutes, not days.
TTL = timedelta(hours=24)


@dataclass
class Claim:
    """This request holds the key; `recorded` once its answer has committed."""

    token_id: int
    key: str
    recorded: bool = False


@dataclass(frozen=True)
class Replay:
    """The key was used before: answer what was answered then."""

    status: int
    body: str


def begin(db: RequestConnection, token_id: int, key: str, digest: str) -> Claim | Replay:
    """Claim `key` for this request, or the replay of the request that used it first."""
    now = clock.now()
    with db.write() as conn:
        existing = records.find(conn, token_id, key)
        if existing is not None and existing.created_at < now - TTL:
            records.forget(conn, token_id, key, existing.created_at)
            existing = None
        if existing is None:
            if not records.claim(conn, token_id, key, digest, now):
                raise Conflict.of(HEADER, "a request with this key is still running")
            return Claim(token_id, key)
        if existing.request_hash != digest:
            raise InvalidInput.of(HEADER, "this key was used with a different request")
        if existing.state == "done":
            return Replay(existing.response_status, existing.response_body)
        if existing.created_at > now - STALE_AFTER or not records.take_over(
            conn, token_id, key, existing.created_at, now
        ):
            raise Conflict.of(HEADER, "a request with this key is still running")
        return Claim(token_id, key)


def settle(db: RequestConnection, claim: Claim, status: int, body: Any) -> None:
    """After a request whose answer was not recorded with its work: keep a refusal for
    replays; release the key after a server error, since nothing was written."""
    if claim.recorded:
        return
    with db.write() as conn:
        if status >= 500:
            records.release(conn, claim.token_id, claim.key)
        else:
            records.complete(conn, claim.token_id, claim.key, status, body)
    claim.recorded = status < 500


def purge_expired(db: RequestConnection, now: datetime | None = None, apply: bool = True) -> int:
    """Delete the records past their TTL (or only count them); the number concerned."""
    cutoff = (now or clock.now()) - TTL
    with db.write() as conn:
        if not apply:
            return records.count_expired(conn, cutoff)
        return records.purge(conn, cutoff)
