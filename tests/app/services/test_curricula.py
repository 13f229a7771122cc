"""Curriculum import is set-based: a 5,000-element curriculum costs the statements of a small one.

Also the refusals the import must keep whatever its shape: moved elements (with children too),
a version code owned by another programme, choice-group bounds.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from app.domain.errors import Conflict, InvalidInput
from app.services import curricula
from app.store.engine import write_transaction
from app.store.schema import element, element_closure
from tests.app.fixtures import curriculum
from tests.app.propagation.test_statement_count import counting

DEPTH = 4


def curriculum_of(size: int, code: str = "BIG", first_year: int = 2024) -> dict[str, Any]:
    """`size` elements, DEPTH levels deep, over as many steps as they need, in the version
    `CODE-FIRST_YEAR` of programme `CODE` (every code carries both).

    Each step: two semesters of ten units of eight courses (the last two optional, in the
    step's choice group); the first course of each unit is split into a part, the fourth level.
    """
    steps: list[dict[str, Any]] = []
    serial = 0

    def node(kind: str, optional: bool = False) -> dict[str, Any]:
        nonlocal serial
        serial += 1
        doc: dict[str, Any] = {
            "code": f"{code}-{first_year}-{serial}",
            "label": f"{kind} {serial}",
            "kind": kind,
            "optional": optional,
            "hours": 12,
            "children": [],
        }
        if optional:
            doc["choice_group"] = "OPT"
        return doc

    while serial < size:
        s = len(steps)
        elements: list[dict[str, Any]] = []
        steps.append(
            {
                "code": f"{code}-{first_year}-Y{s}",
                "label": f"Year {s}",
                "year_index": s % 10 + 1,
                "groups": [{"code": "TD-A", "label": "A"}, {"code": "TD-B", "label": "B"}],
                "choice_groups": [{"code": "OPT", "min": 1, "max": 2}],
                "elements": elements,
            }
        )
        for _semester in range(2):
            if serial >= size:
                break
            semester = node("semester")
            elements.append(semester)
            for _unit in range(10):
                if serial >= size:
                    break
                unit = node("unit")
                semester["children"].append(unit)
                for c in range(8):
                    if serial >= size:
                        break
                    course = node("course", optional=c >= 6)
                    unit["children"].append(course)
                    if c == 0 and serial < size:
                        course["children"].append(node("module"))
    return {
        "programme": {"code": code, "label": f"Programme {code}"},
        "version": {
            "code": f"{code}-{first_year}",
            "label": f"{code} {first_year}",
            "curriculum_period": f"{first_year}-{first_year + 5}",
        },
        "steps": steps,
    }


def closure_rows(body: dict[str, Any]) -> int:
    """How many (ancestor, descendant) pairs the trees of `body` hold: depth + 1 per element."""
    total = 0
    for step_in in body["steps"]:
        stack = [(item, 1) for item in step_in["elements"]]
        while stack:
            item, path_length = stack.pop()
            total += path_length
            stack.extend((child, path_length + 1) for child in item["children"])
    return total


def import_counting(engine: Engine, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The answer of one import in its own transaction, and the statements it sent."""
    with counting(engine) as statements, write_transaction(engine) as conn:
        ids = curricula.import_curriculum(conn, body)
    return ids, len(statements)


def test_import_statements_do_not_grow_with_elements(engine):
    small, small_count = import_counting(engine, curriculum_of(10, "SMALL"))
    large, large_count = import_counting(engine, curriculum_of(5000, "LARGE"))
    assert (len(small["elements"]), len(large["elements"])) == (10, 5000)
    print(f"\n{engine.dialect.name} statements, 10 vs 5,000 elements: {small_count}/{large_count}")
    assert small_count == large_count
    # programme, version, steps, groups, choice groups, existing elements, one per level,
    # closure; SQLite adds its BEGIN IMMEDIATE
    assert large_count == 7 + DEPTH + (engine.dialect.name == "sqlite")


def test_reimport_of_5000_elements_relabels_them_in_place_and_skips_the_closure(engine):
    body = curriculum_of(5000)
    first, first_count = import_counting(engine, body)
    relabelled = copy.deepcopy(body)
    for step_in in relabelled["steps"]:
        stack = list(step_in["elements"])
        while stack:
            item = stack.pop()
            item["label"] = f"{item['label']} (2025)"
            stack.extend(item["children"])
    second, second_count = import_counting(engine, relabelled)
    assert second == first
    # the same statements but the closure insert: nothing new to place in the trees
    assert second_count == first_count - 1
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(element)).scalar_one() == 5000
        labels = conn.execute(select(element.c.label)).scalars().all()
        assert all(label.endswith(" (2025)") for label in labels)
        closure = conn.execute(select(func.count()).select_from(element_closure)).scalar_one()
        assert closure == closure_rows(body)


def test_switching_to_a_new_version_with_every_code_replaced_keeps_the_old_one(engine):
    old, old_count = import_counting(engine, curriculum_of(2000, "LIC", 2024))
    new, new_count = import_counting(engine, curriculum_of(2000, "LIC", 2029))
    assert new_count == old_count
    assert new["programme_version_id"] != old["programme_version_id"]
    assert not set(new["elements"].values()) & set(old["elements"].values())
    with engine.connect() as conn:
        per_version = {
            version: count
            for version, count in conn.execute(
                select(element.c.programme_version_id, func.count()).group_by(
                    element.c.programme_version_id
                )
            )
        }
    assert per_version == {old["programme_version_id"]: 2000, new["programme_version_id"]: 2000}


def test_closure_holds_every_ancestor_of_every_element_once(engine):
    body = curriculum_of(300)
    with write_transaction(engine) as conn:
        ids = curricula.import_curriculum(conn, body)
    expected: set[tuple[int, int, int]] = set()
    for step_in in body["steps"]:
        stack = [(item, [ids["elements"][item["code"]]]) for item in step_in["elements"]]
        while stack:
            item, path = stack.pop()
            me = path[-1]
            expected.update((ancestor, me, len(path) - 1 - i) for i, ancestor in enumerate(path))
            stack.extend((c, [*path, ids["elements"][c["code"]]]) for c in item["children"])
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                element_closure.c.ancestor_id,
                element_closure.c.descendant_id,
                element_closure.c.depth,
            )
        ).all()
    assert len(rows) == len(expected)
    assert set(map(tuple, rows)) == expected


def test_answer_lists_elements_in_payload_order_step_by_step_breadth_first(engine):
    body = curriculum()
    with write_transaction(engine) as conn:
        ids = curricula.import_curriculum(conn, body)
    assert list(ids["elements"]) == ["LINFO-S1", "LINFO-UE11", "LINFO-UE12", "LINFO-EC111"]
    assert list(ids["groups"]) == ["LINFO-L1/TD-A", "LINFO-L1/TD-B"]
    assert list(ids["choice_groups"]) == ["LINFO-L1/OPT-S1"]


def test_moving_an_element_that_has_children_is_409_naming_it(engine):
    with write_transaction(engine) as conn:
        curricula.import_curriculum(conn, curriculum())
    moved = copy.deepcopy(curriculum())
    unit = moved["steps"][0]["elements"][0]["children"][0]  # LINFO-UE11, parent of EC111
    unit["optional"] = True
    unit["choice_group"] = "OPT-S1"
    with pytest.raises(Conflict) as refused, write_transaction(engine) as conn:
        curricula.import_curriculum(conn, moved)
    assert [(e.field, e.message.split(";")[0]) for e in refused.value.errors] == [
        (
            "steps[0].elements[0].children[0].code",
            "element exists with another optional, choice_group_id",
        )
    ]


def test_moving_elements_under_a_new_parent_names_each_moved_element(engine):
    with write_transaction(engine) as conn:
        curricula.import_curriculum(conn, curriculum())
    moved = copy.deepcopy(curriculum())
    semester = moved["steps"][0]["elements"][0]
    semester["children"] = [
        {"code": "LINFO-BLOCK", "label": "Bloc", "kind": "block", "optional": False,
         "children": semester["children"]},
    ]  # fmt: skip
    with pytest.raises(Conflict) as refused, write_transaction(engine) as conn:
        curricula.import_curriculum(conn, moved)
    assert {e.field for e in refused.value.errors} == {
        "steps[0].elements[0].children[0].children[0].code",
        "steps[0].elements[0].children[0].children[1].code",
    }
    assert all("another parent_id" in e.message for e in refused.value.errors)


def test_a_version_code_of_another_programme_is_409_and_changes_nothing(engine):
    with write_transaction(engine) as conn:
        curricula.import_curriculum(conn, curriculum())
    other = copy.deepcopy(curriculum())
    other["programme"]["code"] = "OTHER"
    other["version"]["label"] = "Taken over"
    with pytest.raises(Conflict) as refused, write_transaction(engine) as conn:
        curricula.import_curriculum(conn, other)
    assert [e.field for e in refused.value.errors] == ["version.code"]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(element)).scalar_one() == 4


def test_a_choice_group_with_min_above_max_is_422_naming_the_step(engine):
    bad = copy.deepcopy(curriculum())
    bad["steps"][0]["choice_groups"][0].update({"min": 3, "max": 2})
    with pytest.raises(InvalidInput) as refused, write_transaction(engine) as conn:
        curricula.import_curriculum(conn, bad)
    assert [e.field for e in refused.value.errors] == ["steps[0].choice_groups"]
