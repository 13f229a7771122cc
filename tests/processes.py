"""Watching real processes end, for tests that stop or kill servers."""

from __future__ import annotations

import time
from pathlib import Path


def alive(pid: int) -> bool:
    """Whether `pid` runs; a zombie, dead but not yet reaped, does not."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def still_running(pids: list[int], seconds: float = 60) -> list[int]:
    """The pids still running once they all ended or `seconds` passed."""
    deadline = time.monotonic() + seconds
    while (running := [pid for pid in pids if alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return running
