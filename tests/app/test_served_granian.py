"""Granian as `python -m app serve` runs it (APP_SERVER=granian), behind a real nginx that stamps
X-Request-Start as the shipped proxies do: one worker with one thread and a 20 ms queue budget,
hit through nginx by bursts of 96 concurrent reads. Granian tells the app nothing of a request's
wait, so only the proxy's stamp can shed: some requests must get 503 with Retry-After, none
another 5xx, probes answer, and once the bursts stop every request is served again. Without
APP_TRUST_REQUEST_START, `serve` refuses granian by name. Assertions are counts, never timings."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from app.settings import Settings
from app.store.engine import build_engine
from tests.app.conftest import token_for
from tests.app.test_make_run import free_port
from tests.app.test_served_shedding import (
    BURSTS,
    CONNECTIONS,
    burst,
    probe_during,
    serve,
    shed_total,
    wait_ready,
)
from tests.nginx_sandbox import private_temp_paths

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
    probes: list[int] = []
    try:
        wait_ready(server, base, tmp_path / "serve.log")
        connections = [
            http.client.HTTPConnection("127.0.0.1", proxy, timeout=60) for _ in range(CONNECTIONS)
        ]
        stop = threading.Event()
        prober = threading.Thread(target=probe_during, args=(base, stop, probes))
        prober.start()
        try:
            answers = [a for _ in range(BURSTS) for a in burst(proxy, auth, connections)]
        finally:
            stop.set()
            prober.join()
        for conn in connections:
            conn.close()
        time.sleep(0.5)  # the last burst's queue drains before the sequential requests
        after = [requests.get(f"{base}/api/v1/learners/1", headers={"Authorization": auth},
                              timeout=10).status_code for _ in range(20)]  # fmt: skip
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)

    statuses = [status for status, _ in answers]
    shed = [retry for status, retry in answers if status == 503]
    assert shed, "a burst 96 deep on one thread must exceed a 20 ms queue budget"
    assert all(retry == "1" for retry in shed), "every 503 says when to retry"
    assert set(statuses) <= {404, 503}, "served (no such learner) or shed: never a 500"
    assert statuses.count(404) >= BURSTS, "each burst is partly served, not refused whole"
    assert probes and all(status == 200 for status in probes), probes
    assert after == [404] * 20, "served again once the surge stops"
    assert shed_total(metrics) == len(shed)
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
