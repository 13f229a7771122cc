"""Running a use case: one transaction, and its answer recorded for replays in that same one."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection

from app.services.idempotency import Claim
from app.store import idempotency as records
from app.store.request_connection import RequestConnection

T = TypeVar("T")


def write(
    db: RequestConnection,
    work: Callable[[Connection], T],
    claim: Claim | None = None,
    status: int = 200,
    single_statement: bool = False,
) -> T:
    """Run `work` in one write transaction; with a claim, its answer commits with the work.

    `single_statement`: `work` writes with one statement (and may read after a refusal), so
    without a claim to record it runs as that statement's own transaction.
    """
    unit = db.write_statement if single_statement and claim is None else db.write
    with unit() as conn:
        result = work(conn)
        if claim is not None:
            records.complete(conn, claim.token_id, claim.key, status, result)
    if claim is not None:
        claim.recorded = True  # only now: a failed commit leaves the claim to be released
    return result


def read(db: RequestConnection, work: Callable[[Connection], T]) -> T:
    """Run `work` in one read transaction."""
    with db.read() as conn:
        return work(conn)


def lookup(db: RequestConnection, work: Callable[[Connection], T]) -> T:
    """Run `work`, which issues one statement, outside a transaction where the engine allows."""
    with db.lookup() as conn:
        return work(conn)
