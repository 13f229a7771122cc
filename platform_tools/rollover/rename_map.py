"""The rename map of a curriculum switch: a CSV of `old_code,new_code` lines."""

from __future__ import annotations

import csv
from pathlib import Path

from platform_tools.rollover.curriculum_file import CurriculumInputError

HEADER = ("old_code", "new_code")
MAX_LINES = 100_000


def load_rename_map(path: Path) -> dict[str, str]:
    """{old code: new code}; every error names --map and the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CurriculumInputError(f"--map {path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise CurriculumInputError(f"--map {path}: not UTF-8 text") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or tuple(cell.strip() for cell in rows[0]) != HEADER:
        raise CurriculumInputError(f"--map {path}: line 1 must be the header old_code,new_code")
    if len(rows) > MAX_LINES:
        raise CurriculumInputError(f"--map {path}: at most {MAX_LINES} lines")
    renames: dict[str, str] = {}
    targets: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != 2 or not row[0].strip() or not row[1].strip():
            raise CurriculumInputError(f"--map {path}: line {number}: expected old_code,new_code")
        old, new = row[0].strip(), row[1].strip()
        if old in renames:
            raise CurriculumInputError(f"--map {path}: line {number}: {old} is renamed twice")
        if new in targets:
            raise CurriculumInputError(
                f"--map {path}: line {number}: {new} is already the new name of another code "
                f"(line {targets[new]})"
            )
        renames[old] = new
        targets[new] = number
    return renames
