"""Logging a repeated event at most once per interval, with how many happened since the last
line: a surge of refusals or of failed scrapes must not flood the log."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class LogThrottle:
    """Counts events; says when one should be logged, and how many it stands for."""

    def __init__(self, seconds: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._seconds = seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._next = float("-inf")
        self._unlogged = 0

    def count(self) -> int | None:
        """Count one event: the events to log now (this one included), or None until due."""
        now = self._monotonic()
        with self._lock:
            self._unlogged += 1
            if now < self._next:
                return None
            count, self._unlogged = self._unlogged, 0
            self._next = now + self._seconds
            return count
