"""Keyset pages: `{"items": [...], "next_cursor": ...}` with an opaque cursor."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any

from app.domain.errors import InvalidInput

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100


def encode_cursor(after: int) -> str:
    """An opaque cursor that resumes after the key `after`."""
    return base64.urlsafe_b64encode(f"v1:{after}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The key a cursor resumes after (0 for the first page); 422 naming `cursor` if forged."""
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, after = raw.split(":")
        value = int(after)
        if version != "v1" or not 0 <= value < 2**63:
            raise ValueError
        return value
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput.of("cursor", "not a cursor this API gave out") from None


def page(
    rows: Sequence[Any],
    limit: int,
    key: Callable[[Any], int],
    item: Callable[[Any], dict[str, Any]],
) -> dict[str, Any]:
    """Build a page from up to `limit + 1` rows fetched in key order."""
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [item(r) for r in rows],
        "next_cursor": encode_cursor(key(rows[-1])) if more and rows else None,
    }
