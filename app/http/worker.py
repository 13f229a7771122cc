"""The production server's worker: gunicorn's threaded worker, timing how long requests queue.

Gunicorn's gthread worker accepts every connection at once and hands each ready request to a
thread pool whose queue has no bound and no clock: under a surge requests wait there, unseen
by the app, for seconds. This worker stamps a request when it enters that queue (a new
connection accepted, a kept-alive one readable again) and tells the app, in the WSGI environ,
how long it waited before a thread took it. `app.http.shedding` turns that into the queue
histogram and into 503s past the budget.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

# The WSGI environ key carrying the seconds a request waited for a worker thread.
QUEUE_SECONDS = "campus.queue_seconds"

_handling = threading.local()


class QueueTimedWorker(ThreadWorker):
    """gthread, with each request's wait for a thread measured from its entry in the queue."""

    def enqueue_req(self, conn: Any) -> None:
        conn.campus_enqueued_at = time.monotonic()
        super().enqueue_req(conn)

    def handle(self, conn: Any) -> Any:
        # Measured when the thread takes the connection, before it reads the request: a slow
        # client's own delay is not queueing.
        _handling.waited = time.monotonic() - conn.campus_enqueued_at
        return super().handle(conn)

    def load_wsgi(self) -> None:
        super().load_wsgi()
        self.wsgi = _with_queue_time(self.wsgi)


def _with_queue_time(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    def stamped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ[QUEUE_SECONDS] = getattr(_handling, "waited", 0.0)
        return app(environ, start_response)

    return stamped
