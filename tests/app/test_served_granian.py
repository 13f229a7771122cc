"""Granian as `python -m app serve` runs it (APP_SERVER=granian), behind a real nginx that stamps
X-Request-Start as the shipped proxies do: one worker with one thread and a 20 ms queue budget,
hit through nginx by bursts of 96 concurrent reads. Granian tells the app nothing of a request's
wait, so only the proxy's stamp can shed: some requests must get 503 with Retry-After, none
another 5xx, probes answer, and once the bursts stop every request is served again. Without
APP_TRUST_REQUEST_START, `serve` refuses granian by name. Stopping is tested as operators and
supervisors do it: stop signals repeated to `serve`'s whole process group, and `serve` killed
outright, must each leave no granian process behind. Assertions are counts, never timings."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.settings import Settings
from app.store.engine import build_engine
from bench.nginx_site import private_temp_paths
from loadtests.run_local import process_tree
from tests.app.conftest import token_for
from tests.app.test_make_run import free_port
from tests.app.test_served_shedding import serve, surge, wait_ready
from tests.processes import alive, still_running

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def stamping_proxy(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """(nginx's port, the app's port): nginx stamps X-Request-Start as the shipped one does."""
    if shutil.which("nginx") is None:
        pytest.skip("nginx is not installed")
    proxy, app = free_port(), free_port()
    root = tmp_path / "nginx"
    root.mkdir()
    (root / "nginx.conf").write_text(
        f"pid {root}/nginx.pid;\nerror_log {root}/error.log;\n"
        "events { worker_connections 1024; }\n"
        f"http {{\n access_log off;\n{private_temp_paths(root)}"
        f" upstream app {{ server 127.0.0.1:{app}; keepalive 16; }}\n"
        f" server {{\n  listen 127.0.0.1:{proxy};\n"
        "  location / {\n   proxy_pass http://app;\n   proxy_http_version 1.1;\n"
        '   proxy_set_header Connection "";\n'
        '   proxy_set_header X-Request-Start "t=${msec}";\n  }\n }\n}\n'
    )
    nginx = subprocess.Popen(
        ["nginx", "-p", str(root), "-c", str(root / "nginx.conf"), "-g", "daemon off;"],
        stderr=subprocess.PIPE,
    )
    try:
        yield proxy, app
    finally:
        nginx.terminate()
        nginx.wait(timeout=20)


@pytest.mark.slow
@pytest.mark.postgres
def test_granian_behind_a_stamping_proxy_sheds_a_surge_and_recovers(
    tmp_path, postgres_url, stamping_proxy
):
    proxy, port = stamping_proxy
    engine = build_engine(Settings(database_url=postgres_url))
    auth = token_for(engine)["Authorization"]
    engine.dispose()
    base = f"http://127.0.0.1:{proxy}"
    server = serve(tmp_path, postgres_url, port, APP_SERVER="granian",
                   APP_TRUST_REQUEST_START="true")  # fmt: skip
    try:
        wait_ready(server, base, tmp_path / "serve.log")
        got = surge(proxy, auth, f"http://127.0.0.1:{port}/metrics")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)

    got.assert_shed_then_served()
    # `serve` stopped granian and removed the metrics directory it made.
    assert server.returncode in (0, 128 + signal.SIGTERM)
    assert not list(tmp_path.glob("campus-metrics-*/*.db"))


def test_serve_refuses_granian_without_the_proxy_stamp(tmp_path):
    env = {**os.environ, "APP_SERVER": "granian", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    env.pop("APP_TRUST_REQUEST_START", None)
    refused = subprocess.run(
        [sys.executable, "-m", "app", "serve", "--port", str(free_port())],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "APP_TRUST_REQUEST_START" in refused.stderr and "Traceback" not in refused.stderr


@pytest.fixture
def granian(tmp_path, postgres_url) -> Iterator[subprocess.Popen]:
    """`serve` running granian, ready; killed with its whole process tree if a test left it."""
    port = free_port()
    server = serve(tmp_path, postgres_url, port, APP_SERVER="granian",
                   APP_TRUST_REQUEST_START="true", APP_GRACEFUL_TIMEOUT="5")  # fmt: skip
    wait_ready(server, f"http://127.0.0.1:{port}", tmp_path / "serve.log")
    started = process_tree(server.pid)[1:]
    yield server
    for pid in [server.pid, *started]:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
    server.wait(timeout=10)


@pytest.mark.slow
@pytest.mark.postgres
def test_stop_signals_repeated_to_the_process_group_stop_granian_once(granian):
    started = process_tree(granian.pid)[1:]
    assert len(started) == 2  # granian and its one worker
    # A supervisor signalling the whole group, then an impatient operator: granian hung on the
    # second stop signal or on its worker signalled beside it.
    for _ in range(3):
        os.killpg(granian.pid, signal.SIGTERM)
        time.sleep(0.005)
    assert granian.wait(timeout=60) in (0, 128 + signal.SIGTERM)
    assert still_running(started) == []


@pytest.mark.slow
@pytest.mark.postgres
def test_granian_stops_when_serve_is_killed(granian):
    started = process_tree(granian.pid)[1:]
    os.kill(granian.pid, signal.SIGKILL)
    granian.wait(timeout=10)
    assert still_running(started) == []
