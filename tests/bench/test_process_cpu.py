"""The benchmarks' CPU accounting against processes that burn a known amount of CPU."""

from __future__ import annotations

import subprocess
import sys
import time

from bench.process_cpu import busy_cores_seconds, cpu_seconds

# Burns about this much CPU, then waits to be killed; named (NAME) so it can be found by name.
BURN_SECONDS = 0.4
BURN = f"""
import time
open("/proc/self/comm", "w").write("NAME")
end = time.process_time() + {BURN_SECONDS}
while time.process_time() < end:
    pass
print("burnt", flush=True)
time.sleep(60)
"""
# Starts a burner, waits for it to exit (reaping it), then stays: its tree holds what the
# exited child used.
PARENT = f"""
import subprocess, sys, time
burn = {BURN!r}.replace("time.sleep(60)", "").replace("NAME", "campus-burnt")
subprocess.run([sys.executable, "-c", burn], check=True, stdout=subprocess.DEVNULL)
print("reaped", flush=True)
time.sleep(60)
"""


def started(code: str) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    process.stdout.readline()  # its CPU is used once it says so
    return process


def test_a_process_tree_and_a_named_process_are_charged_what_they_burnt():
    busy_before = busy_cores_seconds()
    burner = started(BURN.replace("NAME", "campus-burn"))
    try:
        used = cpu_seconds({"burner": burner.pid}, {"by name": "campus-burn"})
        assert BURN_SECONDS * 0.9 <= used["burner"] <= BURN_SECONDS + 1.0
        assert BURN_SECONDS * 0.9 <= used["by name"] <= BURN_SECONDS + 1.0
        assert busy_cores_seconds() - busy_before >= BURN_SECONDS * 0.9
    finally:
        burner.kill()
        burner.wait()


def test_a_child_that_exited_is_still_counted_in_its_parents_tree():
    parent = started(PARENT)
    try:
        time.sleep(0.1)
        used = cpu_seconds({"tree": parent.pid}, {"exited": "campus-burnt"})
        assert used["tree"] >= BURN_SECONDS * 0.9
        assert used["exited"] == 0.0  # no process of that name is left
    finally:
        parent.kill()
        parent.wait()


def test_a_process_that_does_not_exist_counts_nothing():
    beyond_any_pid = 2**22 + 1  # above the kernel's largest pid_max
    assert cpu_seconds({"none": beyond_any_pid}) == {"none": 0.0}
