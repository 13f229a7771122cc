"""The allow-list of accepted kube-bench findings: who accepted what, why, and until when."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_CHECK_ID = re.compile(r"^\d+(\.\d+)*$")
_ENTRY_KEYS = {"id", "reason", "owner", "expires"}


class AllowlistError(ValueError):
    """The allow-list file is missing or invalid; the message names the entry and field."""


@dataclass(frozen=True)
class AllowEntry:
    """One accepted finding: the CIS check id, why it is accepted, who owns it, until when."""

    id: str
    reason: str
    owner: str
    expires: dt.date | None = None

    def valid_on(self, day: dt.date) -> bool:
        """An entry excuses a failure up to and including its expiry day."""
        return self.expires is None or day <= self.expires


@dataclass(frozen=True)
class Allowlist:
    """Accepted findings by check id."""

    entries: dict[str, AllowEntry]

    def entry_for(self, check_id: str) -> AllowEntry | None:
        """The entry for a check id, valid or expired, or None."""
        return self.entries.get(check_id)


EMPTY = Allowlist(entries={})


def load_allowlist(path: Path) -> Allowlist:
    """Read and validate an allow-list YAML file (top-level key `accepted`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AllowlistError(f"{path}: no such allow-list file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AllowlistError(f"{path}: cannot read the allow-list ({exc})") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f" at line {mark.line + 1}" if mark is not None else ""
        raise AllowlistError(f"{path}: not valid YAML{place}") from None
    try:
        return parse_allowlist(document)
    except AllowlistError as exc:
        raise AllowlistError(f"{path}: {exc}") from None


def parse_allowlist(document: Any) -> Allowlist:
    """Validate the parsed YAML of an allow-list."""
    if not isinstance(document, dict) or set(document) != {"accepted"}:
        raise AllowlistError("expected a mapping with the single key 'accepted'")
    raw_entries = document["accepted"]
    if raw_entries is None:
        return EMPTY
    if not isinstance(raw_entries, list):
        raise AllowlistError("'accepted' must be a list of entries")
    entries: dict[str, AllowEntry] = {}
    for index, raw in enumerate(raw_entries):
        entry = _entry(raw, f"accepted[{index}]")
        if entry.id in entries:
            raise AllowlistError(f"accepted[{index}].id: check {entry.id} is listed twice")
        entries[entry.id] = entry
    return Allowlist(entries=entries)


def _entry(raw: Any, where: str) -> AllowEntry:
    if not isinstance(raw, dict):
        raise AllowlistError(f"{where}: expected a mapping with id, reason, owner")
    unknown = sorted(str(key) for key in set(raw) - _ENTRY_KEYS)
    if unknown:
        raise AllowlistError(f"{where}: unknown field(s) {', '.join(unknown)}")
    check_id = raw.get("id")
    if not isinstance(check_id, str) or not _CHECK_ID.match(check_id):
        raise AllowlistError(
            f'{where}.id: expected a quoted CIS check number such as "1.2.6", got {check_id!r}'
        )
    reason = _required_text(raw, "reason", where)
    owner = _required_text(raw, "owner", where)
    return AllowEntry(id=check_id, reason=reason, owner=owner, expires=_expiry(raw, where))


def _required_text(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise AllowlistError(f"{where}.{key}: required, non-empty text")
    return value.strip()


def _expiry(raw: dict[str, Any], where: str) -> dt.date | None:
    value = raw.get("expires")
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise AllowlistError(f"{where}.expires: expected a date YYYY-MM-DD, got {value!r}")
