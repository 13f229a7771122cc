"""When to try a message again after a failed SMTP attempt: exponential backoff, capped."""

from __future__ import annotations

from datetime import timedelta

FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 30 s, 1 min, 2 min, ... at most 1 h.

    A message is never given up: an undeliverable one keeps the backlog's oldest age growing,
    which is what the outbox alert watches.
    """
    if attempts < 1:
        return timedelta(0)
    # Past 2**7 times 30 s the cap applies anyway; the exponent stays small.
    return min(FIRST_RETRY * 2 ** min(attempts - 1, 16), LONGEST_WAIT)
