"""An operation of the contract: what it takes and answers, and who may call it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Op:
    """One operation: its contract, and who may call it.

    Every `/api` operation either names the roles allowed to call it, enforced for every
    request by the auth middleware from this table, or is `public` (no token). Service
    endpoints outside `/api` have neither.
    """

    summary: str
    response: str
    status: int = 200
    request: str | None = None
    roles: tuple[str, ...] = ()
    errors: tuple[int, ...] = ()
    paged: bool = False
    public: bool = False
