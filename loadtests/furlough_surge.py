"""The furlough surge: employers sign up, submit training requests and poll their status, on
the curve of March 2020 (quiet, an announcement, a peak within minutes, waves, a slow decline).

    locust -f loadtests/furlough_surge.py --headless --host URL --staff-token TOKEN \
        --scenario-data var/loadtests/furlough_surge.json --peak-users 1000 --shape-seconds 1800

The shape sets the number of users; --peak-users scales it and --shape-seconds stretches it
(30 minutes by default; a CI smoke squeezes it into a few seconds). A back-office user runs
the automatic validator, so the statuses employers poll do move.
"""

from __future__ import annotations

import math
import random
from typing import Any

import hooks  # noqa: F401 (gates and ledger wired into Locust)
import identities
import ledger
import scenario_data
import slo
from locust import FastHttpUser, LoadTestShape, between, events, task
from resilient import call

SCENARIO = "furlough_surge"
REQUEST_STATUSES = ("submitted", "approved", "referred", "rejected")

OBJECTIVES = slo.declare(
    slo.Objectives(
        scenario=SCENARIO,
        max_error_ratio=0.001,
        latency={
            "POST /api/v1/organisations": slo.Latency(150, 300),
            "POST /api/v1/requests": slo.Latency(500, 1000),
            "GET /api/v1/requests/{id}": slo.Latency(100, 250),
            "GET /api/v1/organisations/{id}/requests": slo.Latency(200, 400),
            "POST /api/v1/requests/validate": slo.Latency(3000, 6000),
        },
    )
)

# The curve, as (end of the phase as a fraction of the run, share of the peak at that end);
# the share moves linearly within a phase, the plateau adds waves on top.
BASELINE = 0.05
PHASES = (
    (0.10, BASELINE),  # before the announcement: the usual trickle of sign-ups
    (0.17, 1.00),  # the announcement: to the peak within minutes (2 min of a 30 min run)
    (0.60, 0.90),  # the plateau, with waves (news, reminders, lunch breaks)
    (1.00, 0.15),  # the slow decline
)
WAVES = 3
WAVE_DEPTH = 0.2

_data: dict[str, Any] = {}


def share_of_peak(progress: float) -> float:
    """The share of the peak's users at `progress` (0 to 1) of the run."""
    start_at, start_share = 0.0, BASELINE
    for end_at, end_share in PHASES:
        if progress <= end_at:
            within = (progress - start_at) / (end_at - start_at)
            share = start_share + (end_share - start_share) * within
            if start_share == 1.00:  # the plateau: waves that dip below the straight line
                share -= WAVE_DEPTH * (1 - math.cos(2 * math.pi * WAVES * within)) / 2
            return share
        start_at, start_share = end_at, end_share
    return PHASES[-1][1]


class March2020(LoadTestShape):
    """The surge's user count over time; stops at the end of the curve."""

    def tick(self) -> tuple[int, float] | None:
        options = self.runner.environment.parsed_options
        seconds, peak = float(options.shape_seconds), int(options.peak_users)
        now = self.get_run_time()
        if now >= seconds:
            return None
        users = max(1, round(peak * share_of_peak(now / seconds)))
        # Fast enough to climb from baseline to peak within the announcement phase.
        rate = max(1.0, peak / max(seconds * (PHASES[1][0] - PHASES[0][0]), 1.0))
        return users, rate


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    parser.add_argument("--peak-users", type=int, default=500, env_var="LOADTEST_PEAK_USERS",
                        help="furlough_surge: users at the peak of the curve")  # fmt: skip
    parser.add_argument("--shape-seconds", type=int, default=1800,
                        env_var="LOADTEST_SHAPE_SECONDS",
                        help="furlough_surge: length of the whole curve")  # fmt: skip


@events.test_start.add_listener
def _load(environment: Any, **_: Any) -> None:
    if environment.parsed_options is not None and not environment.parsed_options.master:
        _data.update(scenario_data.load(environment, SCENARIO))


def request_size() -> int:
    """Employees per request: mostly a handful, some whole workshops, rarely a large firm."""
    roll = random.random()
    if roll < 0.80:
        return random.randint(1, 10)
    if roll < 0.98:
        return random.randint(11, 100)
    return random.randint(200, 1_000)


class Employer(FastHttpUser):
    """An employer: signs the organisation up, submits requests, polls their status."""

    weight = 50
    wait_time = between(1, 5)

    def on_start(self) -> None:
        self.organisation: int | None = None
        self.token = ""
        self.requests: list[int] = []
        # Signed up, an employer files its first request at once and looks at it: every
        # request kind the gates judge is then seen even in a short run.
        self.sign_up()
        self.submit()
        self.poll()
        self.list_requests()

    def sign_up(self) -> None:
        made = call(
            self, "POST", "/api/v1/organisations", name="POST /api/v1/organisations",
            token=None, body=identities.organisation(),
        )  # fmt: skip
        if made is not None:
            self.organisation, self.token = made["id"], made["token"]
            ledger.record("organisation", f"/api/v1/organisations/{made['id']}")

    @task(2)
    def submit(self) -> None:
        if self.organisation is None:
            self.sign_up()
            return
        body = {
            "reference": identities.unique("REQ"),
            "step_id": _data["step_id"],
            "academic_year": _data["academic_year"],
            "start_date": _data["start_date"],
            "employees": identities.employees(request_size()),
        }
        made = call(
            self, "POST", "/api/v1/requests", name="POST /api/v1/requests", token=self.token,
            body=body,
        )  # fmt: skip
        if made is not None:
            self.requests.append(made["id"])
            ledger.record("employer request", f"/api/v1/requests/{made['id']}", REQUEST_STATUSES)

    @task(6)
    def poll(self) -> None:
        if not self.requests:
            return
        call(
            self, "GET", f"/api/v1/requests/{random.choice(self.requests)}",
            name="GET /api/v1/requests/{id}", token=self.token,
        )  # fmt: skip

    @task(1)
    def list_requests(self) -> None:
        if self.organisation is None:
            return
        call(
            self, "GET", f"/api/v1/organisations/{self.organisation}/requests?limit=50",
            name="GET /api/v1/organisations/{id}/requests", token=self.token,
        )  # fmt: skip


class BackOffice(FastHttpUser):
    """Staff running the automatic validator over the queue, oldest first."""

    fixed_count = 1
    wait_time = between(2, 4)

    @task
    def validate(self) -> None:
        call(
            self, "POST", "/api/v1/requests/validate", name="POST /api/v1/requests/validate",
            token=self.environment.parsed_options.staff_token, body={"limit": 200},
            expect=(200,),
        )  # fmt: skip
