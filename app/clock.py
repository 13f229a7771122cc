"""The one clock. What has started decides what propagation may change, so tests set it here."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_frozen: datetime | None = None
_lock = threading.Lock()


def now() -> datetime:
    """The current time, timezone-aware in UTC."""
    frozen = _frozen
    return frozen if frozen is not None else datetime.now(UTC)


def set_now(moment: datetime | None) -> None:
    """Freeze the clock at `moment` (timezone-aware), or let it run again with None."""
    global _frozen
    if moment is not None and moment.tzinfo is None:
        raise ValueError("the clock needs a timezone-aware datetime")
    with _lock:
        _frozen = moment.astimezone(UTC) if moment is not None else None


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Freeze the clock for the duration of a block."""
    previous = _frozen
    set_now(moment)
    try:
        yield
    finally:
        set_now(previous)
