"""Readiness answers from its own connection, cheaply, within the probe's timeout."""

from __future__ import annotations

import threading

import falcon.testing
import pytest
from sqlalchemy import event

from app.http.app import create_app
from app.http.readiness import CACHE_SECONDS, Readiness, probe_engine
from app.settings import Settings, SettingsError


def test_a_burst_of_probes_costs_one_query(settings):
    engine = probe_engine(settings)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    now = [100.0]
    readiness = Readiness(engine, monotonic=lambda: now[0])
    for _ in range(20):
        assert readiness.checks() == {"database": "ok", "migrations": "ok"}
    first_burst = len(statements)
    assert 1 <= first_burst <= 2  # the version query (and SQLite's table lookup)
    now[0] += CACHE_SECONDS
    readiness.checks()
    assert len(statements) == 2 * first_burst
    engine.dispose()


@pytest.mark.postgres
def test_readiness_answers_while_every_request_connection_is_busy(postgres_url):
    settings = Settings(database_url=postgres_url, threads=1, pool_timeout=30)
    app = create_app(settings)
    client = falcon.testing.TestClient(app)
    # The request pool has one connection: hold it, as a long request would.
    from app.store.engine import build_engine

    engine = build_engine(settings)
    held = engine.connect()
    try:
        done = threading.Event()
        answer: list[int] = []

        def probe() -> None:
            answer.append(client.simulate_get("/readyz").status_code)
            done.set()

        threading.Thread(target=probe, daemon=True).start()
        assert done.wait(10), "readiness waited for the request pool"
        assert answer == [200]
    finally:
        held.close()
        engine.dispose()


@pytest.mark.parametrize("level", ["verbose", "info2", "0"])
def test_an_unknown_log_level_is_refused_at_start(monkeypatch, level):
    monkeypatch.setenv("LOG_LEVEL", level)
    with pytest.raises(SettingsError, match="LOG_LEVEL"):
        Settings.from_env()


def test_log_levels_are_case_insensitive(monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "warning")
    assert Settings.from_env().log_level == "WARNING"
