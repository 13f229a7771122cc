"""Polling until the cluster gets where a runbook sent it, within a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Waiter:
    """How long to wait and how often to look; tests pass an interval of 0."""

    timeout_seconds: float
    interval_seconds: float
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    def until(self, done: Callable[[], bool]) -> bool:
        """Call `done` until it is true (True) or the deadline passes (False)."""
        deadline = self.clock() + self.timeout_seconds
        while True:
            if done():
                return True
            if self.clock() >= deadline:
                return False
            self.sleep(self.interval_seconds)
