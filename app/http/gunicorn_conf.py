"""Gunicorn settings for `python -m app serve` (values come from the environment)."""

import os
from pathlib import Path

from prometheus_client import multiprocess

from app.observability import metrics_dir

bind = os.environ.get("APP_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("APP_WORKERS", "2"))
threads = int(os.environ.get("APP_THREADS", "4"))
# gthread, timing each request's wait for a thread: the queue admission control bounds.
worker_class = "app.http.worker.QueueTimedWorker"
# Shutdown: readiness fails first (the orchestrator's preStop wait), then requests drain.
graceful_timeout = int(os.environ.get("APP_GRACEFUL_TIMEOUT", "30"))
timeout = int(os.environ.get("APP_REQUEST_TIMEOUT", "120"))
keepalive = 5
accesslog = None  # the app writes its own JSON access log
logger_class = "app.http.server_logger.ServerLogger"
# Nothing manages the server through gunicornc; its socket would sit at a fixed path in $HOME.
control_socket_disable = True
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "app.observability.logging.json_formatter"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        "alembic": {"level": "WARNING", "handlers": [], "propagate": True},
    },
}


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    """A worker's metric files stop counting toward live gauges once it is gone."""
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):  # type: ignore[no-untyped-def]
    """The metrics directory `serve` made for this instance goes with it."""
    owned = os.environ.get(metrics_dir.OWNED_ENV)
    if owned:
        metrics_dir.release(Path(owned))
