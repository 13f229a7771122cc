"""Run one scenario end to end: scratch database, served app, preparation, headless Locust,
optional kill -9 of the server mid-run, teardown. What `make loadtest` calls.

    python -m loadtests.run_local --scenario rentree_wave --users 100 --spawn-rate 10 \
        --run-time 2m [--processes 2] [--kill-at 30] [--out var/loadtests]
    python -m loadtests.run_local --scenario rentree_wave --host https://campus.example.org \
        --staff-token TOKEN ...          (an existing deployment: nothing started or dropped)

Locally the app is started only through `python -m app serve` with the environment's
settings (APP_WORKERS, APP_THREADS, APP_QUEUE_BUDGET_MS... pass through), on a database made
for the run on the PostgreSQL of --database-url (default TEST_DATABASE_URL; the role must
be allowed to create databases) and dropped at the end. The exit code is Locust's: 0 when
every SLO gate is met and lost = 0.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import requests

from loadtests import prepare as preparation

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = preparation.SCENARIOS
READY_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def scratch_database(admin_url: str) -> Iterator[str]:
    """A new database on the server of `admin_url`, dropped afterwards; yields its URL."""
    name = f"campus_load_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def app_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "app", *args]


class Server:
    """`python -m app serve` in its own process group, so a kill -9 takes all of it."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        out = self.log.open("ab")
        cmd = app_command("serve", "--host", "127.0.0.1", "--port", str(self.port))
        self.proc = subprocess.Popen(
            cmd, env=self.env, cwd=ROOT, stdout=out, stderr=out, start_new_session=True
        )
        out.close()

    def wait_ready(self) -> float:
        """Seconds until /readyz answered 200; raises when it never did."""
        started = time.monotonic()
        while time.monotonic() - started < READY_SECONDS:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"the app exited with {self.proc.returncode}: see {self.log}")
            with suppress(requests.RequestException):
                if requests.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return time.monotonic() - started
            time.sleep(0.2)
        raise RuntimeError(f"the app was not ready within {READY_SECONDS:.0f} s: see {self.log}")

    def kill9(self) -> None:
        """SIGKILL to the whole server (master and workers), as an OOM kill would."""
        if self.proc is not None:
            # Granian runs in a session of its own under `serve`: its group is not serve's.
            for pid in reversed(process_tree(self.proc.pid)):
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill9()


def process_tree(pid: int) -> list[int]:
    """`pid` and every process under it, parents before their children."""
    tree, index = [pid], 0
    while index < len(tree):
        parent = tree[index]
        with suppress(FileNotFoundError):
            for task in Path(f"/proc/{parent}/task").iterdir():
                tree.extend(int(child) for child in (task / "children").read_text().split())
        index += 1
    return tree


def minter(env: dict[str, str]):  # type: ignore[no-untyped-def]
    """Student tokens, minted next to the database with the service `create-token` uses."""
    os.environ["DATABASE_URL"] = env["DATABASE_URL"]
    from app.services.tokens import create_token
    from app.settings import Settings
    from app.store.engine import build_engine, write_transaction

    engine = build_engine(Settings.from_env())

    def mint(learner_id: int) -> str:
        with write_transaction(engine) as conn:
            return create_token(conn, "student", f"loadtest {learner_id}", learner_id)

    return mint


def locust_command(args: argparse.Namespace, host: str, data: Path, out: Path) -> list[str]:
    cmd = [
        str(Path(sys.executable).parent / "locust"),
        "-f", str(ROOT / "loadtests" / f"{args.scenario}.py"),
        "--headless", "--host", host,
        "--csv", str(out / args.scenario), "--html", str(out / f"{args.scenario}.html"),
        "--scenario-data", str(data),
        "--slo", args.slo,
        "--stop-timeout", "10",
        "--only-summary",
    ]  # fmt: skip
    if args.scenario == "furlough_surge":
        cmd += ["--peak-users", str(args.users), "--shape-seconds", str(args.run_time)]
    else:
        cmd += ["-u", str(args.users), "-r", str(args.spawn_rate), "-t", f"{args.run_time}s"]
    if args.processes > 1:
        cmd += ["--processes", str(args.processes)]
    return cmd


def run_locust(args: argparse.Namespace, host: str, token: str, data: Path, out: Path,
               server: Server | None) -> int:  # fmt: skip
    env = {**os.environ, "LOADTEST_STAFF_TOKEN": token}
    cmd = locust_command(args, host, data, out)
    print("+ " + " ".join(cmd), file=sys.stderr)
    with subprocess.Popen(cmd, env=env, cwd=ROOT) as locust:
        if args.kill_at and server is not None:
            try:
                locust.wait(timeout=args.kill_at)
            except subprocess.TimeoutExpired:
                started = time.monotonic()
                server.kill9()
                print(f"kill -9 of the app server at {args.kill_at} s", file=sys.stderr)
                server.start()
                ready = server.wait_ready()
                print(
                    f"app back: ready {time.monotonic() - started:.1f} s after the kill "
                    f"(readyz {ready:.1f} s after the restart)",
                    file=sys.stderr,
                )
        return locust.wait()


def load_average() -> str:
    with suppress(OSError):
        one, five, fifteen = os.getloadavg()
        return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"
    return "load average unknown"


def run(args: argparse.Namespace) -> int:
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    data = out / f"{args.scenario}.data.json"
    print(f"before: {load_average()}", file=sys.stderr)
    if args.host:
        if not args.staff_token:
            print("error: --staff-token (or LOADTEST_STAFF_TOKEN) is required with --host",
                  file=sys.stderr)  # fmt: skip
            return 2
        prepared = preparation.prepare(args.scenario, args.host, args.staff_token, args.students)
        data.write_text(preparation.json.dumps(prepared), encoding="utf-8")
        return run_locust(args, args.host, args.staff_token, data, out, None)
    if not args.database_url:
        print("error: --database-url (or TEST_DATABASE_URL) names the PostgreSQL server",
              file=sys.stderr)  # fmt: skip
        return 2
    with scratch_database(args.database_url) as url:
        env = {**os.environ, "DATABASE_URL": url}
        subprocess.run(app_command("migrate"), env=env, cwd=ROOT, check=True)
        token = subprocess.run(
            app_command("create-token", "--role", "staff", "--name", "loadtest"),
            env=env, cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
        server = Server(env, args.port or free_port(), out / f"{args.scenario}.server.log")
        server.start()
        try:
            server.wait_ready()
            prepared = preparation.prepare(
                args.scenario, server.url, token, args.students, minter(env)
            )
            data.write_text(preparation.json.dumps(prepared), encoding="utf-8")
            code = run_locust(args, server.url, token, data, out, server)
        finally:
            server.stop()
    print(f"after: {load_average()}; reports in {out}", file=sys.stderr)
    return code


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scenario", required=True, choices=SCENARIOS)
    p.add_argument("--host", default="", help="Run against this deployment instead")
    p.add_argument("--staff-token", default=os.environ.get("LOADTEST_STAFF_TOKEN", ""))
    p.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL", ""))
    p.add_argument("--port", type=int, default=0, help="The local app's port (default: free)")
    p.add_argument("--users", type=int, default=50, help="Users (furlough_surge: the peak)")
    p.add_argument("--spawn-rate", type=float, default=10)
    p.add_argument("--run-time", type=int, default=60, help="Seconds (furlough: the curve)")
    p.add_argument("--students", type=int, default=200, help="Prepared enrolled students")
    p.add_argument("--processes", type=int, default=1, help="Locust processes (>1: master "
                   "and workers on this machine)")  # fmt: skip
    p.add_argument("--kill-at", type=float, default=0, help="kill -9 the app after S seconds")
    p.add_argument("--slo", choices=["enforce", "functional", "report"], default="enforce")
    p.add_argument("--out", type=Path, default=ROOT / "var" / "loadtests")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    for name in ("users", "run_time", "students", "processes"):
        if getattr(args, name) < 1:
            parser().error(f"--{name.replace('_', '-')} must be at least 1")
    try:
        return run(args)
    except (preparation.PrepareError, RuntimeError, psycopg.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(f"error: {' '.join(exc.cmd)} exited with {exc.returncode}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
