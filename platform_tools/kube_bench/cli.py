"""`platform-tools kube-bench gate`: block a rollout on CIS failures nobody accepted."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from platform_tools.kube_bench.allowlist import EMPTY, AllowlistError, load_allowlist
from platform_tools.kube_bench.gate import GateDecision, evaluate
from platform_tools.kube_bench.gate_metrics import gate_metrics
from platform_tools.kube_bench.results import CheckResult, ResultsError, load_results
from platform_tools.run.errors import UsageError
from platform_tools.run.exit_codes import EXIT_CODES_HELP, ExitCode
from platform_tools.run.metrics_sink import resolve_sink
from platform_tools.run.options import JsonOutput, MetricsFile, Pushgateway
from platform_tools.run.output import emit_json, stdout_console
from platform_tools.run.runner import RunOutcome, command_run

app = typer.Typer(
    name="kube-bench",
    help="CIS Kubernetes benchmark (kube-bench) results: the gate and its allow-list.",
    no_args_is_help=True,
)


@app.callback()
def kube_bench() -> None:
    """CIS Kubernetes benchmark (kube-bench) results."""


@app.command(epilog=EXIT_CODES_HELP)
def gate(
    results: Annotated[Path, typer.Argument(help="kube-bench JSON output (`kube-bench --json`).")],
    allowlist: Annotated[
        Path | None,
        typer.Option(help="Accepted findings, e.g. policies/kube-bench/allowlist.yaml."),
    ] = None,
    metrics_file: MetricsFile = None,
    pushgateway: Pushgateway = None,
    json_output: JsonOutput = False,
) -> None:
    """Exit 1 when a scored FAIL is not excused by a valid allow-list entry; report WARNs.

    Exit 2 when the results, the allow-list or the metrics file cannot be used.
    """
    with command_run("kube-bench gate", results=str(results)) as run:
        sink = resolve_sink(metrics_file, pushgateway, "kube_bench.prom", job="campus_kube_bench")
        run.sink = sink
        try:
            bench = load_results(results)
            accepted = load_allowlist(allowlist) if allowlist is not None else EMPTY
        except ResultsError as exc:
            raise UsageError(f"cannot evaluate: {exc}", "RESULTS") from None
        except AllowlistError as exc:
            raise UsageError(f"cannot evaluate: {exc}", "--allowlist") from None
        decision = evaluate(bench, accepted, dt.datetime.now(dt.UTC).date())

        def metrics(outcome: RunOutcome) -> Any:
            return gate_metrics(decision, outcome.finished_at)

        run.metrics = metrics
        run.record(
            passed=decision.passed, blocking=len(decision.blocking), excused=len(decision.excused)
        )
        if json_output:
            emit_json(_document(decision))
        else:
            _report(stdout_console(), decision)
            if sink.enabled:
                stdout_console().print(f"Metrics written to {sink.describe()}")
        if not decision.passed:
            raise typer.Exit(ExitCode.PROBLEM)


def _document(decision: GateDecision) -> dict[str, Any]:
    return {
        "passed": decision.passed,
        "counts": decision.counts,
        "declared_totals": decision.declared_totals,
        "blocking": [asdict(check) for check in decision.blocking],
        "expired": [{"check": asdict(i.check), "entry": asdict(i.entry)} for i in decision.expired],
        "excused": [{"check": asdict(i.check), "entry": asdict(i.entry)} for i in decision.excused],
        "unscored_failures": [asdict(check) for check in decision.unscored_failures],
        "warnings": [asdict(check) for check in decision.warnings],
        "unused_entries": [asdict(entry) for entry in decision.unused_entries],
    }


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
