"""`command_run`: the frame every command runs in (JSON log, exit code, metrics, no traceback)."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import typer
from prometheus_client import CollectorRegistry
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import InterfaceError, OperationalError

from platform_tools.run.errors import ToolError
from platform_tools.run.exit_codes import ExitCode
from platform_tools.run.metrics_sink import MetricsSink
from platform_tools.run.run_log import run_logging


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended: handed to the metrics builder, which reports success and failure."""

    exit_code: int
    started_at: float
    finished_at: float

    @property
    def ok(self) -> bool:
        """True when the run exits 0."""
        return self.exit_code == ExitCode.OK

    @property
    def duration_seconds(self) -> float:
        """Wall-clock duration of the run."""
        return self.finished_at - self.started_at


MetricsBuilder = Callable[[RunOutcome], CollectorRegistry]


@dataclass
class Run:
    """The state of one run: its logger, the fields its last log line carries, its metrics."""

    command: str
    log: Any
    started_at: float
    fields: dict[str, Any] = field(default_factory=dict)
    metrics: MetricsBuilder | None = None
    sink: MetricsSink | None = None

    def record(self, **fields: Any) -> None:
        """Add facts to the run's final log line (sizes, counts, paths)."""
        self.fields.update(fields)


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


@contextmanager
def command_run(command: str, sink: MetricsSink | None = None, **context: Any) -> Iterator[Run]:
    """Run the body as `command`: log `run_started`/`run_finished` as JSON, turn a ToolError
    into its message and exit code, an unexpected exception into exit 4 with the traceback in
    the log, then publish the metrics the body's builder reports for the outcome.

    Always ends by raising `typer.Exit` with the run's exit code.
    """
    with run_logging() as logger, _terminate_as_interrupt():
        run = Run(
            command=command,
            log=logger.bind(command=command, **context),
            started_at=time.time(),
            sink=sink,
        )
        run.log.info("run_started")
        code: int = ExitCode.OK
        try:
            yield run
        except typer.Exit as exc:
            code = exc.exit_code
        except ToolError as exc:
            code = exc.exit_code
            _stderr().print(f"[bold red]{command}[/]: {escape(exc.message)}")
            run.log.error("run_failed", error=exc.message, error_kind=type(exc).__name__)
        except KeyboardInterrupt:
            code = ExitCode.ENVIRONMENT
            _stderr().print(f"[bold red]{command}[/]: interrupted")
            run.log.error("run_interrupted")
        except (OperationalError, InterfaceError) as exc:
            # The database went away or refused mid-run: the environment, not the tool.
            code = ExitCode.ENVIRONMENT
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            _stderr().print(f"[bold red]{command}[/]: database error: {escape(reason)}")
            run.log.error("run_failed", error=reason, error_kind=type(exc).__name__)
        except OSError as exc:
            # Disk full, permission denied, a file vanished: the environment, not the tool.
            code = ExitCode.ENVIRONMENT
            where = f"{exc.filename}: " if exc.filename else ""
            reason = exc.strerror or str(exc)
            _stderr().print(f"[bold red]{command}[/]: {escape(where + reason)}")
            run.log.error("run_failed", error=where + reason, error_kind=type(exc).__name__)
        except Exception as exc:
            code = ExitCode.INTERNAL
            _stderr().print(
                f"[bold red]{command}[/]: internal error ({type(exc).__name__}: "
                f"{escape(str(exc))}); the JSON log on stderr has the details"
            )
            run.log.exception("run_crashed")
        outcome = RunOutcome(
            exit_code=int(code), started_at=run.started_at, finished_at=time.time()
        )
        code = _publish(run, outcome, code)
        run.log.info(
            "run_finished",
            exit_code=int(code),
            duration_seconds=round(outcome.duration_seconds, 3),
            **run.fields,
        )
    raise typer.Exit(int(code))


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (systemd stopping the unit, a timeout) unwinds like Ctrl-C, so the command's
    clean-up runs (a partial backup is removed) instead of the process vanishing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _publish(run: Run, outcome: RunOutcome, code: int) -> int:
    if run.metrics is None or run.sink is None or not run.sink.enabled:
        return code
    try:
        run.sink.publish(run.metrics(outcome))
    except ToolError as exc:
        _stderr().print(f"[bold red]{run.command}[/]: {escape(exc.message)}")
        run.log.error("metrics_not_published", error=exc.message)
        # The work may have succeeded, but an unwatched success must not look like one.
        return code if code != ExitCode.OK else exc.exit_code
    run.log.info("metrics_published", target=run.sink.describe())
    return code
