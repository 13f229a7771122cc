"""French wording and the text the PDF's standard fonts can print."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

# The PDF standard fonts print Windows-1252 (Latin-1 plus œ, €, dashes, quotes): every French
# label fits. Other scripts are reduced to their base letters, or "?" when there is none,
# rather than failing a whole batch on one name.
ENCODING = "windows-1252"
DASH = "\u2013"  # the en dash of French typography, between a code and its label

_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def printable(text: str) -> str:
    """`text` with every character the standard fonts cannot print replaced."""
    try:
        text.encode(ENCODING)
        return text
    except UnicodeEncodeError:
        pass
    out = []
    for char in text:
        try:
            char.encode(ENCODING)
            out.append(char)
        except UnicodeEncodeError:
            base = "".join(
                c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
            )
            try:
                base.encode(ENCODING)
                out.append(base or "?")
            except UnicodeEncodeError:
                out.append("?")
    return "".join(out)


def long_date(day: date) -> str:
    """`lundi 11 janvier 2027`."""
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def clock_time(moment: datetime) -> str:
    """`09h00`."""
    return f"{moment.hour:02d}h{moment.minute:02d}"


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    """`moment` in the school's time zone."""
    return moment.astimezone(zone)


def time_range(starts_at: datetime, hours: int, zone: ZoneInfo) -> tuple[str, str, str]:
    """(date, start, end) of a sitting, in the school's time zone."""
    start = local(starts_at, zone)
    end = local(starts_at + timedelta(hours=hours), zone)
    return long_date(start.date()), clock_time(start), clock_time(end)


def period_name(number: int, academic_year: str) -> str:
    """`Session 1 (2026-2027)`, `Session de rattrapage (2026-2027)`."""
    name = "Session de rattrapage" if number == 3 else f"Session {number}"
    return f"{name} ({academic_year})"


def sort_key(last_name: str, first_name: str, external_id: str) -> tuple[str, str, str]:
    """Alphabetical order as a French reader expects it: accents and case do not count."""

    def plain(text: str) -> str:
        decomposed = unicodedata.normalize("NFKD", text)
        return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()

    return plain(last_name), plain(first_name), external_id
