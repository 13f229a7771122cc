"""JSON logs of every run on stderr, through the app's own structlog configuration."""

from __future__ import annotations

import os
import sys

import structlog

from app.observability.logging import configure_logging


def configure_run_logging() -> structlog.stdlib.BoundLogger:
    """Route logs to the current stderr as JSON lines and return the tools' logger.

    Configured at each run rather than at import: the stream is whatever stderr is now (a
    terminal, a systemd journal, a test runner's capture).
    """
    configure_logging(os.environ.get("LOG_LEVEL", "INFO"), stream=sys.stderr)
    return structlog.get_logger("platform_tools")
