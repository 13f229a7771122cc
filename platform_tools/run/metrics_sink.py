"""Where a run's metrics go: a textfile (option or directory from the environment) or a
Pushgateway."""

from __future__ import annotations

import os
import re
import urllib.error
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import CollectorRegistry, pushadd_to_gateway

from platform_tools.run.errors import EnvironmentFailure, UsageError
from platform_tools.run.textfile import check_textfile_path, write_textfile

# The node exporter's textfile directory (the monitoring role sets
# --collector.textfile.directory to the same place).
TEXTFILE_DIR_ENV = "PLATFORM_TOOLS_TEXTFILE_DIR"
PUSHGATEWAY_ENV = "PLATFORM_TOOLS_PUSHGATEWAY"
_JOB = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
PUSH_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class MetricsSink:
    """One run's metrics destination: a textfile path, a Pushgateway URL, both, or neither."""

    textfile: Path | None = None
    pushgateway: str | None = None
    job: str = "platform_tools"
    grouping: dict[str, str] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        """True when the run reports its metrics somewhere."""
        return self.textfile is not None or self.pushgateway is not None

    def describe(self) -> str:
        """Where the metrics went, for the run's last line."""
        places = [str(self.textfile)] if self.textfile else []
        if self.pushgateway:
            places.append(f"{self.pushgateway} (job {self.job})")
        return ", ".join(places)

    def publish(self, registry: CollectorRegistry) -> None:
        """Write the textfile and/or push (add, not replace) to the Pushgateway."""
        if self.textfile is not None:
            write_textfile(registry, self.textfile)
        if self.pushgateway is not None:
            try:
                pushadd_to_gateway(
                    self.pushgateway,
                    job=self.job,
                    grouping_key=self.grouping,
                    registry=registry,
                    timeout=PUSH_TIMEOUT_SECONDS,
                )
            except (OSError, urllib.error.URLError) as exc:
                raise EnvironmentFailure(
                    f"Pushgateway {self.pushgateway}: metrics not pushed ({exc})"
                ) from None


def resolve_sink(
    metrics_file: Path | None,
    pushgateway: str | None,
    default_file_name: str,
    job: str,
    grouping: dict[str, str] | None = None,
) -> MetricsSink:
    """The sink for a run: `--metrics-file`, else `$PLATFORM_TOOLS_TEXTFILE_DIR/<default>`;
    `--pushgateway`, else `$PLATFORM_TOOLS_PUSHGATEWAY`. Bad values are usage errors."""
    if not _JOB.match(job):
        raise ValueError(f"job {job!r} is not a valid Pushgateway job name")
    textfile = metrics_file
    if textfile is None and os.environ.get(TEXTFILE_DIR_ENV):
        directory = Path(os.environ[TEXTFILE_DIR_ENV])
        if not directory.is_dir():
            raise UsageError(f"directory {directory} does not exist", TEXTFILE_DIR_ENV)
        textfile = directory / default_file_name
    if textfile is not None:
        check_textfile_path(textfile, "--metrics-file" if metrics_file else TEXTFILE_DIR_ENV)
    gateway = pushgateway or os.environ.get(PUSHGATEWAY_ENV) or None
    if gateway is not None and not re.match(r"^https?://[^\s/]+", gateway):
        option = "--pushgateway" if pushgateway else PUSHGATEWAY_ENV
        raise UsageError(f"expected http(s)://host:port, got {gateway!r}", option)
    return MetricsSink(textfile=textfile, pushgateway=gateway, job=job, grouping=grouping or {})
