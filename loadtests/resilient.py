"""The HTTP calls of the scenarios, made as a well-behaved client makes them.

* Every POST carries an `Idempotency-Key`, kept across retries: a write whose answer was lost
  (connection reset, server killed) is retried without being applied twice.
* 503 or 429 with `Retry-After` is the app shedding load: the client waits as told (capped,
  with jitter) and retries. Such answers are reported under `<name> [shed]`, so the latency
  of each request kind only counts answers the app served, and the gates see shedding apart.
* A connection lost before any answer is retried the same way; the attempts before the last
  are reported under `<name> [retried]`, so the error ratio is what the user finally got.
* Any other 5xx is reported with an error that starts with `5xx`, the gate that must stay at 0.
"""

from __future__ import annotations

import json as jsonlib
import random
import uuid
from typing import Any

import gevent

MAX_ATTEMPTS = 6
MAX_WAIT_SECONDS = 10.0
SHED = (429, 503)
CONNECTION_ERROR_WAIT = 1.0  # then 2, 3, 4, 5 s: rides out a restart of ~15 s
RETRIED_SUFFIX = " [retried]"


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form), capped; None when absent."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return 1.0  # an HTTP-date: the app never sends one, wait a second rather than fail
    return max(0.0, min(seconds, MAX_WAIT_SECONDS))


def call(
    user: Any,
    method: str,
    path: str,
    *,
    name: str,
    token: str | None,
    body: Any = None,
    expect: tuple[int, ...] = (200, 201),
    attempts: int = MAX_ATTEMPTS,
) -> Any | None:
    """Make the call and answer its JSON (or b"" for a PDF) when the status is expected, else
    None (the failure is reported to Locust). Retries shedding and lost connections."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if method == "POST" and token:
        headers["Idempotency-Key"] = str(uuid.uuid4())
    for attempt in range(1, attempts + 1):
        wait: float | None = None
        with user.client.request(
            method, path, name=name, json=body, headers=headers, catch_response=True
        ) as resp:
            status = resp.status_code
            if status in expect:
                resp.success()
                if "json" in (resp.headers.get("Content-Type") or ""):
                    return jsonlib.loads(resp.content or b"null")
                return resp.content
            shed_wait = retry_after(resp.headers.get("Retry-After")) if status in SHED else None
            if shed_wait is not None:
                resp.request_meta["name"] = f"{name} [shed]"
                resp.failure(f"shed {status} Retry-After")
                wait = shed_wait
            elif status == 0:
                # A connection lost before any answer (a keep-alive connection the server
                # closed as we sent, a restart): retried with the same Idempotency-Key, as
                # HTTP clients retry a stale connection. Only the last attempt counts as the
                # call's failure; earlier ones are reported apart, under `<name> [retried]`.
                if attempt < attempts:
                    resp.request_meta["name"] = f"{name}{RETRIED_SUFFIX}"
                resp.failure(f"connection: {resp.error}")
                wait = CONNECTION_ERROR_WAIT * attempt
            elif status >= 500:
                resp.failure(f"5xx {status} without Retry-After: {_detail(resp)}")
                return None
            else:
                resp.failure(f"{status}: {_detail(resp)}")
                return None
        if attempt < attempts:
            gevent.sleep(wait * random.uniform(1.0, 1.2))
    return None


def _detail(resp: Any) -> str:
    text = (resp.text or "")[:200] if resp.content else ""
    return text.replace("\n", " ")
