"""JSON logs of every run on stderr, through the app's own structlog configuration."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import structlog

from app.observability.logging import configure_logging
from app.settings import LOG_LEVELS


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
    requested = (os.environ.get("LOG_LEVEL") or "INFO").upper()
    # A bad LOG_LEVEL must not stop a backup: log at INFO and say so in the first line.
    level = requested if requested in LOG_LEVELS else "INFO"
    configure_logging(level, stream=sys.stderr)
    logger = structlog.get_logger("platform_tools")
    if level != requested:
        logger.warning("log_level_ignored", LOG_LEVEL=requested, expected=list(LOG_LEVELS))
    try:
        yield logger
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        structlog.configure(**saved_structlog)
