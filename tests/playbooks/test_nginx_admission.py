"""The single host's nginx refuses past its in-flight limit itself: the shipped site in a real
nginx, in front of an upstream that holds requests until told to answer, so the number in
flight is known exactly."""

from __future__ import annotations

import http.client
import json
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench.nginx_site import ROLE, running_site
from loadtests.run_local import free_port

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")

LIMIT = 2
HELD = "/api/v1/learners/1"
APP_503 = "/api/v1/learners/503"


class HoldingApp(ThreadingHTTPServer):
    """Holds every request to HELD until `release` is set; answers the rest at once."""

    daemon_threads = True

    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.release = threading.Event()
        self.arrived = threading.Semaphore(0)
        self.paths: list[str] = []


class _Handler(BaseHTTPRequestHandler):
    server: HoldingApp

    def do_GET(self) -> None:
        self.server.paths.append(self.path)
        if self.path == HELD:
            self.server.arrived.release()
            self.server.release.wait(30)
        status, extra = (503, [("Retry-After", "7")]) if self.path == APP_503 else (200, [])
        body = json.dumps({"from": "app", "path": self.path}).encode()
        self.send_response(status)
        for name, value in [("Content-Type", "application/json"), *extra]:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[int, HoldingApp]]:
    """(the intranet entry's port, the upstream app) with app_host_max_in_flight = LIMIT."""
    app = HoldingApp(free_port())
    threading.Thread(target=app.serve_forever, daemon=True).start()
    port = free_port()
    try:
        with running_site(
            tmp_path / "nginx", app.server_address[1], port, app_host_max_in_flight=LIMIT
        ):
            yield port, app
    finally:
        app.release.set()
        app.shutdown()
        app.server_close()


def get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=context)
    try:
        conn.request("GET", path)
        answer = conn.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read()
    finally:
        conn.close()


def test_past_the_limit_nginx_answers_503_problem_json_itself_and_lets_probes_through(site):
    port, app = site
    with ThreadPoolExecutor(LIMIT) as pool:
        held = [pool.submit(get, port, HELD) for _ in range(LIMIT)]
        for _ in range(LIMIT):
            assert app.arrived.acquire(timeout=20), "a held request never reached the app"

        status, headers, body = get(port, "/api/v1/learners/2")
        assert status == 503
        assert headers["Retry-After"] == "1"
        assert headers["Content-Type"] == "application/problem+json"
        assert headers["Strict-Transport-Security"] == "max-age=31536000"
        problem = json.loads(body)
        assert problem["status"] == 503 and problem["type"].endswith("/problems/overloaded")
        assert "/api/v1/learners/2" not in app.paths  # refused before the app

        # Probes and scrapes are never counted nor refused, even with every slot taken.
        for probe in ("/healthz", "/readyz", "/metrics"):
            status, _, body = get(port, probe)
            assert (status, json.loads(body)["from"]) == (200, "app"), probe

        app.release.set()
        assert [f.result()[0] for f in held] == [200] * LIMIT

    # The slots are free again once the held requests are answered.
    assert get(port, "/api/v1/learners/2")[0] == 200


def test_each_refusal_is_logged_in_its_own_log_the_rest_in_the_access_log(site, tmp_path: Path):
    port, app = site
    with ThreadPoolExecutor(LIMIT) as pool:
        held = [pool.submit(get, port, HELD) for _ in range(LIMIT)]
        for _ in range(LIMIT):
            assert app.arrived.acquire(timeout=20)
        for _ in range(3):
            assert get(port, "/api/v1/learners/4")[0] == 503
        app.release.set()
        assert [f.result()[0] for f in held] == [200] * LIMIT
    log = tmp_path / "nginx" / "refused.log"
    lines = _lines_written(log, 3)
    assert len(lines) == 3, lines
    assert all('"GET /api/v1/learners/4 HTTP/1.1" 503 ' in line for line in lines), lines
    # The requests let in are in the access log, and no refusal is.
    access = _lines_written(tmp_path / "nginx" / "access.log", LIMIT)
    assert [f'"GET {HELD} HTTP/1.1" 200 ' in line for line in access] == [True] * LIMIT, access
    # The host's mtail program counts the refusals, read by the real mtail.
    assert refusals_counted(log, tmp_path / "progs") == 3


def _lines_written(log: Path, expected: int) -> list[str]:
    """The lines of `log` once it holds `expected`: both logs are written in blocks, at most
    5 s late (flush=5s)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and len(lines := _lines(log)) < expected:
        time.sleep(0.2)
    return lines


def refusals_counted(log: Path, progs: Path) -> float:
    """campus_proxy_requests_refused_total once mtail has read `log` with the shipped program."""
    if shutil.which("mtail") is None:
        pytest.skip("mtail is not installed (make test installs it)")
    progs.mkdir()
    shutil.copy(ROLE / "files" / "campus-refused.mtail", progs)
    done = subprocess.run(
        # Even a one-shot run listens: on a port of its own, not the host mtail's.
        ["mtail", "--one_shot", "--one_shot_format", "prometheus", "--progs", str(progs),
         "--logs", str(log), "--logtostderr", "--address", "127.0.0.1",
         "--port", str(free_port())],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    (value,) = [
        float(line.rsplit(" ", 1)[1])
        for line in done.stdout.splitlines()
        if line.startswith("campus_proxy_requests_refused_total{")
    ]
    return value


def test_the_count_of_refusals_starts_at_zero(tmp_path: Path):
    (tmp_path / "refused.log").write_text("")
    assert refusals_counted(tmp_path / "refused.log", tmp_path / "progs") == 0


def _lines(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_the_apps_own_503_passes_through_untouched(site):
    port, _ = site
    status, headers, body = get(port, APP_503)
    assert (status, headers["Retry-After"]) == (503, "7")
    assert json.loads(body) == {"from": "app", "path": APP_503}


def test_one_slot_short_of_the_limit_is_let_in(site):
    port, app = site
    with ThreadPoolExecutor(LIMIT) as pool:
        held = pool.submit(get, port, HELD)
        assert app.arrived.acquire(timeout=20)
        assert get(port, "/api/v1/learners/3")[0] == 200
        app.release.set()
        assert held.result()[0] == 200
