"""The dispatcher's journal of messages the SMTP server accepted, kept for a dedup window.

The outbox marks a message sent in the database after the server's 250. A dispatcher killed,
or a database lost, between the two leaves a message that looks unsent. The journal is
written first (append, fsync) the moment the server accepts, on the dispatcher's own disk:
a restarted dispatcher finds the Message-ID there and marks the message sent instead of
sending it again.

Past the window (or on another host without this journal), the message is sent again with
the same Message-ID, and the receiving side can drop the copy by it: a Sieve script with the
duplicate extension (RFC 7352, `duplicate :header "message-id"`), or the mail store's own
duplicate suppression, which keys on the same header.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


class SentJournal:
    """Message-IDs accepted by the SMTP server, with when, younger than `window_seconds`."""

    def __init__(self, path: Path, window_seconds: float) -> None:
        self.path = path
        self.window_seconds = window_seconds
        self._accepted: dict[str, float] = {}
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return
        horizon = time.time() - self.window_seconds
        lines = self.path.read_text(encoding="utf-8").splitlines()
        for line in lines:
            stamp, _, message_id = line.partition(" ")
            try:
                accepted = float(stamp)
            except ValueError:
                continue  # a line torn by a crash mid-write: the message was never marked
            if accepted >= horizon and message_id:
                self._accepted[message_id] = accepted
        if len(self._accepted) < len(lines):
            self._rewrite()

    def _rewrite(self) -> None:
        temporary = self.path.with_suffix(self.path.suffix + ".tmp")
        with temporary.open("w", encoding="utf-8") as out:
            for message_id, accepted in self._accepted.items():
                out.write(f"{accepted:.3f} {message_id}\n")
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(self.path)

    def accepted(self, message_id: str) -> bool:
        """True when the server accepted this message within the window."""
        return message_id in self._accepted

    def record(self, message_id: str) -> None:
        """Remember an acceptance, on disk before returning."""
        now = time.time()
        with self.path.open("a", encoding="utf-8") as out:
            out.write(f"{now:.3f} {message_id}\n")
            out.flush()
            os.fsync(out.fileno())
        self._accepted[message_id] = now
