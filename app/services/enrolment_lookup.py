"""Everything a batch of new enrolments must be checked against, read in one statement:
its learners, steps, groups, elements (with their choice groups) and the active enrolments
that already hold one of its (learner, step, year) keys.

One UNION ALL of indexed lookups instead of one query per kind: a batch-enrolment call then
costs the same handful of statements whatever it carries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    String,
    cast,
    literal,
    null,
    select,
    tuple_,
    union_all,
)

from app.propagation.scope import in_ids
from app.store.json_rows import id_rows, json_rows
from app.store.schema import choice_group, element, enrolment, learner, learner_group, step


@dataclass
class Found:
    """What exists, by kind: {id: row} for learners, steps, groups, elements and choice
    groups, and {(learner, step, year): enrolment id} for the keys already taken."""

    learners: dict[int, Any] = field(default_factory=dict)
    steps: dict[int, Any] = field(default_factory=dict)
    groups: dict[int, Any] = field(default_factory=dict)
    elements: dict[int, Any] = field(default_factory=dict)
    limits: dict[int, Any] = field(default_factory=dict)
    taken: dict[tuple[int, int, str], int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Row:
    id: int
    step_id: int | None
    optional: bool | None
    choice_group_id: int | None
    code: str | None
    max_choices: int | None


def look_up(
    conn: Connection,
    learner_ids: Iterable[int],
    step_ids: Iterable[int],
    group_ids: Iterable[int],
    element_ids: Iterable[int],
    keys: list[tuple[int, int, str]],
) -> Found:
    """One statement: every named row that exists, and every key already actively enrolled."""
    dialect = conn.dialect.name

    def one_of(column, values: Iterable[int]):  # type: ignore[no-untyped-def]
        # Ids outside a 64-bit integer cannot exist; they are simply not found.
        wanted = sorted({v for v in values if isinstance(v, int) and -(2**63) <= v < 2**63})
        if dialect == "postgresql":
            return in_ids(column, wanted, dialect)
        # Each kind its own JSON parameter, named after its table.
        return column.in_(select(id_rows(dialect, f"{column.table.name}_ids", wanted).c.id))

    def row(kind: str, key, step_id=None, optional=None, group=None, code=None, most=None):  # type: ignore[no-untyped-def]
        return select(
            literal(kind, String()).label("kind"),
            cast(key, BigInteger).label("id"),
            cast(step_id if step_id is not None else null(), BigInteger).label("step_id"),
            cast(optional if optional is not None else null(), Boolean).label("optional"),
            cast(group if group is not None else null(), BigInteger).label("choice_group_id"),
            cast(code if code is not None else null(), String).label("code"),
            cast(most if most is not None else null(), BigInteger).label("max_choices"),
            cast(null(), BigInteger).label("learner_id"),
            cast(null(), String).label("academic_year"),
        )

    wanted = json_rows(
        dialect,
        "wanted_keys",
        {"learner_id": "int", "step_id": "int", "academic_year": "str"},
        ({"learner_id": k[0], "step_id": k[1], "academic_year": k[2]} for k in keys),
    )
    parts = [
        row("learner", learner.c.id).where(one_of(learner.c.id, learner_ids)),
        row("step", step.c.id).where(one_of(step.c.id, step_ids)),
        row("group", learner_group.c.id, learner_group.c.step_id).where(
            one_of(learner_group.c.id, group_ids)
        ),
        row(
            "element",
            element.c.id,
            element.c.step_id,
            element.c.optional,
            element.c.choice_group_id,
            choice_group.c.code,
            choice_group.c.max_choices,
        )
        .select_from(
            element.outerjoin(choice_group, choice_group.c.id == element.c.choice_group_id)
        )
        .where(one_of(element.c.id, element_ids)),
        select(
            literal("taken", String()),
            cast(enrolment.c.id, BigInteger),
            cast(enrolment.c.step_id, BigInteger),
            cast(null(), Boolean),
            cast(null(), BigInteger),
            cast(null(), String),
            cast(null(), BigInteger),
            cast(enrolment.c.learner_id, BigInteger),
            cast(enrolment.c.academic_year, String),
        ).where(
            enrolment.c.status == "active",
            tuple_(enrolment.c.learner_id, enrolment.c.step_id, enrolment.c.academic_year).in_(
                select(wanted.c.learner_id, wanted.c.step_id, wanted.c.academic_year)
            ),
        ),
    ]
    found = Found()
    for r in conn.execute(union_all(*parts)):
        if r.kind == "taken":
            found.taken[(r.learner_id, r.step_id, r.academic_year)] = r.id
            continue
        item = _Row(r.id, r.step_id, r.optional, r.choice_group_id, r.code, r.max_choices)
        getattr(
            found,
            {"learner": "learners", "step": "steps", "group": "groups"}.get(r.kind, "elements"),
        )[r.id] = item
        if r.kind == "element" and r.choice_group_id is not None:
            found.limits[r.choice_group_id] = _Row(
                r.choice_group_id, None, None, None, r.code, r.max_choices
            )
    return found
