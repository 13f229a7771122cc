"""Enrolments through the API: participations follow every change (DOMAIN.md rules 1-6)."""

from __future__ import annotations

from datetime import timedelta

from app import clock
from tests.app.fixtures import YEAR, School, post


def test_enrolment_joins_every_eligible_activity(client, staff):
    school = School(client, staff)
    lecture = school.activity("LINFO-UE11")["id"]
    maths = school.activity("LINFO-UE12")["id"]
    python = school.activity("LINFO-EC111")["id"]
    created = school.enrol(choices=[school.element["LINFO-EC111"]])
    assert created["participations_created"] == 3
    assert created["waitlisted"] == 0
    participations = client.simulate_get(
        f"/api/v1/enrolments/{created['id']}/participations", headers=staff
    ).json
    assert participations["items"] == [
        {"activity_id": lecture, "status": "active"},
        {"activity_id": maths, "status": "active"},
        {"activity_id": python, "status": "active"},
    ]


def test_optional_element_needs_a_choice_of_this_learner(client, staff):
    school = School(client, staff)
    python = school.activity("LINFO-EC111")["id"]
    chose = school.enrol(choices=[school.element["LINFO-EC111"]])["id"]
    did_not = school.enrol()["id"]
    assert school.participants(python) == {chose: "active"}
    assert did_not


def test_exemption_removes_the_whole_subtree(client, staff):
    school = School(client, staff)
    under_unit = school.activity("LINFO-EC111")["id"]
    unit = school.activity("LINFO-UE11")["id"]
    enrolment = school.enrol(choices=[school.element["LINFO-EC111"]])["id"]
    changed = client.simulate_patch(
        f"/api/v1/enrolments/{enrolment}",
        json={"exemptions": [school.element["LINFO-UE11"]]},
        headers=staff,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json == {
        "id": enrolment,
        "participations_created": 0,
        "participations_removed": 2,
    }
    assert school.participants(under_unit) == {}
    assert school.participants(unit) == {}


def test_group_activity_takes_only_its_group(client, staff):
    school = School(client, staff)
    tutorial = school.activity(group_id=school.group_a, kind="tutorial")["id"]
    in_a = school.enrol(groups=[school.group_a])["id"]
    in_b = school.enrol(groups=[school.group_b])["id"]
    assert school.participants(tutorial) == {in_a: "active"}
    moved = client.simulate_patch(
        f"/api/v1/enrolments/{in_b}", json={"groups": [school.group_a]}, headers=staff
    )
    assert moved.json["participations_created"] == 1
    assert school.participants(tutorial) == {in_a: "active", in_b: "active"}


def test_activity_ending_before_the_start_date_is_not_joined(client, staff):
    school = School(client, staff)
    early = school.activity(starts_at="2026-08-20T08:00:00Z", ends_at="2026-08-20T10:00:00Z")["id"]
    late_starter = school.enrol(start_date="2026-09-01")["id"]
    assert late_starter not in school.participants(early)
    client.simulate_patch(
        f"/api/v1/enrolments/{late_starter}", json={"start_date": "2026-08-20"}, headers=staff
    )
    assert late_starter in school.participants(early)


def test_cancelled_enrolment_keeps_past_participations(client, staff):
    school = School(client, staff)
    past = school.activity(starts_at="2026-08-01T12:00:00Z", ends_at="2026-08-31T10:00:00Z")
    future = school.activity()["id"]
    enrolment = school.enrol(start_date="2026-07-01")["id"]
    # The first activity started after the enrolment joined it: it is history now.
    clock.set_now(clock.now() + timedelta(days=1))
    assert enrolment in school.participants(past["id"])
    cancelled = client.simulate_post(f"/api/v1/enrolments/{enrolment}/cancel", headers=staff)
    assert cancelled.json == {"id": enrolment, "participations_removed": 1}
    assert school.participants(past["id"]) == {enrolment: "active"}
    assert school.participants(future) == {}
    again = client.simulate_post(f"/api/v1/enrolments/{enrolment}/cancel", headers=staff)
    assert again.status_code == 409


def test_cancelled_learner_can_enrol_again(client, staff):
    school = School(client, staff)
    learner = school.learner()
    first = school.enrol(learner)["id"]
    client.simulate_post(f"/api/v1/enrolments/{first}/cancel", headers=staff)
    assert school.enrol(learner)["id"] != first


def test_duplicate_active_enrolment_is_refused(client, staff):
    school = School(client, staff)
    learner = school.learner()
    school.enrol(learner)
    refused = school.enrol(learner, status=409)
    assert refused["errors"][0]["field"] == "learner_id"


def test_batch_enrols_all_or_nothing(client, staff):
    school = School(client, staff)
    lecture = school.activity()["id"]
    learners = [school.learner() for _ in range(3)]
    items = [
        {
            "learner_id": lid,
            "step_id": school.step,
            "academic_year": YEAR,
            "start_date": "2026-09-01",
        }
        for lid in learners
    ]
    bad = [*items, {**items[0], "learner_id": 999_999}]
    refused = post(client, "/api/v1/enrolments/batch", {"enrolments": bad}, staff, 422)
    assert refused["errors"] == [
        {"field": "enrolments[3].learner_id", "message": "no learner 999999"}
    ]
    assert school.participants(lecture) == {}
    created = post(client, "/api/v1/enrolments/batch", {"enrolments": items}, staff)
    assert len(created["ids"]) == 3
    assert created["participations_created"] == 3
    assert set(school.participants(lecture)) == set(created["ids"])


def test_batch_refuses_the_same_learner_twice(client, staff):
    school = School(client, staff)
    item = {
        "learner_id": school.learner(),
        "step_id": school.step,
        "academic_year": YEAR,
        "start_date": "2026-09-01",
    }
    refused = post(client, "/api/v1/enrolments/batch", {"enrolments": [item, item]}, staff, 409)
    assert refused["errors"][0]["field"] == "enrolments[1].learner_id"


def test_enrolment_reads_back_with_its_selection(client, staff):
    school = School(client, staff)
    learner = school.learner()
    enrolment = school.enrol(
        learner, groups=[school.group_b], choices=[school.element["LINFO-EC111"]]
    )["id"]
    read = client.simulate_get(f"/api/v1/enrolments/{enrolment}", headers=staff).json
    assert read == {
        "id": enrolment,
        "learner_id": learner,
        "step_id": school.step,
        "academic_year": YEAR,
        "status": "active",
        "start_date": "2026-09-01",
        "groups": [school.group_b],
        "choices": [school.element["LINFO-EC111"]],
        "exemptions": [],
    }
    listed = client.simulate_get(f"/api/v1/learners/{learner}/enrolments", headers=staff).json
    assert [e["id"] for e in listed["items"]] == [enrolment]


def test_choice_groups_cap_the_number_of_choices(client, staff):
    school = School(client, staff)
    ids = post(client, "/api/v1/curricula", _two_options(), staff)
    step = ids["steps"]["OPT-L1"]
    refused = post(
        client,
        "/api/v1/enrolments",
        {
            "learner_id": school.learner(),
            "step_id": step,
            "academic_year": YEAR,
            "start_date": "2026-09-01",
            "choices": [ids["elements"]["OPT-A"], ids["elements"]["OPT-B"]],
        },
        staff,
        422,
    )
    assert refused["errors"][0]["field"] == "choices"


def _two_options():
    return {
        "programme": {"code": "OPT", "label": "Options"},
        "version": {"code": "OPT-2024", "label": "Options", "curriculum_period": "2024-2029"},
        "steps": [
            {
                "code": "OPT-L1",
                "label": "L1",
                "year_index": 1,
                "choice_groups": [{"code": "ONE", "min": 1, "max": 1}],
                "elements": [
                    {
                        "code": f"OPT-{x}",
                        "label": x,
                        "kind": "course",
                        "optional": True,
                        "choice_group": "ONE",
                    }
                    for x in "AB"
                ],
            }
        ],
    }


def test_staff_can_ask_why_a_learner_is_not_in_an_activity(client, staff):
    school = School(client, staff)
    tutorial = school.activity("LINFO-EC111", group_id=school.group_a)["id"]
    enrolment = school.enrol(groups=[school.group_b])["id"]
    answer = client.simulate_get(
        f"/api/v1/enrolments/{enrolment}/eligibility/{tutorial}", headers=staff
    ).json
    assert answer["eligible"] is False and answer["participation"] is None
    assert len(answer["reasons"]) == 2
    assert (
        "not chosen" in answer["reasons"][0] and f"group {school.group_a}" in answer["reasons"][1]
    )
    client.simulate_patch(
        f"/api/v1/enrolments/{enrolment}",
        headers=staff,
        json={"groups": [school.group_a], "choices": [school.element["LINFO-EC111"]]},
    )
    answer = client.simulate_get(
        f"/api/v1/enrolments/{enrolment}/eligibility/{tutorial}", headers=staff
    ).json
    assert answer == {
        "enrolment_id": enrolment,
        "activity_id": tutorial,
        "eligible": True,
        "reasons": [],
        "participation": "active",
    }


def test_enrolment_reads_back_every_link_in_order(client, staff):
    school = School(client, staff)
    enrolment = school.enrol(groups=[school.group_a], choices=[school.element["LINFO-EC111"]])
    exempted = sorted([school.element["LINFO-UE12"], school.element["LINFO-UE11"]])
    changed = client.simulate_patch(
        f"/api/v1/enrolments/{enrolment['id']}",
        json={"exemptions": exempted[::-1]},
        headers=staff,
    )
    assert changed.status_code == 200, changed.text
    read = client.simulate_get(f"/api/v1/enrolments/{enrolment['id']}", headers=staff).json
    assert read["groups"] == [school.group_a]
    assert read["choices"] == [school.element["LINFO-EC111"]]
    assert read["exemptions"] == exempted
