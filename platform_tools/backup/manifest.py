"""The manifest of a backup: what it holds and how to prove it is intact.

Written last, atomically, into the backup's directory: a backup without a readable manifest
is not complete. Every field is checked on reading, since a manifest is read back from disks
and object storage that may have damaged or replaced it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from platform_tools.backup.files import write_atomically

MANIFEST_NAME = "manifest.json"
T = TypeVar("T")
FORMAT_VERSION = 1
ENGINES = ("sqlite", "postgresql")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SAFE_PATH = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")


class ManifestError(ValueError):
    """The manifest is missing, unreadable or inconsistent; the message says which field."""


@dataclass(frozen=True)
class FileEntry:
    """One file of the backup, relative to the backup directory."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class TableEntry:
    """Rows of one table at backup time and a content checksum independent of row order."""

    rows: int
    checksum: str


@dataclass(frozen=True)
class Manifest:
    """Everything a later verify or restore needs to know about one backup."""

    id: str
    database: str
    engine: str
    server_version: str
    schema_version: str | None
    method: str
    started_at: dt.datetime
    finished_at: dt.datetime
    files: tuple[FileEntry, ...]
    tables: dict[str, TableEntry]
    tool_version: str
    schema_fingerprint: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    format: int = FORMAT_VERSION

    @property
    def size_bytes(self) -> int:
        """Total size of the backup's data files."""
        return sum(entry.size for entry in self.files)

    @property
    def duration_seconds(self) -> float:
        """How long the backup took."""
        return (self.finished_at - self.started_at).total_seconds()

    def to_json(self) -> dict[str, Any]:
        """The manifest as the JSON document stored next to the data."""
        document = asdict(self)
        document["started_at"] = self.started_at.isoformat()
        document["finished_at"] = self.finished_at.isoformat()
        document["size_bytes"] = self.size_bytes
        return document


def write_manifest(manifest: Manifest, directory: Path) -> Path:
    """Write the manifest into `directory` atomically (temporary file, fsync, rename)."""
    return write_manifest_document(manifest.to_json(), directory)


def read_manifest(directory: Path) -> Manifest:
    """Read and validate the manifest of the backup in `directory`."""
    return read_manifest_document(directory, "backup", parse_manifest)


def write_manifest_document(document: dict[str, Any], directory: Path) -> Path:
    """Write a manifest's JSON into `directory` atomically (temporary file, fsync, rename)."""
    body = json.dumps(document, indent=2, sort_keys=True).encode() + b"\n"
    path = directory / MANIFEST_NAME
    write_atomically(path, body)
    return path


def read_manifest_document(directory: Path, what: str, parse: Callable[[Any], T]) -> T:
    """Read the manifest of the `what` (backup, archive) in `directory` and `parse` it.

    Every error names the manifest's path and, from `parse`, the field at fault.
    """
    path = directory / MANIFEST_NAME
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{path}: no manifest (the {what} never completed)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path}: unreadable manifest ({exc})") from None
    try:
        return parse(document)
    except ManifestError as exc:
        raise ManifestError(f"{path}: {exc}") from None


def parse_manifest(document: Any) -> Manifest:
    """Validate a manifest's parsed JSON, naming the first field at fault."""
    if not isinstance(document, dict):
        raise ManifestError("expected a JSON object")
    if document.get("format") != FORMAT_VERSION:
        raise ManifestError(f"format: expected {FORMAT_VERSION}, got {document.get('format')!r}")
    engine = text_field(document, "engine")
    if engine not in ENGINES:
        raise ManifestError(f"engine: expected one of {', '.join(ENGINES)}, got {engine!r}")
    files = document.get("files")
    if not isinstance(files, list) or not files:
        raise ManifestError("files: expected a non-empty list")
    tables = document.get("tables")
    if not isinstance(tables, dict):
        raise ManifestError("tables: expected an object")
    schema_version = document.get("schema_version")
    if schema_version is not None and not isinstance(schema_version, str):
        raise ManifestError("schema_version: expected text or null")
    fingerprint = document.get("schema_fingerprint")
    if fingerprint is not None and not isinstance(fingerprint, str):
        raise ManifestError("schema_fingerprint: expected text or null")
    details = document.get("details", {})
    if not isinstance(details, dict):
        raise ManifestError("details: expected an object")
    manifest = Manifest(
        id=text_field(document, "id"),
        database=text_field(document, "database"),
        engine=engine,
        server_version=text_field(document, "server_version"),
        schema_version=schema_version,
        method=text_field(document, "method"),
        started_at=time_field(document, "started_at"),
        finished_at=time_field(document, "finished_at"),
        files=tuple(file_entry(entry, f"files[{index}]") for index, entry in enumerate(files)),
        tables={
            str(name): _table(entry, f"tables.{name}") for name, entry in sorted(tables.items())
        },
        tool_version=text_field(document, "tool_version"),
        schema_fingerprint=fingerprint,
        details=details,
    )
    if manifest.finished_at < manifest.started_at:
        raise ManifestError("finished_at: before started_at")
    paths = [entry.path for entry in manifest.files]
    if len(set(paths)) != len(paths):
        raise ManifestError("files: a path is listed twice")
    return manifest


def text_field(document: dict[str, Any], key: str, where: str = "") -> str:
    """The non-empty text at `key`; the error names `where` + `key`."""
    value = document.get(key)
    if not isinstance(value, str) or not value:
        raise ManifestError(f"{where}{key}: expected non-empty text, got {value!r}")
    return value


def time_field(document: dict[str, Any], key: str, where: str = "") -> dt.datetime:
    """The ISO 8601 time with its UTC offset at `key`; the error names `where` + `key`."""
    value = text_field(document, key, where)
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ManifestError(f"{where}{key}: expected an ISO 8601 time, got {value!r}") from None
    if moment.tzinfo is None:
        raise ManifestError(f"{where}{key}: expected a time with its UTC offset, got {value!r}")
    return moment


def count_field(value: Any, where: str) -> int:
    """`value` as a non-negative integer; the error names `where`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ManifestError(f"{where}: expected a non-negative integer, got {value!r}")
    return value


def file_entry(entry: Any, where: str) -> FileEntry:
    """Validate one `files[]` entry of a manifest (shared with the exam-period archives)."""
    if not isinstance(entry, dict):
        raise ManifestError(f"{where}: expected an object")
    path = text_field(entry, "path")
    # A manifest from object storage must not make a restore read or write outside the backup.
    if not _SAFE_PATH.match(path) or ".." in path.split("/"):
        raise ManifestError(f"{where}.path: not a safe relative path: {path!r}")
    digest = entry.get("sha256")
    if not isinstance(digest, str) or not _SHA256.match(digest):
        raise ManifestError(f"{where}.sha256: expected 64 lowercase hex digits")
    return FileEntry(path=path, size=count_field(entry.get("size"), f"{where}.size"), sha256=digest)


def _table(entry: Any, where: str) -> TableEntry:
    if not isinstance(entry, dict):
        raise ManifestError(f"{where}: expected an object")
    checksum = entry.get("checksum")
    if not isinstance(checksum, str) or not checksum:
        raise ManifestError(f"{where}.checksum: expected text")
    return TableEntry(rows=count_field(entry.get("rows"), f"{where}.rows"), checksum=checksum)
