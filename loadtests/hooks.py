"""What ties the gates and the ledger into Locust: options, the ledger's stream from workers
to the master, and the end-of-run checks that set the exit code. Imported by every scenario.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ledger
import slo
from locust import events
from locust.runners import WorkerRunner

REPORT_KEY = "ledger_entries"
_sent = 0  # this worker's entries already streamed to the master


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    parser.add_argument(
        "--staff-token",
        env_var="LOADTEST_STAFF_TOKEN",
        default="",
        help="Staff bearer token: the scenarios' back-office calls and the ledger check",
    )
    parser.add_argument(
        "--staff-token-file",
        env_var="LOADTEST_STAFF_TOKEN_FILE",
        default="",
        help="A file holding the staff token (a mounted Secret), when --staff-token is empty",
    )
    parser.add_argument(
        "--ledger",
        env_var="LOADTEST_LEDGER",
        choices=["check", "skip"],
        default="check",
        help="Check every acknowledged write at the end (lost = N, fails unless 0)",
    )
    parser.add_argument(
        "--slo",
        env_var="LOADTEST_SLO",
        choices=["enforce", "functional", "report"],
        default="enforce",
        help="enforce: a missed SLO gate makes the run exit 1; functional: only the gates that "
        "are not timings (errors, 5xx, every request kind served) do, as in CI smokes on a "
        "shared machine; report: print only",
    )


@events.init.add_listener
def _token_from_file(environment: Any, **_: Any) -> None:
    options = environment.parsed_options
    if options is None or options.staff_token or not options.staff_token_file:
        return
    try:
        options.staff_token = Path(options.staff_token_file).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SystemExit(f"--staff-token-file {options.staff_token_file}: {exc}") from None


@events.report_to_master.add_listener
def _stream(client_id: str, data: dict[str, Any]) -> None:
    global _sent
    items = ledger.entries()
    data[REPORT_KEY] = [(e.kind, e.path, list(e.statuses)) for e in items[_sent:]]
    _sent = len(items)


@events.worker_report.add_listener
def _collect(client_id: str, data: dict[str, Any]) -> None:
    ledger.add([ledger.Entry(k, p, tuple(s)) for k, p, s in data.get(REPORT_KEY, ())])


@events.quitting.add_listener
def _at_end(environment: Any, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return
    # The exit code is the gates' and the ledger's alone (Locust's own rule, 1 on any failed
    # call, would make `--slo report` fail a kill -9 run for its expected connection errors).
    options = environment.parsed_options
    failed = False
    for objectives in slo.declared():
        verdicts = slo.evaluate(objectives, environment.stats)
        print(slo.report(objectives, verdicts, environment.stats, options.slo))
        failed |= not all(v.met for v in slo.binding(verdicts, options.slo))
    if options.ledger == "skip":
        print("ledger: skipped (--ledger skip)")
    else:
        failed |= ledger.verify(environment.host, options.staff_token) > 0
    environment.process_exit_code = 1 if failed else 0
