"""Parsers for the value formats of the contract, each naming the field it refuses."""

from __future__ import annotations

import re
from datetime import date, datetime

from app.domain.errors import InvalidInput

MIN_YEAR = 1900
MAX_YEAR = 2199
_YEAR_PAIR = re.compile(r"^(\d{4})-(\d{4})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def academic_year(value: str, field: str) -> str:
    """`YYYY-YYYY` with consecutive years inside the supported range."""
    first, second = _year_pair(value, field)
    if second != first + 1:
        raise InvalidInput.of(field, "an academic year spans two consecutive years, e.g. 2026-2027")
    return value


def curriculum_period(value: str, field: str) -> str:
    """`YYYY-YYYY` where the end year is after the start year (e.g. 2024-2029)."""
    first, second = _year_pair(value, field)
    if not first < second <= first + 20:
        raise InvalidInput.of(field, "the end year must follow the start year by 1 to 20 years")
    return value


def _year_pair(value: str, field: str) -> tuple[int, int]:
    match = _YEAR_PAIR.match(value)
    if not match:
        raise InvalidInput.of(field, "expected YYYY-YYYY")
    first, second = int(match.group(1)), int(match.group(2))
    if not MIN_YEAR <= first <= MAX_YEAR or not MIN_YEAR <= second <= MAX_YEAR + 20:
        raise InvalidInput.of(field, f"years must lie between {MIN_YEAR} and {MAX_YEAR}")
    return first, second


def calendar_date(value: str, field: str) -> date:
    """`YYYY-MM-DD`, a real day, inside the supported range."""
    if not _DATE.match(value):
        raise InvalidInput.of(field, "expected a date YYYY-MM-DD")
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput.of(field, "not a calendar day") from None
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise InvalidInput.of(field, f"the year must lie between {MIN_YEAR} and {MAX_YEAR}")
    return parsed


def instant(value: str, field: str) -> datetime:
    """An ISO 8601 date-time with an offset, inside the supported range."""
    if len(value) < 16 or not _DATE.match(value[:10]) or value[10] not in "T ":
        raise InvalidInput.of(
            field, "expected an ISO 8601 date-time, e.g. 2026-09-01T08:00:00+02:00"
        )
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput.of(field, "not a valid date-time") from None
    if parsed.tzinfo is None:
        raise InvalidInput.of(field, "give the offset, e.g. +02:00 or Z")
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise InvalidInput.of(field, f"the year must lie between {MIN_YEAR} and {MAX_YEAR}")
    return parsed


def email(value: str, field: str) -> str:
    """A plausible e-mail address (delivery proves the rest)."""
    if not _EMAIL.match(value):
        raise InvalidInput.of(field, "not an e-mail address")
    return value
