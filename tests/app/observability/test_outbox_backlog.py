"""The outbox backlog on /metrics: read from the database at each scrape, on both engines, and a
scrape that cannot read it still answers 200 and says so on campus_outbox_metrics_up."""

from __future__ import annotations

import shutil
from datetime import timedelta

import falcon.testing
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from structlog.testing import capture_logs

from app import clock
from app.http.app import create_app
from app.http.readiness import probe_engine
from app.observability import metrics
from app.observability.outbox_backlog import LOG_EVERY_SECONDS, OutboxBacklog
from app.services import outbox
from app.settings import Settings
from app.store.engine import build_engine, write_transaction
from tests.app.conftest import NOW
from tests.app.employers.builders import sign_up

UNSENT = metrics.OUTBOX_UNSENT
OLDEST = metrics.OUTBOX_OLDEST_UNSENT
UP = metrics.OUTBOX_METRICS_UP
# Nothing listens on port 1: connecting is refused at once.
UNREACHABLE = Settings(database_url="postgresql://nobody:x@127.0.0.1:1/none")


def outbox_samples(text_: str) -> dict[str, float]:
    """The outbox series of a /metrics answer, by name."""
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text_)
        for sample in family.samples
        if sample.name.startswith("campus_outbox_")
    }


def scrape(client: falcon.testing.TestClient) -> dict[str, float]:
    response = client.simulate_get("/metrics")
    assert response.status_code == 200
    return outbox_samples(response.text)


def queue(engine, *recipients: str) -> None:
    with write_transaction(engine) as conn:
        outbox.enqueue(
            conn, [outbox.Message("request_received", r, "Received", "Hello") for r in recipients]
        )


def test_the_backlog_and_its_oldest_message_are_read_at_each_scrape(client, engine):
    assert scrape(client) == {UNSENT: 0, OLDEST: 0, UP: 1}
    sign_up(client, 1)  # queues the employer's confirmation, at NOW
    clock.set_now(NOW + timedelta(minutes=10))
    queue(engine, "hr@one.example", "hr@two.example")
    clock.set_now(NOW + timedelta(minutes=25))
    assert scrape(client) == {UNSENT: 3, OLDEST: 25 * 60, UP: 1}

    # The dispatcher sends the oldest one: the next oldest was queued 15 minutes ago.
    with write_transaction(engine) as conn:
        (confirmation,) = outbox.claim(conn, 1, timedelta(minutes=1))
        assert outbox.mark_sent(conn, [confirmation.id]) == 1
    assert scrape(client) == {UNSENT: 2, OLDEST: 15 * 60, UP: 1}

    with write_transaction(engine) as conn:
        sent = outbox.claim(conn, 10, timedelta(minutes=1))
        outbox.mark_sent(conn, [m.id for m in sent])
    assert scrape(client) == {UNSENT: 0, OLDEST: 0, UP: 1}


def test_an_unreachable_database_leaves_the_scrape_answering_with_up_at_0():
    client = falcon.testing.TestClient(create_app(UNREACHABLE))
    with capture_logs() as logs:
        first, second = scrape(client), scrape(client)
    assert first == second == {UP: 0}
    # The app's own series are still there.
    assert "campus_app_info" in client.simulate_get("/metrics").text
    failures = [line for line in logs if line["event"] == "outbox_metrics_failed"]
    assert len(failures) == 1 and failures[0]["error"] == "OperationalError"


def test_failed_reads_are_logged_at_most_once_a_minute_with_their_count():
    now = [1000.0]
    registry = CollectorRegistry()
    registry.register(OutboxBacklog(probe_engine(UNREACHABLE), monotonic=lambda: now[0]))
    with capture_logs() as logs:
        for _ in range(3):
            assert outbox_samples(generate_latest(registry).decode()) == {UP: 0}
        now[0] += LOG_EVERY_SECONDS
        generate_latest(registry)
    assert [line["count"] for line in logs if line["event"] == "outbox_metrics_failed"] == [1, 3]


def test_without_the_outbox_table_a_sqlite_scrape_still_answers(sqlite_template, tmp_path):
    path = tmp_path / "campus.db"
    shutil.copy(sqlite_template, path)
    settings = Settings(database_url=f"sqlite:///{path}")
    engine = build_engine(settings)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE outbox_message"))
    client = falcon.testing.TestClient(create_app(settings, engine))
    try:
        with capture_logs():
            assert scrape(client) == {UP: 0}
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_scrape_gives_up_on_postgresql_while_the_outbox_is_locked(postgres_url):
    settings = Settings(database_url=postgres_url)
    engine = build_engine(settings)
    client = falcon.testing.TestClient(create_app(settings, engine))
    try:
        with engine.connect() as holder, holder.begin():
            # What a migration rewriting the table takes: the read waits for it, then its
            # statement timeout cancels it.
            holder.execute(text("LOCK TABLE outbox_message IN ACCESS EXCLUSIVE MODE"))
            with capture_logs() as logs:
                assert scrape(client) == {UP: 0}
        (failure,) = [line for line in logs if line["event"] == "outbox_metrics_failed"]
        assert failure["error"] == "OperationalError"
        assert "statement timeout" in failure["detail"]
        assert scrape(client)[UP] == 1
    finally:
        engine.dispose()
