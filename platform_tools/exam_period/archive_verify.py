"""`exam-period verify`: an archive is complete, intact and consistent, with no database.

Checks, in order: the directory is a published archive (not an interrupted `.partial-` one);
its manifest reads; every data file matches its size and sha256 and no file is unlisted (the
backups' own check); each table file parses, one JSON object a line, with the rows the manifest
counts; the period row is the manifest's period, and every registration, payment, attendance
and exam line belongs to it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.progress import Progress

from platform_tools.backup.manifest import ManifestError
from platform_tools.backup.verify import check_files
from platform_tools.exam_period.archive_format import (
    PARTIAL_PREFIX,
    ArchiveManifest,
    read_archive_manifest,
    table_file,
)


class ArchiveTableError(ValueError):
    """A table file of the archive does not parse; the message names the file and line."""


@dataclass
class ArchiveReport:
    """What a verification found."""

    path: Path
    manifest: ArchiveManifest | None = None
    problems: list[str] = field(default_factory=list)
    files_checked: int = 0
    rows_checked: int = 0

    @property
    def ok(self) -> bool:
        """True when the archive is complete and every check passed."""
        return self.manifest is not None and not self.problems

    def to_json(self) -> dict[str, Any]:
        """The report as printed by `--json`."""
        return {
            "archive": str(self.path),
            "ok": self.ok,
            "problems": self.problems,
            "files_checked": self.files_checked,
            "rows_checked": self.rows_checked,
            "period": self.manifest.period.__dict__ if self.manifest else None,
        }


def table_rows(path: Path, table: str) -> Iterator[dict[str, Any]]:
    """The rows of one table of an archive, as stored."""
    file = path / table_file(table)
    with file.open(encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ArchiveTableError(f"{table_file(table)}:{number}: not JSON ({exc})") from None
            if not isinstance(row, dict):
                raise ArchiveTableError(f"{table_file(table)}:{number}: expected a JSON object")
            yield row


def verify_archive(path: Path, progress: Progress, partial_ok: bool = False) -> ArchiveReport:
    """Verify the archive in `path`; `partial_ok` for the run that is writing it."""
    report = ArchiveReport(path=path)
    if not path.is_dir():
        report.problems.append(f"{path}: no such archive directory")
        return report
    if path.name.startswith(PARTIAL_PREFIX) and not partial_ok:
        report.problems.append(
            f"{path.name}: an interrupted archive run left this; it is not an archive"
        )
        return report
    try:
        manifest = read_archive_manifest(path)
    except ManifestError as exc:
        report.problems.append(str(exc))
        return report
    report.manifest = manifest
    if not partial_ok and path.name != manifest.id:
        report.problems.append(f"{path.name}: the manifest names archive {manifest.id}")
    report.problems += check_files(path, manifest, progress)
    report.files_checked = len(manifest.files)
    if report.problems:
        return report
    try:
        report.problems += _check_content(path, manifest, report)
    except (ArchiveTableError, UnicodeDecodeError) as exc:
        report.problems.append(str(exc))
    return report


def _check_content(path: Path, manifest: ArchiveManifest, report: ArchiveReport) -> list[str]:
    problems = []
    rows: dict[str, list[dict[str, Any]]] = {}
    for table, expected in manifest.tables.items():
        rows[table] = list(table_rows(path, table))
        report.rows_checked += len(rows[table])
        if len(rows[table]) != expected:
            problems.append(f"{table_file(table)}: {len(rows[table])} rows, manifest: {expected}")
    period = manifest.period
    found = rows.get("exam_period", [])
    if len(found) != 1 or (
        found[0].get("id"),
        found[0].get("academic_year"),
        found[0].get("number"),
    ) != (period.id, period.academic_year, period.number):
        problems.append("exam_period: the row is not the manifest's period")
    registrations = {r.get("id") for r in rows.get("exam_registration", [])}
    if any(r.get("period_id") != period.id for r in rows.get("exam_registration", [])):
        problems.append("exam_registration: a registration of another period")
    for table in ("exam_registration_exam", "exam_attendance", "exam_payment"):
        if any(r.get("registration_id") not in registrations for r in rows.get(table, [])):
            problems.append(f"{table}: a row of a registration not in the archive")
    return problems
