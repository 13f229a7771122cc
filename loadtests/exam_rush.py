"""The last hours before an exam period closes: students register, submit, get their fee paid
and download their exam notice, again and again.

    locust -f loadtests/exam_rush.py --headless -u 200 -r 20 -t 5m --host URL \
        --staff-token TOKEN --scenario-data var/loadtests/exam_rush.json

Each student of the prepared pool (enrolled, with a token when minted) is taken by one user
at most, since a learner has one registration per period. The payment step stands for the
finance office (staff token): verify, then record the exact fee. When the pool runs out, new
users are students re-downloading the notice of a registration already final.
"""

from __future__ import annotations

import random
from typing import Any

import hooks  # noqa: F401 (gates and ledger wired into Locust)
import ledger
import scenario_data
import slo
from locust import FastHttpUser, between, events, task
from resilient import call

SCENARIO = "exam_rush"
AFTER_SUBMIT = ("submitted", "verified", "paid", "final")

OBJECTIVES = slo.declare(
    slo.Objectives(
        scenario=SCENARIO,
        max_error_ratio=0.001,
        latency={
            "POST /api/v1/exam-registrations": slo.Latency(300, 600),
            "POST /api/v1/exam-registrations/{id}/submit": slo.Latency(300, 600),
            "POST /api/v1/exam-registrations/{id}/verify": slo.Latency(300, 600),
            "POST /api/v1/exam-registrations/{id}/payments": slo.Latency(300, 600),
            "GET /api/v1/exam-registrations/{id}": slo.Latency(100, 250),
            "GET /api/v1/exam-registrations/{id}/notice.pdf": slo.Latency(800, 1500),
        },
    )
)

_data: dict[str, Any] = {}
_pool: list[dict[str, Any]] = []
_final: list[tuple[int, str]] = []  # (registration, token) of this process's final ones


@events.test_start.add_listener
def _load(environment: Any, **_: Any) -> None:
    if environment.parsed_options is not None and not environment.parsed_options.master:
        _data.update(scenario_data.load(environment, SCENARIO))
        _pool[:] = scenario_data.share(environment, _data["students"])
        random.shuffle(_pool)


class Student(FastHttpUser):
    """One student's way through the deadline: register, submit, pay, download the notice."""

    wait_time = between(1, 4)

    def on_start(self) -> None:
        self.staff = self.environment.parsed_options.staff_token
        self.me = _pool.pop() if _pool else None
        self.token = (self.me or {}).get("token") or self.staff
        self.registration: int | None = None
        self.status = "none"
        if self.me is None and _final:
            self.registration, self.token = random.choice(_final)
            self.status = "final"

    def act(self, action: str, token: str, body: Any = None) -> dict[str, Any] | None:
        return call(
            self, "POST", f"/api/v1/exam-registrations/{self.registration}/{action}",
            name=f"POST /api/v1/exam-registrations/{{id}}/{action}", token=token, body=body,
        )  # fmt: skip

    @task(3)
    def next_step(self) -> None:
        if self.me is None and self.status != "final":
            return
        if self.status == "none":
            body = {
                "learner_id": self.me["learner_id"],
                "period_id": _data["period_id"],
                "modality_id": random.choice(_data["modality_ids"]),
                "centre_id": None,
                "exam_ids": _data["exam_ids"],
                "deferred_exam_ids": [],
            }
            made = call(
                self, "POST", "/api/v1/exam-registrations",
                name="POST /api/v1/exam-registrations", token=self.token, body=body,
            )  # fmt: skip
            if made is not None:
                self.registration, self.status = made["id"], "draft"
                ledger.record(
                    "exam registration",
                    f"/api/v1/exam-registrations/{made['id']}",
                    ("draft", *AFTER_SUBMIT),
                )
        elif self.status == "draft":
            made = self.act("submit", self.token)
            if made is not None:
                self.status, self.fee = "submitted", made["fee_cents"]
                ledger.record(
                    "exam submission",
                    f"/api/v1/exam-registrations/{self.registration}",
                    AFTER_SUBMIT,
                )
        elif self.status == "submitted":
            # The finance office: check, then record the exact fee (paid -> final).
            if self.act("verify", self.staff) is None:
                return
            payment = {"amount_cents": self.fee, "reference": f"PAY-{self.registration}"}
            made = self.act("payments", self.staff, payment)
            if made is not None:
                self.status = "final"
                _final.append((self.registration, self.token))
                ledger.record(
                    "exam payment", f"/api/v1/exam-registrations/{self.registration}", ("final",)
                )
        else:
            call(
                self, "GET", f"/api/v1/exam-registrations/{self.registration}/notice.pdf",
                name="GET /api/v1/exam-registrations/{id}/notice.pdf", token=self.token,
            )  # fmt: skip

    @task(4)
    def notice(self) -> None:
        if self.status != "final":
            # Before the deadline a student goes straight on with the next step.
            self.next_step()
            return
        call(
            self, "GET", f"/api/v1/exam-registrations/{self.registration}/notice.pdf",
            name="GET /api/v1/exam-registrations/{id}/notice.pdf", token=self.token,
        )  # fmt: skip

    @task(2)
    def status_check(self) -> None:
        if self.registration is None:
            self.next_step()
            return
        call(
            self, "GET", f"/api/v1/exam-registrations/{self.registration}",
            name="GET /api/v1/exam-registrations/{id}", token=self.token,
        )  # fmt: skip
