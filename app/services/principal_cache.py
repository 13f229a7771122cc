"""Principals of recently seen tokens, kept in the server process for a few seconds.

Looking a token up was one database round trip of every authenticated request, often half of
its round trips. A principal found is kept for `seconds` (APP_TOKEN_CACHE_SECONDS), never past
its token's own expiry; unknown tokens are never kept, so random tokens cannot fill it. The
price: a revoked token is still honoured for up to `seconds` by a process that saw it just
before.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from app import clock
from app.services.tokens import Principal, digest, principal_by_digest
from app.store.request_connection import RequestConnection

DEFAULT_SIZE = 10_000


class PrincipalCache:
    def __init__(
        self,
        seconds: float,
        size: int = DEFAULT_SIZE,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self.seconds = seconds
        self._size = size
        # Looked up at each call, not bound now: a test can then move time.monotonic.
        self._monotonic = monotonic or (lambda: time.monotonic())
        self._entries: OrderedDict[str, tuple[Principal, float, datetime | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, digest: str) -> Principal | None:
        """The principal kept for this token digest, while it is fresh and the token unexpired."""
        if self.seconds <= 0:
            return None
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            principal, fresh_until, expires_at = entry
            if self._monotonic() >= fresh_until or (
                expires_at is not None and clock.now() >= expires_at
            ):
                del self._entries[digest]
                return None
            self._entries.move_to_end(digest)
            return principal

    def put(self, digest: str, principal: Principal, expires_at: datetime | None) -> None:
        """Keep a principal just read from the database."""
        if self.seconds <= 0:
            return
        with self._lock:
            self._entries[digest] = (principal, self._monotonic() + self.seconds, expires_at)
            self._entries.move_to_end(digest)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


def principal_for(db: RequestConnection, token: str, cache: PrincipalCache) -> Principal | None:
    """The principal behind a token: from `cache` while fresh, else one statement outside any
    transaction (one round trip)."""
    key = digest(token)
    kept = cache.get(key)
    if kept is not None:
        return kept
    with db.lookup() as conn:
        found = principal_by_digest(conn, key)
    if found is None:
        return None
    cache.put(key, *found)
    return found[0]
