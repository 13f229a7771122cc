"""Every document of a kind for an exam period, rendered in parallel and written atomically.

The data comes from the app's services in one read transaction (one query per kind of row,
whatever the number of registrations); rendering runs in worker processes, each writing its
own files, so only small records cross process boundaries, never PDF bytes.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from app.documents.attendance_sheet import render_attendance_sheet
from app.documents.model import AttendanceSheet, Notice
from app.documents.notice import render_notice
from app.services.exam_documents import notices_for_period, sheets_for_period
from app.store.engine import read_transaction

KINDS = ("notices", "sheets")
CHUNK = 50


@dataclass(frozen=True)
class BatchResult:
    """What a batch wrote."""

    kind: str
    documents: int
    bytes_written: int
    files: tuple[str, ...]


def file_name(kind: str, document: Any) -> str:
    """A stable, filesystem-safe name: ids only (learner ids and names may hold anything)."""
    if kind == "notices":
        return f"convocation-{document.registration_id:08d}.pdf"
    centre = f"centre-{document.centre_id:06d}" if document.centre_id else "sans-centre"
    return f"emargement-examen-{document.sitting.exam_id:06d}-{centre}.pdf"


def load(engine: Engine, period_id: int, kind: str, key: str) -> list[Notice | AttendanceSheet]:
    """The documents' data for the period, read in one transaction."""
    with read_transaction(engine) as conn:
        if kind == "notices":
            return list(notices_for_period(conn, period_id, key))
        return list(sheets_for_period(conn, period_id))


def _write(path: Path, data: bytes) -> None:
    # Written beside its final name then renamed: a reader never sees half a PDF.
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def render_chunk(kind: str, zone: str, out: str, documents: Sequence[Any]) -> tuple[int, int]:
    """Render and write `documents` (in a worker process); (count, bytes written)."""
    render: Callable[[Any, ZoneInfo], bytes] = (
        render_notice if kind == "notices" else render_attendance_sheet
    )
    tz = ZoneInfo(zone)
    written = 0
    for document in documents:
        data = render(document, tz)
        _write(Path(out) / file_name(kind, document), data)
        written += len(data)
    return len(documents), written


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def generate(
    documents: Sequence[Notice | AttendanceSheet],
    kind: str,
    out: Path,
    zone: str,
    jobs: int,
    advance: Callable[[int], None] = lambda _n: None,
) -> BatchResult:
    """Write every document to `out`, on `jobs` processes; `advance(n)` after each chunk."""
    out.mkdir(parents=True, exist_ok=True)
    total_bytes = 0
    if jobs <= 1:
        for chunk in _chunks(documents, CHUNK):
            count, size = render_chunk(kind, zone, str(out), chunk)
            total_bytes += size
            advance(count)
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [
                pool.submit(render_chunk, kind, zone, str(out), chunk)
                for chunk in _chunks(documents, CHUNK)
            ]
            for future in as_completed(futures):
                count, size = future.result()
                total_bytes += size
                advance(count)
    names = tuple(file_name(kind, d) for d in documents)
    return BatchResult(kind, len(documents), total_bytes, names)
