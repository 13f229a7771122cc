"""`platform-tools runbook …`: the on-call runbooks, each a dry run unless given --yes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from kubernetes.client.exceptions import ApiException
from rich.table import Table
from urllib3.exceptions import HTTPError

from platform_tools.command_metrics import command_metrics, metrics_file_name
from platform_tools.run.errors import EnvironmentFailure, UsageError
from platform_tools.run.exit_codes import EXIT_CODES_HELP, ExitCode
from platform_tools.run.metrics_sink import resolve_sink
from platform_tools.run.options import JsonOutput, MetricsFile, Pushgateway, Yes
from platform_tools.run.output import emit_json, stdout_console
from platform_tools.run.runner import Run, RunOutcome, command_run
from platform_tools.runbook import targets as t
from platform_tools.runbook.drain import cordon, evict_all, plan_drain
from platform_tools.runbook.kube import Kube, api_failure, connect
from platform_tools.runbook.restart import read_deployment, restart_deployment, wait_for_rollout
from platform_tools.runbook.status import StatusTargets, collect_status
from platform_tools.runbook.surge import HpaChange, surge_end, surge_prepare
from platform_tools.runbook.switchover import (
    plan_switchover,
    request_switchover,
    wait_for_primary,
)
from platform_tools.runbook.waiting import Waiter

app = typer.Typer(
    name="runbook",
    help="On-call runbooks on the Kubernetes cluster (dry runs unless --yes).",
    no_args_is_help=True,
)

Kubeconfig = Annotated[
    Path | None,
    typer.Option(help="kubeconfig file. Default: $KUBECONFIG, ~/.kube/config, or in-cluster."),
]
Context = Annotated[str | None, typer.Option(help="kubeconfig context. Default: the current one.")]
AppNamespace = Annotated[str, typer.Option("--namespace", help="The app's namespace.")]
Hpa = Annotated[str, typer.Option("--hpa", help="The app's HorizontalPodAutoscaler.")]
DbNamespace = Annotated[str, typer.Option("--db-namespace", help="The database's namespace.")]
Cluster = Annotated[str, typer.Option("--cluster", help="The CloudNativePG Cluster.")]
Timeout = Annotated[
    float, typer.Option(min=0, max=86_400, help="Seconds to wait before giving up.")
]
Interval = Annotated[float, typer.Option(min=0, max=600, help="Seconds between two looks.")]


@app.callback()
def runbook() -> None:
    """On-call runbooks (pages in docs/runbooks/)."""


@contextmanager
def _runbook_run(
    command: str,
    kubeconfig: Path | None,
    context: str | None,
    metrics_file: Path | None,
    pushgateway: str | None,
    **fields: Any,
) -> Iterator[tuple[Run, Kube, dict[str, int]]]:
    """The shared frame: JSON run log, metrics of the run, a connected client."""
    with command_run(command, **fields) as run:
        run.sink = resolve_sink(
            metrics_file, pushgateway, metrics_file_name(command), job="campus_ops"
        )
        changed = {"objects": 0}

        def build(outcome: RunOutcome) -> Any:
            return command_metrics(command, outcome, changed["objects"])

        run.metrics = build
        kube = connect(kubeconfig, context)
        try:
            yield run, kube, changed
        except HTTPError as exc:
            reason = str(getattr(exc, "reason", None) or exc)
            raise EnvironmentFailure(f"the API server does not answer: {reason}") from None
        except ApiException as exc:
            raise api_failure("Kubernetes API", exc) from None
        finally:
            kube.close()


def _now() -> datetime:
    return datetime.now(UTC)


@app.command(epilog=EXIT_CODES_HELP)
def status(
    namespace: AppNamespace = t.APP_NAMESPACE,
    hpa: Hpa = t.APP_HPA,
    db_namespace: DbNamespace = t.DB_NAMESPACE,
    cluster: Cluster = t.DB_CLUSTER,
    kube_bench_namespace: Annotated[
        str, typer.Option(help="Where the kube-bench gate runs.")
    ] = t.KUBE_BENCH_NAMESPACE,
    operator_namespace: Annotated[
        list[str] | None,
        typer.Option(
            help="Other namespaces whose Deployments must be ready (repeat the option). "
            f"Default: {', '.join(t.OPERATOR_NAMESPACES)}."
        ),
    ] = None,
    json_output: JsonOutput = False,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    metrics_file: MetricsFile = None,
    pushgateway: Pushgateway = None,
) -> None:
    """Deployments ready, pods crash-looping, HPA at maximum, PVC usage, last backup, gate.

    Read-only. Exit 1 when any check finds a problem.
    """
    with _runbook_run("runbook status", kubeconfig, context, metrics_file, pushgateway) as (
        run,
        kube,
        _,
    ):
        where = StatusTargets(
            namespace,
            hpa,
            db_namespace,
            cluster,
            kube_bench_namespace,
            tuple(operator_namespace) if operator_namespace else t.OPERATOR_NAMESPACES,
        )
        findings = collect_status(kube, where, _now())
        problems = [f for f in findings if f.state != "ok"]
        run.record(problems=len(problems), checks=len(findings))
        if json_output:
            emit_json({"ok": not problems, "findings": [f.as_dict() for f in findings]})
        else:
            table = Table(title="Campus platform status", title_justify="left")
            for column in ("check", "subject", "state", "detail"):
                table.add_column(column)
            for finding in findings:
                colour = {"ok": "green", "problem": "red"}.get(finding.state, "yellow")
                table.add_row(
                    finding.check,
                    finding.subject,
                    f"[{colour}]{finding.state}[/]",
                    finding.detail,
                )
            stdout_console().print(table)
        if problems:
            raise typer.Exit(ExitCode.PROBLEM)


def _print_hpa(change: HpaChange, what: str) -> None:
    out = stdout_console()
    if not change.changes_anything:
        out.print(
            f"{change.hpa}: {what} changes nothing (min {change.min_after}, max "
            f"{change.max_after})."
        )
        return
    verb = "Changed" if change.applied else "Would change"
    out.print(
        f"{verb} {change.hpa}: min {change.min_before} -> {change.min_after}, "
        f"max {change.max_before} -> {change.max_after}."
    )
    if not change.applied:
        out.print("Dry run: nothing changed. Add --yes to apply.")


@app.command("surge-prepare", epilog=EXIT_CODES_HELP)
def surge_prepare_command(
    min_replicas: Annotated[
        int, typer.Option("--min-replicas", min=1, max=1000, help="The floor for the rush.")
    ],
    namespace: AppNamespace = t.APP_NAMESPACE,
    hpa: Hpa = t.APP_HPA,
    yes: Yes = False,
    json_output: JsonOutput = False,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    metrics_file: MetricsFile = None,
    pushgateway: Pushgateway = None,
) -> None:
    """Raise the HPA's floor before a known rush, remembering the old floor and ceiling.

    The previous values go into an annotation on the HPA; `surge-end` restores them.
    """
    with _runbook_run(
        "runbook surge-prepare",
        kubeconfig,
        context,
        metrics_file,
        pushgateway,
        min_replicas=min_replicas,
        apply=yes,
    ) as (run, kube, changed):
        change = surge_prepare(kube, namespace, hpa, min_replicas, apply=yes)
        changed["objects"] = int(yes and change.changes_anything)
        run.record(**change.as_dict())
        if json_output:
            emit_json(change.as_dict())
        else:
            _print_hpa(change, f"a floor of {min_replicas}")


@app.command("surge-end", epilog=EXIT_CODES_HELP)
def surge_end_command(
    namespace: AppNamespace = t.APP_NAMESPACE,
    hpa: Hpa = t.APP_HPA,
    yes: Yes = False,
    json_output: JsonOutput = False,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    metrics_file: MetricsFile = None,
    pushgateway: Pushgateway = None,
) -> None:
    """Restore the floor and ceiling `surge-prepare` saved (nothing saved: nothing to do)."""
    with _runbook_run(
        "runbook surge-end", kubeconfig, context, metrics_file, pushgateway, apply=yes
    ) as (run, kube, changed):
        change = surge_end(kube, namespace, hpa, apply=yes)
        changed["objects"] = int(yes and change.changes_anything)
        run.record(**change.as_dict())
        if json_output:
            emit_json(change.as_dict())
        else:
            _print_hpa(change, "restoring the saved values")


@app.command(epilog=EXIT_CODES_HELP)
def restart(
    target: Annotated[str, typer.Argument(metavar="TARGET", help="What to restart: app.")],
    namespace: AppNamespace = t.APP_NAMESPACE,
    yes: Yes = False,
    timeout: Timeout = 600,
    interval: Interval = 2,
    json_output: JsonOutput = False,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    metrics_file: MetricsFile = None,
    pushgateway: Pushgateway = None,
) -> None:
    """Rolling restart (pod template annotation, as kubectl rollout restart), then wait."""
    with _runbook_run(
        "runbook restart", kubeconfig, context, metrics_file, pushgateway, target=target, apply=yes
    ) as (run, kube, changed):
        if target not in t.RESTART_TARGETS:
            raise UsageError(
                f"unknown target {target!r}; one of: {', '.join(t.RESTART_TARGETS)}", "TARGET"
            )
        name = t.RESTART_TARGETS[target]
        deployment = read_deployment(kube, namespace, name, "--namespace")
        replicas = deployment.spec.replicas if deployment.spec.replicas is not None else 1
        document: dict[str, Any] = {
            "deployment": f"{namespace}/{name}",
            "replicas": replicas,
            "applied": yes,
        }
        if not yes:
            if json_output:
                emit_json(document)
            else:
                stdout_console().print(
                    f"Would restart {namespace}/{name} ({replicas} replicas, one at a time "
                    "under its rolling update strategy). Dry run: add --yes to restart."
                )
            return
        document["restarted_at"] = restart_deployment(kube, namespace, name, _now())
        changed["objects"] = 1
        progress = wait_for_rollout(kube, namespace, name, Waiter(timeout, interval))
        document["updated"] = progress.updated
        run.record(**document)
        if json_output:
            emit_json(document)
        else:
            stdout_console().print(
                f"Restarted {namespace}/{name}: {progress.updated} of {progress.replicas} "
                "replicas updated and available."
            )


@app.command(epilog=EXIT_CODES_HELP)
def drain(
    node: Annotated[str, typer.Argument(metavar="NODE", help="The node to empty.")],
    force: Annotated[
        bool, typer.Option(help="Also evict pods no controller would recreate.")
    ] = False,
    yes: Yes = False,
    timeout: Timeout = 600,
    interval: Interval = 5,
    json_output: JsonOutput = False,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    metrics_file: MetricsFile = None,
    pushgateway: Pushgateway = None,
) -> None:
    """Cordon the node, then evict its pods, waiting whenever a disruption budget says 429.

    The node stays cordoned; `kubectl uncordon NODE` returns it to service.
    """
    with _runbook_run(
        "runbook drain", kubeconfig, context, metrics_file, pushgateway, node=node, apply=yes
    ) as (run, kube, changed):
        plan = plan_drain(kube, node, force)
        if yes:
            if not plan.already_cordoned:
                cordon(kube, node)
            try:
                evict_all(kube, plan, Waiter(timeout, interval))
            finally:
                changed["objects"] = len(plan.evicted)
                run.record(evicted=len(plan.evicted), budget_refusals=plan.refusals)
        if json_output:
            emit_json({"applied": yes, **plan.as_dict()})
            return
        out = stdout_console()
        for pod, why in plan.skipped:
            out.print(f"stays: {pod} ({why})")
        if yes:
            out.print(
                f"Drained {node}: cordoned, {len(plan.evicted)} pods evicted "
                f"({plan.refusals} refusals by disruption budgets waited out)."
            )
        else:
            out.print(
                f"Would cordon {node} and evict: {', '.join(map(str, plan.evict)) or 'none'}."
            )
            out.print("Dry run: nothing changed. Add --yes to drain.")


@app.command("db-switchover", epilog=EXIT_CODES_HELP)
def db_switchover(
    to: Annotated[
        str | None,
        typer.Option(
            "--to", help="Instance to promote (pod name or number). Default: a healthy standby."
        ),
    ] = None,
    db_namespace: DbNamespace = t.DB_NAMESPACE,
    cluster: Cluster = t.DB_CLUSTER,
    force: Annotated[
        bool, typer.Option(help="Switch over even if the cluster is not healthy.")
    ] = False,
    wait: Annotated[bool, typer.Option(help="Wait for the operator to finish.")] = True,
    yes: Yes = False,
    timeout: Timeout = 300,
    interval: Interval = 2,
    json_output: JsonOutput = False,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    metrics_file: MetricsFile = None,
    pushgateway: Pushgateway = None,
) -> None:
    """Planned switchover of the CloudNativePG primary (as `kubectl cnpg promote`)."""
    with _runbook_run(
        "runbook db-switchover", kubeconfig, context, metrics_file, pushgateway, apply=yes
    ) as (run, kube, changed):
        plan = plan_switchover(kube, db_namespace, cluster, to, force)
        completed = False
        if yes and plan.target != plan.current_primary:
            request_switchover(kube, db_namespace, cluster, plan.target, _now())
            changed["objects"] = 1
            if wait:
                wait_for_primary(
                    kube, db_namespace, cluster, plan.target, Waiter(timeout, interval)
                )
                completed = True
        document = {**plan.as_dict(), "applied": yes, "completed": completed}
        run.record(**document)
        if json_output:
            emit_json(document)
            return
        out = stdout_console()
        if plan.target == plan.current_primary:
            out.print(f"{plan.target} is already the primary of {plan.cluster}: nothing to do.")
        elif not yes:
            out.print(
                f"Would promote {plan.target} in {plan.cluster} (primary now "
                f"{plan.current_primary}). Dry run: add --yes to switch over."
            )
        elif completed:
            out.print(f"Switched over: {plan.target} is the primary of {plan.cluster}.")
        else:
            out.print(f"Switchover to {plan.target} requested; the operator carries it out.")
