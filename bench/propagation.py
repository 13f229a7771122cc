"""Propagation benchmark: every scenario of a school's year, at three sizes, on both engines.

For each engine (SQLite file, PostgreSQL server) and size (S ≈ 5,000, M ≈ 50,000,
L ≈ 500,000 participations moved), in one run:

  (a) batch enrolment into one step       (d) the same batch replayed (nothing created)
  (b) one new activity in a large step    (e) withdrawal of size/10 enrolments
  (c) size/10 enrolments change group     (f) reconciliation of the whole database
  (g) schedule conflicts of a step and of one learner (the step report walked page by page)

and for each: wall time (the service call and its commit), participations per second, SQL
statements, peak memory growth of this process, the ratio to a naive per-row propagation
(timed on a sample of S's pairs, extrapolated linearly and marked '~'), and the ratio to the
engine's bulk-load limit for the same rows (COPY on PostgreSQL), measured just before.

    .venv/bin/python bench/propagation.py [--sizes S M L] [--engines sqlite postgresql]
        [--database-url postgresql://...]   (default: $TEST_DATABASE_URL)

Results are printed as a table and written as JSON under bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bench_school
import bulk_limit
import requests
from per_row_baseline import PerRow, propagate_per_row
from sqlalchemy import Connection, Engine, Table, create_engine, event, func, select, text, update
from sqlalchemy.engine import make_url

from app.propagation.propagate import propagate
from app.propagation.reconcile import reconcile, repair_all
from app.propagation.scope import Scope
from app.services import activities, conflicts, enrolments
from app.settings import Settings
from app.store import migrate
from app.store.databases import drop_database
from app.store.engine import build_engine, normalise_url, write_transaction
from app.store.schema import activity, enrolment, enrolment_group, participation

SIZES = {"S": 5_000, "M": 50_000, "L": 500_000}
RESULTS = Path(__file__).resolve().parent / "results"
# The field's figure (DOMAIN.md): an ERP vendor's propagation, 4,800 participations in 4 s.
FIELD_PER_SECOND = 4_800 / 4.0


@dataclass
class Measure:
    engine: str
    size: str
    scenario: str
    participations: int
    seconds: float
    statements: int
    peak_mb: float
    limit_seconds: float | None
    limit_what: str
    baseline_seconds: float | None = None
    baseline_extrapolated: bool = False

    @property
    def per_second(self) -> float:
        return self.participations / self.seconds if self.seconds else 0.0


# --- where the database lives ------------------------------------------------------------


@contextmanager
def scratch_database(kind: str, server_url: str | None) -> Iterator[str]:
    """A new empty database: a SQLite file, or a database on the PostgreSQL server."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    if not server_url:
        raise SystemExit("PostgreSQL: give --database-url or set TEST_DATABASE_URL")
    admin_url = make_url(normalise_url(server_url))
    name = f"campus_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            drop_database(conn, name)
        admin.dispose()


def analyze(engine: Engine) -> None:
    """Statistics for the tables the setting filled, as a live database would have them."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))


# --- what one run costs ---------------------------------------------------------------------


@contextmanager
def statements_of(engine: Engine) -> Iterator[list[int]]:
    counter = [0]

    def count(*_args: Any) -> None:
        counter[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


@contextmanager
def peak_memory() -> Iterator[list[float]]:
    """Peak resident memory growth (MB) of this process while the block runs (Linux)."""
    growth = [0.0]
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets the peak (VmHWM) to now
        before = _status_kb("VmRSS")
    except OSError:
        before = 0
    yield growth
    if before:
        growth[0] = max(0, _status_kb("VmHWM") - before) / 1024


# --- the scenarios --------------------------------------------------------------------------

Work = Callable[[Connection], int]
PerRowWork = Callable[[Connection], PerRow]
# Pairs the per-row baseline decides; its cost per pair is flat, the rest is extrapolated.
PER_ROW_SAMPLE = 400


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    work: Callable[[bench_school.School], Work]
    per_row: Callable[[bench_school.School], PerRowWork] | None
    # Participations whose removal the limit replays (SQL over participation), if any.
    removes: Callable[[bench_school.School], str] | None = None
    # Participations the limit reads out, for scenarios that write nothing.
    reads: Callable[[bench_school.School], str] | None = None
    # Through the HTTP server: `work` then posts, and `dry` is the same change in-process
    # (for the rows the limit loads).
    dry: Callable[[bench_school.School], Work] | None = None


def _ids_sql(ids: list[int]) -> str:
    return ",".join(str(i) for i in ids) or "NULL"


def _enrolments_of(conn: Connection, step_id: int) -> list[int]:
    return list(
        conn.execute(
            select(enrolment.c.id)
            .where(enrolment.c.step_id == step_id, enrolment.c.status == "active")
            .order_by(enrolment.c.id)
        ).scalars()
    )


def scenario_a(school: bench_school.School) -> Work:
    batch = bench_school.batch_a(school)
    return lambda conn: enrolments.create_enrolments(conn, batch)["participations_created"]


def scenario_a_per_row(school: bench_school.School) -> PerRowWork:
    def work(conn: Connection) -> PerRow:
        ids = _insert_enrolments(conn, bench_school.batch_a(school))
        return propagate_per_row(conn, enrolment_ids=ids, sample=PER_ROW_SAMPLE)

    return work


def _insert_enrolments(conn: Connection, batch: list[dict]) -> list[int]:
    """The batch's enrolments and group links, one INSERT per row (the per-row way)."""
    e_table = enrolment
    ids = []
    for item in batch:
        new_id = conn.execute(
            e_table.insert()
            .values(
                learner_id=item["learner_id"],
                step_id=item["step_id"],
                academic_year=item["academic_year"],
                start_date=datetime.fromisoformat(item["start_date"]).date(),
                created_at=datetime.now(UTC),
            )
            .returning(e_table.c.id)
        ).scalar_one()
        conn.execute(
            enrolment_group.insert().values(enrolment_id=new_id, group_id=item["groups"][0])
        )
        ids.append(new_id)
    return ids


def scenario_b(school: bench_school.School) -> Work:
    body = bench_school.new_activity_b(school)
    return lambda conn: activities.create_activity(conn, body)["participations_created"]


def scenario_b_per_row(school: bench_school.School) -> PerRowWork:
    def work(conn: Connection) -> PerRow:
        body = bench_school.new_activity_b(school)
        new_id = conn.execute(
            activity.insert()
            .values(
                element_id=body["element_id"],
                academic_year=body["academic_year"],
                kind=body["kind"],
                starts_at=datetime.fromisoformat(body["starts_at"]),
                ends_at=datetime.fromisoformat(body["ends_at"]),
            )
            .returning(activity.c.id)
        ).scalar_one()
        return propagate_per_row(conn, activity_ids=[new_id], sample=PER_ROW_SAMPLE)

    return work


def _move_group(conn: Connection, school: bench_school.School) -> list[int]:
    """Step C's enrolments leave tutorial group A for group B: one UPDATE of their links."""
    conn.execute(
        update(enrolment_group)
        .where(
            enrolment_group.c.group_id == school.groups["C/TD-A"],
            enrolment_group.c.enrolment_id.in_(school.enrolments_c),
        )
        .values(group_id=school.groups["C/TD-B"])
    )
    return school.enrolments_c


def scenario_c(school: bench_school.School) -> Work:
    def work(conn: Connection) -> int:
        ids = _move_group(conn, school)
        outcome = propagate(conn, Scope("enrolment_update", enrolment_ids=ids))
        return outcome.created + outcome.removed

    return work


def scenario_c_per_row(school: bench_school.School) -> PerRowWork:
    def work(conn: Connection) -> PerRow:
        ids = _move_group(conn, school)
        return propagate_per_row(conn, enrolment_ids=ids, sample=PER_ROW_SAMPLE)

    return work


def scenario_d(school: bench_school.School) -> Work:
    def work(conn: Connection) -> int:
        ids = _enrolments_of(conn, school.steps["A"])
        outcome = propagate(conn, Scope("enrolment_batch", enrolment_ids=ids))
        assert outcome.created == outcome.removed == 0, outcome
        return len(ids) * bench_school.PER_ENROLMENT_A

    return work


def scenario_d_per_row(school: bench_school.School) -> PerRowWork:
    def work(conn: Connection) -> PerRow:
        ids = _enrolments_of(conn, school.steps["A"])
        return propagate_per_row(conn, enrolment_ids=ids, sample=PER_ROW_SAMPLE)

    return work


def _cancel_c(conn: Connection, school: bench_school.School) -> list[int]:
    conn.execute(
        update(enrolment)
        .where(enrolment.c.id.in_(school.enrolments_c))
        .values(status="cancelled", cancelled_at=datetime.now(UTC))
    )
    return school.enrolments_c


def scenario_e(school: bench_school.School) -> Work:
    def work(conn: Connection) -> int:
        ids = _cancel_c(conn, school)
        return propagate(conn, Scope("enrolment_cancel", enrolment_ids=ids)).removed

    return work


def scenario_e_per_row(school: bench_school.School) -> PerRowWork:
    def work(conn: Connection) -> PerRow:
        ids = _cancel_c(conn, school)
        return propagate_per_row(conn, enrolment_ids=ids, sample=PER_ROW_SAMPLE)

    return work


def _not_started(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(participation)).scalar_one()


def scenario_f_check(school: bench_school.School) -> Work:
    def work(conn: Connection) -> int:
        drift = reconcile(conn)
        assert drift.total == 0, drift
        return _not_started(conn)

    return work


def scenario_f_repair(school: bench_school.School) -> Work:
    def work(conn: Connection) -> int:
        outcome = repair_all(conn)
        assert outcome.created == outcome.removed == 0, outcome
        return _not_started(conn)

    return work


def scenario_f_per_row(school: bench_school.School) -> PerRowWork:
    def work(conn: Connection) -> PerRow:
        ids = list(conn.execute(select(activity.c.id).order_by(activity.c.id)).scalars())
        return propagate_per_row(conn, activity_ids=ids, sample=PER_ROW_SAMPLE)

    return work


def scenario_a_http(school: bench_school.School) -> Work:
    batch = {"enrolments": bench_school.batch_a(school, "H")}

    def work(_conn: Connection | None) -> int:
        assert SERVER is not None
        answer = requests.post(
            f"{SERVER.base}/api/v1/enrolments/batch",
            json=batch,
            headers={"Authorization": f"Bearer {SERVER.token}"},
            timeout=600,
        )
        assert answer.status_code == 201, answer.text
        return answer.json()["participations_created"]

    return work


def scenario_a_http_dry(school: bench_school.School) -> Work:
    batch = bench_school.batch_a(school, "H")
    return lambda conn: enrolments.create_enrolments(conn, batch)["participations_created"]


def scenario_g(school: bench_school.School) -> Work:
    """The first page (1,000 pairs) of the step report, as a client asks for it."""

    def work(conn: Connection) -> int:
        page = conflicts.step_conflicts(conn, school.steps["A"], bench_school.YEAR, 1000, None)
        return len(page["items"])

    return work


def scenario_g_learner(school: bench_school.School) -> Work:
    return lambda conn: len(conflicts.learner_conflicts(conn, 1, 1000, None)["items"])


SCENARIOS = (
    Scenario("a", "batch enrolment into one step", scenario_a, scenario_a_per_row),
    Scenario("a", "the same, through HTTP", scenario_a_http, None, dry=scenario_a_http_dry),
    Scenario("b", "one new activity, large step", scenario_b, scenario_b_per_row),
    Scenario(
        "c",
        "enrolments change tutorial group",
        scenario_c,
        scenario_c_per_row,
        removes=lambda s: (
            f"enrolment_id IN ({_ids_sql(s.enrolments_c)}) AND activity_id IN "
            f"(SELECT id FROM activity WHERE group_id = {s.groups['C/TD-A']})"
        ),
    ),
    Scenario(
        "d",
        "same batch replayed",
        scenario_d,
        scenario_d_per_row,
        reads=lambda s: (
            f"enrolment_id IN (SELECT id FROM enrolment WHERE step_id = {s.steps['A']})"
        ),
    ),
    Scenario(
        "e",
        "withdrawal of enrolments",
        scenario_e,
        scenario_e_per_row,
        removes=lambda s: f"enrolment_id IN ({_ids_sql(s.enrolments_c)})",
    ),
    Scenario(
        "f", "reconciliation: check", scenario_f_check, scenario_f_per_row, reads=lambda s: "1 = 1"
    ),
    Scenario("f", "reconciliation: repair", scenario_f_repair, None, reads=lambda s: "1 = 1"),
    Scenario(
        "g",
        "conflicts: step report, first page",
        scenario_g,
        None,
        reads=lambda s: (
            f"enrolment_id IN (SELECT id FROM enrolment WHERE step_id = {s.steps['A']})"
        ),
    ),
    Scenario(
        "g",
        "conflicts: one learner",
        scenario_g_learner,
        None,
        reads=lambda s: "enrolment_id IN (SELECT id FROM enrolment WHERE learner_id = 1)",
    ),
)


# --- one scenario, measured -----------------------------------------------------------------


def _rolled_back(engine: Engine, work: PerRowWork) -> PerRow:
    with engine.connect().execution_options(writes=True) as conn:
        trans = conn.begin()
        result = work(conn)
        trans.rollback()
    bulk_limit._vacuum(engine)
    return result


def _created_rows(
    engine: Engine, work: Work
) -> tuple[list[bulk_limit.Row], list[tuple[Table, list[dict]]]]:
    """The participations `work` creates, and the enrolments and activities it creates first,
    found by a dry run that is rolled back."""
    tables = (enrolment, activity)
    with engine.connect().execution_options(writes=True) as conn:
        trans = conn.begin()

        def newest(table: Table) -> int:
            return conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()

        before = {table.name: newest(table) for table in (*tables, participation)}
        work(conn)
        setting = [
            (
                table,
                [
                    dict(r)
                    for r in conn.execute(
                        select(table).where(table.c.id > before[table.name]).order_by(table.c.id)
                    ).mappings()
                ],
            )
            for table in tables
        ]
        rows = [
            tuple(r)
            for r in conn.execute(
                select(
                    participation.c.activity_id,
                    participation.c.enrolment_id,
                    participation.c.status,
                    participation.c.run_id,
                )
                .where(participation.c.id > before["participation"])
                .order_by(participation.c.id)
            )
        ]
        trans.rollback()
    bulk_limit._vacuum(engine)
    return rows, setting  # type: ignore[return-value]


def measure(
    engine: Engine, school: bench_school.School, size: str, scenario: Scenario, baseline: dict
) -> Measure:
    kind = engine.dialect.name
    work = scenario.work(school)
    if scenario.reads:
        limit_seconds, _ = bulk_limit.read(engine, scenario.reads(school))
        limit_what = (
            "COPY TO of the rows read" if kind == "postgresql" else "SELECT of the rows read"
        )
    else:
        created, setting = _created_rows(engine, scenario.dry(school) if scenario.dry else work)
        limit_seconds = bulk_limit.load(engine, created, setting)
        limit_what = "COPY of the rows created" if kind == "postgresql" else "executemany INSERT"
        if scenario.removes:
            with engine.connect() as conn:
                ids = list(
                    conn.execute(
                        text(f"SELECT id FROM participation WHERE {scenario.removes(school)}")
                    ).scalars()
                )
            limit_seconds += bulk_limit.remove(engine, ids)
            limit_what += " + bare DELETE of the rows removed"
    baseline_key = (scenario.key, scenario.label)
    if size == "S" and scenario.per_row is not None and WITH_BASELINE:
        baseline[baseline_key] = _rolled_back(engine, scenario.per_row(school)).seconds_for_all
    with statements_of(engine) as statements, peak_memory() as peak:
        started = time.perf_counter()
        if scenario.dry:
            moved = work(None)  # the server's own transaction
        else:
            with write_transaction(engine) as conn:
                moved = work(conn)
        seconds = time.perf_counter() - started
    if scenario.dry:
        statements[0] = 0  # counted in the server's process, not here
    result = Measure(
        engine=kind,
        size=size,
        scenario=f"({scenario.key}) {scenario.label}",
        participations=moved,
        seconds=seconds,
        statements=statements[0],
        peak_mb=peak[0],
        limit_seconds=limit_seconds,
        limit_what=limit_what,
    )
    if baseline_key in baseline:
        scale = moved / baseline[(*baseline_key, "moved")] if size != "S" else 1.0
        result.baseline_seconds = baseline[baseline_key] * scale
        result.baseline_extrapolated = True
    if size == "S":
        baseline[(*baseline_key, "moved")] = max(moved, 1)
    return result


def run(kind: str, size: str, server_url: str | None) -> list[Measure]:
    """Every scenario at one size on one engine, on a fresh database."""
    measures: list[Measure] = []
    baseline = BASELINES.setdefault(kind, {})
    with scratch_database(kind, server_url) as url:
        engine = build_engine(Settings(database_url=url, threads=2))
        try:
            migrate.upgrade(engine)
            started = time.perf_counter()
            school = bench_school.build(engine, SIZES[size])
            analyze(engine)
            print(
                f"  {kind} {size}: school built in {time.perf_counter() - started:.1f} s",
                file=sys.stderr,
            )
            with serving(url):
                for scenario in SCENARIOS:
                    if scenario.key not in CHOSEN:
                        continue
                    measures.append(measure(engine, school, size, scenario, baseline))
                    print_row(measures[-1])
        finally:
            engine.dispose()
    return measures


BASELINES: dict[str, dict] = {}


@dataclass(frozen=True)
class Server:
    base: str
    token: str


SERVER: Server | None = None


@contextmanager
def serving(url: str) -> Iterator[None]:
    """The app served by its production server on a free loopback port, for the HTTP case."""
    global SERVER
    env = {**os.environ, "DATABASE_URL": url, "APP_WORKERS": "1", "APP_THREADS": "2"}
    token = subprocess.run(
        [sys.executable, "-m", "app", "create-token", "--role", "staff", "--name", "bench"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if requests.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        else:
            raise SystemExit("the app server did not become ready")
        SERVER = Server(base, token)
        yield
    finally:
        SERVER = None
        server.terminate()
        server.wait(timeout=60)


WITH_BASELINE = True
CHOSEN = set("abcdefg")


# --- output ---------------------------------------------------------------------------------

HEADER = (
    f"{'engine':10} {'size':4} {'scenario':38} {'rows':>8} {'seconds':>8} {'rows/s':>10} "
    f"{'stmts':>5} {'peak MB':>7} {'per-row s':>11} {'speed-up':>9} {'limit s':>8} "
    f"{'x limit':>7}"
)


def print_row(m: Measure) -> None:
    baseline = "-"
    speedup = "-"
    if m.baseline_seconds is not None:
        mark = "~" if m.baseline_extrapolated else ""
        baseline = f"{mark}{m.baseline_seconds:.2f}"
        speedup = f"{mark}{m.baseline_seconds / m.seconds:.0f}x"
    limit = f"{m.limit_seconds:.3f}" if m.limit_seconds else "-"
    ratio = f"{m.seconds / m.limit_seconds:.2f}" if m.limit_seconds else "-"
    print(
        f"{m.engine:10} {m.size:4} {m.scenario:38} {m.participations:>8} {m.seconds:>8.3f} "
        f"{m.per_second:>10,.0f} {m.statements or '-':>5} {m.peak_mb:>7.1f} {baseline:>11} "
        f"{speedup:>9} {limit:>8} {ratio:>7}",
        flush=True,
    )


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "note": "shared build machine: figures are noisy; compare ratios measured in one run",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(SIZES))
    parser.add_argument(
        "--engines", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"]
    )
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument(
        "--out", type=Path, default=None, help="JSON file (default: bench/results/)"
    )
    parser.add_argument("--scenarios", nargs="+", choices=list("abcdefg"), default=list("abcdefg"))
    parser.add_argument("--no-baseline", action="store_true", help="skip the per-row baseline")
    args = parser.parse_args()
    global WITH_BASELINE, CHOSEN
    WITH_BASELINE = not args.no_baseline
    CHOSEN = set(args.scenarios)
    sizes = sorted(args.sizes, key=list(SIZES).index)
    if sizes[0] != "S" and WITH_BASELINE:
        sizes.insert(0, "S")  # the per-row baseline is timed on S
    info = machine()
    print(
        f"propagation benchmark, {info['cpus']} CPUs, load {info['load_average_at_start'][0]:.1f}"
        f" (shared machine: noisy). Per-row baseline timed on S; '~': extrapolated"
        f" linearly from {PER_ROW_SAMPLE} pairs decided on S."
        f" Field: {FIELD_PER_SECOND:,.0f} participations/s."
    )
    print(HEADER)
    measures: list[Measure] = []
    for kind in args.engines:
        if kind == "postgresql":
            with create_engine(normalise_url(args.database_url)).connect() as conn:
                info["postgresql"] = conn.execute(text("SHOW server_version")).scalar_one()
        for size in sizes:
            measures += run(kind, size, args.database_url)
    out = args.out or RESULTS / f"propagation-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for m in measures:
        row = asdict(m)
        row["per_second"] = m.per_second
        row["x_limit"] = m.seconds / m.limit_seconds if m.limit_seconds else None
        row["speed_up_vs_per_row"] = m.baseline_seconds / m.seconds if m.baseline_seconds else None
        rows.append(row)
    out.write_text(json.dumps({"machine": info, "results": rows}, indent=2) + "\n")
    # Relative when it can be: a transcript kept beside the results names no one's checkout.
    shown = out.resolve()
    if shown.is_relative_to(Path.cwd()):
        shown = shown.relative_to(Path.cwd())
    print(f"results: {shown}")


if __name__ == "__main__":
    main()
