"""The backup directory: one sub-directory per backup, complete only once its manifest is in.

    BACKUP_DIR/
      campus-20261130T023000Z/      a complete backup
        manifest.json               written last
        verification.json           the last verify's result (not part of the checksums)
        data/...                    the database file or the pg_dump directory
      .partial-campus-20261130T033000Z/   a backup in progress, or one that was interrupted

A backup is written under a hidden `.partial-` name and renamed to its final name after its
manifest reached the disk, so an interrupted backup is never listed as complete.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platform_tools.backup.files import fsync_directory, write_atomically
from platform_tools.backup.manifest import MANIFEST_NAME, Manifest, ManifestError, read_manifest

PARTIAL_PREFIX = ".partial-"
VERIFICATION_NAME = "verification.json"
DATA_DIR = "data"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


class RepositoryError(ValueError):
    """The backup directory or a backup in it cannot be used as asked."""


@dataclass(frozen=True)
class Verification:
    """The outcome of the last `backup verify` of one backup."""

    ok: bool
    verified_at: dt.datetime
    restore_seconds: float | None
    problems: tuple[str, ...]
    manifest_sha256: str

    def to_json(self) -> dict[str, Any]:
        """As stored in verification.json."""
        return {
            "ok": self.ok,
            "verified_at": self.verified_at.isoformat(),
            "restore_seconds": self.restore_seconds,
            "problems": list(self.problems),
            "manifest_sha256": self.manifest_sha256,
        }


@dataclass(frozen=True)
class BackupEntry:
    """One backup found in the directory: complete (with its manifest) or not."""

    id: str
    path: Path
    complete: bool
    manifest: Manifest | None
    verification: Verification | None
    problem: str | None

    @property
    def verified(self) -> bool:
        """True when the last verification of this very manifest passed."""
        return self.verification is not None and self.verification.ok

    @property
    def started_at(self) -> dt.datetime | None:
        """When the backup started (from the manifest), if complete."""
        return self.manifest.started_at if self.manifest else None


def backup_id(database: str, started_at: dt.datetime) -> str:
    """The name of a backup: the database and its UTC start time, sortable as text."""
    safe = _UNSAFE.sub("_", database).strip("_") or "database"
    return f"{safe}-{started_at.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"


def check_backup_dir(path: Path, create: bool = False) -> Path:
    """The backup directory, refused (naming --backup-dir) when it cannot be used."""
    if path.exists() and not path.is_dir():
        raise RepositoryError(f"{path}: not a directory")
    if not path.exists():
        if not create:
            raise RepositoryError(f"{path}: no such directory")
        try:
            path.mkdir(parents=True, mode=0o700)
        except OSError as exc:
            raise RepositoryError(f"{path}: cannot create ({exc.strerror})") from None
    return path


def start_backup(backup_dir: Path, database: str, started_at: dt.datetime) -> tuple[str, Path]:
    """Reserve a new backup: its id and its `.partial-` directory (with `data/` inside)."""
    base = backup_id(database, started_at)
    for attempt in range(100):
        candidate = base if attempt == 0 else f"{base}-{attempt}"
        if (backup_dir / candidate).exists():
            continue
        partial = backup_dir / f"{PARTIAL_PREFIX}{candidate}"
        try:
            partial.mkdir(mode=0o700)
        except FileExistsError:
            continue
        (partial / DATA_DIR).mkdir()
        return candidate, partial
    raise RepositoryError(f"{backup_dir}: no free name for a backup of {database}")


def finish_backup(partial: Path, backup_dir: Path, backup: str) -> Path:
    """Publish a backup whose manifest is written: rename it to its final name, durably."""
    if not (partial / MANIFEST_NAME).is_file():
        raise RepositoryError(f"{partial}: no manifest, the backup cannot be published")
    final = backup_dir / backup
    partial.rename(final)
    fsync_directory(backup_dir)
    return final


def discard(path: Path) -> None:
    """Remove a backup directory (a failed partial one, or one pruned)."""
    shutil.rmtree(path, ignore_errors=False)


def scan(backup_dir: Path) -> list[BackupEntry]:
    """Every backup in the directory, oldest first; incomplete ones are marked so."""
    entries = []
    for path in sorted(backup_dir.iterdir()):
        if not path.is_dir():
            continue
        if path.name.startswith(PARTIAL_PREFIX):
            entries.append(
                BackupEntry(
                    id=path.name.removeprefix(PARTIAL_PREFIX),
                    path=path,
                    complete=False,
                    manifest=None,
                    verification=None,
                    problem="incomplete: interrupted or still running",
                )
            )
            continue
        if path.name.startswith("."):
            continue
        try:
            manifest = read_manifest(path)
        except ManifestError as exc:
            entries.append(BackupEntry(path.name, path, False, None, None, str(exc)))
            continue
        entries.append(
            BackupEntry(
                id=path.name,
                path=path,
                complete=True,
                manifest=manifest,
                verification=read_verification(path),
                problem=None,
            )
        )
    return sorted(entries, key=_order)


def _order(entry: BackupEntry) -> tuple[int, str, str]:
    started = entry.started_at.isoformat() if entry.started_at else ""
    return (1 if entry.complete else 0, started, entry.id)


def complete_backups(backup_dir: Path) -> list[BackupEntry]:
    """The complete backups, oldest first."""
    return [entry for entry in scan(backup_dir) if entry.complete]


def find_backup(backup_dir: Path, name: str | None) -> BackupEntry:
    """A complete backup by id (or the newest when `name` is None)."""
    complete = complete_backups(backup_dir)
    if name is None:
        if not complete:
            raise RepositoryError(f"{backup_dir}: no complete backup")
        return complete[-1]
    for entry in scan(backup_dir):
        if entry.id == name:
            if not entry.complete:
                raise RepositoryError(f"backup {name} is not complete ({entry.problem})")
            return entry
    raise RepositoryError(f"{backup_dir}: no backup named {name!r}")


def manifest_digest(path: Path) -> str:
    """The sha256 of a backup's manifest file: a verification belongs to this exact text."""
    return hashlib.sha256((path / MANIFEST_NAME).read_bytes()).hexdigest()


def read_verification(path: Path) -> Verification | None:
    """The last verification of the backup in `path`, if any and if it is of this manifest."""
    try:
        document = json.loads((path / VERIFICATION_NAME).read_text(encoding="utf-8"))
        verification = Verification(
            ok=document["ok"] is True,
            verified_at=dt.datetime.fromisoformat(document["verified_at"]),
            restore_seconds=document.get("restore_seconds"),
            problems=tuple(str(problem) for problem in document.get("problems", [])),
            manifest_sha256=str(document["manifest_sha256"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    # A manifest replaced after the verification is not verified.
    if verification.manifest_sha256 != manifest_digest(path):
        return None
    return verification


def write_verification(path: Path, verification: Verification) -> None:
    """Record the outcome of a verification next to the backup (atomically)."""
    body = json.dumps(verification.to_json(), indent=2, sort_keys=True).encode() + b"\n"
    write_atomically(path / VERIFICATION_NAME, body)
