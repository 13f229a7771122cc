"""The zero-loss ledger: every write the app acknowledged, checked through the API at the end.

A scenario calls `record(kind, path, statuses)` after each 2xx write: `path` is where the
written thing can be read back, `statuses` (optional) the values its `status` may have by the
end. When the run ends (on the master, or the only process), each entry is read back with the
staff token, retrying while the app sheds load or restarts, and the run prints `lost = N`;
N > 0 makes the run exit non-zero.

In distributed mode each worker streams its new entries to the master with its regular stats
reports (and its final one), so the master checks them all: hooks.py wires that into Locust;
this module does not import Locust.
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests

CHECK_THREADS = 8
# How long one entry may stay unreadable (503, connection refused) before it counts as lost:
# long enough for a killed server to be restarted.
CHECK_PATIENCE_SECONDS = 60.0


@dataclass(frozen=True)
class Entry:
    kind: str
    path: str
    statuses: tuple[str, ...] = ()


_entries: list[Entry] = []


def record(kind: str, path: str, statuses: tuple[str, ...] = ()) -> None:
    """Note an acknowledged write, readable at `path` (with a status among `statuses`)."""
    _entries.append(Entry(kind, path, statuses))


def add(items: list[Entry]) -> None:
    """Entries recorded by another process (a worker's, on the master)."""
    _entries.extend(items)


def entries() -> list[Entry]:
    """Every entry recorded so far in this process (and, on a master, from its workers)."""
    return list(_entries)


def check_one(session: requests.Session, host: str, entry: Entry) -> str | None:
    """None when the entry reads back as acknowledged, else why it does not."""
    deadline = time.monotonic() + CHECK_PATIENCE_SECONDS
    why = "never answered"
    while time.monotonic() < deadline:
        try:
            resp = session.get(host.rstrip("/") + entry.path, timeout=10)
        except requests.RequestException as exc:
            why = f"connection: {exc}"
            time.sleep(1.0)
            continue
        if resp.status_code in (429, 502, 503, 504):
            why = f"HTTP {resp.status_code}"
            time.sleep(min(float(resp.headers.get("Retry-After") or 1), 10.0))
            continue
        if resp.status_code != 200:
            return f"HTTP {resp.status_code}"
        if entry.statuses:
            status = resp.json().get("status")
            if status not in entry.statuses:
                return f"status {status!r}, expected one of {', '.join(entry.statuses)}"
        return None
    return why


def check(host: str, token: str, items: list[Entry]) -> dict[Entry, str]:
    """Read every entry back; the lost ones with the reason."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=CHECK_THREADS)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    with ThreadPoolExecutor(CHECK_THREADS) as pool:
        reasons = list(pool.map(lambda e: check_one(session, host, e), items))
    return {e: why for e, why in zip(items, reasons, strict=True) if why is not None}


def verify(host: str, token: str) -> int:
    """Check the ledger against the app, print the outcome, and answer the number lost."""
    items = entries()
    if not token:
        print("ledger: not checked (no staff token: --staff-token or LOADTEST_STAFF_TOKEN)")
        return 1
    started = time.monotonic()
    lost = check(host, token, items)
    by_kind = Counter(e.kind for e in items)
    lost_by_kind = Counter(e.kind for e in lost)
    print(
        f"\nZero-loss ledger: {len(items)} acknowledged writes checked through the API "
        f"in {time.monotonic() - started:.1f} s"
    )
    for kind in sorted(by_kind):
        print(f"  {kind:<28} {by_kind[kind]:>8} acknowledged {lost_by_kind[kind]:>6} lost")
    for entry, why in list(lost.items())[:20]:
        print(f"  LOST {entry.kind} {entry.path}: {why}")
    print(f"lost = {len(lost)}")
    return len(lost)
