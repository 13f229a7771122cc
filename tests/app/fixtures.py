"""Small school builders shared by the app tests."""

from __future__ import annotations

from typing import Any

import falcon.testing

YEAR = "2026-2027"


def curriculum(code: str = "LINFO") -> dict[str, Any]:
    """One step with two groups, a mandatory tree and an optional course in a choice group."""
    return {
        "programme": {"code": code, "label": "Licence Informatique"},
        "version": {
            "code": f"{code}-2024",
            "label": "Licence 2024",
            "curriculum_period": "2024-2029",
        },
        "steps": [
            {
                "code": f"{code}-L1",
                "label": "Première année",
                "year_index": 1,
                "groups": [
                    {"code": "TD-A", "label": "Groupe A"},
                    {"code": "TD-B", "label": "Groupe B"},
                ],
                "choice_groups": [{"code": "OPT-S1", "min": 1, "max": 2}],
                "elements": [
                    {
                        "code": f"{code}-S1",
                        "label": "Semestre 1",
                        "kind": "semester",
                        "optional": False,
                        "children": [
                            {
                                "code": f"{code}-UE11",
                                "label": "Algorithmique",
                                "kind": "unit",
                                "optional": False,
                                "ects": 6,
                                "hours": 60,
                                "children": [
                                    {
                                        "code": f"{code}-EC111",
                                        "label": "Python",
                                        "kind": "course",
                                        "optional": True,
                                        "choice_group": "OPT-S1",
                                        "hours": 30,
                                    }
                                ],
                            },
                            {
                                "code": f"{code}-UE12",
                                "label": "Mathématiques",
                                "kind": "unit",
                                "optional": False,
                            },
                        ],
                    }
                ],
            }
        ],
    }


def post(
    client: falcon.testing.TestClient,
    path: str,
    body: Any,
    headers: dict[str, str],
    status: int = 201,
) -> Any:
    """POST JSON and insist on `status`; returns the parsed body."""
    result = client.simulate_post(path, json=body, headers=headers)
    assert result.status_code == status, result.text
    return result.json


class School:
    """A curriculum imported through the API, with helpers to add learners and enrolments."""

    def __init__(self, client: falcon.testing.TestClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers
        self.ids = post(client, "/api/v1/curricula", curriculum(), headers)
        self.step = self.ids["steps"]["LINFO-L1"]
        self.group_a = self.ids["groups"]["LINFO-L1/TD-A"]
        self.group_b = self.ids["groups"]["LINFO-L1/TD-B"]
        self.element = self.ids["elements"]
        self._serial = 0

    def learner(self) -> int:
        self._serial += 1
        body = {
            "external_id": f"L{self._serial}",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": f"ada{self._serial}@example.org",
        }
        return post(self.client, "/api/v1/learners", body, self.headers)["id"]

    def enrol(self, learner_id: int | None = None, status: int = 201, **fields: Any) -> Any:
        body = {
            "learner_id": learner_id or self.learner(),
            "step_id": self.step,
            "academic_year": YEAR,
            "start_date": "2026-09-01",
            **fields,
        }
        return post(self.client, "/api/v1/enrolments", body, self.headers, status)

    def activity(self, element: str = "LINFO-UE11", status: int = 201, **fields: Any) -> Any:
        body = {
            "element_id": self.element[element],
            "academic_year": YEAR,
            "kind": "lecture",
            "starts_at": "2026-09-10T08:00:00+02:00",
            "ends_at": "2026-09-10T10:00:00+02:00",
            **fields,
        }
        return post(self.client, "/api/v1/activities", body, self.headers, status)

    def participants(self, activity_id: int) -> dict[int, str]:
        result = self.client.simulate_get(
            f"/api/v1/activities/{activity_id}/participants", headers=self.headers
        )
        assert result.status_code == 200, result.text
        return {p["enrolment_id"]: p["status"] for p in result.json["items"]}
