"""An exam school built through the API: a step with many units, an open period 1 and its
resit period, the four modalities of the field, centres, one exam per unit."""

from __future__ import annotations

from typing import Any

import falcon.testing

from tests.app.conftest import token_for
from tests.app.fixtures import YEAR, post

UNITS = 60
# Supervised hours of unit i's exam: 1, 2, 3, 4, 1, 2, ...
HOURS = [1 + i % 4 for i in range(UNITS)]
MODALITIES = {
    # code: (fixed fee, fee per hour, needs a centre)
    "CAMPUS": (5_000, 1_250, False),
    "CONNECTED": (7_500, 1_500, True),
    "ABROAD": (20_000, 3_333, True),
    "REMOTE": (3_000, 999, False),
}


def exam_curriculum() -> dict[str, Any]:
    """Step EX-L1: UNITS mandatory units, an optional course in a choice group; and a second
    step EX-L2 whose unit no EX-L1 learner is enrolled in."""
    units = [
        {
            "code": f"U{i:02d}",
            "label": f"Unité d'enseignement n° {i:02d}",
            "kind": "unit",
            "optional": False,
        }
        for i in range(UNITS)
    ]
    units.append(
        {
            "code": "OPT",
            "label": "Option théâtre",
            "kind": "course",
            "optional": True,
            "choice_group": "CHOICE",
        }
    )
    return {
        "programme": {"code": "EX", "label": "Licence Examens"},
        "version": {"code": "EX-2024", "label": "Licence 2024", "curriculum_period": "2024-2029"},
        "steps": [
            {
                "code": "EX-L1",
                "label": "Première année",
                "year_index": 1,
                "choice_groups": [{"code": "CHOICE", "min": 0, "max": 1}],
                "elements": units,
            },
            {
                "code": "EX-L2",
                "label": "Deuxième année",
                "year_index": 2,
                "elements": [
                    {"code": "L2U", "label": "Unité de L2", "kind": "unit", "optional": False}
                ],
            },
        ],
    }


class ExamSchool:
    """The school, its exam configuration, and helpers to register and move registrations."""

    def __init__(self, client: falcon.testing.TestClient, engine: Any, units: int = 6) -> None:
        self.client = client
        self.engine = engine
        self.staff = token_for(engine, "staff")
        self.admin = token_for(engine, "admin")
        ids = post(client, "/api/v1/curricula", exam_curriculum(), self.staff)
        self.step = ids["steps"]["EX-L1"]
        self.step2 = ids["steps"]["EX-L2"]
        self.element = ids["elements"]
        self.period = self.new_period(1, "open")
        self.resit = self.new_period(3)
        self.modality = {
            code: post(
                client,
                "/api/v1/exam-modalities",
                {
                    "code": code,
                    "label": {
                        "CAMPUS": "Sur site (campus principal)",
                        "CONNECTED": "Sur site (campus connecté)",
                        "ABROAD": "Centre à l'étranger",
                        "REMOTE": "Télé-examen à distance",
                    }[code],
                    "fixed_fee_cents": fixed,
                    "fee_per_hour_cents": hourly,
                    "needs_centre": centre,
                },
                self.staff,
            )["id"]
            for code, (fixed, hourly, centre) in MODALITIES.items()
        }
        self.centre = {
            "LYON": self.new_centre("LYON", "Campus connecté de Lyon", "CONNECTED", 50),
            "DAKAR": self.new_centre("DAKAR", "Centre de Dakar", "ABROAD", 2),
        }
        every = list(self.modality.values())
        self.exams = [
            self.new_exam(f"U{i:02d}", HOURS[i], every, day=1 + i % 28, room=f"Amphi {i % 3}")
            for i in range(units)
        ]
        self.option_exam = self.new_exam("OPT", 2, every, day=2)
        self.l2_exam = self.new_exam("L2U", 2, every, day=3)
        self._serial = 0

    def new_period(self, number: int, status: str | None = None, year: str = YEAR) -> int:
        period = post(
            self.client,
            "/api/v1/exam-periods",
            {
                "academic_year": year,
                "number": number,
                "opens_at": "2026-07-01T00:00:00+02:00",
                "closes_at": "2026-09-30T23:59:00+02:00",
            },
            self.staff,
        )
        if status:
            self.patch_period(period["id"], {"status": status})
        return period["id"]

    def patch_period(self, period_id: int, body: dict[str, Any], status: int = 200) -> Any:
        result = self.client.simulate_patch(
            f"/api/v1/exam-periods/{period_id}", json=body, headers=self.staff
        )
        assert result.status_code == status, result.text
        return result.json

    def new_centre(self, code: str, label: str, modality: str, capacity: int) -> int:
        body = {
            "code": code,
            "label": label,
            "modality_id": self.modality[modality],
            "capacity": capacity,
        }
        return post(self.client, "/api/v1/exam-centres", body, self.staff)["id"]

    def new_exam(
        self,
        element: str,
        hours: int,
        modalities: list[int],
        day: int = 11,
        period: int | None = None,
        **extra: Any,
    ) -> int:
        body = {
            "element_id": self.element[element],
            "period_id": period or self.period,
            "supervised_hours": hours,
            "starts_at": f"2027-01-{day:02d}T09:00:00+01:00",
            "modality_ids": modalities,
            **extra,
        }
        return post(self.client, "/api/v1/exams", body, self.staff)["id"]

    def learner(self, enrol: bool = True, **enrolment: Any) -> int:
        """A new learner, enrolled in EX-L1 for the year unless told otherwise."""
        self._serial += 1
        body = {
            "external_id": f"E{self._serial:05d}",
            "first_name": "Zoé",
            "last_name": f"Lefèvre-{self._serial:03d}",
            "email": f"zoe{self._serial}@example.org",
        }
        learner_id = post(self.client, "/api/v1/learners", body, self.staff)["id"]
        if enrol:
            post(
                self.client,
                "/api/v1/enrolments",
                {
                    "learner_id": learner_id,
                    "step_id": self.step,
                    "academic_year": YEAR,
                    "start_date": "2026-09-01",
                    **enrolment,
                },
                self.staff,
            )
        return learner_id

    def student(self, learner_id: int) -> dict[str, str]:
        return token_for(self.engine, "student", learner_id=learner_id)

    def register(
        self,
        learner_id: int | None = None,
        exams: list[int] | None = None,
        deferred: list[int] | None = None,
        modality: str = "CAMPUS",
        centre: str | None = None,
        headers: dict[str, str] | None = None,
        status: int = 201,
        **extra: Any,
    ) -> Any:
        body = {
            "learner_id": learner_id or self.learner(),
            "period_id": self.period,
            "modality_id": self.modality[modality],
            "centre_id": self.centre[centre] if centre else None,
            "exam_ids": self.exams[:3] if exams is None else exams,
            "deferred_exam_ids": deferred or [],
            **extra,
        }
        return post(self.client, "/api/v1/exam-registrations", body, headers or self.staff, status)

    def act(
        self,
        registration_id: int,
        action: str,
        headers: dict[str, str] | None = None,
        body: Any = None,
        status: int = 200,
    ) -> Any:
        result = self.client.simulate_post(
            f"/api/v1/exam-registrations/{registration_id}/{action}",
            json=body,
            headers=headers or self.staff,
        )
        assert result.status_code == status, (action, result.text)
        return result.json

    def make_final(self, registration_id: int) -> Any:
        """Submit, verify and pay the exact fee: the registration becomes final."""
        fee = self.act(registration_id, "submit")["fee_cents"]
        self.act(registration_id, "verify")
        return self.act(
            registration_id,
            "payments",
            body={"amount_cents": fee, "reference": f"PAY-{registration_id}"},
        )

    def get(self, registration_id: int, headers: dict[str, str] | None = None) -> Any:
        result = self.client.simulate_get(
            f"/api/v1/exam-registrations/{registration_id}", headers=headers or self.staff
        )
        assert result.status_code == 200, result.text
        return result.json

    def assert_period_frozen(self) -> None:
        """The archived period takes no new registration, no change of its own, no new exam."""
        assert "archived" in self.register(status=409)["detail"]
        for change in ({"status": "open"}, {"closes_at": "2026-12-31T00:00:00+01:00"}):
            assert "archived" in self.patch_period(self.period, change, 409)["detail"]
        exam = self.client.simulate_post(
            "/api/v1/exams",
            json={
                "element_id": self.element["U59"],
                "period_id": self.period,
                "supervised_hours": 1,
                "starts_at": "2027-01-11T09:00:00+01:00",
                "modality_ids": [self.modality["CAMPUS"]],
            },
            headers=self.staff,
        )
        assert exam.status_code == 409, exam.text
