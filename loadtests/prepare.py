"""Create, through the API, what a scenario needs on a fresh database; write it as JSON.

    python -m loadtests.prepare --scenario rentree_wave --host http://127.0.0.1:8000 \
        --staff-token TOKEN --out var/loadtests/rentree_wave.json [--students 200]

Everything is made with the staff token through the public API: a curriculum of its own
(codes carry the run's id, so preparing twice never collides), its activities, enrolled
students, and per scenario an open exam period with modalities and exams, or the validation
rule employers' requests are judged by. Student tokens can only be minted next to the
database (`python -m app create-token`): `run_local.py` mints them; against a remote
deployment without them, student calls are made with the staff token (the API lets staff
read and register for any learner) and the report says so.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

SCENARIOS = ("rentree_wave", "furlough_surge", "exam_rush")
UNITS = ("ALGO", "PROG", "MATH", "SYS")
GROUPS = ("TD-A", "TD-B", "TD-C")
BATCH = 500


class PrepareError(RuntimeError):
    """The app refused a preparation call: the message names the call and its answer."""


class Api:
    """The few calls preparation makes, with the staff token."""

    def __init__(self, host: str, token: str) -> None:
        self.host = host.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def send(self, method: str, path: str, body: Any = None, status: int = 201) -> Any:
        try:
            resp = self.session.request(method, self.host + path, json=body, timeout=120)
        except requests.RequestException as exc:
            raise PrepareError(f"{method} {path}: {exc}") from None
        if resp.status_code != status:
            raise PrepareError(f"{method} {path}: HTTP {resp.status_code} {resp.text[:500]}")
        return resp.json()


def academic_year(today: date) -> tuple[str, str]:
    """The next academic year that has not started: its activities are all in the future,
    which is when enrolments propagate to them."""
    first = today.year + 1
    return f"{first}-{first + 1}", f"{first}-09-01"


def curriculum(run: str) -> dict[str, Any]:
    """One step with groups and mandatory units, codes unique to the run."""
    code = f"LT{run}".upper()
    return {
        "programme": {"code": code, "label": f"Licence charge {run}"},
        "version": {
            "code": f"{code}-V1",
            "label": "Version de charge",
            "curriculum_period": "2024-2029",
        },
        "steps": [
            {
                "code": f"{code}-L1",
                "label": "Première année",
                "year_index": 1,
                "groups": [{"code": g, "label": f"Groupe {g}"} for g in GROUPS],
                "elements": [
                    {
                        "code": f"{code}-{unit}",
                        "label": f"Unité {unit}",
                        "kind": "unit",
                        "optional": False,
                        "hours": 40,
                    }
                    for unit in UNITS
                ],
            }
        ],
    }


def school(api: Api, run: str, today: date) -> dict[str, Any]:
    """The curriculum and a lecture per unit plus a tutorial per unit and group."""
    year, start = academic_year(today)
    ids = api.send("POST", "/api/v1/curricula", curriculum(run))
    code = f"LT{run}".upper()
    step = ids["steps"][f"{code}-L1"]
    groups = [ids["groups"][f"{code}-L1/{g}"] for g in GROUPS]
    units = [ids["elements"][f"{code}-{u}"] for u in UNITS]
    first = int(year[:4])
    activities = []
    for i, unit in enumerate(units):
        for j, group in enumerate([None, *groups]):
            day = 7 + i * 3 + j
            body = {
                "element_id": unit,
                "academic_year": year,
                "kind": "lecture" if group is None else "tutorial",
                "group_id": group,
                "starts_at": f"{first}-09-{day:02d}T08:00:00+02:00",
                "ends_at": f"{first}-09-{day:02d}T10:00:00+02:00",
                "capacity": None,
            }
            activities.append(api.send("POST", "/api/v1/activities", body)["id"])
    return {
        "academic_year": year,
        "start_date": start,
        "step_id": step,
        "group_ids": groups,
        "unit_ids": units,
        "activity_ids": activities,
    }


def students(
    api: Api,
    run: str,
    base: dict[str, Any],
    count: int,
    mint: Callable[[int], str] | None,
) -> list[dict[str, Any]]:
    """`count` learners enrolled in the step (batch), each with a student token if `mint`."""
    made = []
    for i in range(count):
        body = {
            "external_id": f"LT-{run}-S{i:06d}",
            "first_name": "Léa",
            "last_name": f"Prépa-{i}",
            "email": f"lt-{run}-s{i}@example.org".lower(),
        }
        made.append(api.send("POST", "/api/v1/learners", body)["id"])
    enrolments: list[int] = []
    groups = base["group_ids"]
    for lo in range(0, len(made), BATCH):
        batch = [
            {
                "learner_id": learner,
                "step_id": base["step_id"],
                "academic_year": base["academic_year"],
                "start_date": base["start_date"],
                "groups": [groups[(lo + k) % len(groups)]],
            }
            for k, learner in enumerate(made[lo : lo + BATCH])
        ]
        enrolments += api.send("POST", "/api/v1/enrolments/batch", {"enrolments": batch})["ids"]
    return [
        {"learner_id": learner, "enrolment_id": enrolment, "token": mint(learner) if mint else ""}
        for learner, enrolment in zip(made, enrolments, strict=True)
    ]


def exam_period(api: Api, base: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Period 1 of the year, open, closing in a few hours (the rush before the deadline), with
    a campus and a remote modality and one exam per unit."""
    body = {
        "academic_year": base["academic_year"],
        "number": 1,
        "opens_at": (now - timedelta(days=14)).isoformat(timespec="seconds"),
        "closes_at": (now + timedelta(hours=6)).isoformat(timespec="seconds"),
    }
    period = api.send("POST", "/api/v1/exam-periods", body)["id"]
    api.send("PATCH", f"/api/v1/exam-periods/{period}", {"status": "open"}, status=200)
    suffix = uuid.uuid4().hex[:6].upper()
    modalities = [
        api.send(
            "POST",
            "/api/v1/exam-modalities",
            {
                "code": f"{code}-{suffix}",
                "label": label,
                "fixed_fee_cents": fixed,
                "fee_per_hour_cents": hourly,
                "needs_centre": False,
            },
        )["id"]
        for code, label, fixed, hourly in (
            ("CAMPUS", "Sur site (campus principal)", 5_000, 1_250),
            ("REMOTE", "Télé-examen à distance", 3_000, 999),
        )
    ]
    first = int(base["academic_year"][5:])
    exams = [
        api.send(
            "POST",
            "/api/v1/exams",
            {
                "element_id": unit,
                "period_id": period,
                "supervised_hours": 2 + i % 3,
                "starts_at": f"{first}-01-{10 + i:02d}T09:00:00+01:00",
                "modality_ids": modalities,
            },
        )["id"]
        for i, unit in enumerate(base["unit_ids"])
    ]
    return {"period_id": period, "modality_ids": modalities, "exam_ids": exams}


def validation_rule(api: Api, today: date) -> int:
    """The rule employers' requests are judged by: generous, as during the 2020 surge."""
    body = {
        "effective_from": today.isoformat(),
        "max_hours_per_employee": 1_000_000,
        "max_employees_per_request": 5_000,
        "max_total_hours_per_organisation": 2**62,
        "allowed_step_ids": None,
    }
    return api.send("POST", "/api/v1/validation-rules", body)["id"]


def prepare(
    scenario: str,
    host: str,
    staff_token: str,
    student_count: int,
    mint: Callable[[int], str] | None = None,
) -> dict[str, Any]:
    """Create the scenario's data through the API and answer it (to be written as JSON)."""
    if scenario not in SCENARIOS:
        raise PrepareError(f"scenario must be one of {', '.join(SCENARIOS)}, got {scenario!r}")
    api = Api(host, staff_token)
    run = uuid.uuid4().hex[:8]
    now = datetime.now(UTC)
    base = school(api, run, now.date())
    data: dict[str, Any] = {"scenario": scenario, "run": run, "host": host, **base}
    data["students"] = students(api, run, base, student_count, mint)
    if scenario == "exam_rush":
        data.update(exam_period(api, base, now))
    if scenario == "furlough_surge":
        # Europe/Paris is ahead of UTC: a rule from UTC's today is in force on the app's today.
        data["validation_rule_id"] = validation_rule(api, now.date())
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", required=True, choices=SCENARIOS)
    parser.add_argument("--host", required=True, help="The app's base URL")
    parser.add_argument("--staff-token", required=True, help="A staff (or admin) bearer token")
    parser.add_argument("--students", type=int, default=200, help="Enrolled students to make")
    parser.add_argument("--out", required=True, type=Path, help="Where to write the JSON")
    args = parser.parse_args(argv)
    if not 0 <= args.students <= 100_000:
        parser.error("--students must be between 0 and 100000")
    try:
        data = prepare(args.scenario, args.host, args.staff_token, args.students)
    except PrepareError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data), encoding="utf-8")
    print(f"{args.scenario}: data written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
