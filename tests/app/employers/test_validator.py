"""The automatic validator: rules by submission date, outcomes with reasons, oldest first,
staff decisions, a fixed number of statements, and no request judged twice."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app import clock
from app.services.request_validator import Share, validate_submitted
from app.store.engine import write_transaction
from app.store.schema import enrolment
from app.store.schema_employers import employer_request, outbox_message
from tests.app.conftest import reset, token_for
from tests.app.employers.builders import employees, request_body, rule, sign_up
from tests.app.fixtures import School, curriculum, post
from tests.app.propagation.test_statement_count import counting


def _submit(client, org, step, reference, people):
    return post(client, "/api/v1/requests", request_body(step, people, reference), org["headers"])


def _get(client, staff, request_id):
    return client.simulate_get(f"/api/v1/requests/{request_id}", headers=staff).json


def _codes(request):
    return [reason["code"] for reason in request["reasons"]]


def test_a_request_submitted_the_day_before_a_new_rule_is_judged_by_the_old_one(client, staff):
    school = School(client, staff)
    old = post(client, "/api/v1/validation-rules", rule("2026-08-01"), staff)["id"]
    # Published today for tomorrow, then superseded the same day by a later version.
    new = post(
        client,
        "/api/v1/validation-rules",
        rule("2026-08-02", allowed_step_ids=[school.step]),
        staff,
    )["id"]
    org = sign_up(client, 1)
    with clock.frozen_at(datetime(2026, 8, 1, 23, 59, tzinfo=UTC)):
        yesterday = _submit(client, org, school.step, "R1", employees(2, 10, "A"))
    other_step = post(client, "/api/v1/curricula", curriculum("OTHER"), staff)["steps"]["OTHER-L1"]
    # The version in force from tomorrow opens only the other step, not ours.
    newest = post(
        client, "/api/v1/validation-rules", rule("2026-08-02", allowed_step_ids=[other_step]), staff
    )["id"]
    with clock.frozen_at(datetime(2026, 8, 2, 0, 1, tzinfo=UTC)):
        today = _submit(client, org, school.step, "R2", employees(2, 10, "B"))
        assert post(client, "/api/v1/requests/validate", {}, staff, 200) == {
            "approved": 1,
            "referred": 1,
        }
    judged_old = _get(client, staff, yesterday["id"])
    judged_new = _get(client, staff, today["id"])
    assert (judged_old["status"], judged_old["rule_id"]) == ("approved", old)
    assert (judged_new["status"], judged_new["rule_id"]) == ("referred", newest)
    assert newest > new, "on one date, the latest published version is in force"
    assert _codes(judged_new) == ["step_not_allowed"]


def test_a_rule_cannot_take_effect_in_the_past(client, engine, staff):
    answer = client.simulate_post(
        "/api/v1/validation-rules", json=rule("2026-07-31"), headers=staff
    )
    assert answer.status_code == 422
    assert answer.json["errors"][0]["field"] == "effective_from"
    listed = client.simulate_get("/api/v1/validation-rules", headers=staff).json
    assert listed == {"items": [], "next_cursor": None}


def test_without_a_rule_in_force_requests_go_to_staff(client, staff):
    school = School(client, staff)
    org = sign_up(client, 1)
    submitted = _submit(client, org, school.step, "R1", employees(1, 10))
    post(client, "/api/v1/requests/validate", {}, staff, 200)
    judged = _get(client, staff, submitted["id"])
    assert (judged["status"], judged["rule_id"]) == ("referred", None)
    assert _codes(judged) == ["no_rule_in_force"]


def test_the_validator_refers_with_machine_readable_reasons(client, engine, staff):
    school = School(client, staff)
    post(
        client,
        "/api/v1/validation-rules",
        rule(max_total_hours_per_organisation=1_000, max_employees_per_request=10),
        staff,
    )
    org = sign_up(client, 1)
    enrolled = school.learner()  # external id L1, enrolled below
    school.enrol(enrolled)
    fine = _submit(client, org, school.step, "FINE", employees(2, 300, "A"))
    clash = _submit(client, org, school.step, "CLASH", employees(2, 10, "L"))  # L1 enrolled
    twice = _submit(client, org, school.step, "TWICE", employees(1, 10, "A"))  # A0 in FINE
    too_many_hours = _submit(client, org, school.step, "BIG", employees(1, 500, "C"))
    assert post(client, "/api/v1/requests/validate", {}, staff, 200) == {
        "approved": 1,
        "referred": 3,
    }
    assert _get(client, staff, fine["id"])["status"] == "approved"
    assert _codes(_get(client, staff, clash["id"])) == ["employee_already_enrolled"]
    assert _codes(_get(client, staff, twice["id"])) == ["employee_in_earlier_request"]
    assert _codes(_get(client, staff, too_many_hours["id"])) == ["organisation_total_exceeded"]
    with engine.connect() as conn:
        kinds = sorted(
            conn.execute(
                select(outbox_message.c.kind).where(
                    outbox_message.c.kind.in_(["request_approved", "request_referred"])
                )
            ).scalars()
        )
    assert kinds == ["request_approved"] + ["request_referred"] * 3


def test_the_oldest_requests_are_judged_first_up_to_the_limit(client, staff):
    school = School(client, staff)
    post(client, "/api/v1/validation-rules", rule(), staff)
    org = sign_up(client, 1)
    ids = []
    for i in range(3):
        with clock.frozen_at(datetime(2026, 8, 1, 10, 3 - i, tzinfo=UTC)):
            ids.append(_submit(client, org, school.step, f"R{i}", employees(1, 5, f"P{i}"))["id"])
    assert post(client, "/api/v1/requests/validate", {"limit": 2}, staff, 200)["approved"] == 2
    assert [_get(client, staff, i)["status"] for i in ids] == ["submitted", "approved", "approved"]
    assert post(client, "/api/v1/requests/validate", {"limit": 2}, staff, 200)["approved"] == 1
    assert post(client, "/api/v1/requests/validate", {}, staff, 200) == {
        "approved": 0,
        "referred": 0,
    }


def test_staff_decide_referred_requests_and_only_those(client, engine, staff):
    school = School(client, staff)
    org = sign_up(client, 1)
    first = _submit(client, org, school.step, "R1", employees(3, 10, "A"))
    second = _submit(client, org, school.step, "R2", employees(1, 10, "B"))
    post(client, "/api/v1/requests/validate", {}, staff, 200)  # no rule: both referred
    approved = post(
        client,
        f"/api/v1/requests/{first['id']}/decision",
        {"decision": "approve", "reason": "checked by phone"},
        staff,
        200,
    )
    assert approved["status"] == "approved" and len(approved["enrolment_ids"]) == 3
    assert _codes(approved) == ["no_rule_in_force", "staff_approved"]
    rejected = post(
        client,
        f"/api/v1/requests/{second['id']}/decision",
        {"decision": "reject", "reason": "not eligible"},
        staff,
        200,
    )
    assert rejected["status"] == "rejected" and rejected["enrolment_ids"] == []
    again = client.simulate_post(
        f"/api/v1/requests/{first['id']}/decision",
        json={"decision": "reject", "reason": "changed my mind"},
        headers=staff,
    )
    assert again.status_code == 409
    assert again.json["errors"][0] == {
        "field": "status",
        "message": "only referred requests are decided by staff; this one is approved",
    }
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(enrolment)).scalar() == 3


def _queue(engine, count: int, prefix: str) -> None:
    """`count` submitted requests of 1 to 3 employees each, through the service layer."""
    from app.services.employer_requests import submit_request

    with write_transaction(engine) as conn:
        for i in range(count):
            submit_request(
                conn,
                1,
                request_body(1, employees(1 + i % 3, 7, f"{prefix}{i}-"), f"{prefix}{i}"),
            )


def _school_and_rule(client, staff) -> None:
    School(client, staff)
    post(client, "/api/v1/validation-rules", rule(), staff)
    sign_up(client, 1)


def _statements_for(client, engine, size: int) -> int:
    reset(engine)
    _school_and_rule(client, token_for(engine, "staff"))
    _queue(engine, size, "S")
    with counting(engine) as statements, write_transaction(engine) as conn:
        run = validate_submitted(conn, 10_000)
    assert (run.approved, run.enrolments) == (size, sum(1 + i % 3 for i in range(size)))
    return len(statements)


def test_statements_per_validation_run_do_not_grow_with_requests(client, engine):
    small = _statements_for(client, engine, 5)
    large = _statements_for(client, engine, 300)
    print(f"\n{engine.dialect.name}: {small} statements for 5 requests, {large} for 300")
    assert small == large


def test_two_validators_at_once_never_judge_a_request_twice(client, engine, staff):
    _school_and_rule(client, staff)
    _queue(engine, 60, "C")
    barrier = threading.Barrier(2)
    runs = []

    def validator() -> None:
        barrier.wait()
        while True:
            with write_transaction(engine) as conn:
                run = validate_submitted(conn, 7)
            if run.approved + run.referred == 0:
                return
            runs.append(run)

    threads = [threading.Thread(target=validator) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(run.approved for run in runs) == 60
    with engine.connect() as conn:
        statuses = conn.execute(select(employer_request.c.status).distinct()).scalars().all()
        decided = conn.execute(
            select(func.count()).where(outbox_message.c.kind == "request_approved")
        ).scalar()
        enrolments = conn.execute(select(func.count()).select_from(enrolment)).scalar()
    assert statuses == ["approved"]
    assert decided == 60
    assert enrolments == sum(1 + i % 3 for i in range(60))


def test_each_share_judges_only_its_organisations_and_together_they_judge_all(
    client, engine, staff
):
    school = School(client, staff)
    post(client, "/api/v1/validation-rules", rule(), staff)
    orgs = [sign_up(client, seed) for seed in (1, 2, 3)]
    for org in orgs:
        for i in range(2):
            _submit(
                client, org, school.step, f"R{org['id']}-{i}", employees(1, 7, f"{org['id']}-{i}-")
            )
    odd = Share(1, 2)

    with write_transaction(engine) as conn:
        first = validate_submitted(conn, 100, odd)
    with write_transaction(engine) as conn:
        again = validate_submitted(conn, 100, odd)

    judged_orgs = {org["id"] for org in orgs if org["id"] % 2 == 1}
    assert first.approved == 2 * len(judged_orgs) and again.approved == 0
    with engine.connect() as conn:
        statuses = dict(
            conn.execute(
                select(employer_request.c.organisation_id, employer_request.c.status).distinct()
            ).all()
        )
    assert statuses == {
        org["id"]: "approved" if org["id"] in judged_orgs else "submitted" for org in orgs
    }
    with write_transaction(engine) as conn:
        rest = validate_submitted(conn, 100, Share(0, 2))
    assert rest.approved == 2 * (len(orgs) - len(judged_orgs))


def test_a_run_that_dies_midway_leaves_its_requests_to_the_next_run(client, engine, staff):
    _school_and_rule(client, staff)
    _queue(engine, 4, "K")

    class Crash(Exception):
        pass

    with pytest.raises(Crash), write_transaction(engine) as conn:
        assert validate_submitted(conn, 10).approved == 4
        raise Crash  # the process dies before the commit
    with engine.connect() as conn:
        assert conn.execute(select(employer_request.c.status).distinct()).scalars().all() == [
            "submitted"
        ]
        assert conn.execute(select(func.count()).select_from(enrolment)).scalar() == 0
    with write_transaction(engine) as conn:
        assert validate_submitted(conn, 10).approved == 4
    with write_transaction(engine) as conn:
        assert validate_submitted(conn, 10).approved == 0
    with engine.connect() as conn:
        assert (
            conn.execute(
                select(func.count()).where(outbox_message.c.kind == "request_approved")
            ).scalar()
            == 4
        )
