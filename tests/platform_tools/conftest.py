"""Backup fixtures: a demo school on each engine (SQLite file, database on the PostgreSQL
server of TEST_DATABASE_URL), built once per session and only read by the tests, plus fresh
target databases to restore into.

Same pattern as tests/app/conftest.py: `source_url` is parametrised over both engines and
the PostgreSQL case carries the `postgres` marker.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import clock
from app.demo.seed import seed_demo
from app.settings import Settings
from app.store import migrate
from app.store.databases import drop_database
from app.store.engine import build_engine, normalise_url, write_transaction

# The demo school is seeded as of the start of the 2026-2027 academic year.
SEEDED_AT = datetime(2026, 8, 1, 9, 0, tzinfo=UTC)


def _seed(url: str) -> None:
    engine = build_engine(Settings(database_url=url))
    try:
        migrate.upgrade(engine)
        clock.set_now(SEEDED_AT)
        with write_transaction(engine) as conn:
            seed_demo(conn)
    finally:
        clock.set_now(None)
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The TEST_DATABASE_URL server (skipped without one on a laptop; fails in CI)."""
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        if os.environ.get("CI"):
            pytest.fail("TEST_DATABASE_URL is not set: CI must run the PostgreSQL suite")
        pytest.skip("TEST_DATABASE_URL is not set (make test provisions PostgreSQL)")
    return normalise_url(server)


@pytest.fixture(scope="session")
def database_factory(postgres_server: str, worker_id: str) -> Iterator[Callable[[], str]]:
    """Makes new empty databases on the test server; drops them all at the end."""
    admin_url = make_url(postgres_server)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def new() -> str:
        name = f"campus_test_bk_{worker_id}_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return admin_url.set(database=name).render_as_string(hide_password=False)

    yield new
    with admin.connect() as conn:
        for name in made:
            drop_database(conn, name)
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each engine: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'campus.db'}"
    return request.getfixturevalue("database_factory")()


@pytest.fixture(scope="session")
def demo_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the demo school; tests copy it."""
    path = tmp_path_factory.mktemp("demo") / "campus.db"
    _seed(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def demo_postgres(database_factory: Callable[[], str]) -> str:
    """A PostgreSQL database with the demo school, shared by the session's tests (read only)."""
    url = database_factory()
    _seed(url)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def source_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The database to back up: the demo school on each engine."""
    if request.param == "sqlite":
        path = tmp_path / "source" / "campus.db"
        path.parent.mkdir()
        shutil.copy(request.getfixturevalue("demo_sqlite"), path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("demo_postgres")


@pytest.fixture
def target_url(source_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A database of the same engine to restore into (absent SQLite file, or a new database)."""
    if source_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored' / 'campus.db'}"
    return request.getfixturevalue("database_factory")()


def dump_database(url: str) -> str:
    """A full logical dump (schema and data) to compare two databases: SQLite's iterdump, or
    pg_dump's plain format without owners."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        import sqlite3

        conn = sqlite3.connect(parsed.database)
        try:
            return "\n".join(conn.iterdump())
        finally:
            conn.close()
    env = {
        **os.environ,
        "PGHOST": parsed.host or "",
        "PGPORT": str(parsed.port or 5432),
        "PGUSER": parsed.username or "",
        "PGPASSWORD": parsed.password or "",
    }
    text_dump = subprocess.run(
        ["pg_dump", "--format=plain", "--no-owner", "--no-privileges", parsed.database or ""],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # pg_dump 15.14 and later fence the script with \restrict and \unrestrict lines carrying
    # a random key: they differ between two dumps of the same data by design.
    return "\n".join(
        _comparable_check(line)
        for line in text_dump.splitlines()
        if not line.startswith(("\\restrict", "\\unrestrict"))
    )


_CHECK = re.compile(r"CONSTRAINT (\S+) CHECK")


def _comparable_check(line: str) -> str:
    """A CHECK constraint as its name, columns and literals.

    PostgreSQL stores `status IN ('a', 'b')` on a varchar column as
    `(status)::text = ANY ((ARRAY['a'::varchar, ...])::text[])`; re-reading that text on
    restore stores the casts per element, so the restored schema prints the same constraint
    differently. Everything else in the two dumps must match character for character.
    """
    match = _CHECK.search(line)
    if match is None:
        return line
    columns = re.findall(r"\((\w+)\)::text", line)
    literals = re.findall(r"'([^']*)'", line)
    return f"CONSTRAINT {match.group(1)} CHECK columns={columns} literals={literals}"
