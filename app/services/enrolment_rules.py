"""What an enrolment's groups, choices and exemptions must satisfy, checked in bulk."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from app.domain.errors import FieldError
from app.services.references import elements_of, groups_of, rows_by_id
from app.store.schema import choice_group


@dataclass(frozen=True)
class Selection:
    """One enrolment's groups, choices and exemptions, with the field prefix for errors."""

    prefix: str
    step_id: int
    groups: list[int]
    choices: list[int]
    exemptions: list[int]


def check_selections(conn: Connection, selections: list[Selection]) -> list[FieldError]:
    """Every group in the step, every choice an optional element of the step, every exemption
    an element of the step, at most `max` choices per choice group, no id twice."""
    groups = groups_of(conn, (g for s in selections for g in s.groups))
    elements = elements_of(conn, (e for s in selections for e in (*s.choices, *s.exemptions)))
    limits = rows_by_id(
        conn,
        choice_group,
        {e.choice_group_id for e in elements.values() if e.choice_group_id},
        "code",
        "max_choices",
    )
    return judge_selections(selections, groups, elements, limits)


def judge_selections(
    selections: list[Selection],
    groups: dict[int, Any],
    elements: dict[int, Any],
    limits: dict[int, Any],
) -> list[FieldError]:
    """The checks of `check_selections` against rows already read (no I/O)."""
    errors: list[FieldError] = []
    for sel in selections:
        errors += _repeated_ids(sel)
        errors += _groups_outside_the_step(sel, groups)
        errors += _bad_choices(sel, elements, limits)
        errors += _exemptions_outside_the_step(sel, elements)
    return errors


def _repeated_ids(sel: Selection) -> list[FieldError]:
    return [
        FieldError(f"{sel.prefix}{key}", "an id is listed twice")
        for key, ids in (
            ("groups", sel.groups),
            ("choices", sel.choices),
            ("exemptions", sel.exemptions),
        )
        if len(set(ids)) != len(ids)
    ]


def _groups_outside_the_step(sel: Selection, groups: dict[int, Any]) -> list[FieldError]:
    return [
        FieldError(f"{sel.prefix}groups[{i}]", f"no group {gid} in step {sel.step_id}")
        for i, gid in enumerate(sel.groups)
        if (group := groups.get(gid)) is None or group.step_id != sel.step_id
    ]


def _bad_choices(
    sel: Selection, elements: dict[int, Any], limits: dict[int, Any]
) -> list[FieldError]:
    """Choices must be optional elements of the step, within each choice group's maximum."""
    errors: list[FieldError] = []
    per_group: Counter[int] = Counter()
    for i, eid in enumerate(sel.choices):
        el = elements.get(eid)
        field = f"{sel.prefix}choices[{i}]"
        if el is None or el.step_id != sel.step_id:
            errors.append(FieldError(field, f"no element {eid} in step {sel.step_id}"))
        elif not el.optional:
            errors.append(FieldError(field, f"element {eid} is mandatory, not a choice"))
        elif el.choice_group_id:
            per_group[el.choice_group_id] += 1
    for cg_id, count in per_group.items():
        limit = limits[cg_id]
        if count > limit.max_choices:
            errors.append(
                FieldError(
                    f"{sel.prefix}choices",
                    f"choice group {limit.code} allows at most {limit.max_choices}",
                )
            )
    return errors


def _exemptions_outside_the_step(sel: Selection, elements: dict[int, Any]) -> list[FieldError]:
    return [
        FieldError(f"{sel.prefix}exemptions[{i}]", f"no element {eid} in step {sel.step_id}")
        for i, eid in enumerate(sel.exemptions)
        if (el := elements.get(eid)) is None or el.step_id != sel.step_id
    ]
