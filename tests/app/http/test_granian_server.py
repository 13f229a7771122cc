"""What `serve` does around granian: its command line from the settings, and the live gauges of
a worker that died dropped, those of running processes kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.http.granian_server import command, exit_code, reap_dead_workers
from app.settings import Settings

WRITE_LIVE_GAUGE = """
from prometheus_client import Gauge
Gauge("in_flight", "requests in flight", multiprocess_mode="livesum").inc(3)
"""


def test_the_command_line_carries_the_workers_threads_and_graceful_time():
    line = command(Settings(workers=3, threads=6), "10.0.0.5", 8000, 30)
    assert line[1:3] == ["-m", "granian"]
    for flag, value in [("--workers", "3"), ("--blocking-threads", "6"), ("--port", "8000"),
                        ("--host", "10.0.0.5"), ("--workers-kill-timeout", "30")]:  # fmt: skip
        assert line[line.index(flag) + 1] == value
    assert "--respawn-failed-workers" in line
    assert line[-1] == "app.http.wsgi:application"


def test_a_dead_workers_live_gauges_are_dropped_and_the_running_ones_kept(tmp_path: Path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    worker = subprocess.run([sys.executable, "-c", WRITE_LIVE_GAUGE], env=env, check=True)
    assert worker.returncode == 0
    dead = list(tmp_path.glob("gauge_livesum_*.db"))
    assert len(dead) == 1
    mine = tmp_path / f"gauge_livesum_{os.getpid()}.db"
    mine.write_bytes(dead[0].read_bytes())
    counter = tmp_path / "counter_123.db"  # counters of dead workers still count: kept
    counter.write_bytes(b"")

    reaped = reap_dead_workers(tmp_path)

    assert reaped == [int(dead[0].stem.rsplit("_", 1)[1])]
    assert not dead[0].exists()
    assert mine.exists() and counter.exists()
    assert reap_dead_workers(tmp_path) == []


def test_a_signal_that_ended_granian_is_reported_as_a_shell_would():
    assert exit_code(0) == 0
    assert exit_code(3) == 3
    assert exit_code(-15) == 143
