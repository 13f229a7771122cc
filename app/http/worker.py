"""The production server's worker: gunicorn's threaded worker, timing how long requests queue.

Gunicorn's gthread worker accepts every connection at once and hands each ready request to a
thread pool whose queue has no bound and no clock: under a surge requests wait there, unseen
by the app, for seconds. This worker stamps a request when it enters that queue (a new
connection accepted, a kept-alive one readable again) and tells the app, in the WSGI environ,
how long it waited before a thread took it. `app.http.shedding` turns that into the queue
histogram and into 503s past the budget.

A 503 from a thread still costs a thread's whole round of work (hand-over, parsing, writing,
hand-back), a fifth of a write: at three times the capacity most of the threads' time would go
to refusing. So while the oldest request in the queue has waited past a fifth of the budget, the
accepting thread answers a new request itself: it peeks at the bytes already received, and when
they hold a whole request that may be shed (not a probe), reads them, writes the 503 and keeps
the connection, without a thread, a parser or the app.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from contextlib import suppress
from functools import partial
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

# The WSGI environ key carrying the seconds a request waited for a worker thread.
QUEUE_SECONDS = "campus.queue_seconds"

_handling = threading.local()


# Bytes the accepting thread peeks at: a request larger than this goes to a thread as usual.
PEEK_BYTES = 16384
# The accepting thread refuses once the oldest queued request has waited this share of the
# budget. A request it lets in waits behind the queue already there: let in while the oldest
# had waited nearly the whole budget, it would exceed the budget itself and cost a thread its
# parsing only to be refused. Writes offered at about three times the capacity were served at
# (bench/serving.py --overload):
# - the whole budget: 0.31 to 0.38 of the capacity, p99 of all answers 392 to 504 ms;
# then, rounds of each interleaved in the same hour,
# - half: 0.46 to 0.56, p99 321 to 427 ms (6 rounds);
# - a fifth: 0.67 to 0.73, p99 242 to 365 ms (5 rounds);
# - a tenth: 0.54 to 0.72, one p99 at 609 ms (3 rounds).
EARLY_SHED_SHARE = 0.2


class QueueTimedWorker(ThreadWorker):
    """gthread, with each request's wait for a thread measured from its entry in the queue."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Entry times of the requests no thread has taken yet, oldest first (the pool's queue
        # is first in, first out). Appended by the accepting thread, popped by the others.
        self._queued: deque[float] = deque()
        self._early_shed: Callable[[str, str], bytes | None] | None = None
        self._budget: float | None = None

    def enqueue_req(self, conn: Any) -> None:
        now = time.monotonic()
        if self._queue_over_budget(now) and self._shed_early(conn):
            return
        conn.campus_enqueued_at = now
        self._queued.append(now)
        super().enqueue_req(conn)

    def handle(self, conn: Any) -> Any:
        # Measured when the thread takes the connection, before it reads the request: a slow
        # client's own delay is not queueing.
        _handling.waited = time.monotonic() - conn.campus_enqueued_at
        with suppress(IndexError):
            self._queued.popleft()
        return super().handle(conn)

    def load_wsgi(self) -> None:
        super().load_wsgi()
        self._early_shed = getattr(self.wsgi, "early_shed", None)
        self._budget = getattr(self.wsgi, "budget_seconds", None)
        self.wsgi = _with_queue_time(self.wsgi)

    def _queue_over_budget(self, now: float) -> bool:
        """Whether the oldest request no thread has taken yet waited past its share of the
        budget (EARLY_SHED_SHARE)."""
        if self._early_shed is None or self._budget is None:
            return False
        try:
            oldest = self._queued[0]
        except IndexError:
            return False
        return now - oldest > self._budget * EARLY_SHED_SHARE

    def _shed_early(self, conn: Any) -> bool:
        """Answer 503 from the accepting thread; False leaves the request to a thread."""
        if self.cfg.is_ssl or (conn.parser is not None and conn.parser.unreader.buf.getvalue()):
            return False  # encrypted, or part of the request was already read by a thread
        try:
            head = conn.sock.recv(PEEK_BYTES, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except (OSError, ValueError):
            return False
        request = _whole_request(head)
        if request is None:
            return False
        method, path, length = request
        answer = self._early_shed(method, path)  # type: ignore[misc]  # checked by the caller
        if answer is None:
            return False
        try:
            conn.sock.recv(length, socket.MSG_DONTWAIT)  # exactly the request peeked at
            sent = conn.sock.send(answer, socket.MSG_DONTWAIT)
        except OSError:
            sent = -1
        if sent != len(answer):
            self.nr_conns -= 1
            conn.close()
            return True
        # Kept alive, as after any answer: back to waiting for the next request.
        conn.sock.setblocking(False)
        conn.set_timeout()
        self.keepalived_conns.append(conn)
        self.poller.register(
            conn.sock, selectors.EVENT_READ, partial(self.on_client_socket_readable, conn)
        )
        return True


def _whole_request(head: bytes) -> tuple[str, str, int] | None:
    """(method, path, bytes) of one complete HTTP/1.1 request at the start of `head`, else None.

    Only plain requests qualify: a body of known length wholly received, no chunked encoding,
    no upgrade, keep-alive (HTTP/1.1 without `Connection: close`).
    """
    end = head.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = head[:end].split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or parts[2] != b"HTTP/1.1":
        return None
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            if not value.strip().isdigit():
                return None
            length = int(value)
        elif name in (b"transfer-encoding", b"upgrade", b"expect") or (
            name == b"connection" and b"close" in value.lower()
        ):
            return None
    total = end + 4 + length
    if total > len(head):
        return None
    path = parts[1].split(b"?", 1)[0]
    return parts[0].decode("latin-1"), path.decode("latin-1"), total


def _with_queue_time(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    def stamped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ[QUEUE_SECONDS] = getattr(_handling, "waited", 0.0)
        return app(environ, start_response)

    return stamped
