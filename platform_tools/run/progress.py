"""Progress bars for long work, on stderr so that stdout stays parseable."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)


def progress_bar(enabled: bool = True) -> Progress:
    """A rich progress display on stderr; silent when stderr is not a terminal or not wanted."""
    console = Console(stderr=True, file=sys.stderr)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not enabled or not console.is_terminal,
        transient=True,
    )
