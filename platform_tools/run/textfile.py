"""Per-run metrics as a node-exporter textfile, written atomically.

A run replaces the metric families it reports and keeps the others already in the file. So
a failed backup rewrites its duration but keeps the timestamp of the last success (what
`CampusBackupTooOld` reads), and `backup create` and `backup verify` can share one file: the
same semantics as a Pushgateway `pushadd`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from platform_tools.run.errors import EnvironmentFailure, UsageError

TEXTFILE_SUFFIX = ".prom"


class _Families:
    """A collector that yields already-built metric families (those kept from the old file)."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterable[Metric]:
        return iter(self._families)


def check_textfile_path(path: Path, option: str = "--metrics-file") -> None:
    """Refuse a path the textfile collector would never read, naming the option."""
    if path.suffix != TEXTFILE_SUFFIX:
        raise UsageError(
            f"{path}: the node exporter's textfile collector only reads files ending in .prom",
            option,
        )
    if not path.parent.is_dir():
        raise UsageError(f"{path}: directory {path.parent} does not exist", option)


def read_textfile(path: Path) -> list[Metric]:
    """The metric families of an existing textfile; none when it is absent or unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return []
    except OSError as exc:
        raise EnvironmentFailure(f"{path}: cannot read metrics ({exc.strerror})") from None
    try:
        return list(text_string_to_metric_families(text))
    except ValueError:
        # A corrupt file (written by hand, cut short by a full disk) is replaced, not merged.
        return []


def write_textfile(registry: CollectorRegistry, path: Path, merge: bool = True) -> None:
    """Write `registry` to `path` for the textfile collector, atomically.

    The text goes to a hidden temporary file in the same directory (the collector ignores
    it), reaches the disk, is made world-readable and is renamed over `path`: the collector
    reads either the old file or the new one, never half of one. With `merge`, families of
    the old file that `registry` does not report are kept.
    """
    check_textfile_path(path)
    new_names = {family.name for family in registry.collect()}
    combined = CollectorRegistry()
    combined.register(_Families(registry.collect()))
    if merge:
        kept = [family for family in read_textfile(path) if family.name not in new_names]
        if kept:
            combined.register(_Families(kept))
    body = generate_latest(combined)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise EnvironmentFailure(f"{path}: cannot write metrics ({exc.strerror})") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(body)
            stream.flush()
            os.fsync(stream.fileno())
        # The node exporter runs as its own user: it must be able to read the file.
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise EnvironmentFailure(f"{path}: cannot write metrics ({exc.strerror})") from None
