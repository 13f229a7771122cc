"""Serving with granian (APP_SERVER=granian), behind a front proxy that stamps X-Request-Start.

Granian parses HTTP in Rust and hands each request to one of `APP_THREADS` Python threads per
worker: on this project's 2-core machine it serves reads and writes about twice as fast as
gunicorn's threaded worker (README, "Serving under a surge"). It tells the app nothing of the
time a request waited for a thread, so admission control reads the front proxy's stamp instead
(APP_TRUST_REQUEST_START, required by the settings): nginx and the ingress controllers both
stamp it. Served directly, without a proxy, use gthread.

Granian runs as a child of `serve`, in a session of its own: a signal to `serve`'s process group
(a terminal's Ctrl-C, systemd's control group) reaches granian only through `serve`, once. Granian
is not safe against a second stop signal while it handles the first (its handler takes a lock the
interrupted handler holds, and the server hangs), nor against its workers being signalled beside
it, so a stop is passed on once and later ones are dropped; granian's own kill timeout bounds the
stop. If `serve` itself is killed, the kernel stops granian (parent-death signal). Once granian
has stopped, the metrics directory `serve` made for it is removed, as gunicorn's on_exit hook
does for gthread.

Granian replaces a worker that dies but says nothing of it, so `serve` looks for the live gauges
of workers that are gone (requests in flight) every few seconds and drops them, as gunicorn's
child_exit hook does: a dead worker's requests would otherwise count as in flight for good.
"""

from __future__ import annotations

import ctypes
import functools
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

from prometheus_client import multiprocess

from app.observability import metrics_dir
from app.settings import Settings

STOPS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)
FORWARDED = (*STOPS, signal.SIGHUP)
_PR_SET_PDEATHSIG = 1
REAP_EVERY_SECONDS = 5.0
_LIVE_GAUGE = re.compile(r"^gauge_live\w*_(\d+)\.db$")


def command(settings: Settings, host: str, port: int, graceful_seconds: int) -> list[str]:
    """Granian's command line for the app with these settings."""
    return [
        sys.executable, "-m", "granian", "--interface", "wsgi",
        "--host", host, "--port", str(port),
        "--workers", str(settings.workers), "--blocking-threads", str(settings.threads),
        # A worker that dies is replaced, as gunicorn's arbiter does.
        "--respawn-failed-workers", "--workers-kill-timeout", str(graceful_seconds),
        "--no-ws", "--log-level", "warning",
        "app.http.wsgi:application",
    ]  # fmt: skip


def run(settings: Settings, host: str, port: int, env: Mapping[str, str]) -> int:
    """Serve until granian stops; its exit status."""
    graceful = int(env.get("APP_GRACEFUL_TIMEOUT", "30"))
    child = subprocess.Popen(
        command(settings, host, port, graceful),
        env=dict(env),
        start_new_session=True,
        # Runs in the child before exec; safe here, as no thread of this process runs yet.
        preexec_fn=functools.partial(_stop_when_parent_dies, os.getpid()),
    )
    # A plain flag: a handler that takes a lock would hang on a signal arriving inside itself.
    stopping = False

    def forward(signum: int, _frame: object) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = signum in STOPS
        child.send_signal(signum)

    for signum in FORWARDED:
        signal.signal(signum, forward)
    stopped = threading.Event()
    directory = Path(env[metrics_dir.ENV])
    reaper = threading.Thread(target=_reap_until, args=(directory, stopped), daemon=True)
    reaper.start()
    try:
        return child.wait()
    finally:
        stopped.set()
        owned = env.get(metrics_dir.OWNED_ENV)
        if owned:
            metrics_dir.release(Path(owned))


def _stop_when_parent_dies(parent: int) -> None:
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


def reap_dead_workers(directory: Path) -> list[int]:
    """Drop the live gauges of processes that no longer run; the pids dropped."""
    dead = sorted(
        {
            int(found.group(1))
            for file in directory.glob("gauge_live*.db")
            if (found := _LIVE_GAUGE.match(file.name)) and not _running(int(found.group(1)))
        }
    )
    for pid in dead:
        multiprocess.mark_process_dead(pid, str(directory))
    return dead


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reap_until(directory: Path, stopped: threading.Event) -> None:
    while not stopped.wait(REAP_EVERY_SECONDS):
        reap_dead_workers(directory)


def exit_code(status: int) -> int:
    """A shell's exit status for granian's: 128 + N when a signal N ended it."""
    return 128 - status if status < 0 else status
