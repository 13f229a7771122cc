"""Exam-notice batch benchmark: time to write the notices of a whole period.

Prints, in one run, the figure (seconds for N notices of E exams each, through the same code
as `platform-tools exams documents --kind notices`: one read of the period, rendering on
--jobs processes, one file per notice), its ratio to the target (6,000 notices in 2 minutes)
and its ratio to the physical limit on this machine: encoding the same QR codes and writing
the same bytes, with nothing else, on the same number of processes.

The machine may be shared: the CPU seconds the batch used (this process and its workers) are
printed too, with the wall time they would take on --jobs idle CPUs.

    .venv/bin/python bench/exam_notices.py [--database-url postgresql://...] [--notices 6000]
        [--exams 5] [--jobs N] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import segno
from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.documents.qr import ERROR_LEVEL, MASK
from app.domain.exam_notice_tokens import NoticeClaim, sign
from app.services import curricula, exam_config
from app.settings import Settings
from app.store import migrate
from app.store.engine import build_engine, write_transaction
from app.store.schema import enrolment, learner
from app.store.schema_exams import exam_registration, exam_registration_exam
from bench.propagation import scratch_database
from platform_tools.exams.batch import generate, load

TARGET = {"notices": 6000, "seconds": 120.0}
YEAR = "2026-2027"
KEY = "benchmark key, long enough for the production rule"


def period_with_final_registrations(url: str, notices: int, exams: int) -> int:
    """A period with `notices` final registrations of `exams` exams each (set up in bulk)."""
    engine = build_engine(Settings(database_url=url))
    migrate.upgrade(engine)
    units = [
        {"code": f"U{i}", "label": f"Unité d'enseignement {i}", "kind": "unit", "optional": False}
        for i in range(exams)
    ]
    body = {
        "programme": {"code": "B", "label": "Bench"},
        "version": {"code": "B-1", "label": "Bench", "curriculum_period": "2024-2029"},
        "steps": [{"code": "B-L1", "label": "L1", "year_index": 1, "elements": units}],
    }
    now = datetime.now(UTC)
    with write_transaction(engine) as conn:
        ids = curricula.import_curriculum(conn, body)
        period = exam_config.create_period(
            conn,
            {
                "academic_year": YEAR,
                "number": 1,
                "opens_at": "2026-07-01T00:00:00+02:00",
                "closes_at": "2026-09-30T00:00:00+02:00",
            },
        )["id"]
        modality = exam_config.create_modality(
            conn,
            {
                "code": "CAMPUS",
                "label": "Sur site (campus principal)",
                "fixed_fee_cents": 5000,
                "fee_per_hour_cents": 1250,
                "needs_centre": False,
            },
        )["id"]
        exam_ids = [
            exam_config.create_exam(
                conn,
                {
                    "element_id": ids["elements"][f"U{i}"],
                    "period_id": period,
                    "supervised_hours": 1 + i % 4,
                    "starts_at": f"2027-01-{11 + i:02d}T09:00:00+01:00",
                    "modality_ids": [modality],
                    "room": f"Amphithéâtre {i}",
                },
            )["id"]
            for i in range(exams)
        ]
        conn.execute(
            insert(learner),
            [
                {
                    "external_id": f"E{i:06d}",
                    "first_name": "Zoé",
                    "last_name": f"Lefèvre {i}",
                    "email": f"e{i}@example.org",
                }
                for i in range(notices)
            ],
        )
        learner_ids = conn.execute(select(learner.c.id).order_by(learner.c.id)).scalars().all()
        conn.execute(
            insert(enrolment),
            [
                {
                    "learner_id": lid,
                    "step_id": ids["steps"]["B-L1"],
                    "academic_year": YEAR,
                    "start_date": datetime(2026, 9, 1).date(),
                    "created_at": now,
                }
                for lid in learner_ids
            ],
        )
        conn.execute(
            insert(exam_registration),
            [
                {
                    "learner_id": lid,
                    "period_id": period,
                    "modality_id": modality,
                    "status": "final",
                    "fee_cents": 5000,
                    "created_at": now,
                    "final_at": now,
                }
                for lid in learner_ids
            ],
        )
        registration_ids = (
            conn.execute(select(exam_registration.c.id).order_by(exam_registration.c.id))
            .scalars()
            .all()
        )
        conn.execute(
            insert(exam_registration_exam),
            [
                {"registration_id": rid, "exam_id": eid, "deferred": False}
                for rid in registration_ids
                for eid in exam_ids
            ],
        )
    engine.dispose()
    return period


def _floor_chunk(tokens: list[str], out: str, size: int) -> None:
    payload = b"%" * size
    for i, token in enumerate(tokens):
        segno.make_qr(token, error=ERROR_LEVEL, mask=MASK, boost_error=False)
        if i % 5 == 0:
            (Path(out) / f"{i}.bin").write_bytes(payload)


def floor_seconds(notices: int, exams: int, average_size: int, jobs: int, out: Path) -> float:
    """Encode the same number of QR codes and write the same bytes, nothing else."""
    tokens = [sign(KEY, NoticeClaim(r, 100 + e, r)) for r in range(notices) for e in range(exams)]
    chunks = [tokens[i : i + 50 * exams] for i in range(0, len(tokens), 50 * exams)]
    out.mkdir()
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(_floor_chunk, chunks, [str(out)] * len(chunks), [average_size] * len(chunks)))
    return time.perf_counter() - started


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the batch's workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_once(
    url: str, notices: int, exams: int, jobs: int
) -> tuple[float, float, float, int, float]:
    """(seconds of the batch, of which reading the period, the floor, bytes, CPU seconds)."""
    period = period_with_final_registrations(url, notices, exams)
    engine = build_engine(Settings(database_url=url))
    work = Path(tempfile.mkdtemp(prefix="bench-notices-"))
    try:
        cpu = _cpu_seconds()
        started = time.perf_counter()
        documents = load(engine, period, "notices", KEY)
        read = time.perf_counter() - started
        result = generate(documents, "notices", work / "out", "Europe/Paris", jobs)
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu
        assert result.documents == notices and len(os.listdir(work / "out")) == notices
        floor = floor_seconds(notices, exams, result.bytes_written // notices, jobs, work / "floor")
        return seconds, read, floor, result.bytes_written, cpu
    finally:
        engine.dispose()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a PostgreSQL server URL (default: a SQLite file)")
    parser.add_argument("--notices", type=int, default=6000)
    parser.add_argument("--exams", type=int, default=5, help="exams per notice")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        f"target: {TARGET['notices']} notices in {TARGET['seconds']:.0f} s on this machine "
        f"({os.cpu_count()} CPUs, {args.jobs} processes)"
    )
    runs = []
    kind = "postgresql" if args.database_url else "sqlite"
    for _ in range(args.repeat):
        with scratch_database(kind, args.database_url) as url:
            runs.append(run_once(url, args.notices, args.exams, args.jobs))
    seconds = statistics.median(r[0] for r in runs)
    read = statistics.median(r[1] for r in runs)
    floor = statistics.median(r[2] for r in runs)
    size = runs[0][3]
    cpu = statistics.median(r[4] for r in runs)
    budget = TARGET["seconds"] * args.notices / TARGET["notices"]
    engine_name = "postgresql" if args.database_url else "sqlite"
    print(
        f"{engine_name:10} {args.notices} notices x {args.exams} exams: {seconds:6.1f} s "
        f"(median of {len(runs)}: {', '.join(f'{r[0]:.1f}' for r in runs)}; reading the period "
        f"{read:.2f} s; {args.notices / seconds:.0f} notices/s; {size / 1e6:.0f} MB)"
        f" | target {budget:.0f} s: {seconds / budget:.2f} of it"
        f" | floor {floor:5.1f} s (QR encoding + writing only): {seconds / floor:4.1f}x the floor"
    )
    print(
        f"CPU: {cpu:.1f} CPU-seconds ({cpu / args.notices * 1000:.1f} ms per notice); on "
        f"{args.jobs} idle CPUs that is {cpu / args.jobs:.1f} s, "
        f"{cpu / args.jobs / budget:.2f} of the target (load average now "
        f"{os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()
