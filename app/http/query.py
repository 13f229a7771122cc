"""Query-string parameters of the exam operations: only the documented ones, each checked."""

from __future__ import annotations

from collections.abc import Iterable

import falcon

from app.domain.errors import InvalidInput
from app.http.schemas import MAX_ID

PAGE = ("limit", "cursor")


def refuse_unknown(req: falcon.Request, allowed: Iterable[str] = ()) -> None:
    """422 naming the first query parameter the operation does not document."""
    known = set(allowed)
    for name in req.params:
        if name not in known:
            raise InvalidInput.of(name, "is not a parameter of this operation")


def query_id(req: falcon.Request, name: str, required: bool = False) -> int | None:
    """An id from the query string; 422 naming the parameter when malformed or missing."""
    raw = req.get_param(name)
    if raw is None or raw == "":
        if required:
            raise InvalidInput.of(name, "is required")
        return None
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
        raise InvalidInput.of(name, f"a positive integer id up to {MAX_ID}")
    return int(raw)
