"""From sign-up to approved enrolments: the employer's whole path through the API."""

from __future__ import annotations

from sqlalchemy import func, select

from app.store.schema import enrolment, learner, participation
from app.store.schema_employers import outbox_message
from tests.app.employers.builders import employees, request_body, rule, sign_up
from tests.app.fixtures import School, post


def test_a_request_of_5000_employees_and_20_million_hours_is_approved(client, engine, staff):
    school = School(client, staff)
    lecture = school.activity()["id"]
    post(client, "/api/v1/validation-rules", rule(), staff)
    org = sign_up(client, 1)
    body = request_body(school.step, employees(5_000, 4_000))
    submitted = post(client, "/api/v1/requests", body, org["headers"])
    assert submitted == {
        "id": submitted["id"],
        "status": "submitted",
        "employees": 5_000,
        "total_hours": 20_000_000,
    }
    judged = post(client, "/api/v1/requests/validate", {}, staff, 200)
    assert judged == {"approved": 1, "referred": 0}
    seen = client.simulate_get(f"/api/v1/requests/{submitted['id']}", headers=org["headers"])
    assert seen.status_code == 200
    request = seen.json
    assert request["status"] == "approved" and request["reasons"] == []
    assert request["total_hours"] == 20_000_000 and request["rule_id"] == 1
    assert len(request["enrolment_ids"]) == 5_000 == len(set(request["enrolment_ids"]))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(learner)).scalar() == 5_000
        assert conn.execute(select(func.count()).select_from(enrolment)).scalar() == 5_000
        seated = conn.execute(
            select(func.count()).where(participation.c.activity_id == lecture)
        ).scalar()
        kinds = sorted(conn.execute(select(outbox_message.c.kind)).scalars())
    assert seated == 5_000, "approval propagates participations through the core"
    assert kinds == ["request_approved", "request_received", "signup_confirmation"]


def test_learners_are_matched_by_external_id_and_reused(client, engine, staff):
    school = School(client, staff)
    existing = school.learner()  # external id L1
    post(client, "/api/v1/validation-rules", rule(), staff)
    org = sign_up(client, 2)
    people = employees(2, 10, prefix="L")  # L0 is new, L1 exists
    submitted = post(client, "/api/v1/requests", request_body(school.step, people), org["headers"])
    post(client, "/api/v1/requests/validate", {"limit": 10}, staff, 200)
    request = client.simulate_get(f"/api/v1/requests/{submitted['id']}", headers=staff).json
    with engine.connect() as conn:
        owners = dict(
            conn.execute(
                select(enrolment.c.id, enrolment.c.learner_id).where(
                    enrolment.c.id.in_(request["enrolment_ids"])
                )
            ).all()
        )
        assert conn.execute(select(func.count()).select_from(learner)).scalar() == 2
    assert owners[request["enrolment_ids"][1]] == existing


def test_each_request_of_a_run_lists_its_own_enrolments_in_employee_order(client, engine, staff):
    school = School(client, staff)
    school.learner()  # external id L1: an existing learner in the middle of a request
    post(client, "/api/v1/validation-rules", rule(), staff)
    org = sign_up(client, 3)
    named = {
        "A": employees(3, 10, prefix="A"),
        "B": employees(4, 10, prefix="L")[::-1],  # L3, L2, L1, L0: not in id order
        "C": employees(1, 10, prefix="C"),
    }
    ids = {
        reference: post(
            client, "/api/v1/requests", request_body(school.step, people, reference), org["headers"]
        )["id"]
        for reference, people in named.items()
    }
    assert post(client, "/api/v1/requests/validate", {}, staff, 200)["approved"] == 3
    with engine.connect() as conn:
        owner = dict(
            conn.execute(
                select(enrolment.c.id, learner.c.external_id).join(
                    learner, learner.c.id == enrolment.c.learner_id
                )
            ).all()
        )
    for reference, people in named.items():
        listed = client.simulate_get(f"/api/v1/requests/{ids[reference]}", headers=staff).json
        assert [owner[i] for i in listed["enrolment_ids"]] == [p["external_id"] for p in people]
