"""The outbox backlog on the shipped server's /metrics: `python -m app serve` with two worker
processes (Prometheus multiprocess mode) on a SQLite file. Whichever worker answers a scrape
reports the same database-wide backlog next to the workers' added-up counters."""

from __future__ import annotations

import os
import shutil
import signal
from datetime import UTC, datetime, timedelta

import pytest
import requests

from app import clock
from app.observability import metrics
from app.services import outbox
from app.settings import Settings
from app.store.engine import build_engine, write_transaction
from tests.app.observability.test_outbox_backlog import outbox_samples
from tests.app.test_make_run import free_port
from tests.app.test_served_shedding import serve, wait_ready

SCRAPES = 8


@pytest.mark.slow
def test_every_worker_of_the_served_app_reports_the_database_backlog(tmp_path, sqlite_template):
    path = tmp_path / "campus.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    engine = build_engine(Settings(database_url=url))
    # Queued an hour before the real clock the server reads.
    with clock.frozen_at(datetime.now(UTC) - timedelta(hours=1)), write_transaction(engine) as conn:
        outbox.enqueue(
            conn, [outbox.Message("request_received", f"hr{i}@x.example", "s", "b") for i in (1, 2)]
        )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = serve(tmp_path, url, port, APP_WORKERS="2", APP_THREADS="2")
    try:
        wait_ready(server, base, tmp_path / "serve.log")
        assert list(tmp_path.glob("campus-metrics-*")), "serve runs in multiprocess mode"
        waiting = [requests.get(f"{base}/metrics", timeout=30) for _ in range(SCRAPES)]
        # The dispatcher's run, on the real clock too: the messages are due.
        with clock.frozen_at(datetime.now(UTC)), write_transaction(engine) as conn:
            sent = outbox.claim(conn, 10, timedelta(minutes=1))
            outbox.mark_sent(conn, [m.id for m in sent])
        after = outbox_samples(requests.get(f"{base}/metrics", timeout=30).text)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        engine.dispose()

    for answer in waiting:
        assert answer.status_code == 200
        found = outbox_samples(answer.text)
        assert found[metrics.OUTBOX_METRICS_UP] == 1
        assert found[metrics.OUTBOX_UNSENT] == 2
        assert found[metrics.OUTBOX_OLDEST_UNSENT] >= 3600
        assert "campus_http_requests_total{" in answer.text
    assert after == {
        metrics.OUTBOX_UNSENT: 0,
        metrics.OUTBOX_OLDEST_UNSENT: 0,
        metrics.OUTBOX_METRICS_UP: 1,
    }
