"""An operation of the contract: what it takes and answers, and who may call it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Op:
    """One operation: its contract, and who may call it.

    Every `/api` operation either names the roles allowed to call it, enforced for every
    request by the auth middleware from this table, or is `public` (no token). Service
    endpoints outside `/api` have neither.

    Every operation, service endpoints included, names its `audience` (audiences.py):
    which entry publishes it. The empty default exists only so that a forgotten one is
    caught by the route-table test rather than guessed.
    """

    summary: str
    response: str
    status: int = 200
    request: str | None = None
    roles: tuple[str, ...] = ()
    errors: tuple[int, ...] = ()
    paged: bool = False
    public: bool = False
    media: str = "application/json"
    # Query parameters besides a list's limit and cursor: (name, JSON Schema, required).
    query: tuple[tuple[str, dict, bool], ...] = ()
    audience: str = ""
