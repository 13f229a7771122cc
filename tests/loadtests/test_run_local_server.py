"""The local run's kill -9 takes the whole server, as an OOM kill would: granian runs in a
session of its own under `serve`, so killing serve's process group alone would leave it serving.
Real processes stand in for `serve` and granian: a parent whose child starts its own session."""

from __future__ import annotations

import subprocess
import sys
import time

from loadtests.run_local import Server, process_tree
from tests.processes import still_running

# A parent that starts a child in a session of its own, as `serve` starts granian, which has a
# worker of its own; it prints the child's pid once both run.
SERVE_LIKE = """
import subprocess, sys, time
worker = "import subprocess, time; subprocess.Popen(['sleep', '120']); time.sleep(120)"
child = subprocess.Popen([sys.executable, "-c", worker], start_new_session=True)
print(child.pid, flush=True)
time.sleep(120)
"""


def test_kill9_takes_serve_and_every_process_under_it_in_other_sessions(tmp_path):
    parent = subprocess.Popen(
        [sys.executable, "-c", SERVE_LIKE], stdout=subprocess.PIPE, start_new_session=True
    )
    child = int(parent.stdout.readline())
    deadline = time.monotonic() + 30
    while len(tree := process_tree(parent.pid)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert tree[:2] == [parent.pid, child] and len(tree) == 3
    server = Server({}, 0, tmp_path / "server.log")
    server.proc = parent

    server.kill9()

    assert parent.returncode == -9
    assert still_running(tree[1:], seconds=10) == []
