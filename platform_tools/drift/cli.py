"""`platform-tools drift`: compare the stacks, exit 1 when a version skipped testing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from platform_tools.command_metrics import command_metrics, metrics_file_name
from platform_tools.drift.compare import DriftReport, compare
from platform_tools.drift.live import context_for, parse_contexts, read_live
from platform_tools.drift.model import PROMOTION_ORDER, StackState
from platform_tools.drift.rendered import read_rendered, rendered_stacks
from platform_tools.drift.single_host import read_host_state
from platform_tools.run.errors import UsageError
from platform_tools.run.exit_codes import ExitCode
from platform_tools.run.metrics_sink import resolve_sink
from platform_tools.run.options import JsonOutput, MetricsFile, Pushgateway
from platform_tools.run.output import emit_json, stdout_console
from platform_tools.run.runner import RunOutcome, command_run

COMMAND = "drift"


def drift(
    stacks: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated stacks to compare, e.g. dev,staging,prod. "
            "Default: every rendered stack (offline), dev,staging,prod (--live)."
        ),
    ] = None,
    live: Annotated[
        bool, typer.Option("--live", help="Read each stack's cluster instead of build/.")
    ] = False,
    rendered: Annotated[Path, typer.Option(help="Where `make render` wrote the stacks.")] = Path(
        "build"
    ),
    kubeconfig: Annotated[
        Path | None,
        typer.Option(help="kubeconfig file (--live). Default: $KUBECONFIG, ~/.kube/config."),
    ] = None,
    context: Annotated[
        list[str] | None,
        typer.Option(
            help="STACK=CONTEXT (--live, repeatable). Default: the stack file's "
            "kubernetes:context, else the stack's name."
        ),
    ] = None,
    host_state: Annotated[
        list[Path] | None,
        typer.Option(
            "--host-state",
            help="A single host's state file (/etc/campus/deployed.json, repeatable): "
            "compare hosts instead of Kubernetes stacks.",
        ),
    ] = None,
    metrics_file: MetricsFile = None,
    pushgateway: Pushgateway = None,
    json_output: JsonOutput = False,
) -> None:
    """Images, chart versions and configuration keys that differ between stacks, and what
    one stack has that another lacks.

    Exit 1 when a stack later in the promotion order (dev → staging → prod; other stacks
    count as production sites) runs a version that no stack of the stage before runs: it
    skipped testing.
    """
    with command_run(COMMAND, live=live) as run:
        run.sink = resolve_sink(
            metrics_file, pushgateway, metrics_file_name(COMMAND), job="campus_ops"
        )

        def metrics(outcome: RunOutcome) -> Any:
            return command_metrics(COMMAND, outcome, 0)

        run.metrics = metrics
        states = _states(stacks, live, rendered, kubeconfig, context or [], host_state or [])
        report = compare(states)
        run.record(
            stacks=report.stacks,
            components_differing=len(report.components),
            skipped_versions=len(report.skipped),
        )
        if json_output:
            emit_json(report.as_dict())
        else:
            _print(stdout_console(), report)
        if report.skipped:
            raise typer.Exit(ExitCode.PROBLEM)


def _stack_list(value: str | None, default: list[str]) -> list[str]:
    if value is None:
        return default
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise UsageError("name at least one stack, e.g. dev,staging,prod", "--stacks")
    if len(set(names)) != len(names):
        raise UsageError(f"a stack is named twice in {value!r}", "--stacks")
    return names


def _states(
    stacks: str | None,
    live: bool,
    rendered: Path,
    kubeconfig: Path | None,
    contexts: list[str],
    host_states: list[Path],
) -> list[StackState]:
    if host_states:
        if live or stacks is not None:
            raise UsageError("compares the given hosts: leave out --live and --stacks", OPTION_HS)
        states = [read_host_state(path) for path in host_states]
        names = [s.stack for s in states]
        if len(set(names)) != len(names):
            raise UsageError(f"two state files name the same environment: {names}", OPTION_HS)
        return states
    if live:
        given = parse_contexts(contexts)
        names = _stack_list(stacks, list(PROMOTION_ORDER))
        unknown = sorted(set(given) - set(names))
        if unknown:
            raise UsageError(f"{unknown[0]} is not one of the stacks compared", "--context")
        return [read_live(name, kubeconfig, context_for(name, given, Path.cwd())) for name in names]
    if contexts:
        raise UsageError("only with --live", "--context")
    available = rendered_stacks(rendered)
    if not available:
        raise UsageError(f"{rendered}: no rendered stacks (run `make render`)", "--rendered")
    names = _stack_list(stacks, _in_promotion_order(available))
    return [read_rendered(rendered, name) for name in names]


OPTION_HS = "--host-state"


def _in_promotion_order(names: list[str]) -> list[str]:
    known = [name for name in PROMOTION_ORDER if name in names]
    return known + sorted(name for name in names if name not in PROMOTION_ORDER)


def _print(out: Console, report: DriftReport) -> None:
    out.print(f"Stacks compared: {', '.join(report.stacks)}")
    if not report.components:
        out.print("No component differs.")

    def row(what: str, values: dict[str, str]) -> None:
        cells = " | ".join(f"{stack}={values[stack]}" for stack in report.stacks)
        out.print(f"  {escape(what)}: {escape(cells)}")

    for drift in report.components:
        out.print(f"[bold]{escape(drift.name)}[/]")
        if drift.lacking:
            row("present", {s: "no" if s in drift.lacking else "yes" for s in report.stacks})
        if drift.images:
            row("images", {s: ", ".join(drift.images.get(s, ["-"])) for s in report.stacks})
        if drift.charts:
            row("chart", {s: drift.charts.get(s) or "-" for s in report.stacks})
        for key in drift.config:
            row(key.key, {s: _shown(key.values.get(s), s in key.values) for s in report.stacks})
    if report.skipped:
        out.print("[bold red]Versions that skipped testing:[/]")
        for item in report.skipped:
            out.print(
                f"  {escape(item.stack)}: {escape(item.component)} runs {escape(item.version)}, "
                f"which {escape(', '.join(item.previous))} never ran"
            )
    else:
        out.print("Every version has been through the stage before (dev → staging → prod).")


def _shown(value: str | None, present: bool) -> str:
    if not present:
        return "-"
    if value is None:
        return "(unset)"
    return value if len(value) <= 60 else value[:57] + "..."
