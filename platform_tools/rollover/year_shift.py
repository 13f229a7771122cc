"""Moving a timetable slot to another academic year without moving it to another weekday."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def first_year(academic_year: str) -> int:
    """2026 for "2026-2027" (the value is already checked)."""
    return int(academic_year[:4])


def week_offset(day: date, years: int) -> int:
    """Whole weeks closest to `years` calendar years from `day`.

    Timetables repeat by weekday: a Monday lecture must stay on a Monday, so a slot moves by
    whole weeks (52 for one year), the number closest to the same calendar date `years` later.
    """
    target_year = day.year + years
    # 29 February has no twin in most years: take the last day of February instead.
    last_day = calendar.monthrange(target_year, day.month)[1]
    same_date = date(target_year, day.month, min(day.day, last_day))
    return round((same_date - day).days / 7)


def shift_instant(moment: datetime, weeks: int, zone: ZoneInfo) -> datetime:
    """`moment` moved by `weeks` at the same wall-clock time in `zone` (across DST changes)."""
    local = moment.astimezone(zone)
    moved = datetime.combine(local.date() + timedelta(weeks=weeks), local.time(), tzinfo=zone)
    return moved.astimezone(moment.tzinfo)
