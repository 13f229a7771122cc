"""JSON logs of every run on stderr, through the app's own structlog configuration."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import structlog

from app.observability.logging import configure_logging


@contextmanager
def run_logging() -> Iterator[structlog.stdlib.BoundLogger]:
    """Route logs to the current stderr as JSON lines for the run; put the previous logging
    set-up back afterwards.

    Configured at each run rather than at import: the stream is whatever stderr is now (a
    terminal, a systemd journal, a test runner's capture that is closed after the run).
    """
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    saved_structlog = structlog.get_config()
    configure_logging(os.environ.get("LOG_LEVEL", "INFO"), stream=sys.stderr)
    try:
        yield structlog.get_logger("platform_tools")
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        structlog.configure(**saved_structlog)
