"""`exam-period archive`: a verified copy of a closed period, then the period frozen.

The order is what makes it safe to interrupt:

1. one write transaction locks the period row (FOR UPDATE; on SQLite the write lock), so the
   app's writes to the period (which take it FOR SHARE) wait, and checks the period may go;
2. its rows are written under a `.partial-` directory, fsynced, hashed; the manifest is
   written last; the files are read back against it;
3. the period is marked `archived` in that same transaction, and the transaction commits;
4. the directory is renamed to its final name.

Killed before 3 commits: the period is as it was, and only a `.partial-` directory is left,
which `verify` refuses and the next run removes. Killed between 3 and 4 (a rename): the period
is archived and frozen, so the next run writes the same data again and publishes it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.progress import Progress
from sqlalchemy import Engine

from app.domain.errors import NotFound
from app.services.exam_config import archive_period, load_period, period_view
from platform_tools.backup.create import checksum_files, tool_version
from platform_tools.backup.files import fsync_directory
from platform_tools.exam_period.archive_format import (
    PARTIAL_PREFIX,
    ArchivedPeriod,
    ArchiveManifest,
    archive_id,
    write_archive_manifest,
)
from platform_tools.exam_period.archive_verify import verify_archive
from platform_tools.exam_period.period_export import (
    export_period,
    in_progress_counts,
    schema_revision,
)
from platform_tools.run.errors import EnvironmentFailure, ProblemFound, UsageError

LOCK_NAME = ".exam-period-archive.lock"


@dataclass(frozen=True)
class ArchivePlan:
    """What an archive run found before writing anything."""

    period: dict[str, Any]
    archive: str
    path: Path
    in_progress: dict[str, int]
    already_archived: bool
    published: bool


@dataclass(frozen=True)
class ArchiveResult:
    """What a run did: `created` (new), `rebuilt` (archived period, archive missing), `kept`."""

    action: str
    path: Path
    manifest: ArchiveManifest


def check_archive_dir(path: Path, create: bool) -> Path:
    """The archive directory; created (mode 0700) for a run that writes, and left absent by
    a dry run (which then reports that it would create it)."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path} exists and is not a directory", "--archive-dir")
    if not path.exists() and create:
        try:
            path.mkdir(parents=True, mode=0o700)
        except OSError as exc:
            raise EnvironmentFailure(f"{path}: cannot create ({exc.strerror})") from None
    return path


@contextlib.contextmanager
def archive_lock(archive_dir: Path) -> Iterator[None]:
    """One archive run at a time per directory: a second one stops at once (exit 3)."""
    with (archive_dir / LOCK_NAME).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise EnvironmentFailure(
                f"{archive_dir}: another archive run holds {LOCK_NAME}; wait for it"
            ) from None
        yield


def plan_archive(engine: Engine, period_id: int, archive_dir: Path) -> ArchivePlan:
    """Read the period and what stands in the way, without writing."""
    with engine.connect() as conn, conn.begin():
        try:
            row = load_period(conn, period_id, "--period")
        except NotFound as exc:
            raise UsageError(exc.errors[0].message, "--period") from None
        waiting = in_progress_counts(conn, period_id)
    name = archive_id(row["academic_year"], row["number"])
    return ArchivePlan(
        period=period_view(row),
        archive=name,
        path=archive_dir / name,
        in_progress=waiting,
        already_archived=row["status"] == "archived",
        published=(archive_dir / name).exists(),
    )


def refusal(plan: ArchivePlan, force_reason: str | None) -> str | None:
    """Why the archive may not run now, or None."""
    status = plan.period["status"]
    if plan.already_archived:
        return None
    if plan.published:
        return (
            f"{plan.path} exists but period {plan.period['id']} is {status}, not archived (was "
            "the database restored?): move that directory aside, then run again"
        )
    if status == "planned":
        return f"period {plan.period['id']} is planned: it has nothing to archive yet"
    moving = ", ".join(f"{n} {s}" for s, n in plan.in_progress.items())
    if force_reason is None and (status == "open" or plan.in_progress):
        held = f"registrations still in progress ({moving})" if moving else "no registration"
        return (
            f"period {plan.period['id']} is {status} with {held}: close it and let staff finish "
            "them, or archive them as they are with --force --reason TEXT"
        )
    return None


def remove_stale_partials(archive_dir: Path, name: str) -> list[Path]:
    """Remove this period's interrupted `.partial-` directories (the lock proves them stale)."""
    stale = sorted(archive_dir.glob(f"{PARTIAL_PREFIX}{name}.*"))
    for path in stale:
        shutil.rmtree(path)
    return stale


def run_archive(
    engine: Engine,
    plan: ArchivePlan,
    archive_dir: Path,
    force_reason: str | None,
    image: str | None,
    database: str,
    progress: Progress,
) -> ArchiveResult:
    """Write, check and publish the archive; mark the period archived (see the module doc)."""
    if plan.already_archived and plan.published:
        report = verify_archive(plan.path, progress)
        if not report.ok:
            raise ProblemFound(
                f"period {plan.period['id']} is archived but {plan.path} fails verification: "
                f"{'; '.join(report.problems)}. Move it aside and run again to rewrite it"
            )
        assert report.manifest is not None
        return ArchiveResult("kept", plan.path, report.manifest)
    remove_stale_partials(archive_dir, plan.archive)
    partial = archive_dir / f"{PARTIAL_PREFIX}{plan.archive}.{secrets.token_hex(4)}"
    partial.mkdir(mode=0o700)
    try:
        manifest = _write_and_mark(engine, plan, partial, force_reason, image, database, progress)
        partial.rename(plan.path)
        fsync_directory(archive_dir)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return ArchiveResult("rebuilt" if plan.already_archived else "created", plan.path, manifest)


def _write_and_mark(
    engine: Engine,
    plan: ArchivePlan,
    partial: Path,
    force_reason: str | None,
    image: str | None,
    database: str,
    progress: Progress,
) -> ArchiveManifest:
    started = dt.datetime.now(dt.UTC)
    period_id = plan.period["id"]
    with engine.connect().execution_options(writes=True) as conn, conn.begin():
        row = load_period(conn, period_id, "--period", lock=True)
        # The plan was read without the lock: check again under it.
        locked = ArchivePlan(
            period=period_view(row),
            archive=plan.archive,
            path=plan.path,
            in_progress=in_progress_counts(conn, period_id),
            already_archived=row["status"] == "archived",
            published=plan.path.exists(),
        )
        if locked.already_archived != plan.already_archived:
            raise ProblemFound(f"period {period_id} changed status during the run: run again")
        reason = refusal(locked, force_reason)
        if reason is not None:
            raise ProblemFound(reason)
        task = progress.add_task(f"Archiving period {period_id}", total=None)
        tables = export_period(conn, period_id, partial)
        progress.update(task, completed=1, total=1)
        manifest = ArchiveManifest(
            id=plan.archive,
            period=ArchivedPeriod(
                id=period_id,
                academic_year=row["academic_year"],
                number=row["number"],
                opens_at=row["opens_at"].isoformat(),
                closes_at=row["closes_at"].isoformat(),
                status_before=str(row["status"]),
            ),
            database=database,
            engine=conn.dialect.name,
            schema_version=schema_revision(conn),
            app_version=tool_version(),
            image=image,
            started_at=started,
            finished_at=dt.datetime.now(dt.UTC),
            files=checksum_files(partial, progress),
            tables=tables,
            forced_reason=force_reason,
            in_progress=locked.in_progress,
        )
        write_archive_manifest(manifest, partial)
        fsync_directory(partial)
        # Read back what is on disk before the period is frozen on its strength.
        check = verify_archive(partial, progress, partial_ok=True)
        if not check.ok:
            raise EnvironmentFailure(
                f"{partial}: the archive just written does not verify: {'; '.join(check.problems)}"
            )
        if not locked.already_archived:
            archive_period(conn, period_id, allow_open=force_reason is not None)
    return manifest
