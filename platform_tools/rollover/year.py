"""`platform-tools year rollover`: carry the previous year's activities into a new year.

Groups, choice groups and the element trees belong to a programme version's steps, not to a
year: they carry over as they are. What belongs to a year is its timetable, the activities.
Each activity of the source year becomes an activity of the target year on the same element,
kind, group and capacity, moved by whole weeks so it keeps its weekday and wall-clock time.
Activities are created through the app's own service, so every new activity seats the learners
already enrolled for the target year. History is never touched: the source year's activities
and participations are only read. Each carried activity is recorded against its source slot
(`activity_rollover`), so a re-run creates only what is still missing: an activity staff have
moved or removed since is not made again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, insert, select, text

from app import clock
from app.domain import values
from app.domain.errors import InvalidInput
from app.services.activities import create_activity
from app.store.schema import (
    activity,
    activity_rollover,
    element,
    learner_group,
    programme_version,
    step,
)
from platform_tools.rollover.year_shift import first_year, shift_instant, week_offset

# Two rollovers at once would both see the target year empty and create everything twice.
ROLLOVER_LOCK_KEY = 7_240_201


class RolloverInputError(ValueError):
    """An option of the rollover is unusable; the message names the option."""


@dataclass(frozen=True)
class CarriedActivity:
    """One activity of the target year to create, and the source activity it comes from."""

    source_id: int
    element_id: int
    element_code: str
    kind: str
    group_id: int | None
    starts_at: datetime
    ends_at: datetime
    capacity: int | None

    def body(self, academic_year: str) -> dict[str, Any]:
        """The body the app's activity service takes (the same as POST /api/v1/activities)."""
        return {
            "element_id": self.element_id,
            "academic_year": academic_year,
            "kind": self.kind,
            "group_id": self.group_id,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "capacity": self.capacity,
        }


@dataclass(frozen=True)
class SkippedActivity:
    """A source activity that is not carried over, and why."""

    source_id: int
    element_code: str
    reason: str


@dataclass
class YearPlan:
    """What a rollover from `source_year` to `target_year` would do."""

    source_year: str
    target_year: str
    weeks: int
    to_create: list[CarriedActivity] = field(default_factory=list)
    already_carried: list[int] = field(default_factory=list)
    skipped: list[SkippedActivity] = field(default_factory=list)
    steps_kept: int = 0
    groups_kept: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready data (`--json`)."""
        return {
            "source_year": self.source_year,
            "target_year": self.target_year,
            "weeks": self.weeks,
            "to_create": [
                {
                    "source_id": a.source_id,
                    "element": a.element_code,
                    "kind": a.kind,
                    "group_id": a.group_id,
                    "starts_at": a.starts_at.isoformat(),
                    "ends_at": a.ends_at.isoformat(),
                    "capacity": a.capacity,
                }
                for a in self.to_create
            ],
            "already_carried": self.already_carried,
            "skipped": [
                {"source_id": s.source_id, "element": s.element_code, "reason": s.reason}
                for s in self.skipped
            ],
            "steps_kept": self.steps_kept,
            "groups_kept": self.groups_kept,
        }


@dataclass(frozen=True)
class YearOutcome:
    """What an applied rollover created."""

    activity_ids: list[int]
    participations_created: int
    waitlisted: int


def check_years(target_year: str, source_year: str | None) -> str:
    """The source year (the one before the target by default); errors name the option."""
    try:
        values.academic_year(target_year, "--to")
    except InvalidInput as exc:
        raise RolloverInputError(f"--to: {_message(exc)}") from None
    if source_year is None:
        start = first_year(target_year) - 1
        return f"{start}-{start + 1}"
    try:
        values.academic_year(source_year, "--from")
    except InvalidInput as exc:
        raise RolloverInputError(f"--from: {_message(exc)}") from None
    if first_year(source_year) >= first_year(target_year):
        raise RolloverInputError(f"--from: {source_year} must come before --to {target_year}")
    return source_year


def load_zone(name: str) -> ZoneInfo:
    """The school's time zone, so slots keep their wall-clock time; errors name --timezone."""
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        raise RolloverInputError(f"--timezone: unknown time zone {name!r}") from None


def _message(exc: InvalidInput) -> str:
    return exc.errors[0].message if exc.errors else exc.detail


def _covers(curriculum_period: str, academic_year: str) -> bool:
    # A 2024-2029 curriculum is taught from 2024-2025 up to 2028-2029.
    start, end = (int(part) for part in curriculum_period.split("-"))
    return start <= first_year(academic_year) < end


def plan_rollover(conn: Connection, target_year: str, source_year: str, zone: ZoneInfo) -> YearPlan:
    """Compare the source year's activities with the target year's: what is left to create."""
    years = first_year(target_year) - first_year(source_year)
    rows = conn.execute(
        select(
            activity,
            element.c.code.label("element_code"),
            programme_version.c.code.label("version_code"),
            programme_version.c.curriculum_period,
        )
        .join(element, element.c.id == activity.c.element_id)
        .join(programme_version, programme_version.c.id == element.c.programme_version_id)
        .where(activity.c.academic_year == source_year)
        .order_by(activity.c.starts_at, activity.c.id)
    ).all()
    carried = set(
        conn.execute(
            select(activity_rollover.c.source_id).where(
                activity_rollover.c.target_year == target_year
            )
        ).scalars()
    )
    # Slots staff created by hand in the target year count as present too.
    existing = {
        (r.element_id, r.kind, r.group_id, r.starts_at)
        for r in conn.execute(
            select(
                activity.c.element_id, activity.c.kind, activity.c.group_id, activity.c.starts_at
            ).where(activity.c.academic_year == target_year)
        )
    }
    now = clock.now()
    plan = YearPlan(source_year, target_year, weeks=0)
    for row in rows:
        if not _covers(row.curriculum_period, target_year):
            plan.skipped.append(
                SkippedActivity(
                    row.id,
                    row.element_code,
                    f"curriculum {row.version_code} ({row.curriculum_period}) "
                    f"is not taught in {target_year}",
                )
            )
            continue
        weeks = week_offset(row.starts_at.astimezone(zone).date(), years)
        plan.weeks = plan.weeks or weeks
        starts_at = shift_instant(row.starts_at, weeks, zone)
        ends_at = shift_instant(row.ends_at, weeks, zone)
        if row.id in carried or (row.element_id, row.kind, row.group_id, starts_at) in existing:
            plan.already_carried.append(row.id)
            continue
        if starts_at <= now:
            plan.skipped.append(
                SkippedActivity(
                    row.id, row.element_code, f"would start {starts_at.isoformat()}, in the past"
                )
            )
            continue
        plan.to_create.append(
            CarriedActivity(
                row.id,
                row.element_id,
                row.element_code,
                row.kind,
                row.group_id,
                starts_at,
                ends_at,
                row.capacity,
            )
        )
        # Two identical source slots (a duplicate) become one target slot, not two.
        existing.add((row.element_id, row.kind, row.group_id, starts_at))
    plan.steps_kept, plan.groups_kept = _kept(conn, target_year)
    return plan


def _kept(conn: Connection, target_year: str) -> tuple[int, int]:
    """Steps taught in the target year, and their groups (which carry over unchanged)."""
    versions = [
        r.id
        for r in conn.execute(select(programme_version.c.id, programme_version.c.curriculum_period))
        if _covers(r.curriculum_period, target_year)
    ]
    if not versions:
        return 0, 0
    steps = conn.execute(
        select(func.count()).select_from(step).where(step.c.programme_version_id.in_(versions))
    ).scalar_one()
    groups = conn.execute(
        select(func.count())
        .select_from(learner_group)
        .join(step, step.c.id == learner_group.c.step_id)
        .where(step.c.programme_version_id.in_(versions))
    ).scalar_one()
    return steps, groups


def lock_rollover(conn: Connection) -> None:
    """Serialise rollovers (SQLite writers already hold the database's write lock)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ROLLOVER_LOCK_KEY})


def apply_rollover(
    conn: Connection, plan: YearPlan, advance: Callable[[], None] = lambda: None
) -> YearOutcome:
    """Create the planned activities through the app's service (each one propagates).

    `advance` is called after each activity (a progress bar).
    """
    ids: list[int] = []
    created = waitlisted = 0
    for item in plan.to_create:
        result = create_activity(conn, item.body(plan.target_year))
        ids.append(result["id"])
        created += result["participations_created"]
        waitlisted += result["waitlisted"]
        advance()
    if ids:
        now = clock.now()
        conn.execute(
            insert(activity_rollover),
            [
                {
                    "source_id": item.source_id,
                    "target_year": plan.target_year,
                    "activity_id": new_id,
                    "created_at": now,
                }
                for item, new_id in zip(plan.to_create, ids, strict=True)
            ],
        )
    return YearOutcome(ids, created, waitlisted)
