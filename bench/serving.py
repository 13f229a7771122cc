"""HTTP serving: what a request costs on each candidate server, and how the shipped one behaves
past its capacity.

Compare mode (default): for each candidate server (gunicorn gthread as `python -m app serve`
ships it, gunicorn sync, granian), serve Falcon's hello world and the app with the same worker
settings against a scratch PostgreSQL database with the demo data, drive each with wrk (closed
loop, --connections) and print req/s and p99 side by side for hello world, `GET /healthz`, an
authenticated read (`GET /api/v1/enrolments/{id}`, staff token) and a write
(`POST /api/v1/learners`). Ratios: /healthz to hello world on the same server (the framework's
own speed: the physical limit of this stack here), each server to gthread.

Overload mode (--overload): on `python -m app serve` alone, measure write capacity (closed
loop), then offer FACTOR x that rate for --overload-seconds from many connections that each
pause between requests (wrk's delay hook; calibrated in a short first pass, so the offered rate
does not fall with latency as a closed loop's would), time the recovery once it stops, and
measure the capacity again. Printed: answers by status (503 with and without Retry-After, other
5xx), p99 of all answers, goodput (201/s) against the mean of the two capacities around it,
seconds to recover, each against the issue's targets; over several rounds, the median of those
whose two capacities agree within 15 %. Each round also prints the CPU each write created cost,
part by part (app, nginx, PostgreSQL, wrk; bench/process_cpu.py), at capacity and under the
overload: where the goodput went; and the physical limit of the goodput on these shared cores:
what wrk's extra share leaves and, behind nginx, what answering every refusal at nginx's
cheapest (its own 404, offered alike) leaves.

wrk (Debian package `wrk`; `make bench-serving` installs it) does the load: a Python client would
be the bottleneck. Everything shares this machine's cores, so read ratios, not absolutes, and
note the load average printed with them.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import resource
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

from nginx_site import running_site  # noqa: E402
from process_cpu import busy_cores_seconds, cpu_seconds  # noqa: E402
from propagation import scratch_database  # noqa: E402

# The servers `python -m app serve` runs (APP_SERVER), as the overload run serves the app.
from app.settings import SERVERS as SERVED  # noqa: E402
from loadtests.run_local import free_port  # noqa: E402

CONF = REPO / "app" / "http" / "gunicorn_conf.py"
SERVERS = ("gthread", "sync", "granian")
# The targets on a 2-core machine (app, PostgreSQL and load generator together).
TARGET_WRITES_PER_SECOND = 1000
TARGET_WRITE_P99_MS = 300
TARGET_READS_PER_SECOND = 2000
TARGET_OVERLOAD_P99_MS = 500
TARGET_GOODPUT = 0.9
# Two capacities of one round further apart than this: the machine changed during it.
DISTURBED = 0.15
# The write every run posts: a new learner.
WRITE_PATH = "/api/v1/learners"
# A path no entry publishes: nginx answers it (404 problem+json) without the app.
UNPUBLISHED_PATH = "/bench/unpublished"
TARGET_RECOVERY_SECONDS = 10
TARGET_HEALTHZ_TO_HELLO = 0.5

# One wrk script for every run: a GET or a POST of a new learner, an optional pause between a
# connection's requests, and the answers counted by status (503s with Retry-After apart).
WRK_SCRIPT = r"""
local token = os.getenv("BENCH_TOKEN") or ""
local path = os.getenv("BENCH_PATH")
local post = os.getenv("BENCH_POST") == "1"
local think = tonumber(os.getenv("BENCH_THINK_MS") or "0")
local run = os.getenv("BENCH_RUN") or "run"
local out = os.getenv("BENCH_OUT")
-- Stand in for a front proxy: stamp each request's start as nginx does (t=${msec}).
local stamp = os.getenv("BENCH_STAMP") == "1"
local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_usec; } bench_timeval;
  int gettimeofday(bench_timeval *tv, void *tz);
]]
local tv = ffi.new("bench_timeval")
local function now_ms()
  ffi.C.gettimeofday(tv, nil)
  return string.format("t=%d%03d", tonumber(tv.tv_sec), math.floor(tonumber(tv.tv_usec) / 1000))
end
local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
  table.insert(threads, thread)
end

function init(args)
  counts = {}
  retry_after = 0
  n = 0
  headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
end

if think > 0 then
  delay = function() return think end
end

function request()
  if stamp then headers["X-Request-Start"] = now_ms() end
  if post then
    n = n + 1
    local key = string.format("%s-%d-%d", run, tid, n)
    local body = string.format(
      '{"external_id":"B-%s","first_name":"Ada","last_name":"Lovelace","email":"b%s@example.org"}',
      key, key)
    return wrk.format("POST", path, headers, body)
  end
  return wrk.format("GET", path, headers)
end

function response(status, hdrs, body)
  local key = tostring(status)
  counts[key] = (counts[key] or 0) + 1
  if status == 503 and (hdrs["Retry-After"] or hdrs["retry-after"]) then
    retry_after = retry_after + 1
  end
end

function done(summary, latency, requests)
  local statuses, retry = {}, 0
  for _, thread in ipairs(threads) do
    for k, v in pairs(thread:get("counts")) do statuses[k] = (statuses[k] or 0) + v end
    retry = retry + thread:get("retry_after")
  end
  local parts = {}
  for k, v in pairs(statuses) do table.insert(parts, string.format('"%s": %d', k, v)) end
  local f = io.open(out, "w")
  f:write(string.format(
    '{"requests": %d, "seconds": %f, "p50_ms": %f, "p99_ms": %f, "max_ms": %f, ' ..
    '"statuses": {%s}, "retry_after_503": %d, "socket_errors": %d}',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3, table.concat(parts, ", "), retry,
    summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout))
  f:close()
end
"""


@dataclass
class Run:
    """One wrk run's answers."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int]
    retry_after_503: int
    socket_errors: int
    # The load generator's own CPU time (user + system): it shares the machine's cores.
    cpu_seconds: float = 0.0
    # CPU seconds of each watched part of the stack (Bench.watched) during the run, and of
    # the whole machine (every core together).
    cpu_parts: dict[str, float] = field(default_factory=dict)
    busy_seconds: float = 0.0

    @property
    def cpu_cores(self) -> float:
        """The load generator's share of the cores during the run."""
        return self.cpu_seconds / self.seconds if self.seconds else 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def rate_of(self, *statuses: str) -> float:
        return sum(self.statuses.get(s, 0) for s in statuses) / self.seconds

    @property
    def other_5xx(self) -> int:
        return sum(v for k, v in self.statuses.items() if k.startswith("5") and k != "503")


@dataclass
class Bench:
    base_url: str
    token: str
    enrolment_id: int
    workdir: Path
    wrk_threads: int = 2
    runs: list[str] = field(default_factory=list)
    # Parts of the stack whose CPU each run measures: name and root process (with its
    # descendants); PostgreSQL's processes are found by name.
    watched: dict[str, int] = field(default_factory=dict)

    def wrk(
        self, base: str, path: str, connections: int, seconds: float, post: bool = False,
        think_ms: int = 0, timeout_s: int = 10, stamp: bool = False,
    ) -> Run:  # fmt: skip
        """A wrk run against `base` (scheme, host and port) + `path`."""
        script = self.workdir / "bench.lua"
        if not script.exists():
            script.write_text(WRK_SCRIPT)
        out = self.workdir / f"wrk-{uuid.uuid4().hex[:8]}.json"
        env = {
            **os.environ,
            "BENCH_TOKEN": self.token,
            "BENCH_PATH": path,
            "BENCH_POST": "1" if post else "0",
            "BENCH_THINK_MS": str(think_ms),
            "BENCH_RUN": uuid.uuid4().hex[:10],
            "BENCH_OUT": str(out),
            "BENCH_STAMP": "1" if stamp else "0",
        }
        threads = max(1, min(self.wrk_threads, connections))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        parts_before, busy_before = self.parts_cpu(), busy_cores_seconds()
        subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
             f"--timeout={timeout_s}s", "-s", str(script), f"{base}{path}"],
            env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        parts = {part: used - parts_before[part] for part, used in self.parts_cpu().items()}
        busy = busy_cores_seconds() - busy_before
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return Run(**json.loads(out.read_text()), cpu_seconds=cpu, cpu_parts=parts,
                   busy_seconds=busy)  # fmt: skip

    def parts_cpu(self) -> dict[str, float]:
        """CPU seconds each watched part and PostgreSQL have used so far (none unwatched)."""
        if not self.watched:
            return {}
        return cpu_seconds(self.watched, {"PostgreSQL": "postgres"})


def server_command(server: str, app: str, port: int, workers: int, threads: int) -> list[str]:
    """The command line of one candidate; gthread with the app is exactly `python -m app serve`."""
    python = sys.executable
    if server in SERVED and app == "app.http.wsgi:application":
        return [python, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if server in ("gthread", "sync"):
        command = [python, "-m", "gunicorn", "-c", str(CONF)]
        if server == "sync":
            # One request per process at a time: as many processes as gthread has threads.
            command += ["-k", "sync", "--workers", str(workers * threads)]
        return [*command, app]
    return [
        python, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--blocking-threads", str(threads), "--no-ws",
        "--log-level", "warning", app,
    ]  # fmt: skip


class Served(NamedTuple):
    """A server the benchmark started: its port and its main process."""

    port: int
    pid: int


@contextmanager
def serving(
    server: str, app: str, database_url: str, workers: int, threads: int, log: Path
) -> Iterator[Served]:
    port = free_port()
    metrics_dir = tempfile.mkdtemp(prefix="campus-metrics-bench-")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "APP_WORKERS": str(workers),
        "APP_THREADS": str(1 if server == "sync" else threads),
        "APP_BIND": f"127.0.0.1:{port}",
        "PYTHONPATH": f"{REPO}:{BENCH}",
    }
    if server in SERVED and app == "app.http.wsgi:application":
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # `serve` makes its own
        env["APP_SERVER"] = server
        if server == "granian":
            env["APP_TRUST_REQUEST_START"] = "true"  # wrk stamps X-Request-Start as the proxy
    else:
        env["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    process = subprocess.Popen(
        server_command(server, app, port, workers, threads),
        cwd=REPO, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_answering(process, port, log)
        yield Served(port, process.pid)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        shutil.rmtree(metrics_dir, ignore_errors=True)


def wait_answering(process: subprocess.Popen, port: int, log: Path) -> None:
    # Eight processes importing the app take a while on a busy 2-core machine.
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {log.read_text()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server did not answer on port {port}: {log.read_text()[-2000:]}")


def prepare(database_url: str) -> tuple[str, int]:
    """Migrate, seed the demo school and mint a staff token: (token, an enrolment id)."""
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}
    for command in (["migrate"], ["seed-demo"]):
        subprocess.run([sys.executable, "-m", "app", *command], cwd=REPO, env=env, check=True,
                       capture_output=True)  # fmt: skip
    token = subprocess.run(
        [sys.executable, "-m", "app", "create-token", "--role", "staff", "--name", "bench"],
        cwd=REPO, env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    from sqlalchemy import create_engine, text

    from app.store.engine import normalise_url

    engine = create_engine(normalise_url(database_url))
    with engine.connect() as conn:
        enrolment = conn.execute(text("SELECT min(id) FROM enrolment")).scalar_one()
    engine.dispose()
    return token, int(enrolment)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- compare mode ---------------------------------------------------------------------------


def compare(bench: Bench, args: argparse.Namespace, database_url: str) -> dict:
    paths = {
        "hello world": ("bench", "/healthz", False),
        "/healthz": ("app", "/healthz", False),
        "read": ("app", f"/api/v1/enrolments/{bench.enrolment_id}", False),
        "write": ("app", WRITE_PATH, True),
    }
    apps = {"bench": "serving_hello:application", "app": "app.http.wsgi:application"}
    results: dict[str, dict[str, Run]] = {}
    for server in args.servers:
        # Both servers up at once and the paths taken in turn, --rounds times: the machine's
        # load drifts, and a ratio of two runs minutes apart would measure the drift. Each
        # figure is the run of median rate.
        logs = {which: bench.workdir / f"{server}-{which}.log" for which in apps}
        with (
            serving(server, apps["bench"], database_url, args.workers, args.threads,
                    logs["bench"]) as hello,
            serving(server, apps["app"], database_url, args.workers, args.threads,
                    logs["app"]) as served_app,
        ):  # fmt: skip
            bases = {"bench": f"http://127.0.0.1:{hello.port}",
                     "app": f"http://127.0.0.1:{served_app.port}"}  # fmt: skip
            runs: dict[str, list[Run]] = {name: [] for name in paths}
            for owner, path, post in paths.values():
                bench.wrk(bases[owner], path, args.connections, 1, post)  # warm up
            for _ in range(args.rounds):
                for name, (owner, path, post) in paths.items():
                    runs[name].append(bench.wrk(bases[owner], path, args.connections,
                                                args.seconds, post))  # fmt: skip
        results[server] = {name: median_run(taken) for name, taken in runs.items()}
    print(
        f"\nHTTP serving, {args.workers} workers x {args.threads} threads (sync: "
        f"{args.workers * args.threads} processes), wrk {args.connections} connections, "
        f"{args.seconds:g} s per run, median of {args.rounds} rounds, load average "
        f"{load_average()}"
    )
    header = f"{'server':<8} " + " ".join(f"{name:>22}" for name in paths)
    print(header + "\n" + "-" * len(header))
    for server, runs in results.items():
        cells = []
        for name in paths:
            run = runs[name]
            bad = sum(v for k, v in run.statuses.items() if not k.startswith("2"))
            flag = f" !{bad}" if bad else ""
            cells.append(f"{run.rate:>9,.0f}/s p99 {run.p99_ms:>5.0f}ms{flag}")
        print(f"{server:<8} " + " ".join(f"{c:>22}" for c in cells))
    print()
    gthread = results.get("gthread")
    for server, runs in results.items():
        ratio = runs["/healthz"].rate / runs["hello world"].rate
        verdict = "met" if ratio >= TARGET_HEALTHZ_TO_HELLO else "missed"
        line = f"{server}: /healthz is {ratio:.2f} of hello world (target {TARGET_HEALTHZ_TO_HELLO}"
        line += f", {verdict})"
        if gthread and server != "gthread":
            rel = " ".join(f"{name} {runs[name].rate / gthread[name].rate:.2f}x" for name in paths)
            line += f"; against gthread: {rel}"
        print(line)
    if gthread:
        write, read = gthread["write"], gthread["read"]
        print(
            f"gthread writes {write.rate_of('201'):,.0f}/s p99 {write.p99_ms:.0f} ms (target "
            f"{TARGET_WRITES_PER_SECOND}/s, p99 {TARGET_WRITE_P99_MS} ms: "
            f"{verdict_of(write.rate_of('201') >= TARGET_WRITES_PER_SECOND and write.p99_ms <= TARGET_WRITE_P99_MS)}); "  # noqa: E501
            f"reads {read.rate_of('200'):,.0f}/s (target {TARGET_READS_PER_SECOND}/s: "
            f"{verdict_of(read.rate_of('200') >= TARGET_READS_PER_SECOND)})"
        )
    return {s: {n: r.__dict__ for n, r in runs.items()} for s, runs in results.items()}


def median_run(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda run: run.rate)[len(runs) // 2]


def verdict_of(met: bool) -> str:
    return "met" if met else "missed"


# --- overload mode --------------------------------------------------------------------------


@contextmanager
def overload_target(
    args: argparse.Namespace, database_url: str, log: Path
) -> Iterator[tuple[str, dict[str, int]]]:
    """The base URL the overload is offered to: the app itself, or the shipped nginx site's
    intranet entry (TLS) in front of it with --proxy nginx; and the root process of each."""
    with serving(args.server, "app.http.wsgi:application", database_url, args.workers,
                 args.threads, log) as app:  # fmt: skip
        if args.proxy != "nginx":
            yield f"http://127.0.0.1:{app.port}", {"app": app.pid}
            return
        entry = free_port()
        sizing = {"workers": args.workers, "threads": args.threads}
        if args.max_in_flight:
            sizing["app_host_max_in_flight"] = args.max_in_flight
        with running_site(log.parent / "nginx", app.port, entry, **sizing) as nginx:
            yield f"https://127.0.0.1:{entry}", {"app": app.pid, "nginx": nginx}


def overload(bench: Bench, args: argparse.Namespace, database_url: str) -> dict:
    log = bench.workdir / "overload.log"
    # Granian is served behind a proxy that stamps X-Request-Start; without one, wrk does.
    stamp = args.server == "granian" and args.proxy != "nginx"
    print(
        f"\nOverload of POST {WRITE_PATH} on python -m app serve, APP_SERVER={args.server}"
        + (" behind the single host's nginx site (TLS)" if args.proxy == "nginx" else "")
        + (" (wrk stamps X-Request-Start as the front proxy would)" if stamp else "")
        + f" ({args.workers} workers x "
        f"{args.threads} threads, queue budget {os.environ.get('APP_QUEUE_BUDGET_MS', '200')} ms)"
        f", load average {load_average()}"
    )
    rounds = []
    with overload_target(args, database_url, log) as (base, watched):
        bench.watched = watched
        bench.wrk(base, WRITE_PATH, args.connections, 1, post=True, stamp=stamp)  # warm up
        # Capacity and overload measured in turn, each round's ratio from its own pair: the
        # machine's load drifts more between minutes than within one.
        for number in range(1, args.overload_rounds + 1):
            rounds.append(overload_round(bench, args, base, stamp))
            print(f"round {number}, load average {load_average()}")
            print_round(rounds[-1], args)
    if len(rounds) > 1:
        print_summary(rounds)
    return {"rounds": rounds}


def print_summary(rounds: list[dict]) -> None:
    """The median goodput of the undisturbed rounds, against the target and the limit."""
    steady = [r for r in rounds if not r["disturbed"]]
    head = f"goodput / capacity over the {len(steady)} undisturbed rounds of {len(rounds)}:"
    if not steady:
        print(head, "none to judge")
        return
    ratios = sorted(r["goodput_ratio"] for r in steady)
    median = statistics.median(ratios)
    listed = ", ".join(f"{x:.2f}" for x in ratios)
    print(head, f"{listed}; median {median:.2f} ({verdict_of(median >= TARGET_GOODPUT)})")
    limited = sorted(r["goodput_ratio"] / r["ceiling"] for r in steady)
    print(
        "goodput / the physical limit: "
        f"{', '.join(f'{x:.2f}' for x in limited)}; median {statistics.median(limited):.2f}"
    )


def overload_round(bench: Bench, args: argparse.Namespace, base: str, stamp: bool) -> dict:
    """Capacity (closed loop), then about --factor times it offered, the recovery, and the
    capacity again: the overload is judged against the mean of the two capacities around it."""
    path = WRITE_PATH
    before = bench.wrk(base, path, args.connections, args.seconds, post=True, stamp=stamp)
    offered_target = args.factor * before.rate_of("201")
    # Each connection sends, waits for the answer, pauses think_ms: its rate is about
    # 1 / (think + latency). A short first pass under overload measures the latency. Its
    # rate would not do: each connection's TLS handshake at the start weighs on a 2 s run,
    # and scaling by it overshot the factor by half.
    think = args.think_ms
    connections = max(2, math.ceil(offered_target * (think + 50) / 1000))
    calibration = bench.wrk(base, path, min(connections, args.max_connections), 2, post=True,
                            think_ms=think, stamp=stamp)  # fmt: skip
    connections = math.ceil(offered_target * (think + calibration.p50_ms) / 1000)
    connections = min(max(2, connections), args.max_connections)
    run = bench.wrk(base, path, connections, args.overload_seconds, post=True, think_ms=think,
                    stamp=stamp)  # fmt: skip
    recovery = recover(base, bench.token, time.monotonic(), max(50.0, 2 * before.p99_ms))
    # The machine's capacity drifts between minutes (its disk's flushes, its neighbours): one
    # measured on each side of the overload brackets the capacity during it. A flush during
    # one of the two lowers it by a third, and the overload is then offered at twice the
    # capacity and judged against too low a mean: such a round is left out of the median.
    after = bench.wrk(base, path, args.connections, args.seconds, post=True, stamp=stamp)
    capacity = (before.rate_of("201") + after.rate_of("201")) / 2
    highest = max(before.rate_of("201"), after.rate_of("201"), 1e-9)
    # The physical limit here: wrk needs more of the shared cores to offer three times the
    # rate, and what it takes beyond its share in the capacity runs is the app's no longer.
    cores = os.cpu_count() or 1
    generator_at_capacity = (before.cpu_cores + after.cpu_cores) / 2
    share = cores - generator_at_capacity  # what the capacity runs left to the stack
    generator_left = (cores - run.cpu_cores) / share
    # Behind nginx, each refusal is an answer nginx sends: its cheapest answer, to a path no
    # entry publishes, offered as the overload was (connections, pauses and length: each
    # connection's TLS handshake weighs the same), is what any refusal costs at the least.
    answer_ms = None
    if "nginx" in bench.watched:
        own = bench.wrk(base, UNPUBLISHED_PATH, connections, args.overload_seconds, post=True,
                        think_ms=think)  # fmt: skip
        if set(own.statuses) != {"404"}:
            raise SystemExit(f"{UNPUBLISHED_PATH} was not answered by nginx alone: {own.statuses}")
        answer_ms = 1000 * own.cpu_parts["nginx"] / max(own.requests, 1)
    refusing = run.rate_of("503") * (answer_ms or 0.0) / 1000
    return {
        "capacity_runs": [before.__dict__, after.__dict__],
        "capacity": capacity,
        "generator_at_capacity": generator_at_capacity,
        "overload": run.__dict__,
        "connections": connections,
        "recovery_seconds": recovery,
        "goodput_ratio": run.rate_of("201") / capacity if capacity else 0.0,
        # The machine changed during the round: its ratio is printed, not judged.
        "disturbed": abs(before.rate_of("201") - after.rate_of("201")) / highest > DISTURBED,
        "generator_left": min(1.0, generator_left),
        "refusal_answer_ms": answer_ms,
        # Bounded away from zero: the goodput is divided by it.
        "ceiling": min(1.0, max(generator_left - refusing / share, 0.01)),
    }


def print_round(figures: dict, args: argparse.Namespace) -> None:
    before, after = (Run(**taken) for taken in figures["capacity_runs"])
    run, capacity = Run(**figures["overload"]), figures["capacity"]
    p99 = max(before.p99_ms, after.p99_ms)
    recovery = figures["recovery_seconds"]
    retry = run.retry_after_503
    no_retry = run.statuses.get("503", 0) - retry
    print(
        f"capacity (closed loop, {args.connections} connections): {before.rate_of('201'):,.0f} "
        f"writes/s before the overload, {after.rate_of('201'):,.0f} after, mean {capacity:,.0f}; "
        f"p99 {p99:.0f} ms (target {TARGET_WRITES_PER_SECOND}/s and {TARGET_WRITE_P99_MS} ms: "
        f"{verdict_of(capacity >= TARGET_WRITES_PER_SECOND and p99 <= TARGET_WRITE_P99_MS)})"
    )
    if figures["disturbed"]:
        print(f"  disturbed: the two capacities are more than {DISTURBED:.0%} apart")
    print(
        f"offered {run.rate:,.0f}/s = {run.rate / capacity:.1f}x capacity from "
        f"{figures['connections']} connections pausing {args.think_ms} ms, "
        f"{args.overload_seconds:g} s: answers {dict(sorted(run.statuses.items()))}, "
        f"socket errors {run.socket_errors}"
    )
    ratio, ceiling = figures["goodput_ratio"], figures["ceiling"]
    # Alone, the app refuses in Python: no cheaper answer of its own to compare with.
    answer_ms = figures["refusal_answer_ms"]
    refusals = (
        ""
        if answer_ms is None
        else f", and answering the refusals at nginx's cheapest ({1000 * answer_ms:.0f} µs each, "
        f"its own 404 offered alike) leaves {ceiling:.2f}"
    )
    print(
        f"physical limit: the load generator takes {figures['generator_at_capacity']:.2f} of "
        f"{os.cpu_count()} cores in the capacity runs, {run.cpu_cores:.2f} under overload and "
        f"leaves {figures['generator_left']:.2f} of the capacity{refusals}; "
        f"goodput / that limit {ratio / ceiling:.2f}"
    )
    print_cpu(capacity_runs=[before, after], overload=run)
    checks = [
        ("5xx other than 503", run.other_5xx, run.other_5xx == 0),
        ("503 without Retry-After", no_retry, no_retry == 0),
        ("p99 of all answers (ms)", round(run.p99_ms), run.p99_ms <= TARGET_OVERLOAD_P99_MS),
        ("goodput / capacity", round(ratio, 2), ratio >= TARGET_GOODPUT),
        (
            "recovery (s)",
            None if recovery is None else round(recovery, 1),
            recovery is not None and recovery <= TARGET_RECOVERY_SECONDS,
        ),
    ]
    for name, value, met in checks:
        print(f"  {name:<26} {value!s:>8}  {verdict_of(met)}")


def cpu_per_write(runs: list[Run]) -> dict[str, float]:
    """Milliseconds of CPU per write created, for each watched part and the load generator."""
    created = sum(run.statuses.get("201", 0) for run in runs) or 1
    parts = {part: sum(run.cpu_parts.get(part, 0.0) for run in runs) for part in runs[0].cpu_parts}
    parts["load generator"] = sum(run.cpu_seconds for run in runs)
    return {part: 1000 * seconds / created for part, seconds in parts.items()}


def print_cpu(capacity_runs: list[Run], overload: Run) -> None:
    """Where the cores went in the capacity runs and under overload: what each write cost."""
    at_capacity, under = cpu_per_write(capacity_runs), cpu_per_write([overload])
    busy = sum(run.busy_seconds for run in capacity_runs) / sum(r.seconds for r in capacity_runs)
    costs = ", ".join(f"{part} {at_capacity[part]:.2f} -> {under[part]:.2f}" for part in under)
    print(
        f"CPU per write created (ms), capacity -> overload: {costs}; total "
        f"{sum(at_capacity.values()):.2f} -> {sum(under.values()):.2f}; cores busy {busy:.2f} -> "
        f"{overload.busy_seconds / overload.seconds:.2f} of {os.cpu_count()}"
    )


def recover(base: str, token: str, since: float, fast_ms: float) -> float | None:
    """Seconds from the end of the overload until 5 writes in a row are created, each fast."""
    streak = 0
    serial = 0
    run = uuid.uuid4().hex[:8]
    deadline = since + 30
    while time.monotonic() < deadline:
        serial += 1
        body = json.dumps({
            "external_id": f"R-{run}-{serial}", "first_name": "Ada", "last_name": "Lovelace",
            "email": f"r{run}{serial}@example.org",
        })  # fmt: skip
        started = time.monotonic()
        try:
            conn = connection(base)
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            conn.request("POST", WRITE_PATH, body, headers)
            status = conn.getresponse().status
            conn.close()
        except OSError:
            status = 0
        elapsed_ms = (time.monotonic() - started) * 1000
        streak = streak + 1 if status == 201 and elapsed_ms <= fast_ms else 0
        if streak == 5:
            return time.monotonic() - since
        time.sleep(0.05)
    return None


def connection(base: str) -> http.client.HTTPConnection:
    """A connection to `base` (http or https; the proxy's certificate is a throwaway one)."""
    parts = urllib.parse.urlsplit(base)
    if parts.scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return http.client.HTTPSConnection(parts.hostname, parts.port, timeout=10,
                                           context=context)  # fmt: skip
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL"),
                        help="PostgreSQL server (a scratch database is made there)")  # fmt: skip
    parser.add_argument("--servers", nargs="+", choices=SERVERS, default=list(SERVERS))
    parser.add_argument("--seconds", type=float, default=10, help="length of each run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="runs per path (median)")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("APP_WORKERS", "2")))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("APP_THREADS", "4")))
    parser.add_argument("--overload", action="store_true", help="the overload run instead")
    parser.add_argument("--server", choices=SERVED, default="gthread",
                        help="overload: the APP_SERVER of python -m app serve")  # fmt: skip
    parser.add_argument("--proxy", choices=("none", "nginx"), default="none",
                        help="overload: offer it through the single host's nginx site")  # fmt: skip
    parser.add_argument("--max-in-flight", type=int,
                        help="with --proxy nginx: app_host_max_in_flight (default: the role's)")  # fmt: skip  # noqa: E501
    parser.add_argument("--overload-rounds", type=int, default=1,
                        help="overload: capacity and overload measured in turn, this many times")  # fmt: skip  # noqa: E501
    parser.add_argument("--factor", type=float, default=3.0, help="overload: x capacity")
    parser.add_argument("--overload-seconds", type=float, default=20)
    parser.add_argument("--think-ms", type=int, default=200, help="overload: pause per request")
    parser.add_argument("--max-connections", type=int, default=1800)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: `make bench-serving` installs it (Debian package wrk)")
    if not args.database_url:
        raise SystemExit("give --database-url or set TEST_DATABASE_URL (PostgreSQL)")
    with (
        scratch_database("postgresql", args.database_url) as url,
        tempfile.TemporaryDirectory(prefix="bench-http-") as workdir,
    ):
        token, enrolment = prepare(url)
        bench = Bench(f"{url}", token, enrolment, Path(workdir), args.wrk_threads)
        figures = overload(bench, args, url) if args.overload else compare(bench, args, url)
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
