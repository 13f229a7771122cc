"""Curriculum import: one transaction, idempotent by codes, structure never moved in place."""

from __future__ import annotations

import copy

from sqlalchemy import func, select

from app.store.schema import element, element_closure
from tests.app.fixtures import curriculum, post


def test_import_answers_every_id(client, staff):
    ids = post(client, "/api/v1/curricula", curriculum(), staff)
    assert set(ids["elements"]) == {"LINFO-S1", "LINFO-UE11", "LINFO-EC111", "LINFO-UE12"}
    assert set(ids["groups"]) == {"LINFO-L1/TD-A", "LINFO-L1/TD-B"}
    assert ids["steps"] == {"LINFO-L1": ids["steps"]["LINFO-L1"]}


def test_reposting_updates_labels_adds_new_and_never_duplicates(client, engine, staff):
    first = post(client, "/api/v1/curricula", curriculum(), staff)
    again = copy.deepcopy(curriculum())
    again["steps"][0]["elements"][0]["label"] = "Semestre un"
    again["steps"][0]["elements"][0]["children"].append(
        {"code": "LINFO-UE13", "label": "Anglais", "kind": "unit", "optional": False}
    )
    second = post(client, "/api/v1/curricula", again, staff)
    assert {k: v for k, v in second["elements"].items() if k != "LINFO-UE13"} == first["elements"]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(element)).scalar_one() == 5
        assert (
            conn.execute(select(element.c.label).where(element.c.code == "LINFO-S1")).scalar_one()
            == "Semestre un"
        )
        # UE13 sits under S1: its own row plus one ancestor row
        new = second["elements"]["LINFO-UE13"]
        assert (
            conn.execute(
                select(func.count())
                .select_from(element_closure)
                .where(element_closure.c.descendant_id == new)
            ).scalar_one()
            == 2
        )


def test_moving_an_element_is_refused(client, staff):
    post(client, "/api/v1/curricula", curriculum(), staff)
    moved = copy.deepcopy(curriculum())
    moved["steps"][0]["elements"][0]["children"][1]["optional"] = True
    refused = post(client, "/api/v1/curricula", moved, staff, 409)
    assert refused["errors"][0]["field"].endswith(".code")


def test_duplicate_codes_and_unknown_choice_groups_are_named(client, staff):
    bad = copy.deepcopy(curriculum())
    children = bad["steps"][0]["elements"][0]["children"]
    children[1]["code"] = "LINFO-UE11"
    children[0]["children"][0]["choice_group"] = "NOPE"
    refused = post(client, "/api/v1/curricula", bad, staff, 422)
    fields = {e["field"] for e in refused["errors"]}
    assert "steps[0].elements[0].children[1].code" in fields
    assert "steps[0].elements[0].children[0].children[0].choice_group" in fields
