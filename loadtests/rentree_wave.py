"""Start of the academic year: students arrive and are enrolled, staff run batch enrolments and
create activities, and everyone reads their participations.

    locust -f loadtests/rentree_wave.py --headless -u 200 -r 20 -t 5m --host URL \
        --staff-token TOKEN --scenario-data var/loadtests/rentree_wave.json

Users (by weight): students (reading their own enrolment, participations and record), the
registrar's desk (one arriving student at a time: learner then enrolment), and the
scheduling office (batch enrolments of a class list, new activities, participant lists).
"""

from __future__ import annotations

import random
from typing import Any

import hooks  # noqa: F401 (gates and ledger wired into Locust)
import identities
import ledger
import scenario_data
import slo
from locust import FastHttpUser, between, events, task
from resilient import call

SCENARIO = "rentree_wave"
BATCH_SIZE = 20

OBJECTIVES = slo.declare(
    slo.Objectives(
        scenario=SCENARIO,
        max_error_ratio=0.001,
        latency={
            "POST /api/v1/learners": slo.Latency(150, 300),
            "POST /api/v1/enrolments": slo.Latency(300, 600),
            "POST /api/v1/enrolments/batch": slo.Latency(1500, 3000),
            "POST /api/v1/activities": slo.Latency(1000, 2000),
            "GET /api/v1/enrolments/{id}/participations": slo.Latency(150, 300),
            "GET /api/v1/learners/{id}": slo.Latency(100, 250),
            "GET /api/v1/activities/{id}/participants": slo.Latency(300, 600),
        },
    )
)

_data: dict[str, Any] = {}


@events.test_start.add_listener
def _load(environment: Any, **_: Any) -> None:
    if environment.parsed_options is not None and not environment.parsed_options.master:
        _data.update(scenario_data.load(environment, SCENARIO))
        _data["mine"] = scenario_data.share(environment, _data["students"])


def new_learner(user: FastHttpUser, token: str) -> int | None:
    """POST a new learner; the acknowledged ones go to the ledger."""
    made = call(
        user,
        "POST",
        "/api/v1/learners",
        name="POST /api/v1/learners",
        token=token,
        body=identities.learner(),
    )
    if made is None:
        return None
    ledger.record("learner", f"/api/v1/learners/{made['id']}")
    return made["id"]


def enrolment_body(learner_id: int) -> dict[str, Any]:
    return {
        "learner_id": learner_id,
        "step_id": _data["step_id"],
        "academic_year": _data["academic_year"],
        "start_date": _data["start_date"],
        "groups": [random.choice(_data["group_ids"])],
    }


class Student(FastHttpUser):
    """A student checking their timetable: their participations, enrolment and record."""

    weight = 6
    wait_time = between(1, 3)

    def on_start(self) -> None:
        mine = _data.get("mine") or []
        if not mine:
            raise scenario_data.ScenarioDataError("rentree_wave: no prepared students")
        self.me = random.choice(mine)
        # Without minted student tokens (remote run), staff reads on the student's behalf.
        self.token = self.me["token"] or self.environment.parsed_options.staff_token

    @task(5)
    def participations(self) -> None:
        call(
            self,
            "GET",
            f"/api/v1/enrolments/{self.me['enrolment_id']}/participations?limit=100",
            name="GET /api/v1/enrolments/{id}/participations",
            token=self.token,
        )

    @task(2)
    def record(self) -> None:
        call(
            self,
            "GET",
            f"/api/v1/learners/{self.me['learner_id']}",
            name="GET /api/v1/learners/{id}",
            token=self.token,
        )


class RegistrarDesk(FastHttpUser):
    """The registrar's desk: each arriving student is created, then enrolled."""

    weight = 3
    wait_time = between(0.5, 1.5)

    @task
    def enrol_arriving_student(self) -> None:
        token = self.environment.parsed_options.staff_token
        learner_id = new_learner(self, token)
        if learner_id is None:
            return
        made = call(
            self,
            "POST",
            "/api/v1/enrolments",
            name="POST /api/v1/enrolments",
            token=token,
            body=enrolment_body(learner_id),
        )
        if made is not None:
            ledger.record("enrolment", f"/api/v1/enrolments/{made['id']}", ("active",))


class SchedulingOffice(FastHttpUser):
    """Staff enrolling whole class lists at once, creating activities, checking rolls."""

    weight = 1
    wait_time = between(2, 5)

    def on_start(self) -> None:
        # The office starts the day by importing a class list, scheduling a tutorial and
        # checking a roll: every request kind the gates judge is then seen even in a short run.
        self.batch_enrolment()
        self.new_activity()
        self.roll()

    @task(3)
    def batch_enrolment(self) -> None:
        token = self.environment.parsed_options.staff_token
        learners = [new_learner(self, token) for _ in range(BATCH_SIZE)]
        body = {"enrolments": [enrolment_body(i) for i in learners if i is not None]}
        if not body["enrolments"]:
            return
        made = call(
            self,
            "POST",
            "/api/v1/enrolments/batch",
            name="POST /api/v1/enrolments/batch",
            token=token,
            body=body,
        )
        for enrolment_id in (made or {}).get("ids", []):
            ledger.record("enrolment (batch)", f"/api/v1/enrolments/{enrolment_id}", ("active",))

    @task(1)
    def new_activity(self) -> None:
        token = self.environment.parsed_options.staff_token
        first = int(_data["academic_year"][:4])
        day, hour = random.randint(1, 28), random.choice((8, 10, 14, 16))
        body = {
            "element_id": random.choice(_data["unit_ids"]),
            "academic_year": _data["academic_year"],
            "kind": "tutorial",
            "group_id": random.choice(_data["group_ids"]),
            "starts_at": f"{first}-10-{day:02d}T{hour:02d}:00:00+02:00",
            "ends_at": f"{first}-10-{day:02d}T{hour + 2:02d}:00:00+02:00",
            "capacity": random.choice((None, 30, 40)),
        }
        made = call(
            self,
            "POST",
            "/api/v1/activities",
            name="POST /api/v1/activities",
            token=token,
            body=body,
        )
        if made is not None:
            ledger.record("activity", f"/api/v1/activities/{made['id']}")

    @task(2)
    def roll(self) -> None:
        call(
            self,
            "GET",
            f"/api/v1/activities/{random.choice(_data['activity_ids'])}/participants?limit=50",
            name="GET /api/v1/activities/{id}/participants",
            token=self.environment.parsed_options.staff_token,
        )
