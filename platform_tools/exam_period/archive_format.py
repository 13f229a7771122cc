"""The on-disk form of an exam-period archive, and its manifest.

    ARCHIVE_DIR/
      exam-period-2026-2027-1/          a complete archive (published by a rename)
        manifest.json                   what it holds, with the sha256 of every data file
        data/<table>.jsonl              one JSON object per row, in primary-key order
      .partial-exam-period-2026-2027-1.<random>/   an archive being written, or interrupted

The file entries (path, size, sha256) and their checks are the backups' own
(`platform_tools.backup.manifest`, `platform_tools.backup.verify`). Every field is checked on
reading: an archive is read back years later from disks that may have damaged it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platform_tools.backup.manifest import (
    FileEntry,
    ManifestError,
    count_field,
    file_entry,
    read_manifest_document,
    text_field,
    time_field,
    write_manifest_document,
)

DATA_DIR = "data"
PARTIAL_PREFIX = ".partial-"
KIND = "campus-exam-period-archive"
FORMAT_VERSION = 1
_YEAR = re.compile(r"^\d{4}-\d{4}$")


def archive_id(academic_year: str, number: int) -> str:
    """The archive's directory name: `exam-period-2026-2027-1`."""
    return f"exam-period-{academic_year}-{number}"


def table_file(table: str) -> str:
    """Where a table's rows live inside the archive."""
    return f"{DATA_DIR}/{table}.jsonl"


@dataclass(frozen=True)
class ArchivedPeriod:
    """The period the archive freezes, as it was when archived."""

    id: int
    academic_year: str
    number: int
    opens_at: str
    closes_at: str
    status_before: str


@dataclass(frozen=True)
class ArchiveManifest:
    """Everything `verify` and `show` need to know about an archive, without a database."""

    id: str
    period: ArchivedPeriod
    database: str
    engine: str
    schema_version: str | None
    app_version: str
    image: str | None
    started_at: dt.datetime
    finished_at: dt.datetime
    files: tuple[FileEntry, ...]
    tables: dict[str, int]
    forced_reason: str | None = None
    in_progress: dict[str, int] = field(default_factory=dict)
    format: int = FORMAT_VERSION

    @property
    def size_bytes(self) -> int:
        """Total size of the archive's data files."""
        return sum(entry.size for entry in self.files)

    def to_json(self) -> dict[str, Any]:
        """The manifest as stored next to the data."""
        return {
            "format": self.format,
            "kind": KIND,
            "id": self.id,
            "period": self.period.__dict__,
            "database": self.database,
            "engine": self.engine,
            "schema_version": self.schema_version,
            "app_version": self.app_version,
            "image": self.image,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "files": [entry.__dict__ for entry in self.files],
            "tables": dict(sorted(self.tables.items())),
            "forced_reason": self.forced_reason,
            "in_progress": self.in_progress,
            "size_bytes": self.size_bytes,
        }


def write_archive_manifest(manifest: ArchiveManifest, directory: Path) -> Path:
    """Write the manifest atomically (temporary file, fsync, rename)."""
    return write_manifest_document(manifest.to_json(), directory)


def read_archive_manifest(directory: Path) -> ArchiveManifest:
    """Read and validate the manifest of the archive in `directory`."""
    return read_manifest_document(directory, "archive", parse_archive_manifest)


def parse_archive_manifest(document: Any) -> ArchiveManifest:
    """Validate a manifest's parsed JSON, naming the first field at fault."""
    if not isinstance(document, dict):
        raise ManifestError("expected a JSON object")
    if document.get("kind") != KIND:
        raise ManifestError(f"kind: expected {KIND!r}, got {document.get('kind')!r}")
    if document.get("format") != FORMAT_VERSION:
        raise ManifestError(f"format: expected {FORMAT_VERSION}, got {document.get('format')!r}")
    files = document.get("files")
    if not isinstance(files, list) or not files:
        raise ManifestError("files: expected a non-empty list")
    tables = document.get("tables")
    if not isinstance(tables, dict):
        raise ManifestError("tables: expected an object")
    manifest = ArchiveManifest(
        id=text_field(document, "id"),
        period=_period(document.get("period")),
        database=text_field(document, "database"),
        engine=text_field(document, "engine"),
        schema_version=_optional_text(document, "schema_version"),
        app_version=text_field(document, "app_version"),
        image=_optional_text(document, "image"),
        started_at=time_field(document, "started_at"),
        finished_at=time_field(document, "finished_at"),
        files=tuple(file_entry(entry, f"files[{index}]") for index, entry in enumerate(files)),
        tables={str(name): count_field(rows, f"tables.{name}") for name, rows in tables.items()},
        forced_reason=_optional_text(document, "forced_reason"),
        in_progress={
            str(status): count_field(n, f"in_progress.{status}")
            for status, n in _object(document, "in_progress").items()
        },
    )
    if manifest.id != archive_id(manifest.period.academic_year, manifest.period.number):
        raise ManifestError(f"id: {manifest.id!r} does not name period {manifest.period}")
    paths = {entry.path for entry in manifest.files}
    if len(paths) != len(manifest.files):
        raise ManifestError("files: a path is listed twice")
    for table in manifest.tables:
        if table_file(table) not in paths:
            raise ManifestError(f"tables.{table}: no file {table_file(table)} in files")
    if manifest.finished_at < manifest.started_at:
        raise ManifestError("finished_at: before started_at")
    return manifest


def _period(value: Any) -> ArchivedPeriod:
    if not isinstance(value, dict):
        raise ManifestError("period: expected an object")
    year = text_field(value, "academic_year", "period.")
    if not _YEAR.match(year):
        raise ManifestError(f"period.academic_year: expected YYYY-YYYY, got {year!r}")
    number = value.get("number")
    if number not in (1, 2, 3) or isinstance(number, bool):
        raise ManifestError(f"period.number: expected 1, 2 or 3, got {number!r}")
    return ArchivedPeriod(
        id=count_field(value.get("id"), "period.id"),
        academic_year=year,
        number=number,
        opens_at=time_field(value, "opens_at", "period.").isoformat(),
        closes_at=time_field(value, "closes_at", "period.").isoformat(),
        status_before=text_field(value, "status_before", "period."),
    )


def _object(document: dict[str, Any], key: str) -> dict[str, Any]:
    value = document.get(key, {})
    if not isinstance(value, dict):
        raise ManifestError(f"{key}: expected an object")
    return value


def _optional_text(document: dict[str, Any], key: str) -> str | None:
    value = document.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise ManifestError(f"{key}: expected non-empty text or null, got {value!r}")
    return value
