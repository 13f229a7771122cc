"""Validator runs, one after another or several at once, until nothing waits or the limit is met.

Each worker is a session of its own working through its share of the organisations (see
`app.services.request_validator.Share`): on PostgreSQL every session uses a core, and two
workers judged 60,000 requests in 51 to 57 s where one took 64 s on a 2-core machine (README,
"Employer requests"). A run that loses a race with another validator (the same person
enrolled by both in one step and year, or a deadlock between them) has committed nothing; it
is run again, and then sees the other's enrolment and refers its request to staff.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from app.domain.errors import Conflict
from app.services.request_validator import Share, ValidationRun, validate_submitted
from app.store.engine import write_transaction

# A run lost to another validator is tried again this many times before the command fails.
ATTEMPTS = 3
# PostgreSQL's deadlock_detected and serialization_failure: the transaction was rolled back.
_RETRIED_SQLSTATES = frozenset({"40P01", "40001"})


class Budget:
    """How many requests the workers may still judge together; None for no limit."""

    def __init__(self, limit: int | None) -> None:
        self._left = limit
        self._lock = threading.Lock()

    def take(self, batch: int) -> int:
        """The size of the next run (0 once the limit is spent), counted as judged."""
        with self._lock:
            if self._left is None:
                return batch
            size = min(batch, self._left)
            self._left -= size
            return size

    def give_back(self, unused: int) -> None:
        """Return what a run claimed but did not judge (fewer requests were waiting)."""
        with self._lock:
            if self._left is not None:
                self._left += unused


def validate_until_done(
    engine: Engine,
    batch: int,
    limit: int | None,
    workers: int,
    on_run: Callable[[int, ValidationRun], None],
) -> None:
    """Judge waiting requests in runs of `batch` with `workers` sessions at once, until none
    waits or `limit` are judged; `on_run(worker, run)` after each committed run (serialised).

    The first error stops every worker after its current run and is raised here.
    """
    budget = Budget(limit)
    stop = threading.Event()
    report = threading.Lock()

    def work(index: int) -> None:
        share = Share(index, workers) if workers > 1 else None
        while not stop.is_set():
            size = budget.take(batch)
            if size == 0:
                return
            run = _run_with_retries(engine, size, share)
            judged = run.approved + run.referred
            budget.give_back(size - judged)
            if judged == 0:
                return
            with report:
                on_run(index, run)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="validator") as pool:
        futures = [pool.submit(work, index) for index in range(workers)]
        try:
            wait(futures, return_when=FIRST_EXCEPTION)
        finally:
            stop.set()
        for future in futures:
            future.result()


def _run_with_retries(engine: Engine, size: int, share: Share | None) -> ValidationRun:
    attempt = 1
    while True:
        try:
            with write_transaction(engine) as conn:
                return validate_submitted(conn, size, share)
        except (Conflict, OperationalError) as exc:
            if attempt == ATTEMPTS or not _lost_a_race(exc):
                raise
            attempt += 1


def _lost_a_race(exc: Exception) -> bool:
    if isinstance(exc, Conflict):
        return True  # an enrolment another validator committed after this run's check
    return getattr(exc.orig, "sqlstate", None) in _RETRIED_SQLSTATES  # type: ignore[attr-defined]
