"""Command output: human tables through rich on stdout, or one JSON document with `--json`."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console


def stdout_console() -> Console:
    """The console for a command's human output (stdout); logs and errors go to stderr."""
    return Console(highlight=False, soft_wrap=True, file=sys.stdout)


def emit_json(document: Any) -> None:
    """Print `document` as one JSON document on stdout (ISO dates, paths as text)."""
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=True, default=str) + "\n")
    sys.stdout.flush()
