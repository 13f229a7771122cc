"""Propagation benchmark: time and SQL statements to enrol a batch that creates N participations.

Prints, in one run, the figure, its ratio to the field baseline (an ERP vendor's propagation:
4,800 participations in 4 s with 20 database calls) and its ratio to the physical limit on this
machine (the same rows written by one bare INSERT … SELECT with no eligibility logic).

    .venv/bin/python bench/propagation.py [--database-url URL] [--participations 4800 10000 50000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, event, insert, text
from sqlalchemy.engine import make_url

from app.services import activities, curricula, enrolments
from app.settings import Settings
from app.store import migrate
from app.store.engine import build_engine, normalise_url, write_transaction
from app.store.schema import learner, participation, propagation_run

FIELD = {"participations": 4800, "seconds": 4.0, "calls": 20}
ACTIVITIES = 48


def scratch_database(server_url: str | None) -> tuple[str, Callable[[], None]]:
    """A new empty database: a SQLite file, or a database on the given PostgreSQL server."""
    if not server_url:
        path = Path(tempfile.mkdtemp()) / "bench.db"
        return f"sqlite:///{path}", lambda: path.unlink(missing_ok=True)
    admin_url = make_url(normalise_url(server_url))
    name = f"campus_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return admin_url.set(database=name).render_as_string(hide_password=False), drop


def school(engine, learners: int) -> dict:
    """One step, ACTIVITIES lectures on one unit, `learners` learners not yet enrolled."""
    units = [
        {"code": f"U{i}", "label": f"Unit {i}", "kind": "unit", "optional": False}
        for i in range(ACTIVITIES)
    ]
    body = {
        "programme": {"code": "B", "label": "Bench"},
        "version": {"code": "B-1", "label": "Bench", "curriculum_period": "2024-2029"},
        "steps": [{"code": "B-L1", "label": "L1", "year_index": 1, "elements": units}],
    }
    with write_transaction(engine) as conn:
        ids = curricula.import_curriculum(conn, body)
        for i in range(ACTIVITIES):
            activities.create_activity(
                conn,
                {
                    "element_id": ids["elements"][f"U{i}"],
                    "academic_year": "2099-2100",
                    "kind": "lecture",
                    "starts_at": "2099-10-01T08:00:00Z",
                    "ends_at": "2099-10-01T10:00:00Z",
                    "capacity": learners // 2,
                },
            )
        conn.execute(
            insert(learner),
            [
                {
                    "external_id": f"B{i}",
                    "first_name": "a",
                    "last_name": "b",
                    "email": f"b{i}@example.org",
                }
                for i in range(learners)
            ],
        )
    return ids


def run_once(url: str, participations: int) -> tuple[float, int, float]:
    """(seconds, statements) of one batch enrolment, and the bare-insert floor in seconds."""
    engine = build_engine(Settings(database_url=url))
    migrate.upgrade(engine)
    learners = participations // ACTIVITIES
    ids = school(engine, learners)
    batch = [
        {
            "learner_id": i + 1,
            "step_id": ids["steps"]["B-L1"],
            "academic_year": "2099-2100",
            "start_date": "2099-09-01",
        }
        for i in range(learners)
    ]
    statements = 0

    def count(*_args) -> None:
        nonlocal statements
        statements += 1

    event.listen(engine, "before_cursor_execute", count)
    started = time.perf_counter()
    with write_transaction(engine) as conn:
        result = enrolments.create_enrolments(conn, batch)
    seconds = time.perf_counter() - started
    event.remove(engine, "before_cursor_execute", count)
    assert result["participations_created"] == learners * ACTIVITIES

    # The floor: the same number of rows, one INSERT … SELECT, nothing decided.
    with write_transaction(engine) as conn:
        conn.execute(participation.delete())
        run = conn.execute(
            insert(propagation_run)
            .values(trigger="reconcile", started_at=text("CURRENT_TIMESTAMP"))
            .returning(propagation_run.c.id)
        ).scalar_one()
    floor_started = time.perf_counter()
    with write_transaction(engine) as conn:
        conn.execute(
            text(
                "INSERT INTO participation (activity_id, enrolment_id, status, run_id) "
                "SELECT a.id, e.id, 'active', :run FROM activity a CROSS JOIN enrolment e "
                "ORDER BY a.id, e.id"
            ),
            {"run": run},
        )
    floor = time.perf_counter() - floor_started
    engine.dispose()
    return seconds, statements, floor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a PostgreSQL server URL (default: a SQLite file)")
    parser.add_argument("--participations", type=int, nargs="+", default=[4800, 9600, 48000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        f"field baseline: {FIELD['participations']} participations in {FIELD['seconds']} s "
        f"with {FIELD['calls']} database calls"
    )
    for size in args.participations:
        runs = []
        for _ in range(args.repeat):
            url, drop = scratch_database(args.database_url)
            try:
                runs.append(run_once(url, size))
            finally:
                drop()
        seconds = statistics.median(r[0] for r in runs)
        floor = statistics.median(r[2] for r in runs)
        statements = runs[0][1]
        engine_name = "postgresql" if args.database_url else "sqlite"
        field_seconds = FIELD["seconds"] * size / FIELD["participations"]
        print(
            f"{engine_name:10} {size:>6} participations: {seconds:6.3f} s, {statements} statements"
            f" | field: {field_seconds / seconds:5.1f}x faster,"
            f" {statements / FIELD['calls']:.2f}x its calls"
            f" | floor {floor:6.3f} s: {seconds / floor:4.1f}x the floor"
        )


if __name__ == "__main__":
    main()
