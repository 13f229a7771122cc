"""The app's Prometheus metrics. The names are a contract: policies/ alerts and charts on them."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from app import __version__

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

HTTP_REQUESTS = Counter(
    "campus_http_requests", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_DURATION = Histogram(
    "campus_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route", "status"],
    buckets=_LATENCY_BUCKETS,
)
HTTP_IN_FLIGHT = Gauge(
    "campus_http_requests_in_flight", "Requests being served now", multiprocess_mode="livesum"
)
# Time between the server taking a request in (connection accepted, or kept-alive connection
# readable) and a worker thread starting it: where a surge queues.
HTTP_QUEUE = Histogram(
    "campus_http_request_queue_seconds",
    "Time a request waited for a server thread",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
HTTP_SHED = Counter(
    "campus_http_requests_shed", "Requests refused early to protect the service", ["reason"]
)

PROPAGATION_RUNS = Counter("campus_propagation_runs", "Propagations completed", ["trigger"])
PROPAGATION_ERRORS = Counter("campus_propagation_errors", "Propagations that failed", ["trigger"])
PROPAGATION_CREATED = Counter(
    "campus_propagation_participations_created", "Participations created", ["trigger"]
)
PROPAGATION_REMOVED = Counter(
    "campus_propagation_participations_removed", "Participations removed", ["trigger"]
)
PROPAGATION_WAITLISTED = Counter(
    "campus_propagation_waitlisted", "New participations placed on a waitlist", ["trigger"]
)
PROPAGATION_DURATION = Histogram(
    "campus_propagation_duration_seconds",
    "Time one propagation took inside its transaction",
    ["trigger"],
    buckets=_LATENCY_BUCKETS,
)

ORGANISATIONS_SIGNED_UP = Counter("campus_organisations_signed_up", "Organisations registered")
EMPLOYER_REQUESTS_SUBMITTED = Counter(
    "campus_employer_requests_submitted", "Employer requests submitted"
)
EMPLOYER_REQUESTS_EMPLOYEES = Counter(
    "campus_employer_requests_employees", "Employees named in submitted employer requests"
)
EMPLOYER_REQUESTS_VALIDATED = Counter(
    "campus_employer_requests_validated",
    "Employer requests judged, by outcome (automatic approved/referred, staff approved/rejected)",
    ["outcome", "by"],
)
for _outcome, _by in (
    ("approved", "validator"),
    ("referred", "validator"),
    ("approved", "staff"),
    ("rejected", "staff"),
):
    # Present from the start, so a rate over them is 0 rather than absent.
    EMPLOYER_REQUESTS_VALIDATED.labels(_outcome, _by)

# The outbox backlog, read from the database at each scrape (app.observability.outbox_backlog),
# not counted by any process. Its names differ from the dispatcher's textfile metrics
# (platform_tools/metrics_catalogue.py), so each series has one producer.
OUTBOX_UNSENT = "campus_outbox_unsent_messages"
OUTBOX_UNSENT_HELP = (
    "Outbox messages to employers not yet sent, read from the database at scrape time. Every "
    "app process reports the same database-wide figure: aggregate with max(), never sum()."
)
OUTBOX_OLDEST_UNSENT = "campus_outbox_oldest_unsent_seconds"
OUTBOX_OLDEST_UNSENT_HELP = (
    "Seconds since the oldest unsent outbox message was queued (0 when none is waiting), read "
    "from the database at scrape time. Every app process reports the same database-wide "
    "figure: aggregate with max(), never sum()."
)
OUTBOX_METRICS_UP = "campus_outbox_metrics_up"
OUTBOX_METRICS_UP_HELP = (
    "1 when this scrape read the outbox backlog from the database, 0 when the read failed (the "
    "backlog series are then absent from this scrape)."
)

APP_INFO = Gauge(
    "campus_app_info", "The running app's version", ["version"], multiprocess_mode="max"
)
APP_INFO.labels(__version__).set(1)


def record_propagation(
    trigger: str, created: int, removed: int, waitlisted: int, seconds: float
) -> None:
    """Count one completed propagation."""
    PROPAGATION_RUNS.labels(trigger).inc()
    PROPAGATION_CREATED.labels(trigger).inc(created)
    PROPAGATION_REMOVED.labels(trigger).inc(removed)
    PROPAGATION_WAITLISTED.labels(trigger).inc(waitlisted)
    PROPAGATION_DURATION.labels(trigger).observe(seconds)
