"""Backup benchmark: `platform-tools backup` create, verify (checksums and restore drill) and
restore times on the demo school and on a school with 1 million participations.

Prints, in one run and for each figure, its ratio to a baseline and to the physical limit of
this machine:

- baseline: what the field did by hand before the tool (SQLite: one bare online-backup copy;
  PostgreSQL: `pg_dump -Fc` then `pg_restore` into an empty database, one job each), without
  checksums, manifest or drill;
- physical limit: writing the same number of bytes as the live database (file size, or
  `pg_database_size`) to a new file on the same disk and syncing it, measured now.

    .venv/bin/python bench/backup.py [--database-url postgresql://...] [--participations 1000000]

Without --database-url it measures SQLite only. The 1-million dataset is the demo school with
its activities duplicated and participations added by one INSERT … SELECT (benchmark data,
not eligibility-correct).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from rich.progress import Progress
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import clock
from app.demo.seed import seed_demo
from app.settings import Settings
from app.store import migrate
from app.store.databases import drop_database
from app.store.engine import build_engine, normalise_url, write_transaction
from platform_tools.backup.create import create_backup
from platform_tools.backup.pg_programs import libpq_environment, program
from platform_tools.backup.repository import find_backup
from platform_tools.backup.restore import restore_backup
from platform_tools.backup.verify import verify_backup

JOBS = 2


def quiet() -> Progress:
    return Progress(disable=True)


def new_database(server: str | None, workdir: Path) -> tuple[str, Callable[[], None]]:
    """An empty database: a SQLite file in `workdir`, or a new database on the server."""
    if not server:
        path = workdir / f"db-{uuid.uuid4().hex[:6]}.sqlite3"
        return f"sqlite:///{path}", lambda: None
    admin_url = make_url(normalise_url(server))
    name = f"campus_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            drop_database(conn, name)

    return admin_url.set(database=name).render_as_string(hide_password=False), drop


def build_school(url: str, participations: int | None) -> int:
    """Migrate and seed the demo school; grow it to `participations` rows. Returns the count."""
    engine = build_engine(Settings(database_url=url))
    migrate.upgrade(engine)
    clock.set_now(clock.now().replace(year=2026, month=8, day=1))
    try:
        with write_transaction(engine) as conn:
            seed_demo(conn)
    finally:
        clock.set_now(None)
    if participations:
        with write_transaction(engine) as conn:
            enrolments = conn.execute(text("SELECT count(*) FROM enrolment")).scalar_one()
            while conn.execute(text("SELECT count(*) FROM activity")).scalar_one() * enrolments < (
                participations * 1.2
            ):
                conn.execute(
                    text(
                        "INSERT INTO activity (element_id, academic_year, kind, group_id, "
                        "starts_at, ends_at, capacity) SELECT element_id, academic_year, kind, "
                        "group_id, starts_at, ends_at, NULL FROM activity"
                    )
                )
            have = conn.execute(text("SELECT count(*) FROM participation")).scalar_one()
            run = conn.execute(text("SELECT min(id) FROM propagation_run")).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO participation (activity_id, enrolment_id, status, run_id) "
                    "SELECT a.id, e.id, 'active', :run FROM activity a CROSS JOIN enrolment e "
                    "WHERE NOT EXISTS (SELECT 1 FROM participation p "
                    "WHERE p.activity_id = a.id AND p.enrolment_id = e.id) "
                    "ORDER BY a.id, e.id LIMIT :missing"
                ),
                {"run": run, "missing": participations - have},
            )
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM participation")).scalar_one()
    if engine.dialect.name == "postgresql":
        # Settle the new rows (hint bits, statistics) as a night's autovacuum would.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return int(count)


def database_bytes(url: str) -> int:
    """Size of the live database on disk."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        return Path(parsed.database or "").stat().st_size
    engine = create_engine(parsed)
    with engine.connect() as conn:
        size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    engine.dispose()
    return int(size)


def disk_floor(size: int, workdir: Path) -> float:
    """Seconds to write and sync `size` bytes to a new file on the backup disk."""
    block = os.urandom(1 << 20)
    path = workdir / "floor.bin"
    started = time.perf_counter()
    with path.open("wb") as stream:
        left = size
        while left > 0:
            stream.write(block[: min(left, len(block))])
            left -= len(block)
        stream.flush()
        os.fsync(stream.fileno())
    seconds = time.perf_counter() - started
    path.unlink()
    return seconds


def baseline(url: str, workdir: Path, server: str | None) -> tuple[float, float]:
    """(backup seconds, restore seconds) of the by-hand way, without checks."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        target = workdir / "bare-copy.sqlite3"
        started = time.perf_counter()
        with sqlite3.connect(parsed.database) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        copy = time.perf_counter() - started
        restored = workdir / "bare-restore.sqlite3"
        started = time.perf_counter()
        with sqlite3.connect(target) as src, sqlite3.connect(restored) as dst:
            src.backup(dst)
        return copy, time.perf_counter() - started
    dump = workdir / "bare.dump"
    started = time.perf_counter()
    subprocess.run(
        [program("pg_dump"), "-Fc", f"--file={dump}"], env=libpq_environment(parsed), check=True
    )
    dumped = time.perf_counter() - started
    target_url, drop = new_database(server, workdir)
    target = make_url(normalise_url(target_url))
    started = time.perf_counter()
    subprocess.run(
        [program("pg_restore"), "--no-owner", f"--dbname={target.database}", str(dump)],
        env=libpq_environment(target),
        check=True,
    )
    restored = time.perf_counter() - started
    drop()
    return dumped, restored


def measure(label: str, server: str | None, participations: int | None, workdir: Path) -> None:
    source_url, drop_source = new_database(server, workdir)
    target_url, drop_target = new_database(server, workdir)
    try:
        rows = build_school(source_url, participations)
        size = database_bytes(source_url)
        settings = Settings(database_url=source_url)
        backups = workdir / f"backups-{uuid.uuid4().hex[:6]}"
        backups.mkdir()
        engine_name = "postgresql" if server else "sqlite"
        started = time.perf_counter()
        created = create_backup(settings, "campus", backups, JOBS, quiet())
        create_seconds = time.perf_counter() - started
        entry = find_backup(backups, created.manifest.id)
        scratch = make_url(normalise_url(server)) if server else None
        started = time.perf_counter()
        report = verify_backup(entry, scratch, workdir, JOBS, quiet())
        verify_seconds = time.perf_counter() - started
        assert report.ok, report.problems
        started = time.perf_counter()
        restore_backup(entry, make_url(normalise_url(target_url)), False, JOBS, quiet())
        restore_seconds = time.perf_counter() - started
        base_backup, base_restore = baseline(source_url, workdir, server)
        floor = disk_floor(size, workdir)
        print(
            f"{engine_name:10} {label:6} {rows:>9,} participations, database {size / 1e6:7.1f} MB,"
            f" backup {created.manifest.size_bytes / 1e6:6.1f} MB"
        )
        for name, seconds, base in (
            ("create", create_seconds, base_backup),
            ("verify", verify_seconds, base_backup + base_restore),
            ("restore", restore_seconds, base_restore),
        ):
            print(
                f"    {name:8} {seconds:7.2f} s   x{seconds / base:5.1f} the by-hand baseline "
                f"({base:.2f} s)   x{seconds / floor:6.1f} the disk floor ({floor:.2f} s)"
            )
        print(f"    drill restore inside verify (RTO): {report.restore_seconds:.2f} s")
    finally:
        drop_source()
        drop_target()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a PostgreSQL server URL (default: SQLite only)")
    parser.add_argument("--participations", type=int, default=1_000_000)
    parser.add_argument("--skip-large", action="store_true", help="only the demo school")
    args = parser.parse_args()
    servers = [None] + ([args.database_url] if args.database_url else [])
    with tempfile.TemporaryDirectory(prefix="campus-bench-backup-") as scratch:
        workdir = Path(scratch)
        for server in servers:
            measure("demo", server, None, workdir)
            if not args.skip_large:
                measure("large", server, args.participations, workdir)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
