"""Reading a new curriculum file: the same JSON document and checks as POST /api/v1/curricula."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.domain import values
from app.domain.errors import InvalidInput
from app.http.body import checked

# The API refuses bodies past 16 MiB by default; a curriculum is far smaller.
MAX_FILE_BYTES = 16 * 1024 * 1024


class CurriculumInputError(ValueError):
    """The curriculum file, the period or the rename map is unusable; names the option."""


def load_curriculum(path: Path) -> dict[str, Any]:
    """The parsed curriculum if the whole document matches the API's schema."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CurriculumInputError(f"--file {path}: larger than {MAX_FILE_BYTES} bytes")
        raw = path.read_bytes()
    except OSError as exc:
        raise CurriculumInputError(f"--file {path}: cannot read ({exc.strerror})") from None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise CurriculumInputError(f"--file {path}: not valid JSON ({exc})") from None
    try:
        return checked("Curriculum", data)
    except InvalidInput as exc:
        raise CurriculumInputError(
            f"--file {path}: " + "; ".join(f"{e.field}: {e.message}" for e in exc.errors[:10])
        ) from None


def check_period(body: dict[str, Any], period: str, path: Path) -> str:
    """`--period` must be a curriculum period and say the same as the file's version."""
    try:
        values.curriculum_period(period, "--period")
    except InvalidInput as exc:
        raise CurriculumInputError(f"--period {period}: {exc.errors[0].message}") from None
    declared = body["version"]["curriculum_period"]
    if declared != period:
        raise CurriculumInputError(
            f"--period {period} differs from version.curriculum_period {declared!r} in "
            f"--file {path}: correct one of them"
        )
    return period
