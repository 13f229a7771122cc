"""What a request costs the database, counted: every statement is a round trip, and a trivial
request's time is mostly round trips. Authentication is one statement outside a transaction,
then none while the server keeps the token's principal; a learner's creation is one insert, an
enrolment's read one statement for its row, its links and its learner (the access check)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from tests.app.employers.builders import employees, request_body, sign_up
from tests.app.fixtures import School


@contextmanager
def statements(engine) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    issued: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        verb = statement.split()[0].upper()
        if verb != "BEGIN":  # SQLite's transactions are begun by a statement of the app's
            issued.append(verb)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield issued
    finally:
        event.remove(engine, "before_cursor_execute", record)


def learner(external_id: str) -> dict[str, str]:
    return {
        "external_id": external_id,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.org",
    }


def test_a_learner_is_created_in_one_insert_after_one_token_lookup(client, engine, staff):
    with statements(engine) as issued:
        created = client.simulate_post("/api/v1/learners", json=learner("C-1"), headers=staff)
    assert created.status_code == 201, created.text
    assert issued == ["SELECT", "INSERT"]
    with statements(engine) as issued:
        again = client.simulate_post("/api/v1/learners", json=learner("C-3"), headers=staff)
    assert again.status_code == 201, again.text
    assert issued == ["INSERT"]  # the token's principal is kept: no lookup


def test_a_taken_external_id_is_refused_with_the_learner_it_belongs_to(client, engine, staff):
    first = client.simulate_post("/api/v1/learners", json=learner("C-2"), headers=staff).json
    again = client.simulate_post("/api/v1/learners", json=learner("C-2"), headers=staff)
    assert again.status_code == 409
    assert again.json["errors"][0]["field"] == "external_id"
    assert f"(id {first['id']})" in again.json["errors"][0]["message"]


def test_an_enrolment_is_read_in_one_statement(client, engine, staff):
    school = School(client, staff)
    enrolment = school.enrol(groups=[school.group_b])["id"]
    with statements(engine) as issued:
        read = client.simulate_get(f"/api/v1/enrolments/{enrolment}", headers=staff)
    assert read.status_code == 200 and read.json["groups"] == [school.group_b]
    # The row with its learner (the access check) and its three link lists; the token's
    # principal was kept from the school's set-up.
    assert issued == ["SELECT"]
    assert read.json == {
        "id": enrolment,
        "learner_id": read.json["learner_id"],
        "step_id": school.step,
        "academic_year": read.json["academic_year"],
        "status": "active",
        "start_date": read.json["start_date"],
        "groups": [school.group_b],
        "choices": [],
        "exemptions": [],
    }


def test_a_page_of_participations_is_read_in_one_statement(client, engine, staff):
    school = School(client, staff)
    enrolment = school.enrol(groups=[school.group_b])["id"]
    path = f"/api/v1/enrolments/{enrolment}/participations"
    assert client.simulate_get(path, headers=staff).json == {"items": [], "next_cursor": None}
    school.activity()
    school.activity(kind="practical")
    everything = client.simulate_get(path, headers=staff).json["items"]
    assert len(everything) >= 2
    with statements(engine) as issued:
        first = client.simulate_get(path, params={"limit": 1}, headers=staff)
    assert issued == ["SELECT"]  # the learner (the access check) with the page
    assert first.json["items"] == everything[:1] and first.json["next_cursor"]
    rest = client.simulate_get(
        path, params={"limit": 100, "cursor": first.json["next_cursor"]}, headers=staff
    )
    assert rest.json == {"items": everything[1:], "next_cursor": None}


def test_an_employer_polls_its_request_in_one_statement(client, engine, staff):
    school = School(client, staff)
    mine = sign_up(client, 7)
    created = client.simulate_post(
        "/api/v1/requests", json=request_body(school.step, employees(2, 5)), headers=mine["headers"]
    )
    assert created.status_code == 201, created.text
    with statements(engine) as issued:
        polled = client.simulate_get(
            f"/api/v1/requests/{created.json['id']}", headers=mine["headers"]
        )
    assert polled.status_code == 200 and polled.json["status"] == "submitted"
    assert polled.json["organisation_id"] == mine["id"]
    assert issued == ["SELECT"]  # the request with its organisation (the access check)
    missing = client.simulate_get(f"/api/v1/requests/{2**62}", headers=staff)
    assert missing.status_code == 404 and missing.json["errors"][0]["field"] == "request_id"
