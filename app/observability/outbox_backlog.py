"""The outbox backlog on the app's /metrics, read from the database at each scrape.

The backlog is a property of the database, not of a process. The dispatcher exports its own
figures as node-exporter textfile metrics, which exist only where a node exporter reads its
file (single hosts); every deployment scrapes the app, so the app reports them too, under
names of its own. Every process of every pod reports the same database-wide figures: rules
aggregate them with max(), never sum().

A scrape must stay cheap and must always answer: one statement on the partial index of
pending messages, on the readiness probes' engine (app.http.readiness.probe_engine: never the
request pool, quick to give up), under a short statement timeout on PostgreSQL. A failed read
is logged at most once a minute and reported as campus_outbox_metrics_up 0 in place of the
figures, so a broken read shows instead of the series silently going missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import structlog
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Engine

from app.observability import metrics
from app.observability.log_throttle import LogThrottle
from app.services import outbox

# Prometheus waits 10 s for a scrape by default: reading stays well inside it.
STATEMENT_TIMEOUT_MS = 1000
LOG_EVERY_SECONDS = 60.0

log = structlog.get_logger("app.metrics")


class OutboxBacklog:
    """A Prometheus collector: the outbox's unsent messages, read from `engine` when scraped."""

    def __init__(self, engine: Engine, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._engine = engine
        # Prometheus scrapes every 30 s from each of its replicas: one line a minute says enough.
        self._failures = LogThrottle(LOG_EVERY_SECONDS, monotonic)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The backlog and the age of its oldest message, and whether they could be read."""
        try:
            backlog = self._read()
        except Exception as error:  # a scrape answers whatever happened to the database
            self._record_failure(error)
            yield GaugeMetricFamily(metrics.OUTBOX_METRICS_UP, metrics.OUTBOX_METRICS_UP_HELP, 0)
            return
        yield GaugeMetricFamily(metrics.OUTBOX_UNSENT, metrics.OUTBOX_UNSENT_HELP, backlog.pending)
        yield GaugeMetricFamily(
            metrics.OUTBOX_OLDEST_UNSENT,
            metrics.OUTBOX_OLDEST_UNSENT_HELP,
            backlog.oldest_age_seconds,
        )
        yield GaugeMetricFamily(metrics.OUTBOX_METRICS_UP, metrics.OUTBOX_METRICS_UP_HELP, 1)

    def _read(self) -> outbox.Backlog:
        with self._engine.connect() as conn, conn.begin():
            if conn.dialect.name == "postgresql":
                # LOCAL: the timeout ends with this transaction, whatever the connection's next use.
                conn.exec_driver_sql(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
            return outbox.backlog(conn)

    def _record_failure(self, error: Exception) -> None:
        count = self._failures.count()
        if count is None:
            return
        log.warning(
            "outbox_metrics_failed",
            error=type(error).__name__,
            detail=str(error).splitlines()[0][:200] if str(error) else "",
            count=count,
        )
