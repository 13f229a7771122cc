"""When gthread's accepting thread refuses new requests itself: once the oldest request no thread
has taken yet waited past a fifth of the budget, so that a request let in rarely outwaits the budget
behind the queue already there (and then costs a thread its parsing only to be refused)."""

from __future__ import annotations

from collections import deque

import pytest

from app.http.worker import EARLY_SHED_SHARE, QueueTimedWorker

BUDGET = 0.2


def _worker(*waits: float, shed: bool = True) -> tuple[QueueTimedWorker, float]:
    """A worker whose queue holds requests that entered `waits` seconds before `now`."""
    now = 1000.0
    worker = QueueTimedWorker.__new__(QueueTimedWorker)  # no server around it: only the queue
    worker._queued = deque(now - wait for wait in waits)
    worker._budget = BUDGET
    worker._early_shed = (lambda method, path: b"503") if shed else None
    return worker, now


@pytest.mark.parametrize(
    ("oldest", "refused"),
    [(0.0, False), (0.039, False), (0.041, True), (0.19, True), (0.5, True)],
)
def test_new_requests_are_refused_once_the_oldest_waited_a_fifth_of_the_budget(oldest, refused):
    assert EARLY_SHED_SHARE == 0.2
    worker, now = _worker(oldest, 0.0)
    assert worker._queue_over_budget(now) is refused


def test_an_empty_queue_or_no_admission_control_refuses_nothing():
    empty, now = _worker()
    assert empty._queue_over_budget(now) is False
    unguarded, now = _worker(10.0, shed=False)
    assert unguarded._queue_over_budget(now) is False
