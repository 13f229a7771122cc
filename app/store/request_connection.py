"""One request's database work on one connection: checked out once, however many transactions.

Authentication, the idempotency claim, the use case and the recorded answer each need their own
transaction; taking a pooled connection (and its liveness ping) for each of them cost a round
trip apiece. The connection is taken on first use, so requests that never touch the database
(probes, refusals before any lookup) never take one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine


class RequestConnection:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Connection | None = None

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that may write: committed on success, rolled back on any error."""
        yield from self._transaction(writes=True)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only unit of work with a consistent view."""
        yield from self._transaction(writes=False)

    def _transaction(self, writes: bool) -> Iterator[Connection]:
        if self._conn is None or self._conn.closed:
            self._conn = self._engine.connect()
        conn = self._conn
        # SQLite writers take the write lock at BEGIN (see app.store.engine).
        conn.execution_options(writes=writes)
        try:
            with conn.begin():
                yield conn
        except BaseException:
            # A failed transaction (a refused input, a failed commit) may leave the driver
            # mid-transaction: the next one starts on a connection the pool has reset.
            self.close()
            raise

    def close(self) -> None:
        """Give the connection back to the pool."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
