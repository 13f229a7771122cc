"""Sign-up: the SIRET is checked (14 digits, Luhn) and unique, even under simultaneous sign-ups."""

from __future__ import annotations

import threading

import falcon.testing
import pytest
from sqlalchemy import func, select

from app.domain.errors import InvalidInput
from app.domain.siret import luhn_valid, siret
from app.store.schema import api_token
from app.store.schema_employers import organisation, outbox_message
from tests.app.employers.builders import valid_siret
from tests.app.fixtures import post

# A real SIRET (a public administration's), and the same digits with the last one changed.
REAL = "11000201100044"


def test_luhn_accepts_a_real_siret_and_refuses_a_changed_digit():
    assert luhn_valid(REAL)
    assert not luhn_valid(REAL[:-1] + "5")
    assert siret(REAL) == REAL
    with pytest.raises(InvalidInput):
        siret("\u0661" * 14)  # Arabic-Indic digits are not ASCII digits


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (REAL[:-1] + "5", "checksum"),
        (REAL[:13], "14"),
        (REAL + "0", "14"),
        ("1100020110004A", "14"),
        ("", "14"),
    ],
    ids=["bad checksum", "13 digits", "15 digits", "letter", "empty"],
)
def test_a_siret_that_is_not_14_digits_with_a_valid_checksum_is_refused(
    client, engine, value, message
):
    answer = client.simulate_post(
        "/api/v1/organisations",
        json={"siret": value, "name": "Acme", "contact_email": "hr@acme.example"},
    )
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json["errors"]] == ["siret"]
    assert message in answer.json["errors"][0]["message"]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(organisation)).scalar() == 0


def test_sign_up_answers_a_working_employer_token_and_queues_a_confirmation(client, engine):
    created = post(
        client,
        "/api/v1/organisations",
        {"siret": REAL, "name": "Acme", "contact_email": "hr@acme.example"},
        {},
    )
    headers = {"Authorization": f"Bearer {created['token']}"}
    mine = client.simulate_get(f"/api/v1/organisations/{created['id']}", headers=headers)
    assert mine.status_code == 200
    assert mine.json["siret"] == REAL and mine.json["contact_email"] == "hr@acme.example"
    with engine.connect() as conn:
        queued = conn.execute(select(outbox_message)).one()
    assert queued.kind == "signup_confirmation" and queued.recipient == "hr@acme.example"
    assert queued.status == "pending" and queued.message_id.startswith("<")


def test_the_same_siret_twice_is_409_and_adds_nothing(client, engine):
    body = {"siret": REAL, "name": "Acme", "contact_email": "hr@acme.example"}
    post(client, "/api/v1/organisations", body, {})
    again = client.simulate_post("/api/v1/organisations", json={**body, "name": "Other"})
    assert again.status_code == 409
    assert again.json["errors"][0]["field"] == "siret"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(organisation)).scalar() == 1
        assert conn.execute(select(func.count()).select_from(api_token)).scalar() == 1
        assert conn.execute(select(func.count()).select_from(outbox_message)).scalar() == 1


def test_simultaneous_sign_ups_of_one_siret_give_one_201_and_409s(client, engine):
    contenders = 8
    barrier = threading.Barrier(contenders)
    statuses: list[int] = []
    body = {"siret": valid_siret(42), "name": "Race", "contact_email": "hr@race.example"}

    def sign_up() -> None:
        # Each thread has its own client: concurrent requests on their own connections.
        own = falcon.testing.TestClient(client.app)
        barrier.wait()
        statuses.append(own.simulate_post("/api/v1/organisations", json=body).status_code)

    threads = [threading.Thread(target=sign_up) for _ in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] + [409] * (contenders - 1)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(organisation)).scalar() == 1
        assert conn.execute(select(func.count()).select_from(api_token)).scalar() == 1
        assert conn.execute(select(func.count()).select_from(outbox_message)).scalar() == 1
