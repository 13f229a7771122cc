"""Admission control in the shipped server: `python -m app serve` on a scratch PostgreSQL
database, one worker with one thread and a 20 ms queue budget, hit by bursts of 96 concurrent
authenticated reads. One thread serves a read in a millisecond or more, so each burst queues
for far longer than the budget: some requests must be shed, each with 503 and Retry-After,
none may fail with another 5xx, probes must answer during the bursts, and half a second after
the bursts stop every request is served again. Assertions are counts, never timings."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from app.settings import Settings
from app.store.engine import build_engine
from tests.app.conftest import token_for
from tests.app.test_make_run import free_port

ROOT = Path(__file__).resolve().parents[2]
CONNECTIONS = 96
BURSTS = 6
# A learner no test creates, whatever ran before on the shared database: served reads are 404.
MISSING = f"/api/v1/learners/{2**62}"
# The server's one thread still has to close the surge's 96 connections once the client closed
# them, and a read arriving meanwhile queues behind them and may be shed, rightly (on a loaded
# machine, the first read after the surge was): the sequential reads start after this pause.
SETTLE_SECONDS = 0.5


def serve(tmp_path: Path, database_url: str, port: int, **settings: str) -> subprocess.Popen:
    """`python -m app serve`: one worker, one thread, a 20 ms budget, and `settings`."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "APP_WORKERS": "1",
        "APP_THREADS": "1",
        "APP_QUEUE_BUDGET_MS": "20",
        "TMPDIR": str(tmp_path),
        **settings,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=(tmp_path / "serve.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_ready(server: subprocess.Popen, base: str, log: Path) -> None:
    deadline = time.monotonic() + 120
    while True:
        assert server.poll() is None, log.read_text()
        try:
            if requests.get(f"{base}/readyz", timeout=10).status_code == 200:
                return
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.3)


def burst(port: int, auth: str, connections: list[http.client.HTTPConnection]) -> list[tuple]:
    """Send one read on every connection at once, then collect (status, Retry-After) of each."""
    for conn in connections:
        conn.request("GET", MISSING, headers={"Authorization": auth})
    answers = []
    for conn in connections:
        response = conn.getresponse()
        response.read()
        answers.append((response.status, response.getheader("Retry-After")))
        if response.will_close:
            conn.close()  # reopened by the next request
    return answers


def probe_during(base: str, stop: threading.Event, statuses: list[int]) -> None:
    while not stop.is_set():
        for path in ("/healthz", "/readyz"):
            try:
                statuses.append(requests.get(base + path, timeout=30).status_code)
            except requests.RequestException as exc:
                statuses.append(type(exc).__name__)  # type: ignore[arg-type]
        time.sleep(0.02)


def shed_total(metrics: str) -> float:
    found = re.search(r'^campus_http_requests_shed_total\{reason="queue"\} (\S+)$', metrics, re.M)
    return float(found.group(1)) if found else 0.0


@dataclass
class Surge:
    """What a surge through `port` got: each burst's answers, the probes meanwhile, the 20
    sequential reads once it stopped, and the metrics then."""

    answers: list[tuple]
    probes: list
    after: list[int]
    metrics: str

    def assert_shed_then_served(self) -> None:
        """Partly shed with 503 and Retry-After, never another 5xx, probes answered, served
        again once it stopped, every refusal counted."""
        statuses = [status for status, _ in self.answers]
        assert len(self.answers) == CONNECTIONS * BURSTS
        shed = [retry for status, retry in self.answers if status == 503]
        assert shed, "a burst 96 deep on one thread must exceed a 20 ms queue budget"
        assert all(retry == "1" for retry in shed), "every 503 says when to retry"
        assert set(statuses) <= {404, 503}, "served (no such learner) or shed: never a 500"
        assert statuses.count(404) >= BURSTS, "each burst is partly served, not refused whole"
        assert self.probes and all(status == 200 for status in self.probes), self.probes
        assert self.after == [404] * 20, "served again once the surge stops"
        assert shed_total(self.metrics) == len(shed)


def surge(port: int, auth: str, metrics_url: str) -> Surge:
    """Bursts of reads on `port` with probes meanwhile, then sequential reads SETTLE_SECONDS
    after the last burst."""
    base = f"http://127.0.0.1:{port}"
    probes: list = []
    connections = [
        http.client.HTTPConnection("127.0.0.1", port, timeout=60) for _ in range(CONNECTIONS)
    ]
    stop = threading.Event()
    prober = threading.Thread(target=probe_during, args=(base, stop, probes))
    prober.start()
    try:
        answers = [a for _ in range(BURSTS) for a in burst(port, auth, connections)]
    finally:
        stop.set()
        prober.join()
    for conn in connections:
        conn.close()
    time.sleep(SETTLE_SECONDS)
    after = [requests.get(f"{base}{MISSING}", headers={"Authorization": auth},
                          timeout=10).status_code for _ in range(20)]  # fmt: skip
    return Surge(answers, probes, after, requests.get(metrics_url, timeout=10).text)


@pytest.mark.slow
@pytest.mark.postgres
def test_the_served_app_sheds_a_surge_with_503_and_recovers(tmp_path, postgres_url):
    engine = build_engine(Settings(database_url=postgres_url))
    auth = token_for(engine)["Authorization"]
    engine.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = serve(tmp_path, postgres_url, port)
    try:
        wait_ready(server, base, tmp_path / "serve.log")
        got = surge(port, auth, f"{base}/metrics")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)

    got.assert_shed_then_served()
    metrics, statuses = got.metrics, [status for status, _ in got.answers]
    after = got.after
    count = re.search(r"^campus_http_request_queue_seconds_count (\S+)$", metrics, re.M)
    # Every request a thread took had its wait observed (those shed before queueing had none).
    assert count and float(count.group(1)) >= statuses.count(404) + len(after)
