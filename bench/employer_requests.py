"""Employer requests benchmark: the automatic validator over 60,000 submitted requests, and
sign-ups per second on the served app.

Prints, in one run, each figure, its ratio to the field baseline and its ratio to the
physical limit on this machine:

- validator: 60,000 requests of 1 to 50 employees (about 1.5 million employees) judged and
  approved (learners, enrolments, participations created) on PostgreSQL, by `--workers`
  validators at once as `platform-tools requests validate --workers` runs them (each a
  session of its own on its share of the organisations; 1 for a single one). Field baseline: one
  person validating dossiers by hand, "how can one person validate 60,000 dossiers a day?",
  i.e. 60,000 in a day; the issue's target is under 60 s. Physical limit: the same learner,
  enrolment and participation rows written by bare INSERT … SELECT with nothing decided.
  The school starts with 20,000 learners enrolled last year and analysed tables, as a
  running one has (autovacuum keeps the statistics as the tables grow).
  Statements per validator run are printed for a small and a full batch: they must be equal.
- sign-up: organisations signed up per second through `python -m app serve` on PostgreSQL.
  Field baseline: 1.3 million companies in about three weeks (0.7 per second on average, on a
  site that "crashed at sign-up"). Physical limit: the same server answering /healthz (no
  database), the HTTP stack's own ceiling.

    .venv/bin/python bench/employer_requests.py --database-url postgresql://... \
        [--requests 60000] [--batch 2000] [--workers 2] [--activities 1] \
        [--signups 2000] [--clients 8]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import event, text

from app.domain.employer_limits import MAX_BIGINT
from app.services import activities, curricula
from app.services.request_validator import ValidationRun
from app.settings import Settings
from app.store import migrate
from app.store.engine import build_engine, write_transaction
from platform_tools.requests.workers import validate_until_done

sys.path.insert(0, str(Path(__file__).parent))
from propagation import scratch_database

REPO = Path(__file__).resolve().parents[1]
FIELD_DOSSIERS_PER_DAY = 60_000
FIELD_SIGNUPS_PER_SECOND = 1_300_000 / (21 * 86_400)
YEAR = "2099-2100"


def seed(engine, requests: int, activity_count: int) -> int:
    """A step with `activity_count` lectures, a generous rule, 1,000 organisations and
    `requests` submitted requests of 1 to 50 employees; returns the number of employees."""
    units = [
        {"code": f"U{i}", "label": f"Unit {i}", "kind": "unit", "optional": False}
        for i in range(max(activity_count, 1))
    ]
    body = {
        "programme": {"code": "E", "label": "Employers"},
        "version": {"code": "E-1", "label": "Employers", "curriculum_period": "2024-2029"},
        "steps": [{"code": "E-L1", "label": "L1", "year_index": 1, "elements": units}],
    }
    with write_transaction(engine) as conn:
        ids = curricula.import_curriculum(conn, body)
        for i in range(activity_count):
            activities.create_activity(
                conn,
                {
                    "element_id": ids["elements"][f"U{i}"],
                    "academic_year": YEAR,
                    "kind": "lecture",
                    "starts_at": "2099-10-01T08:00:00Z",
                    "ends_at": "2099-10-01T10:00:00Z",
                },
            )
        step = ids["steps"]["E-L1"]
        conn.execute(
            text(
                "INSERT INTO validation_rule (effective_from, max_hours_per_employee,"
                " max_employees_per_request, max_total_hours_per_organisation, created_at)"
                " VALUES ('2000-01-01', 1000000, 5000, :max, now())"
            ),
            {"max": MAX_BIGINT},
        )
        conn.execute(
            text(
                "INSERT INTO organisation (siret, name, contact_email, created_at)"
                " SELECT lpad(g::text, 14, '0'), 'Org ' || g, 'hr' || g || '@example.org', now()"
                " FROM generate_series(1, 1000) g"
            )
        )
        conn.execute(
            text(
                "INSERT INTO employer_request (organisation_id, reference, step_id,"
                " academic_year, start_date, employees, total_hours, submitted_at)"
                " SELECT 1 + g % 1000, 'R' || g, :step, :year, DATE '2099-09-01',"
                " 1 + (g * 7919) % 50, (1 + (g * 7919) % 50) * 120,"
                " now() - interval '1 day' + g * interval '1 millisecond'"
                " FROM generate_series(1, :n) g"
            ),
            {"step": step, "year": YEAR, "n": requests},
        )
        conn.execute(
            text(
                "INSERT INTO request_employee (request_id, position, external_id, first_name,"
                " last_name, email, hours)"
                " SELECT r.id, p, 'X' || r.id || '-' || p, 'Ada', 'Lovelace',"
                " 'x' || r.id || '-' || p || '@example.org', 120"
                " FROM employer_request r, generate_series(0, r.employees - 1) p"
            )
        )
        # The school already has learners and enrolments (last year's), as a real one does:
        # the planner then knows these tables, as autovacuum's statistics would tell it.
        conn.execute(
            text(
                "INSERT INTO learner (external_id, first_name, last_name, email)"
                " SELECT 'S' || g, 'Old', 'Learner', 's' || g || '@example.org'"
                " FROM generate_series(1, 20000) g"
            )
        )
        conn.execute(
            text(
                "INSERT INTO enrolment (learner_id, step_id, academic_year, start_date,"
                " created_at) SELECT id, :step, '2098-2099', DATE '2098-09-01', now()"
                " FROM learner"
            ),
            {"step": step},
        )
        employees = conn.execute(text("SELECT sum(employees) FROM employer_request")).scalar()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    return int(employees)


def validate_all(engine, batch: int, workers: int) -> tuple[float, list[int], int, int]:
    """Run the validator as `platform-tools requests validate --workers` does, until nothing is
    submitted: (seconds, statements per run, approved, referred)."""
    counts: list[int] = []
    current: Counter[int] = Counter()
    totals = {"approved": 0, "referred": 0}

    def count(*_args) -> None:
        current[threading.get_ident()] += 1

    def judged(_worker: int, run: ValidationRun) -> None:
        # Called in the worker's thread after each run: its statements since the last one.
        counts.append(current.pop(threading.get_ident(), 0))
        totals["approved"] += run.approved
        totals["referred"] += run.referred

    event.listen(engine, "before_cursor_execute", count)
    started = time.perf_counter()
    validate_until_done(engine, batch, None, workers, judged)
    seconds = time.perf_counter() - started
    event.remove(engine, "before_cursor_execute", count)
    return seconds, counts, totals["approved"], totals["referred"]


def floor_seconds(engine) -> float:
    """The same rows written by bare INSERT … SELECT into copies of the tables."""
    with write_transaction(engine) as conn:
        for table in ("learner", "enrolment", "participation"):
            conn.execute(text(f"CREATE TABLE floor_{table} (LIKE {table} INCLUDING ALL)"))
    started = time.perf_counter()
    with write_transaction(engine) as conn:
        conn.execute(
            text(
                "INSERT INTO floor_learner (id, external_id, first_name, last_name, email)"
                " SELECT id, external_id, first_name, last_name, email FROM learner"
            )
        )
        conn.execute(
            text(
                "INSERT INTO floor_enrolment (id, learner_id, step_id, academic_year,"
                " start_date, status, created_at) SELECT id, learner_id, step_id,"
                " academic_year, start_date, status, created_at FROM enrolment"
            )
        )
        conn.execute(
            text(
                "INSERT INTO floor_participation (id, activity_id, enrolment_id, status, run_id)"
                " SELECT id, activity_id, enrolment_id, status, run_id FROM participation"
            )
        )
    return time.perf_counter() - started


def bench_validator(
    server: str, requests: int, batch: int, activity_count: int, workers: int
) -> None:
    with scratch_database("postgresql", server) as url:
        engine = build_engine(Settings(database_url=url))
        migrate.upgrade(engine)
        employees = seed(engine, requests, activity_count)
        seconds, counts, approved, referred = validate_all(engine, batch, workers)
        floor = floor_seconds(engine)
        engine.dispose()
    # A small run for the statement count: 10 requests instead of a full batch.
    with scratch_database("postgresql", server) as url:
        engine = build_engine(Settings(database_url=url))
        migrate.upgrade(engine)
        seed(engine, 10, activity_count)
        _, small_counts, _, _ = validate_all(engine, batch, 1)
        engine.dispose()
    field_seconds = 86_400 * requests / FIELD_DOSSIERS_PER_DAY
    print(
        f"validator: {requests} requests ({employees} employees, {activity_count} activities) "
        f"judged in {seconds:.1f} s ({approved} approved, {referred} referred), "
        f"{len(counts)} runs of up to {batch}, {workers} at once"
        f" | target 60 s: {60 / seconds:.2f}x under it"
        f" | field (one person, 60,000 a day): {field_seconds / seconds:,.0f}x faster"
        f" | floor {floor:.1f} s: {seconds / floor:.1f}x the floor"
    )
    print(
        f"validator statements per run: {small_counts[0]} for 10 requests, "
        f"{sorted(set(counts))} for runs of {batch} (same: {set(counts) == set(small_counts)})"
    )
    return seconds


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _hammer(
    port: int, path: str, bodies: list[bytes | None], clients: int
) -> tuple[float, list[int]]:
    """Send every body from `clients` threads on keep-alive connections: (seconds, statuses)."""
    statuses: list[int] = []
    lock = threading.Lock()
    chunks = [bodies[i::clients] for i in range(clients)]
    barrier = threading.Barrier(clients + 1)

    def worker(chunk: list[bytes | None]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        barrier.wait()
        mine = []
        for body in chunk:
            method = "GET" if body is None else "POST"
            conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            mine.append(response.status)
        conn.close()
        with lock:
            statuses.extend(mine)

    threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, statuses


def _siret(seed: int) -> str:
    from app.domain.siret import luhn_valid

    body = f"{seed:013d}"
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


def bench_signup(server: str, signups: int, clients: int, repeat: int) -> None:
    rates, ceilings, conflicts = [], [], 0
    for attempt in range(repeat):
        with scratch_database("postgresql", server) as url:
            port = _free_port()
            env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
            subprocess.run([sys.executable, "-m", "app", "migrate"], cwd=REPO, env=env, check=True)
            server_process = subprocess.Popen(
                [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)],
                cwd=REPO,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                for _ in range(200):
                    try:
                        http.client.HTTPConnection("127.0.0.1", port, timeout=1).request(
                            "GET", "/healthz"
                        )
                        break
                    except OSError:
                        time.sleep(0.1)
                bodies = [
                    json.dumps(
                        {
                            "siret": _siret(attempt * 10_000_000 + i),
                            "name": f"Company {i}",
                            "contact_email": f"hr{i}@company.example",
                        }
                    ).encode()
                    for i in range(signups)
                ]
                seconds, statuses = _hammer(port, "/api/v1/organisations", bodies, clients)
                assert statuses.count(201) == signups, {s: statuses.count(s) for s in set(statuses)}
                rates.append(signups / seconds)
                # The same SIRETs again: each one is a 409 from the unique index.
                _, again = _hammer(port, "/api/v1/organisations", bodies[:200], clients)
                conflicts += again.count(409)
                health_seconds, _ = _hammer(port, "/healthz", [None] * signups, clients)
                ceilings.append(signups / health_seconds)
            finally:
                server_process.send_signal(signal.SIGTERM)
                server_process.wait(30)
    rate, ceiling = statistics.median(rates), statistics.median(ceilings)
    print(
        f"sign-up: {rate:.0f} organisations/s (median of {repeat}; {clients} clients, "
        f"{signups} each run, workers {os.environ.get('APP_WORKERS', '2')} x threads "
        f"{os.environ.get('APP_THREADS', '4')}) | field average "
        f"{FIELD_SIGNUPS_PER_SECOND:.2f}/s: {rate / FIELD_SIGNUPS_PER_SECOND:,.0f}x"
        f" | ceiling /healthz {ceiling:.0f}/s: {rate / ceiling:.2f} of it"
        f" | duplicates answered 409: {conflicts}/{200 * repeat}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL server URL")
    parser.add_argument("--requests", type=int, default=60_000)
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=2, help="validators at once")
    parser.add_argument("--activities", type=int, default=1)
    parser.add_argument("--signups", type=int, default=2_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip", choices=["validator", "signup"], action="append", default=[])
    args = parser.parse_args()
    if "validator" not in args.skip:
        bench_validator(args.database_url, args.requests, args.batch, args.activities, args.workers)
    if "signup" not in args.skip:
        bench_signup(args.database_url, args.signups, args.clients, args.repeat)


if __name__ == "__main__":
    main()
