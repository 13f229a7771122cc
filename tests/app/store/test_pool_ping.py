"""PostgreSQL connections are pinged before use only after they sat idle: a connection the
server dropped meanwhile is replaced, never handed to a request; one in steady use costs no
ping (every request checks a connection out, and a ping is a round trip)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.settings import Settings
from app.store import engine as engine_module
from app.store.engine import build_engine


@pytest.fixture
def pg_engine(postgres_url):
    engine = build_engine(Settings(database_url=postgres_url, threads=1))
    yield engine
    engine.dispose()


def backend_pid(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def pings(engine, monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    """The statements psycopg's own Connection.execute sends (the ping; SQLAlchemy uses cursors)."""
    sent: list[str] = []
    raw = engine.raw_connection()
    driver = type(raw.driver_connection)
    raw.close()
    original = driver.execute

    def execute(self, query, *args, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(str(query))
        return original(self, query, *args, **kwargs)

    monkeypatch.setattr(driver, "execute", execute)
    return sent


@pytest.mark.postgres
def test_a_connection_in_steady_use_is_not_pinged(pg_engine, monkeypatch):
    first = backend_pid(pg_engine)
    sent = pings(pg_engine, monkeypatch)
    for _ in range(5):
        assert backend_pid(pg_engine) == first
    assert sent == []


@pytest.mark.postgres
def test_an_idle_connection_the_server_dropped_is_replaced(pg_engine, postgres_url, monkeypatch):
    dropped = backend_pid(pg_engine)
    admin_engine = build_engine(Settings(database_url=postgres_url))
    with admin_engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
        admin.commit()
    admin_engine.dispose()
    sent = pings(pg_engine, monkeypatch)
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    replaced = backend_pid(pg_engine)  # would raise on the dropped connection without the ping
    assert replaced != dropped
    assert sent == ["SELECT 1"]
