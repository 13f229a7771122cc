"""The options every command spells the same way (typer `Annotated` types)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from platform_tools.run.metrics_sink import PUSHGATEWAY_ENV, TEXTFILE_DIR_ENV

JsonOutput = Annotated[
    bool, typer.Option("--json", help="Print one JSON document on stdout instead of tables.")
]
Yes = Annotated[
    bool,
    typer.Option(
        "--yes", help="Apply the change; without it the command only shows what it would do."
    ),
]
MetricsFile = Annotated[
    Path | None,
    typer.Option(
        help=(
            "Write the run's metrics to this node-exporter textfile (*.prom), atomically. "
            f"Default: a file in ${TEXTFILE_DIR_ENV} when it is set."
        ),
    ),
]
Pushgateway = Annotated[
    str | None,
    typer.Option(
        help=f"Also push the run's metrics to this Pushgateway URL. Default: ${PUSHGATEWAY_ENV}.",
    ),
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="The database (sqlite:///FILE or postgresql://...). Default: $DATABASE_URL.",
        show_default=False,
    ),
]
