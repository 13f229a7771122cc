"""Activities through the API, capacity and waitlist included."""

from __future__ import annotations

from tests.app.fixtures import School


def test_new_activity_seats_every_eligible_learner(client, staff):
    school = School(client, staff)
    enrolments = [school.enrol()["id"] for _ in range(3)]
    created = school.activity()
    assert created["participations_created"] == 3
    assert school.participants(created["id"]) == dict.fromkeys(enrolments, "active")


def test_capacity_waitlists_in_arrival_order(client, staff):
    school = School(client, staff)
    lab = school.activity(capacity=2, kind="practical")["id"]
    first, second, third, fourth = (school.enrol() for _ in range(4))
    assert [e["waitlisted"] for e in (first, second, third, fourth)] == [0, 0, 1, 1]
    assert school.participants(lab) == {
        first["id"]: "active",
        second["id"]: "active",
        third["id"]: "waitlisted",
        fourth["id"]: "waitlisted",
    }


def test_freed_seat_goes_to_the_first_on_the_waitlist(client, staff):
    school = School(client, staff)
    lab = school.activity(capacity=1)["id"]
    seated, waiting, later = (school.enrol()["id"] for _ in range(3))
    client.simulate_post(f"/api/v1/enrolments/{seated}/cancel", headers=staff)
    assert school.participants(lab) == {waiting: "active", later: "waitlisted"}


def test_a_newcomer_never_takes_a_given_seat(client, staff):
    school = School(client, staff)
    lab = school.activity(capacity=1)["id"]
    seated = school.enrol()["id"]
    newcomer = school.enrol()
    assert newcomer["waitlisted"] == 1
    assert school.participants(lab)[seated] == "active"


def test_lowering_capacity_waitlists_the_latest_arrivals(client, staff):
    school = School(client, staff)
    lab = school.activity(capacity=3)["id"]
    a, b, c = (school.enrol()["id"] for _ in range(3))
    lowered = client.simulate_patch(
        f"/api/v1/activities/{lab}", json={"capacity": 1}, headers=staff
    )
    assert lowered.json == {"id": lab, "participations_created": 0, "participations_removed": 0}
    assert school.participants(lab) == {a: "active", b: "waitlisted", c: "waitlisted"}
    client.simulate_patch(f"/api/v1/activities/{lab}", json={"capacity": None}, headers=staff)
    assert school.participants(lab) == {a: "active", b: "active", c: "active"}


def test_group_change_on_an_activity_moves_its_participants(client, staff):
    school = School(client, staff)
    in_a = school.enrol(groups=[school.group_a])["id"]
    in_b = school.enrol(groups=[school.group_b])["id"]
    tutorial = school.activity(group_id=school.group_a)["id"]
    changed = client.simulate_patch(
        f"/api/v1/activities/{tutorial}", json={"group_id": school.group_b}, headers=staff
    )
    assert changed.json == {
        "id": tutorial,
        "participations_created": 1,
        "participations_removed": 1,
    }
    assert school.participants(tutorial) == {in_b: "active"}
    assert in_a


def test_started_activity_cannot_be_deleted_and_keeps_history(client, staff):
    school = School(client, staff)
    enrolment = school.enrol(start_date="2026-07-01")["id"]
    started = school.activity(starts_at="2026-07-15T08:00:00Z", ends_at="2026-09-15T08:00:00Z")[
        "id"
    ]
    assert (
        school.participants(started) == {}
    )  # history is not rewritten: it started before it existed
    refused = client.simulate_delete(f"/api/v1/activities/{started}", headers=staff)
    assert refused.status_code == 409
    assert enrolment


def test_patching_a_started_activity_into_the_future_is_409_and_keeps_history(client, staff):
    from datetime import timedelta

    from app import clock

    school = School(client, staff)
    enrolled = school.enrol()["id"]
    lecture = school.activity()["id"]
    clock.set_now(clock.now() + timedelta(days=365))  # the lecture is now history
    refused = client.simulate_patch(
        f"/api/v1/activities/{lecture}",
        headers=staff,
        json={"starts_at": "2030-01-01T08:00:00Z", "ends_at": "2030-01-01T10:00:00Z"},
    )
    assert refused.status_code == 409
    assert refused.json["errors"][0]["field"] == "starts_at"
    assert school.participants(lecture) == {enrolled: "active"}


def test_deleting_a_future_activity_removes_its_participations(client, staff):
    school = School(client, staff)
    school.enrol()
    lecture = school.activity()["id"]
    deleted = client.simulate_delete(f"/api/v1/activities/{lecture}", headers=staff)
    assert deleted.json == {"id": lecture, "participations_removed": 1}
    assert client.simulate_get(f"/api/v1/activities/{lecture}", headers=staff).status_code == 404


def test_participants_page_through_with_a_cursor(client, staff):
    school = School(client, staff)
    enrolments = [school.enrol()["id"] for _ in range(5)]
    lecture = school.activity()["id"]
    seen, cursor = [], None
    while True:
        query = f"limit=2&cursor={cursor}" if cursor else "limit=2"
        page = client.simulate_get(
            f"/api/v1/activities/{lecture}/participants", query_string=query, headers=staff
        ).json
        seen += [p["enrolment_id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == enrolments


def test_activity_group_must_belong_to_the_elements_step(client, staff):
    school = School(client, staff)
    other = client.simulate_post("/api/v1/curricula", json=_other(), headers=staff).json
    refused = school.activity(group_id=other["groups"]["X-L1/G"], status=422)
    assert refused["errors"] == [{"field": "group_id", "message": refused["errors"][0]["message"]}]


def _other():
    return {
        "programme": {"code": "X", "label": "X"},
        "version": {"code": "X-1", "label": "X", "curriculum_period": "2024-2029"},
        "steps": [
            {"code": "X-L1", "label": "X", "year_index": 1, "groups": [{"code": "G", "label": "G"}]}
        ],
    }
