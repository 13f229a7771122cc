"""The value formats of the contract, refused with the field's name."""

from __future__ import annotations

import pytest

from app.domain import values
from app.domain.errors import InvalidInput


@pytest.mark.parametrize("good", ["2026-2027", "1900-1901", "2199-2200"])
def test_academic_years_are_two_consecutive_years(good):
    assert values.academic_year(good, "year") == good


@pytest.mark.parametrize(
    "bad", ["2026", "2026-2028", "2027-2026", "26-27", "1899-1900", "2026/2027", ""]
)
def test_malformed_academic_years_name_the_field(bad):
    with pytest.raises(InvalidInput) as refused:
        values.academic_year(bad, "enrolments[2].academic_year")
    assert refused.value.errors[0].field == "enrolments[2].academic_year"


@pytest.mark.parametrize(
    "bad", ["2026-02-30", "2026-13-01", "26-01-01", "2026-1-1", "1899-12-31", "2026-01-01T00:00"]
)
def test_calendar_dates_must_be_real_days_in_range(bad):
    with pytest.raises(InvalidInput):
        values.calendar_date(bad, "start_date")


def test_instants_need_an_offset():
    assert values.instant("2026-09-01T08:00:00Z", "t").utcoffset().total_seconds() == 0
    assert values.instant("2026-09-01T08:00:00+02:00", "t").utcoffset().total_seconds() == 7200
    for bad in ("2026-09-01T08:00:00", "2026-09-01", "tomorrow", "2026-09-01T25:00:00Z"):
        with pytest.raises(InvalidInput):
            values.instant(bad, "t")


def test_curriculum_periods_run_forward():
    assert values.curriculum_period("2024-2029", "p") == "2024-2029"
    for bad in ("2029-2024", "2024-2024", "2024-2060"):
        with pytest.raises(InvalidInput):
            values.curriculum_period(bad, "p")
