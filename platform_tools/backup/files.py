"""File helpers of the backup repository: atomic writes and streaming sha256."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

CHUNK = 1 << 20


def write_atomically(path: Path, body: bytes) -> None:
    """Write `body` to `path` so that a reader sees the old file or the new one, never half."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(body)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    fsync_directory(path.parent)


def fsync_directory(directory: Path) -> None:
    """Make a rename or a new file in `directory` survive a crash."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def sha256_file(path: Path, advance: Callable[[int], None] | None = None) -> str:
    """The sha256 of a file, read in chunks; `advance(bytes)` reports progress."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            if advance is not None:
                advance(len(chunk))
    return digest.hexdigest()


def data_files(directory: Path) -> list[Path]:
    """Every regular file under `directory`, in a stable order."""
    return sorted(path for path in directory.rglob("*") if path.is_file())
