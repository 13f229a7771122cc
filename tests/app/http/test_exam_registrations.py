"""Exam registration through the API, on SQLite and PostgreSQL: the student's journey, the
state machine by role, the fee, payments, and every refusal of the workflow."""

from __future__ import annotations

import pypdf
import pytest
from sqlalchemy import func, select

from app.services.exam_config import archive_period
from app.store.engine import write_transaction
from app.store.schema_exams import exam_payment, exam_registration, exam_registration_exam
from tests.app.conftest import token_for
from tests.app.exam_fixtures import HOURS, MODALITIES, ExamSchool
from tests.app.fixtures import YEAR


@pytest.fixture
def school(client, engine) -> ExamSchool:
    return ExamSchool(client, engine)


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_student_goes_from_an_open_period_to_a_final_registration_and_a_notice(school):
    client = school.client
    me = school.learner()
    student = school.student(me)
    periods = client.simulate_get("/api/v1/exam-periods", headers=student).json["items"]
    open_period = next(p for p in periods if p["status"] == "open")
    exams = client.simulate_get(
        f"/api/v1/exam-periods/{open_period['id']}/exams", headers=student
    ).json["items"]
    modalities = client.simulate_get("/api/v1/exam-modalities", headers=student).json["items"]
    campus = next(m for m in modalities if m["code"] == "CAMPUS")
    created = school.register(
        me, exams=[exams[0]["id"], exams[1]["id"]], deferred=[exams[2]["id"]], headers=student
    )
    assert created["status"] == "draft"
    assert created["exams"] == [exams[0]["id"], exams[1]["id"]]
    assert created["deferred"] == [exams[2]["id"]]

    submitted = school.act(created["id"], "submit", student)
    expected_fee = campus["fixed_fee_cents"] + campus["fee_per_hour_cents"] * (
        exams[0]["supervised_hours"] + exams[1]["supervised_hours"]
    )
    assert (submitted["status"], submitted["fee_cents"]) == ("submitted", expected_fee)
    assert school.act(created["id"], "verify")["status"] == "verified"
    paid = school.act(
        created["id"], "payments", body={"amount_cents": expected_fee, "reference": "VIR-2026-1"}
    )
    assert paid["status"] == "final"
    assert school.get(created["id"], student)["status"] == "final"
    mine = client.simulate_get(f"/api/v1/learners/{me}/exam-registrations", headers=student)
    assert [r["id"] for r in mine.json["items"]] == [created["id"]]

    notice = client.simulate_get(
        f"/api/v1/exam-registrations/{created['id']}/notice.pdf", headers=student
    )
    assert notice.status_code == 200
    assert notice.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in pypdf.PdfReader(_stream(notice.content)).pages)
    assert "Convocation aux examens" in text
    assert "U00" in text and "U01" in text
    assert "reportées à la session de rattrapage" in text and "U02" in text


def _stream(data: bytes):
    import io

    return io.BytesIO(data)


# --- the state machine, by role ---------------------------------------------------------------

ACTIONS = ("submit", "verify", "reject", "cancel", "payments")
# Who may ask for each action (the route table): the registration's own student is a reader.
STAFF_ONLY = {"verify", "reject", "payments"}
ALLOWED = {
    ("draft", "submit"): "submitted",
    ("submitted", "verify"): "verified",
    ("submitted", "reject"): "rejected",
    ("verified", "reject"): "rejected",
    ("verified", "payments"): "final",
    ("draft", "cancel"): "cancelled",
    ("submitted", "cancel"): "cancelled",
    ("verified", "cancel"): "cancelled",
}
PATHS = {
    "draft": [],
    "submitted": ["submit"],
    "verified": ["submit", "verify"],
    "final": ["submit", "verify", "payments"],
    "rejected": ["submit", "reject"],
    "cancelled": ["cancel"],
}


def _in_state(school: ExamSchool, state: str) -> tuple[int, int]:
    learner_id = school.learner()
    registration = school.register(learner_id)["id"]
    for action in PATHS[state]:
        school.act(registration, action, body=_body(school, registration, action))
    assert school.get(registration)["status"] == state
    return registration, learner_id


def _body(school: ExamSchool, registration: int, action: str, prefix: str = "R"):
    if action == "reject":
        return {"reason": "pièce justificative manquante"}
    if action == "payments":
        fee = school.get(registration)["fee_cents"]
        return {"amount_cents": fee or 1, "reference": f"{prefix}-{registration}"}
    return None


@pytest.mark.parametrize("state", sorted(PATHS))
def test_every_action_from_every_state_by_every_role(school, engine, state):
    # Refused callers change nothing, so one registration serves them all.
    refused_one, refused_learner = _in_state(school, state)
    outsiders = {
        "other student": school.student(school.learner(enrol=False)),
        "employer": token_for(engine, "employer", organisation_id=1),
    }
    for action in ACTIONS:
        callers = {**outsiders}
        if action in STAFF_ONLY:
            callers["own student"] = school.student(refused_learner)
        before = school.get(refused_one)
        for role, headers in callers.items():
            answer = school.client.simulate_post(
                f"/api/v1/exam-registrations/{refused_one}/{action}",
                json=_body(school, refused_one, action),
                headers=headers,
            )
            assert answer.status_code == 403, (state, action, role)
        assert school.get(refused_one) == before

        allowed_roles = ["admin", "staff"] + ([] if action in STAFF_ONLY else ["own student"])
        for role in allowed_roles:
            registration, learner_id = _in_state(school, state)
            headers = {
                "admin": school.admin,
                "staff": school.staff,
                "own student": school.student(learner_id),
            }[role]
            before = school.get(registration)
            answer = school.client.simulate_post(
                f"/api/v1/exam-registrations/{registration}/{action}",
                # A new payment, not a replay of the one that made it final.
                json=_body(school, registration, action, prefix="NEW"),
                headers=headers,
            )
            label = (state, action, role)
            if (state, action) in ALLOWED:
                assert answer.status_code == 200, (label, answer.text)
                assert answer.json["status"] == ALLOWED[(state, action)], label
                assert school.get(registration)["status"] == ALLOWED[(state, action)], label
            else:
                assert answer.status_code == 409, (label, answer.text)
                assert answer.json["errors"][0]["field"] == "status", label
                assert f"the registration is {state}" in answer.json["detail"], label
                assert school.get(registration) == before, label


# --- fees -------------------------------------------------------------------------------------


@pytest.mark.parametrize("modality", sorted(MODALITIES))
def test_the_fee_charges_each_modality_for_the_hours_sat_and_not_the_deferred_ones(
    school, modality
):
    fixed, hourly, _needs_centre = MODALITIES[modality]
    centre = {"CONNECTED": "LYON", "ABROAD": "DAKAR"}.get(modality)
    for sat, deferred in (([0], []), ([0, 1, 2, 3], []), ([1, 3], [0, 2]), ([], [4, 5])):
        registration = school.register(
            exams=[school.exams[i] for i in sat],
            deferred=[school.exams[i] for i in deferred],
            modality=modality,
            centre=centre,
        )["id"]
        fee = school.act(registration, "submit")["fee_cents"]
        assert fee == fixed + hourly * sum(HOURS[i] for i in sat), (modality, sat, deferred)
        # Seats at the small Dakar centre are freed for the next exam set.
        school.act(registration, "cancel")


def test_the_fee_is_fixed_at_submission_even_if_prices_change_later(school, engine):
    registration = school.register(exams=school.exams[:2])["id"]
    fee = school.act(registration, "submit")["fee_cents"]
    from app.store.schema_exams import exam_modality

    with write_transaction(engine) as conn:
        conn.execute(exam_modality.update().values(fixed_fee_cents=1))
    assert school.get(registration)["fee_cents"] == fee


# --- payments ---------------------------------------------------------------------------------


def test_recording_the_same_payment_twice_changes_nothing(school, engine):
    registration = school.register()["id"]
    fee = school.act(registration, "submit")["fee_cents"]
    school.act(registration, "verify")
    payment = {"amount_cents": fee, "reference": "CB-0001"}
    first = school.act(registration, "payments", body=payment)
    again = school.act(registration, "payments", body=payment)
    assert first == again and again["status"] == "final"
    assert _count(engine, exam_payment) == 1


def test_a_payment_of_another_amount_is_refused_and_leaves_the_registration_verified(
    school, engine
):
    registration = school.register()["id"]
    fee = school.act(registration, "submit")["fee_cents"]
    school.act(registration, "verify")
    for amount in (fee - 1, fee + 1, 0):
        refused = school.act(
            registration,
            "payments",
            body={"amount_cents": amount, "reference": f"X-{amount}"},
            status=422,
        )
        assert refused["errors"][0]["field"] == "amount_cents"
        assert str(fee) in refused["detail"]
    assert school.get(registration)["status"] == "verified"
    assert _count(engine, exam_payment) == 0


def test_a_payment_reference_already_used_for_another_registration_is_refused(school):
    first, second = (school.register()["id"] for _ in range(2))
    for registration in (first, second):
        school.act(registration, "submit")
        school.act(registration, "verify")
    fee = school.get(first)["fee_cents"]
    school.act(first, "payments", body={"amount_cents": fee, "reference": "SAME"})
    refused = school.act(
        second,
        "payments",
        body={"amount_cents": school.get(second)["fee_cents"], "reference": "SAME"},
        status=409,
    )
    assert refused["errors"][0]["field"] == "reference"
    assert school.get(second)["status"] == "verified"


# --- refusals at registration -----------------------------------------------------------------


def test_a_second_registration_for_the_same_period_is_refused(school, engine):
    learner_id = school.learner()
    school.register(learner_id)
    refused = school.register(learner_id, status=409)
    assert refused["errors"][0]["field"] == "learner_id"
    assert _count(engine, exam_registration) == 1


def test_after_a_cancellation_the_learner_may_register_again(school):
    learner_id = school.learner()
    first = school.register(learner_id)["id"]
    school.act(first, "cancel")
    assert school.register(learner_id)["status"] == "draft"


@pytest.mark.parametrize("status", ["planned", "closed"])
def test_a_period_that_is_not_open_refuses_registrations(school, engine, status):
    if status == "closed":
        school.patch_period(school.period, {"status": "closed"})
    else:
        school.period = school.new_period(2)
    refused = school.register(exams=[], deferred=[], status=422)
    assert refused["errors"][0]["field"] == "period_id"
    assert status in refused["detail"]
    assert _count(engine, exam_registration) == 0


def test_an_open_period_outside_its_dates_refuses_registrations(school, engine):
    school.patch_period(
        school.period,
        {"opens_at": "2026-08-15T00:00:00+02:00", "closes_at": "2026-09-30T00:00:00+02:00"},
    )
    refused = school.register(status=422)
    assert refused["errors"][0]["field"] == "period_id"
    assert _count(engine, exam_registration) == 0


def test_exams_outside_the_learners_active_enrolments_are_refused_naming_each(school, engine):
    not_enrolled = school.learner(enrol=False)
    refused = school.register(not_enrolled, exams=school.exams[:2], status=422)
    assert [e["field"] for e in refused["errors"]] == ["exam_ids[0]", "exam_ids[1]"]
    enrolled = school.learner(exemptions=[school.element["U01"]])
    refused = school.register(
        enrolled,
        exams=[school.exams[0], school.l2_exam, school.exams[1], school.option_exam],
        status=422,
    )
    # Another step's unit, an exempted unit, an optional course not chosen.
    assert [e["field"] for e in refused["errors"]] == ["exam_ids[1]", "exam_ids[2]", "exam_ids[3]"]
    assert _count(engine, exam_registration) == 0
    chose_option = school.learner(choices=[school.element["OPT"]])
    assert school.register(chose_option, exams=[school.option_exam])["exams"] == [
        school.option_exam
    ]


def test_a_cancelled_enrolment_no_longer_opens_its_exams(school):
    learner_id = school.learner(enrol=False)
    enrolment = school.client.simulate_post(
        "/api/v1/enrolments",
        json={
            "learner_id": learner_id,
            "step_id": school.step,
            "academic_year": YEAR,
            "start_date": "2026-09-01",
        },
        headers=school.staff,
    ).json["id"]
    school.client.simulate_post(f"/api/v1/enrolments/{enrolment}/cancel", headers=school.staff)
    school.register(learner_id, status=422)


def test_a_full_centre_refuses_the_next_registration_and_a_cancellation_frees_a_seat(
    school, engine
):
    # Dakar seats 2.
    placed = [
        school.register(modality="ABROAD", centre="DAKAR", exams=school.exams[:1])["id"]
        for _ in range(2)
    ]
    refused = school.register(modality="ABROAD", centre="DAKAR", exams=school.exams[:1], status=422)
    assert refused["errors"][0]["field"] == "centre_id"
    assert "full" in refused["detail"]
    # Another exam at the same centre still has seats; deferring the full one is fine too.
    school.register(modality="ABROAD", centre="DAKAR", exams=school.exams[1:2])
    school.act(placed[0], "cancel")
    school.register(modality="ABROAD", centre="DAKAR", exams=school.exams[:1])
    assert _count(engine, exam_registration) == 4


def test_a_full_exam_room_refuses_the_next_registration(school):
    exam = school.new_exam("U50", 2, [school.modality["CAMPUS"]], capacity=1)
    school.register(exams=[exam])
    refused = school.register(exams=[exam], status=422)
    assert refused["errors"][0]["field"] == "exam_ids[0]"


def test_modality_and_centre_must_agree(school):
    cases = [
        ({"modality": "ABROAD"}, "centre_id"),  # needs a centre
        ({"modality": "CAMPUS", "centre": "LYON"}, "centre_id"),  # has none
        ({"modality": "ABROAD", "centre": "LYON"}, "centre_id"),  # Lyon is CONNECTED
    ]
    for fields, field in cases:
        refused = school.register(status=422, **fields)
        assert refused["errors"][0]["field"] == field, fields


def test_an_exam_not_offered_in_the_modality_or_of_another_period_is_refused(school):
    campus_only = school.new_exam("U40", 1, [school.modality["CAMPUS"]])
    period2 = school.new_period(2, "open")
    other_period = school.new_exam("U00", 1, [school.modality["REMOTE"]], period=period2)
    refused = school.register(
        modality="REMOTE", exams=[school.exams[0], campus_only, other_period], status=422
    )
    assert [e["field"] for e in refused["errors"]] == ["exam_ids[1]", "exam_ids[2]"]


def test_deferring_needs_a_resit_period_and_the_resit_period_defers_nothing(school, engine):
    year = "2027-2028"
    period = school.new_period(1, "open", year=year)
    school.period = period
    exam = school.new_exam("U00", 1, [school.modality["CAMPUS"]], period=period)
    learner_id = school.learner(enrol=False)
    school.client.simulate_post(
        "/api/v1/enrolments",
        json={
            "learner_id": learner_id,
            "step_id": school.step,
            "academic_year": year,
            "start_date": "2027-09-01",
        },
        headers=school.staff,
    )
    refused = school.register(learner_id, exams=[], deferred=[exam], status=422)
    assert refused["errors"][0]["field"] == "deferred_exam_ids"
    assert "no resit period" in refused["detail"]
    resit = school.new_period(3, "open", year=year)
    school.period = resit
    resit_exam = school.new_exam("U01", 1, [school.modality["CAMPUS"]], period=resit)
    refused = school.register(learner_id, exams=[], deferred=[resit_exam], status=422)
    assert "resit period" in refused["detail"]
    assert _count(engine, exam_registration_exam) == 0


def test_a_student_registers_only_themself(school, engine):
    me, other = school.learner(), school.learner()
    refused = school.register(other, headers=school.student(me), status=403)
    assert refused["errors"][0]["field"] == "Authorization"
    assert _count(engine, exam_registration) == 0


def test_a_student_reads_only_their_own_registrations(school):
    mine, theirs = school.learner(), school.learner()
    their_registration = school.register(theirs)["id"]
    student = school.student(mine)
    for registration in (their_registration, their_registration + 1000):
        for suffix in ("", "/notice.pdf", "/certificate.pdf?exam_id=1"):
            answer = school.client.simulate_get(
                f"/api/v1/exam-registrations/{registration}{suffix}", headers=student
            )
            assert answer.status_code == 403, (registration, suffix)
    answer = school.client.simulate_get(
        f"/api/v1/learners/{theirs}/exam-registrations", headers=student
    )
    assert answer.status_code == 403


# --- the archived period ----------------------------------------------------------------------


def test_an_archived_period_refuses_every_write_with_409(school, engine):
    registration = school.register()["id"]
    submitted = school.register()["id"]
    school.act(submitted, "submit")
    school.patch_period(school.period, {"status": "closed"})
    with write_transaction(engine) as conn:
        archive_period(conn, school.period)
    before = school.get(registration), school.get(submitted)
    for path, body in (
        (f"/api/v1/exam-registrations/{registration}/cancel", None),
        (f"/api/v1/exam-registrations/{registration}/submit", None),
        (f"/api/v1/exam-registrations/{submitted}/verify", None),
        (f"/api/v1/exam-registrations/{submitted}/reject", {"reason": "trop tard"}),
        (f"/api/v1/exam-registrations/{submitted}/payments", {"amount_cents": 1, "reference": "A"}),
    ):
        answer = school.client.simulate_post(path, json=body, headers=school.staff)
        assert answer.status_code == 409, (path, answer.text)
        assert "archived" in answer.json["detail"]
    school.assert_period_frozen()
    assert (school.get(registration), school.get(submitted)) == before
