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
    def lookup(self) -> Iterator[Connection]:
        """One read statement, outside a transaction where the database allows it.

        A single SELECT sees one snapshot by itself; on PostgreSQL, BEGIN and COMMIT around it
        would cost two more round trips (authentication does this on every request). SQLite's
        transactions are begun by the app itself (app.store.engine), so there it is a read.
        """
        yield from self._single_statement(writes=False)

    @contextmanager
    def write_statement(self) -> Iterator[Connection]:
        """One writing statement, its own transaction where the database allows it.

        On PostgreSQL the statement commits by itself (autocommit): one round trip instead of
        three. SQLite takes its write lock in a transaction of its own, as for any write.
        """
        yield from self._single_statement(writes=True)

    def _single_statement(self, writes: bool) -> Iterator[Connection]:
        if self._engine.dialect.name != "postgresql":
            yield from self._transaction(writes=writes)
            return
        conn = self._connection()
        level = conn.default_isolation_level
        conn.execution_options(isolation_level="AUTOCOMMIT")
        try:
            with conn.begin():
                yield conn
        except BaseException:
            self.close()
            raise
        conn.execution_options(isolation_level=level)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only unit of work with a consistent view."""
        yield from self._transaction(writes=False)

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed:
            self._conn = self._engine.connect()
        return self._conn

    def _transaction(self, writes: bool) -> Iterator[Connection]:
        conn = self._connection()
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
