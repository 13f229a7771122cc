"""A brute-force reading of DOMAIN.md's eligibility rules, independent of the app's SQL.

It walks parent pointers (not the closure table) and evaluates each pair in Python.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy import Connection, select

from app.store.schema import (
    activity,
    element,
    enrolment,
    enrolment_choice,
    enrolment_exemption,
    enrolment_group,
    participation,
)


@dataclass(frozen=True)
class World:
    enrolments: dict[int, object]
    groups: dict[int, set[int]]
    choices: dict[int, set[int]]
    exemptions: dict[int, set[int]]
    elements: dict[int, object]
    activities: dict[int, object]
    participations: dict[
        tuple[int, int], tuple[int, str]
    ]  # (activity, enrolment) -> (arrival, status)


def load(conn: Connection) -> World:
    def links(table, column):
        found: dict[int, set[int]] = defaultdict(set)
        for row in conn.execute(select(table.c.enrolment_id, table.c[column])):
            found[row[0]].add(row[1])
        return found

    return World(
        enrolments={r.id: r for r in conn.execute(select(enrolment))},
        groups=links(enrolment_group, "group_id"),
        choices=links(enrolment_choice, "element_id"),
        exemptions=links(enrolment_exemption, "element_id"),
        elements={r.id: r for r in conn.execute(select(element))},
        activities={r.id: r for r in conn.execute(select(activity))},
        participations={
            (r.activity_id, r.enrolment_id): (r.id, r.status)
            for r in conn.execute(select(participation))
        },
    )


def path(world: World, element_id: int) -> list[object]:
    """The element and its ancestors up to the step root."""
    chain = []
    current = world.elements.get(element_id)
    while current is not None:
        chain.append(current)
        current = world.elements.get(current.parent_id) if current.parent_id else None
    return chain


def eligible(world: World, enrolment_id: int, activity_id: int) -> bool:
    e, a = world.enrolments[enrolment_id], world.activities[activity_id]
    chain = path(world, a.element_id)
    return (
        e.status == "active"
        and e.academic_year == a.academic_year
        and world.elements[a.element_id].step_id == e.step_id
        and all(el.id in world.choices[enrolment_id] for el in chain if el.optional)
        and not any(el.id in world.exemptions[enrolment_id] for el in chain)
        and (a.group_id is None or a.group_id in world.groups[enrolment_id])
        and a.ends_at >= datetime.combine(e.start_date, time(), UTC)
    )


def expected_participants(world: World, activity_id: int) -> set[int]:
    return {e for e in world.enrolments if eligible(world, e, activity_id)}


def actual_participants(world: World, activity_id: int) -> dict[int, str]:
    return {e: status for (a, e), (_, status) in world.participations.items() if a == activity_id}
