"""Hostile input to every exam operation: each bad field gets a 4xx problem naming it, and the
database is left exactly as it was. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.app.exam_fixtures import ExamSchool
from tests.app.http.test_bad_input import snapshot

BIG = 2**63
NOT_INSTANTS = ["2026-13-01T00:00:00+01:00", "2026-09-01T08:00:00", "demain", "", 17]
NOT_IDS = [0, -1, BIG, "1", 1.5, True, None]


def cases(s: ExamSchool) -> list[tuple[str, str, str, Callable[[], Any], str, int]]:
    """(label, method, path, body, field, status)."""
    period = {
        "academic_year": "2027-2028",
        "number": 1,
        "opens_at": "2027-07-01T00:00:00+02:00",
        "closes_at": "2027-09-30T00:00:00+02:00",
    }
    modality = {
        "code": "NEW",
        "label": "Nouvelle",
        "fixed_fee_cents": 100,
        "fee_per_hour_cents": 10,
        "needs_centre": False,
    }
    centre = {"code": "NEWC", "label": "Centre", "modality_id": s.modality["ABROAD"], "capacity": 5}
    exam = {
        "element_id": s.element["U30"],
        "period_id": s.period,
        "supervised_hours": 2,
        "starts_at": "2027-01-20T09:00:00+01:00",
        "modality_ids": [s.modality["CAMPUS"]],
    }
    learner_id = s.learner()
    registration = {
        "learner_id": learner_id,
        "period_id": s.period,
        "modality_id": s.modality["CAMPUS"],
        "centre_id": None,
        "exam_ids": s.exams[:2],
        "deferred_exam_ids": [],
    }
    draft = s.register()["id"]
    verified = s.register()["id"]
    s.act(verified, "submit")
    s.act(verified, "verify")
    fee = s.get(verified)["fee_cents"]
    out: list[tuple[str, str, str, Callable[[], Any], str, int]] = []

    def bad(label, method, path, base, field, value, status=422, remove=False):
        body = dict(base)
        if remove:
            body.pop(field)
        else:
            body[field] = value
        out.append((label, method, path, body, field.split("[")[0], status))

    for field in period:
        bad(
            f"period without {field}",
            "POST",
            "/api/v1/exam-periods",
            period,
            field,
            None,
            remove=True,
        )
    for value in ("2027-2029", "2027", "27-28", "", 2027):
        bad(
            f"period year {value!r}", "POST", "/api/v1/exam-periods", period, "academic_year", value
        )
    for value in (0, 4, "1", None, 1.0):
        bad(f"period number {value!r}", "POST", "/api/v1/exam-periods", period, "number", value)
    for field in ("opens_at", "closes_at"):
        for value in NOT_INSTANTS:
            bad(f"period {field} {value!r}", "POST", "/api/v1/exam-periods", period, field, value)
    bad(
        "period closing before it opens",
        "POST",
        "/api/v1/exam-periods",
        period,
        "closes_at",
        "2027-06-01T00:00:00+02:00",
    )
    bad(
        "period twice",
        "POST",
        "/api/v1/exam-periods",
        {**period, "academic_year": "2026-2027"},
        "number",
        1,
        409,
    )
    patch_path = f"/api/v1/exam-periods/{s.period}"
    for value in ("archived", "planned", "OPEN", 1, None):
        bad(f"period status {value!r}", "PATCH", patch_path, {}, "status", value)
    for value in NOT_INSTANTS:
        bad(f"period patch opens_at {value!r}", "PATCH", patch_path, {}, "opens_at", value)
    bad(
        "period patch closing before opening",
        "PATCH",
        patch_path,
        {},
        "closes_at",
        "2026-01-01T00:00:00+01:00",
    )
    out.append(("period patch empty", "PATCH", patch_path, {}, "body", 422))
    bad("period patch unknown field", "PATCH", patch_path, {}, "colour", "red")
    bad(
        "period reopened from planned to planned",
        "PATCH",
        f"/api/v1/exam-periods/{s.resit}",
        {},
        "status",
        "closed",
        200,
    )
    out.pop()  # planned → closed is allowed: not a refusal

    for field in modality:
        bad(
            f"modality without {field}",
            "POST",
            "/api/v1/exam-modalities",
            modality,
            field,
            None,
            remove=True,
        )
    for field, values in {
        "code": ["", "with space", "é", "x" * 65, 5],
        "label": ["", "x" * 256, None, "a\x00b", "tab\there"],
        "fixed_fee_cents": [-1, 100_000_001, 1.5, "100", BIG, None],
        "fee_per_hour_cents": [-1, 10_000_001, 2.5, True],
        "needs_centre": ["yes", 1, None],
    }.items():
        for value in values:
            bad(
                f"modality {field} {value!r}",
                "POST",
                "/api/v1/exam-modalities",
                modality,
                field,
                value,
            )
    bad("modality code taken", "POST", "/api/v1/exam-modalities", modality, "code", "CAMPUS", 409)

    for field, values in {
        "code": ["", "a b"],
        "label": [""],
        "modality_id": [*NOT_IDS, 999_999, s.modality["CAMPUS"]],
        "capacity": [-1, 1_000_001, 2.5, None],
    }.items():
        for value in values:
            bad(f"centre {field} {value!r}", "POST", "/api/v1/exam-centres", centre, field, value)
    bad("centre code taken", "POST", "/api/v1/exam-centres", centre, "code", "LYON", 409)

    for field, values in {
        "element_id": [*NOT_IDS, 999_999],
        "period_id": [*NOT_IDS, 999_999],
        "supervised_hours": [0, 25, -3, 1.5, "2", None],
        "starts_at": NOT_INSTANTS,
        "modality_ids": [[], [0], [999_999], "1", None, list(range(1, 30))],
        "room": ["", "x" * 256, 3],
        "capacity": [-1, 1_000_001, "10"],
    }.items():
        for value in values:
            bad(f"exam {field} {value!r}", "POST", "/api/v1/exams", exam, field, value)
    bad(
        "exam of an element twice in a period",
        "POST",
        "/api/v1/exams",
        exam,
        "element_id",
        s.element["U00"],
        409,
    )

    for field in ("learner_id", "period_id", "modality_id", "exam_ids"):
        bad(
            f"registration without {field}",
            "POST",
            "/api/v1/exam-registrations",
            registration,
            field,
            None,
            remove=True,
        )
    for field, values in {
        "learner_id": [*NOT_IDS, 999_999],
        "period_id": [*NOT_IDS, 999_999],
        "modality_id": [*NOT_IDS, 999_999],
        "centre_id": [0, -1, "1", 999_999],
        "exam_ids": [[0], [s.exams[0], s.exams[0]], [999_999], "1", None, list(range(1, 202))],
        "deferred_exam_ids": [[0], [s.exams[0]], [999_999], list(range(1, 202))],
    }.items():
        for value in values:
            bad(
                f"registration {field} {str(value)[:30]}",
                "POST",
                "/api/v1/exam-registrations",
                registration,
                field,
                value,
            )
    bad(
        "registration without any exam",
        "POST",
        "/api/v1/exam-registrations",
        registration,
        "exam_ids",
        [],
    )
    bad(
        "registration unknown field",
        "POST",
        "/api/v1/exam-registrations",
        registration,
        "fee_cents",
        0,
    )

    reject = f"/api/v1/exam-registrations/{draft}/reject"
    for value in ("", "x" * 1001, None, 5):
        bad(f"reject reason {value!r}", "POST", reject, {"reason": "r"}, "reason", value)
    bad(
        "reject reason blank",
        "POST",
        f"/api/v1/exam-registrations/{verified}/reject",
        {"reason": "r"},
        "reason",
        "   ",
    )
    pay = f"/api/v1/exam-registrations/{verified}/payments"
    payment = {"amount_cents": fee, "reference": "REF-1"}
    for value in (-1, 10**13 + 1, 1.5, "100", None, fee + 1):
        bad(f"payment amount {value!r}", "POST", pay, payment, "amount_cents", value)
    for value in ("", " ", "a b", "x" * 129, 7, "-lead"):
        bad(f"payment reference {value!r}", "POST", pay, payment, "reference", value)

    attendance = f"/api/v1/exams/{s.exams[0]}/attendance"
    for value in ([], [0], "1", None):
        bad(f"attendance {str(value)[:20]}", "POST", attendance, {"present": [1]}, "present", value)
    # Past the largest batch the app takes, an array is too large rather than invalid.
    bad("attendance of 10,001", "POST", attendance, {}, "present", list(range(1, 10_002)), 413)
    # Valid in form, but the exam has not started: nobody can have sat it yet.
    bad("attendance before the exam", "POST", attendance, {}, "present", [draft], 409)
    out[-1] = (*out[-1][:4], "exam_id", 409)
    for value in ("", "x" * 256, None, 3):
        bad(
            f"signatory name {value!r}",
            "PUT",
            "/api/v1/settings/signatory",
            {"name": "n", "title": "t"},
            "name",
            value,
        )
        bad(
            f"signatory title {value!r}",
            "PUT",
            "/api/v1/settings/signatory",
            {"name": "n", "title": "t"},
            "title",
            value,
        )
    for path in (
        "/api/v1/exam-periods",
        "/api/v1/exam-modalities",
        "/api/v1/exam-centres",
        "/api/v1/exams",
        "/api/v1/exam-registrations",
        pay,
    ):
        out.append((f"malformed JSON to {path}", "POST", path, '{"a": ', "body", 400))
        out.append((f"array body to {path}", "POST", path, [1], "body", 422))
    return out


def queries(s: ExamSchool) -> list[tuple[str, str, str, int]]:
    """(label, path with query, field, status) for the GET operations' parameters."""
    exam, registration = s.exams[0], s.register()["id"]
    sheet = f"/api/v1/exams/{exam}/attendance-sheet.pdf"
    certificate = f"/api/v1/exam-registrations/{registration}/certificate.pdf"
    return [
        *(
            (f"sheet centre {v!r}", f"{sheet}?centre_id={v}", "centre_id", 422)
            for v in ("abc", "0", "-2", "1.5", str(BIG), "٣", "999999")
        ),
        ("certificate without exam", certificate, "exam_id", 422),
        *(
            (f"certificate exam {v!r}", f"{certificate}?exam_id={v}", "exam_id", 422)
            for v in ("x", "0", str(BIG), str(s.exams[5]))
        ),
        ("verify without token", "/api/v1/exam-notices/verify", "token", 400),
        ("verify garbage", "/api/v1/exam-notices/verify?token=%00%FF", "token", 400),
        ("verify long", "/api/v1/exam-notices/verify?token=" + "N1." * 200, "token", 400),
        ("periods limit", "/api/v1/exam-periods?limit=0", "limit", 422),
        ("exams cursor", f"/api/v1/exam-periods/{s.period}/exams?cursor=forged", "cursor", 422),
    ]


def test_every_bad_field_of_every_exam_operation_is_refused_and_changes_nothing(
    client, engine, settings
):
    school = ExamSchool(client, engine, units=6)
    all_cases = cases(school)
    assert len(all_cases) > 150
    for label, method, path, body, field, status in all_cases:
        before = snapshot(engine)
        raw = body if isinstance(body, str) else json.dumps(body)
        headers = school.admin if method == "PUT" else school.staff
        answer = client.simulate_request(
            method, path, body=raw, headers={**headers, "Content-Type": "application/json"}
        )
        assert answer.status_code == status, (label, answer.text)
        assert answer.headers["content-type"] == "application/problem+json", label
        fields = [e["field"].split("[")[0].split(".")[0] for e in answer.json.get("errors", [])]
        assert field in fields, (label, answer.json)
        assert snapshot(engine) == before, label


def test_every_bad_query_parameter_is_refused_naming_it(client, engine, settings):
    school = ExamSchool(client, engine, units=6)
    for label, path, field, status in queries(school):
        path, _, query = path.partition("?")
        answer = client.simulate_get(path, query_string=query, headers=school.staff)
        assert answer.status_code == status, (label, answer.text)
        assert answer.headers["content-type"] == "application/problem+json", label
        assert field in [e["field"] for e in answer.json["errors"]], (label, answer.json)
