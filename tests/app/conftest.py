"""App fixtures: every database test runs on SQLite and on a real PostgreSQL server.

PostgreSQL comes from TEST_DATABASE_URL (make test provisions one with playbooks/database.yml).
Each test session creates its own scratch database there and drops it at the end. In CI a
missing server fails the PostgreSQL tests; on a laptop without one they are skipped.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import falcon.testing
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from app import clock
from app.http.app import create_app
from app.services.tokens import create_token
from app.settings import Settings
from app.store import migrate
from app.store.databases import drop_database
from app.store.engine import build_engine, normalise_url, write_transaction
from app.store.schema import metadata

# Every test sees the same "now": the start of the 2026-2027 academic year.
NOW = datetime(2026, 8, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[datetime]:
    clock.set_now(NOW)
    yield NOW
    clock.set_now(None)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test starts from a copy."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    engine = build_engine(Settings(database_url=f"sqlite:///{path}"))
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url(worker_id: str) -> Iterator[str]:
    """A scratch database on the TEST_DATABASE_URL server, migrated once per session."""
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        if os.environ.get("CI"):
            pytest.fail("TEST_DATABASE_URL is not set: CI must run the PostgreSQL suite")
        pytest.skip("TEST_DATABASE_URL is not set (make test provisions PostgreSQL)")
    admin_url = make_url(normalise_url(server))
    name = f"campus_test_{worker_id}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    engine = build_engine(Settings(database_url=url))
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        drop_database(conn, name)
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for a clean, migrated database of each engine."""
    if request.param == "sqlite":
        path = tmp_path / "campus.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return Settings(database_url=f"sqlite:///{path}")
    url = request.getfixturevalue("postgres_url")
    return Settings(database_url=url)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = build_engine(settings)
    if engine.dialect.name == "postgresql":
        reset(engine)
    yield engine
    engine.dispose()


def reset(engine: Engine) -> None:
    """Empty every table (and on PostgreSQL restart ids), as a fresh database would be."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            tables = ", ".join(t.name for t in metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def client(settings: Settings, engine: Engine) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(settings, engine))


def token_for(engine: Engine, role: str = "staff", **binding: int) -> dict[str, str]:
    """Authorization headers for a new token of `role`."""
    with write_transaction(engine) as conn:
        token = create_token(conn, role, f"test {role}", **binding)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def staff(engine: Engine) -> dict[str, str]:
    return token_for(engine, "staff")
