"""`make run` on a fresh SQLite file: the served app is ready, a minted token works, its
metrics directory is private to it, and its log carries requests, not probes."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_make_run_serves_a_ready_app_that_tokens_can_use(tmp_path):
    port = free_port()
    tmp = tmp_path / "tmp"
    # What an earlier server (another user's, say) left at the old predictable path.
    stranger = tmp / f"campus-metrics-{port}"
    stranger.mkdir(parents=True)
    (stranger / "counter_1.db").write_text("not ours")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/run.db",
        "APP_WORKERS": "2",
        "TMPDIR": str(tmp),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = (tmp_path / "run.log").open("w")
    server = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (tmp_path / "run.log").read_text()
            try:
                if requests.get(f"{base}/readyz", timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                pass  # not listening yet, or still loading on a busy machine
            assert time.monotonic() < deadline, (tmp_path / "run.log").read_text()
            time.sleep(0.5)
        assert "Staff token: cp_" in (tmp_path / "run.log").read_text()
        private = [d for d in tmp.iterdir() if d != stranger]
        assert len(private) == 1 and private[0].name.startswith("campus-metrics-")
        assert stat.S_IMODE(private[0].stat().st_mode) == 0o700
        for _ in range(5):
            requests.get(f"{base}/readyz", timeout=10)
        token = subprocess.run(
            [sys.executable, "-m", "app", "create-token", "--role", "staff", "--name", "smoke"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        auth = {"Authorization": f"Bearer {token}"}
        curriculum = {
            "programme": {"code": "SMOKE", "label": "Smoke"},
            "version": {"code": "SMOKE-1", "label": "Smoke", "curriculum_period": "2024-2029"},
            "steps": [{"code": "SMOKE-L1", "label": "L1", "year_index": 1}],
        }
        step = requests.post(
            f"{base}/api/v1/curricula", json=curriculum, headers=auth, timeout=10
        ).json()["steps"]["SMOKE-L1"]
        learner = requests.post(
            f"{base}/api/v1/learners",
            headers=auth,
            timeout=10,
            json={
                "external_id": "SMOKE-1",
                "first_name": "Ada",
                "last_name": "Lovelace",
                "email": "ada@example.org",
            },
        ).json()["id"]
        created = requests.post(
            f"{base}/api/v1/enrolments",
            headers=auth,
            timeout=10,
            json={
                "learner_id": learner,
                "step_id": step,
                "academic_year": "2026-2027",
                "start_date": "2026-09-01",
            },
        )
        assert created.status_code == 201, created.text
        read = requests.get(
            f"{base}/api/v1/enrolments/{created.json()['id']}", headers=auth, timeout=10
        )
        assert read.status_code == 200 and read.json()["learner_id"] == learner
        metrics = requests.get(f"{base}/metrics", timeout=10).text
        assert (
            'campus_http_requests_total{method="POST",route="/api/v1/enrolments",status="201"}'
            in metrics
        )
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    assert not private[0].exists(), "the instance's metrics directory goes with it"
    assert (stranger / "counter_1.db").read_text() == "not ours"
    lines = [
        json.loads(line)
        for line in (tmp_path / "run.log").read_text().splitlines()
        if line.startswith("{")
    ]
    assert not [line for line in lines if line.get("logger", "").startswith("alembic")]
    probes = [line for line in lines if line.get("route") in ("/readyz", "/healthz", "/metrics")]
    assert not probes, "probes and scrapes are logged at DEBUG only"
    assert any(line.get("route") == "/api/v1/enrolments" for line in lines)
