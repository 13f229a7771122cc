"""`platform-tools kube-bench gate`: block a rollout on CIS failures nobody accepted."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from platform_tools.kube_bench.allowlist import EMPTY, AllowlistError, load_allowlist
from platform_tools.kube_bench.gate import GateDecision, evaluate
from platform_tools.kube_bench.results import CheckResult, ResultsError, load_results
from platform_tools.kube_bench.textfile import MetricsFileError, write_gate_metrics

EXIT_PASSED = 0
EXIT_BLOCKED = 1
EXIT_BAD_INPUT = 2

app = typer.Typer(
    name="kube-bench",
    help="CIS Kubernetes benchmark (kube-bench) results: the gate and its allow-list.",
    no_args_is_help=True,
)


@app.callback()
def kube_bench() -> None:
    """CIS Kubernetes benchmark (kube-bench) results."""


@app.command()
def gate(
    results: Annotated[Path, typer.Argument(help="kube-bench JSON output (`kube-bench --json`).")],
    allowlist: Annotated[
        Path | None,
        typer.Option(help="Accepted findings, e.g. policies/kube-bench/allowlist.yaml."),
    ] = None,
    metrics_file: Annotated[
        Path | None,
        typer.Option(help="Also write the outcome as Prometheus textfile metrics (*.prom)."),
    ] = None,
) -> None:
    """Exit 1 when a scored FAIL is not excused by a valid allow-list entry; report WARNs.

    Exit 2 when the results, the allow-list or the metrics file cannot be used.
    """
    out = Console(highlight=False)
    err = Console(stderr=True, highlight=False)
    try:
        bench = load_results(results)
        accepted = load_allowlist(allowlist) if allowlist is not None else EMPTY
    except (ResultsError, AllowlistError) as exc:
        err.print(f"[bold red]kube-bench gate: cannot evaluate[/]: {exc}", markup=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    decision = evaluate(bench, accepted, dt.datetime.now(dt.UTC).date())
    _report(out, decision)
    if metrics_file is not None:
        try:
            write_gate_metrics(decision, metrics_file, time.time())
        except MetricsFileError as exc:
            err.print(f"[bold red]kube-bench gate: metrics not written[/]: {exc}")
            raise typer.Exit(EXIT_BAD_INPUT) from None
        out.print(f"Metrics written to {metrics_file}")
    raise typer.Exit(EXIT_PASSED if decision.passed else EXIT_BLOCKED)


def _report(out: Console, decision: GateDecision) -> None:
    if decision.blocking:
        out.print(_table("Blocking failures (scored FAIL, not accepted)", decision.blocking))
    for item in decision.expired:
        out.print(
            f"[red]Allow-list entry for {item.entry.id} expired on {item.entry.expires} "
            f"(owner {item.entry.owner}): it no longer excuses the failure.[/]"
        )
    for item in decision.excused:
        until = f" until {item.entry.expires}" if item.entry.expires else ""
        out.print(
            f"Accepted {item.check.id} ({item.check.description}): {item.entry.reason} "
            f"[owner {item.entry.owner}{until}]"
        )
    if decision.unscored_failures:
        out.print(_table("Unscored failures (reported, not blocking)", decision.unscored_failures))
    if decision.warnings:
        out.print(_table("Warnings (manual checks, not blocking)", decision.warnings))
    for entry in decision.unused_entries:
        out.print(f"[dim]Allow-list entry {entry.id} matched no failure: remove it if fixed.[/]")
    if decision.totals_disagree:
        out.print(
            f"[yellow]kube-bench's printed totals {decision.declared_totals} differ from its "
            f"results {decision.counts}; the gate counts the results.[/]"
        )
    counts = decision.counts
    verdict = "[bold green]PASSED[/]" if decision.passed else "[bold red]BLOCKED[/]"
    out.print(
        f"kube-bench gate {verdict}: {len(decision.blocking)} blocking, "
        f"{len(decision.excused)} accepted, {counts['WARN']} warn "
        f"({counts['PASS']} pass, {counts['FAIL']} fail, {counts['INFO']} info)"
    )


def _table(title: str, checks: tuple[CheckResult, ...]) -> Table:
    table = Table(title=title, title_justify="left", expand=False)
    table.add_column("check", no_wrap=True)
    table.add_column("target")
    table.add_column("description")
    table.add_column("remediation")
    for check in checks:
        remediation = " ".join(check.remediation.split())
        if len(remediation) > 160:
            remediation = remediation[:157] + "..."
        table.add_row(check.id, check.target, check.description, remediation)
    return table
