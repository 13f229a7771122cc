"""Moving timetable slots by whole weeks, at the same wall-clock time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from platform_tools.rollover.year_shift import shift_instant, week_offset

PARIS = ZoneInfo("Europe/Paris")


@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2150, 12, 31)), st.integers(1, 5))
def test_shifted_day_keeps_its_weekday_within_four_days_of_its_calendar_twin(day: date, years: int):
    weeks = week_offset(day, years)
    moved = date.fromordinal(day.toordinal() + 7 * weeks)
    assert moved.weekday() == day.weekday()
    twin_year = day.year + years
    assert abs((moved - date(twin_year, day.month, min(day.day, 28))).days) <= 6


def test_leap_day_moves_to_a_real_day():
    assert week_offset(date(2028, 2, 29), 1) == 52


def test_shift_keeps_local_time_across_a_daylight_saving_change():
    # 30 March 2026 is summer time (+02:00); 52 weeks on, 29 March 2027 is too. 26 October
    # 2026 is winter time: moving a summer slot into winter keeps 08:00 local, not 06:00 UTC.
    summer = datetime(2026, 3, 30, 6, 0, tzinfo=UTC)
    assert shift_instant(summer, 52, PARIS).astimezone(PARIS).hour == 8
    october = datetime(2026, 10, 19, 6, 0, tzinfo=UTC)  # 08:00 Paris, summer time
    moved = shift_instant(october, 1, PARIS)
    assert moved.astimezone(PARIS).hour == 8
    assert moved == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)
