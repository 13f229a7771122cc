"""The Prometheus multiprocess directory: private to one server instance, never shared.

Every worker writes its samples to files there and /metrics adds them up, so files of another
run would count twice, and a directory another user made can break the start. The directory
is either given (systemd's RuntimeDirectory, fresh at each start: it must be ours, private and
empty) or made here with an unpredictable name; on exit only the metric files are removed.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path

from app.settings import SettingsError

ENV = "PROMETHEUS_MULTIPROC_DIR"
# Set by `serve` when it made the directory itself: only then is it removed at exit.
OWNED_ENV = "CAMPUS_METRICS_DIR_OWNED"
PREFIX = "campus-metrics-"


def prepare(environ: Mapping[str, str]) -> tuple[Path, bool]:
    """The directory this server instance writes its metrics to, and whether it made it."""
    given = environ.get(ENV)
    if not given:
        return Path(tempfile.mkdtemp(prefix=PREFIX)), True
    path = Path(given)
    _check_private(path)
    return path, False


def _check_private(path: Path) -> None:
    try:
        info = path.lstat()
    except FileNotFoundError:
        raise SettingsError(
            f"{ENV}={path} does not exist (systemd's RuntimeDirectory makes it)"
        ) from None
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise SettingsError(f"{ENV}={path} must be a directory, not a link or a file")
    if info.st_uid != os.geteuid():
        raise SettingsError(f"{ENV}={path} belongs to uid {info.st_uid}, not to this user")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise SettingsError(f"{ENV}={path} is writable by others: make it 0700")
    if any(path.iterdir()):
        raise SettingsError(
            f"{ENV}={path} is not empty: files of another run would count twice; "
            "give each server start a fresh directory"
        )


def release(path: Path) -> None:
    """Remove the metric files a server wrote, then the directory if nothing else is left."""
    for file in path.glob("*.db"):
        if file.is_file() and not file.is_symlink():
            file.unlink()
    with suppress(OSError):
        path.rmdir()
