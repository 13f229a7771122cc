"""Reconciliation reports seats given against the rules, by kind, and the repair fixes them."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from sqlalchemy import Engine, insert, select, update

from app.propagation.reconcile import reconcile, repair_all
from app.services import activities, curricula, enrolments
from app.store.engine import read_transaction, write_transaction
from app.store.schema import learner, participation
from tests.app.fixtures import curriculum

LEARNERS = 6
# Far ahead of both the tests' frozen clock and the real one the CLI runs with.
YEAR = "2098-2099"


def school(engine: Engine) -> dict[str, Any]:
    """Six learners in one step; a lecture without capacity and a practical for three."""
    with write_transaction(engine) as conn:
        ids = curricula.import_curriculum(conn, curriculum())
        conn.execute(
            insert(learner),
            [
                {
                    "external_id": f"S{i}",
                    "first_name": "a",
                    "last_name": "b",
                    "email": f"s{i}@x.org",
                }
                for i in range(LEARNERS)
            ],
        )
        lecture = activities.create_activity(conn, _activity(ids, None))["id"]
        practical = activities.create_activity(conn, _activity(ids, 3))["id"]
        enrolments.create_enrolments(
            conn,
            [
                {
                    "learner_id": i + 1,
                    "step_id": ids["steps"]["LINFO-L1"],
                    "academic_year": YEAR,
                    "start_date": "2098-09-01",
                }
                for i in range(LEARNERS)
            ],
        )
    return {"lecture": lecture, "practical": practical}


def _activity(ids: dict[str, Any], capacity: int | None) -> dict[str, Any]:
    return {
        "element_id": ids["elements"]["LINFO-UE12"],
        "academic_year": YEAR,
        "kind": "lecture" if capacity is None else "practical",
        "starts_at": "2098-09-10T08:00:00Z",
        "ends_at": "2098-09-10T10:00:00Z",
        "capacity": capacity,
    }


def statuses(engine: Engine, activity_id: int) -> list[str]:
    """The activity's statuses in arrival order."""
    with read_transaction(engine) as conn:
        return list(
            conn.execute(
                select(participation.c.status)
                .where(participation.c.activity_id == activity_id)
                .order_by(participation.c.id)
            ).scalars()
        )


def set_status(engine: Engine, activity_id: int, positions: list[int], status: str) -> None:
    """Overwrite by hand the status of the participants at `positions` (arrival order)."""
    with write_transaction(engine) as conn:
        ids = list(
            conn.execute(
                select(participation.c.id)
                .where(participation.c.activity_id == activity_id)
                .order_by(participation.c.id)
            ).scalars()
        )
        conn.execute(
            update(participation)
            .where(participation.c.id.in_([ids[p] for p in positions]))
            .values(status=status)
        )


def drift_of(engine: Engine) -> dict[str, int]:
    with read_transaction(engine) as conn:
        return reconcile(conn).by_kind()


def test_a_consistent_school_has_no_seat_drift(engine):
    places = school(engine)
    assert statuses(engine, places["practical"]) == ["active"] * 3 + ["waitlisted"] * 3
    assert set(drift_of(engine).values()) == {0}


def test_waitlisted_without_capacity_is_reported_and_repaired(engine):
    places = school(engine)
    set_status(engine, places["lecture"], [1, 2, 4], "waitlisted")
    assert drift_of(engine) == {
        "missing": 0,
        "extra": 0,
        "waitlisted_with_free_seat": 3,
        "over_capacity": 0,
        "out_of_order": 0,
    }
    with write_transaction(engine) as conn:
        repair_all(conn)
    assert statuses(engine, places["lecture"]) == ["active"] * LEARNERS
    assert set(drift_of(engine).values()) == {0}


def test_seats_beyond_capacity_are_reported_and_the_latest_arrivals_waitlisted(engine):
    places = school(engine)
    set_status(engine, places["practical"], [3, 5], "active")
    drift = drift_of(engine)
    assert drift["over_capacity"] == 2
    assert drift["waitlisted_with_free_seat"] == 0
    with write_transaction(engine) as conn:
        repair_all(conn)
    assert statuses(engine, places["practical"]) == ["active"] * 3 + ["waitlisted"] * 3


def test_a_free_seat_with_someone_waiting_is_reported(engine):
    places = school(engine)
    set_status(engine, places["practical"], [2], "waitlisted")
    drift = drift_of(engine)
    assert drift["waitlisted_with_free_seat"] == 1
    # The one made to wait is still the earliest of those waiting: not out of order.
    assert drift["out_of_order"] == 0
    with write_transaction(engine) as conn:
        repair_all(conn)
    assert statuses(engine, places["practical"]) == ["active"] * 3 + ["waitlisted"] * 3


def test_an_earlier_arrival_waiting_behind_a_later_one_is_out_of_order(engine):
    places = school(engine)
    set_status(engine, places["practical"], [0], "waitlisted")
    set_status(engine, places["practical"], [4], "active")
    drift = drift_of(engine)
    # The first and the fourth arrivals wait while the fifth holds a seat.
    assert drift["out_of_order"] == 2
    assert drift["over_capacity"] == drift["waitlisted_with_free_seat"] == 0
    with write_transaction(engine) as conn:
        repair_all(conn)
    assert statuses(engine, places["practical"]) == ["active"] * 3 + ["waitlisted"] * 3
    assert set(drift_of(engine).values()) == {0}


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "check-participations", *args],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_participations_exits_non_zero_on_seat_drift_until_repaired(engine, settings):
    places = school(engine)
    set_status(engine, places["lecture"], [0, 1, 2, 3], "waitlisted")
    found = _cli(settings.database_url)
    assert found.returncode == 1, found.stderr
    assert "waitlisted while a seat is free 4" in found.stdout
    dry = _cli(settings.database_url, "--repair")
    assert dry.returncode == 1 and "dry run" in dry.stderr
    assert statuses(engine, places["lecture"]).count("waitlisted") == 4
    repaired = _cli(settings.database_url, "--repair", "--yes")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    clean = _cli(settings.database_url)
    assert clean.returncode == 0
    assert clean.stdout.strip().startswith("missing 0, not eligible 0, waitlisted while")
    assert statuses(engine, places["lecture"]) == ["active"] * LEARNERS
