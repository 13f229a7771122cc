"""Exam documents through the API, on SQLite and PostgreSQL: notices whose QR codes verify,
attendance sheets, certificates signed by whoever the configuration names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app import clock
from app.domain.exam_notice_tokens import NoticeClaim, sign
from tests.app.exam_fixtures import ExamSchool
from tests.app.fixtures import post
from tests.app.http.test_exam_documents_helpers import notice_of, verify_token
from tests.app.pdf_inspect import inspect_pdf


@pytest.mark.parametrize("exams", [1, 6, 60])
def test_a_notice_of_1_to_60_exams_has_one_verifiable_qr_code_per_exam_each_whole_on_a_page(
    client, engine, settings, exams
):
    school = ExamSchool(client, engine, units=exams)
    learner_id = school.learner()
    registration = school.register(learner_id, exams=school.exams[:exams])["id"]
    school.make_final(registration)
    data = notice_of(school, registration, school.student(learner_id))
    pdf = inspect_pdf(data)
    assert len(pdf.qr_codes) == exams
    verified = set()
    for qr in pdf.qr_codes:
        answer = verify_token(client, qr.text)
        assert answer.status_code == 200, answer.text
        assert answer.json["registration_id"] == registration
        assert answer.json["learner_id"] == learner_id
        verified.add(answer.json["exam_id"])
        assert f"Code de vérification : {qr.text}" in pdf.page_text(qr.page)
    assert verified == set(school.exams[:exams])
    if exams == 60:
        assert pdf.page_count >= 12


def test_a_tampered_moved_forged_or_stale_token_is_refused(client, engine, settings):
    school = ExamSchool(client, engine)
    learner_id = school.learner()
    registration = school.register(learner_id, exams=school.exams[:2], deferred=[school.exams[2]])
    school.make_final(registration["id"])
    token = inspect_pdf(notice_of(school, registration["id"])).qr_codes[0].text
    assert verify_token(client, token).status_code == 200
    version, reg, exam, learner, mac = token.split(".")
    other_exam = next(e for e in school.exams[:2] if str(e) != exam)
    key = settings.exam_token_key
    refused = {
        "tampered signature": f"{version}.{reg}.{exam}.{learner}.{mac[::-1]}",
        "moved to another exam": f"{version}.{reg}.{other_exam}.{learner}.{mac}",
        "moved to another learner": f"{version}.{reg}.{exam}.{int(learner) + 1}.{mac}",
        "signed with another key": sign("x" * 40, NoticeClaim(int(reg), int(exam), learner_id)),
        "unknown registration": sign(key, NoticeClaim(999_999, int(exam), learner_id)),
        "deferred exam": sign(key, NoticeClaim(int(reg), school.exams[2], learner_id)),
        "exam not in the registration": sign(key, NoticeClaim(int(reg), school.exams[3], 1)),
        "not a token": "hello",
        "empty": "",
    }
    for case, bad in refused.items():
        answer = verify_token(client, bad)
        assert answer.status_code == 400, (case, answer.text)
        assert answer.json["errors"][0]["field"] == "token", case
    # A registration that is not final has no valid notice, even with a well-signed token.
    fresh = school.register()
    forged = sign(key, NoticeClaim(fresh["id"], school.exams[0], fresh["learner_id"]))
    assert verify_token(client, forged).status_code == 400


def test_a_notice_is_issued_only_for_a_final_registration(client, engine, settings):
    school = ExamSchool(client, engine)
    registration = school.register()["id"]
    for step in ("draft", "submit", "verify"):
        if step != "draft":
            school.act(registration, step)
        answer = client.simulate_get(
            f"/api/v1/exam-registrations/{registration}/notice.pdf", headers=school.staff
        )
        assert answer.status_code == 409
        assert answer.json["errors"][0]["field"] == "status"
    missing = client.simulate_get(
        "/api/v1/exam-registrations/999999/notice.pdf", headers=school.staff
    )
    assert missing.status_code == 404


NAMES = [
    ("Émile", "Zola"),
    ("Eric", "zèbre"),
    ("Anne", "Ézanville"),
    ("Bruno", "Eyraud"),
    ("Chloé", "Ducros"),
    ("Ana", "Ducros"),
    ("Hervé", "Ébène"),
]


def test_the_attendance_sheet_lists_the_final_learners_of_an_exam_and_centre_sorted_and_paginated(
    client, engine, settings
):
    school = ExamSchool(client, engine)
    exam = school.exams[0]
    final_at_lyon = []
    for serial, (first, last) in enumerate(NAMES + [("Jean", f"Martin{i:02d}") for i in range(30)]):
        learner_id = post(
            client,
            "/api/v1/learners",
            {
                "external_id": f"S{serial:03d}",
                "first_name": first,
                "last_name": last,
                "email": f"s{serial}@example.org",
            },
            school.staff,
        )["id"]
        post(
            client,
            "/api/v1/enrolments",
            {
                "learner_id": learner_id,
                "step_id": school.step,
                "academic_year": "2026-2027",
                "start_date": "2026-09-01",
            },
            school.staff,
        )
        registration = school.register(
            learner_id, exams=[exam], modality="CONNECTED", centre="LYON"
        )["id"]
        if last != "Zola":  # Zola's registration stays a draft: not convoked, not listed
            school.make_final(registration)
            final_at_lyon.append(last)
    elsewhere = school.register(exams=[exam])["id"]
    school.make_final(elsewhere)

    answer = client.simulate_get(
        f"/api/v1/exams/{exam}/attendance-sheet.pdf",
        params={"centre_id": school.centre["LYON"]},
        headers=school.staff,
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    pdf = inspect_pdf(answer.content)
    assert pdf.page_count >= 2
    for page in range(1, pdf.page_count + 1):
        assert "Signature" in pdf.page_text(page), page
        assert f"Page {page} / {pdf.page_count}" in pdf.page_text(page)
    listed = [t.text for t in pdf.texts if t.text.upper() == t.text and t.text.isalpha()]
    expected_first = ["DUCROS", "DUCROS", "ÉBÈNE", "EYRAUD", "ÉZANVILLE"]
    assert listed[:5] == expected_first
    text = pdf.all_text()
    assert "ZOLA" not in text and "ZÈBRE" in text
    assert f"Inscrits : {len(final_at_lyon)}" in text
    ducros = [t.text for t in pdf.texts if t.text in ("Ana", "Chloé")]
    assert ducros == ["Ana", "Chloé"]
    campus = client.simulate_get(f"/api/v1/exams/{exam}/attendance-sheet.pdf", headers=school.staff)
    campus_text = inspect_pdf(campus.content).all_text()
    assert "Inscrits : 1" in campus_text and "MARTIN00" not in campus_text


def test_the_certificate_names_the_configured_signatory_and_follows_its_change(
    client, engine, settings
):
    school = ExamSchool(client, engine)
    learner_id = school.learner()
    registration = school.register(learner_id, exams=school.exams[:2], deferred=[school.exams[2]])
    school.make_final(registration["id"])
    student = school.student(learner_id)
    path = f"/api/v1/exam-registrations/{registration['id']}/certificate.pdf"
    params = {"exam_id": str(school.exams[0])}

    attendance = f"/api/v1/exams/{school.exams[0]}/attendance"
    # Before the exam: no attendance to record, nothing to certify.
    early = client.simulate_post(
        attendance, json={"present": [registration["id"]]}, headers=school.staff
    )
    assert early.status_code == 409
    assert client.simulate_get(path, params=params, headers=student).status_code == 409
    other = school.register()["id"]  # a draft: not convoked, so never present
    clock.set_now(datetime(2027, 2, 1, 12, 0, tzinfo=UTC))
    absent = client.simulate_get(path, params=params, headers=student)
    assert absent.status_code == 409
    assert "no attendance" in absent.json["detail"]
    refused = client.simulate_post(
        attendance, json={"present": [registration["id"], other]}, headers=school.staff
    )
    assert refused.status_code == 422
    assert refused.json["errors"][0]["field"] == "present[1]"
    for _ in range(2):  # recording it again changes nothing
        recorded = client.simulate_post(
            attendance, json={"present": [registration["id"]]}, headers=school.staff
        )
        assert recorded.status_code == 200, recorded.text
        assert recorded.json == {"exam_id": school.exams[0], "present": [registration["id"]]}
    unsigned = client.simulate_get(path, params=params, headers=student)
    assert unsigned.status_code == 409
    assert unsigned.json["errors"][0]["field"] == "signatory"

    for name, title in (
        ("Marie Dupont", "Directrice des études"),
        ("Karim Benali", "Directeur du service d'enseignement à distance"),
    ):
        put = client.simulate_put(
            "/api/v1/settings/signatory", json={"name": name, "title": title}, headers=school.admin
        )
        assert put.status_code == 200, put.text
        answer = client.simulate_get(path, params=params, headers=student)
        assert answer.status_code == 200, answer.text
        text = " ".join(inspect_pdf(answer.content).all_text().split())
        assert name in text and title in text
        assert "Attestation de présence" in text and "U00" in text
    assert "Marie Dupont" not in text

    deferred = client.simulate_get(path, params={"exam_id": str(school.exams[2])}, headers=student)
    assert deferred.status_code == 422
    for bad in ("abc", "0", "-1", "", "99999999999999999999"):
        answer = client.simulate_get(path, params={"exam_id": bad}, headers=student)
        assert answer.status_code == 422, bad
        assert answer.json["errors"][0]["field"] == "exam_id"


def test_only_an_admin_sets_the_signatory_and_a_blank_one_is_refused(client, engine, settings):
    school = ExamSchool(client, engine, units=1)
    staff_put = client.simulate_put(
        "/api/v1/settings/signatory", json={"name": "A", "title": "B"}, headers=school.staff
    )
    assert staff_put.status_code == 403
    for body, field in (
        ({"name": "   ", "title": "Directrice"}, "name"),
        ({"name": "Marie", "title": ""}, "title"),
        ({"name": "Marie"}, "title"),
        ({"name": "M" * 256, "title": "T"}, "name"),
    ):
        answer = client.simulate_put("/api/v1/settings/signatory", json=body, headers=school.admin)
        assert answer.status_code == 422, body
        assert answer.json["errors"][0]["field"] == field, body
    assert (
        client.simulate_get("/api/v1/settings/signatory", headers=school.staff).status_code == 404
    )
