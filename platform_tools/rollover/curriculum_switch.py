"""`platform-tools curriculum switch`: publish a new curriculum beside the one it replaces.

The 2024-2029 change of the field case replaced every code and label. Enrolments, activities
and participations point at the previous version's steps and elements, so those are never
edited: the new curriculum is imported as a new programme version through the app's import
service (the code path of POST /api/v1/curricula), in one transaction. The dry run performs the
same import and rolls it back, so "the plan says OK" means "the import goes through".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select

from app.domain.errors import DomainError
from app.services.curricula import import_curriculum
from app.store.schema import element, programme, programme_version, step
from platform_tools.rollover.curriculum_diff import (
    CurriculumDiff,
    Entry,
    diff_codes,
    document_codes,
)
from platform_tools.rollover.curriculum_file import CurriculumInputError


@dataclass(frozen=True)
class PreviousVersion:
    """The programme version the new curriculum replaces."""

    id: int
    code: str
    curriculum_period: str


@dataclass(frozen=True)
class SwitchPlan:
    """What the switch does: which version it publishes, against which one, and the diff."""

    programme_code: str
    version_code: str
    curriculum_period: str
    previous: PreviousVersion | None
    already_published: bool
    diff: CurriculumDiff

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (`--json`)."""
        previous = self.previous
        return {
            "programme": self.programme_code,
            "version": self.version_code,
            "curriculum_period": self.curriculum_period,
            "previous_version": None
            if previous is None
            else {"code": previous.code, "curriculum_period": previous.curriculum_period},
            "already_published": self.already_published,
            "diff": self.diff.as_dict(),
        }


@dataclass(frozen=True)
class SwitchResult:
    """The plan, and the import's answer (ids of the new version, its steps and elements)."""

    plan: SwitchPlan
    applied: bool
    imported: dict[str, Any]


def _start(period: str) -> int:
    return int(period[:4])


def plan_switch(conn: Connection, body: dict[str, Any], renames: dict[str, str]) -> SwitchPlan:
    """Find the version being replaced and diff its codes against the new document."""
    version = body["version"]
    period = version["curriculum_period"]
    programme_id = conn.execute(
        select(programme.c.id).where(programme.c.code == body["programme"]["code"])
    ).scalar()
    same_code = conn.execute(
        select(programme_version.c.programme_id, programme_version.c.curriculum_period).where(
            programme_version.c.code == version["code"]
        )
    ).first()
    if same_code is not None:
        if same_code.programme_id != programme_id:
            raise CurriculumInputError(
                f"--file: version.code {version['code']} belongs to another programme"
            )
        if same_code.curriculum_period != period:
            # Importing over it would rewrite the labels that existing enrolments were made
            # under: a new curriculum is a new version code.
            raise CurriculumInputError(
                f"--file: version.code {version['code']} already exists for the "
                f"{same_code.curriculum_period} curriculum; give the new curriculum its own code"
            )
    previous = None
    if programme_id is not None:
        candidates = [
            PreviousVersion(r.id, r.code, r.curriculum_period)
            for r in conn.execute(
                select(
                    programme_version.c.id,
                    programme_version.c.code,
                    programme_version.c.curriculum_period,
                ).where(
                    programme_version.c.programme_id == programme_id,
                    programme_version.c.code != version["code"],
                )
            )
            if _start(r.curriculum_period) < _start(period)
        ]
        if candidates:
            previous = max(candidates, key=lambda v: (_start(v.curriculum_period), v.id))
    old_codes = _version_codes(conn, previous.id) if previous else {}
    return SwitchPlan(
        programme_code=body["programme"]["code"],
        version_code=version["code"],
        curriculum_period=period,
        previous=previous,
        already_published=same_code is not None,
        diff=diff_codes(old_codes, document_codes(body), renames),
    )


def _version_codes(conn: Connection, version_id: int) -> dict[str, Entry]:
    codes = {
        r.code: Entry("step", r.label)
        for r in conn.execute(
            select(step.c.code, step.c.label).where(step.c.programme_version_id == version_id)
        )
    }
    for r in conn.execute(
        select(element.c.code, element.c.label).where(element.c.programme_version_id == version_id)
    ):
        codes[r.code] = Entry("element", r.label)
    return codes


def switch_curriculum(
    engine: Engine, body: dict[str, Any], renames: dict[str, str], *, apply: bool
) -> SwitchResult:
    """Plan, then import in one transaction: committed with `apply`, rolled back without."""
    with engine.connect().execution_options(writes=True) as conn:
        transaction = conn.begin()
        try:
            plan = plan_switch(conn, body, renames)
            try:
                imported = import_curriculum(conn, body)
            except DomainError as exc:
                fields = "; ".join(f"{e.field}: {e.message}" for e in exc.errors[:10])
                raise CurriculumInputError(f"--file: {fields or exc.detail}") from None
        except BaseException:
            transaction.rollback()
            raise
        if apply:
            transaction.commit()
        else:
            transaction.rollback()
    return SwitchResult(plan, apply, imported)
