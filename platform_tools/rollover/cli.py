"""`platform-tools year …` and `platform-tools curriculum …`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import OperationalError

from app.store.engine import read_transaction, write_transaction
from platform_tools.command_metrics import command_metrics, metrics_file_name
from platform_tools.rollover.curriculum_file import (
    CurriculumInputError,
    check_period,
    load_curriculum,
)
from platform_tools.rollover.curriculum_switch import SwitchResult, switch_curriculum
from platform_tools.rollover.rename_map import load_rename_map
from platform_tools.rollover.year import (
    RolloverInputError,
    YearPlan,
    apply_rollover,
    check_years,
    load_zone,
    lock_rollover,
    plan_rollover,
)
from platform_tools.run.database import database_settings, open_engine
from platform_tools.run.errors import EnvironmentFailure, UsageError
from platform_tools.run.exit_codes import EXIT_CODES_HELP
from platform_tools.run.metrics_sink import resolve_sink
from platform_tools.run.options import (
    DatabaseUrl,
    JsonOutput,
    MetricsFile,
    Pushgateway,
    Yes,
)
from platform_tools.run.output import emit_json, stdout_console
from platform_tools.run.progress import progress_bar
from platform_tools.run.runner import Run, RunOutcome, command_run

year_app = typer.Typer(
    name="year", help="Academic years: roll the set-up over.", no_args_is_help=True
)
curriculum_app = typer.Typer(
    name="curriculum", help="Curricula: switch to a new one.", no_args_is_help=True
)
# Plans longer than this are cut in the table; --json always lists everything.
TABLE_ROWS = 200


@year_app.callback()
def year() -> None:
    """Academic years."""


@curriculum_app.callback()
def curriculum() -> None:
    """Curricula (programme versions)."""


def _report_metrics(
    run: Run, command: str, metrics_file: Path | None, pushgateway: str | None
) -> dict[str, int]:
    """Attach the run's metrics; the returned dict receives the number of changed objects."""
    run.sink = resolve_sink(metrics_file, pushgateway, metrics_file_name(command), job="campus_ops")
    changed = {"objects": 0}

    def build(outcome: RunOutcome) -> Any:
        return command_metrics(command, outcome, changed["objects"])

    run.metrics = build
    return changed


def _database_failure(exc: OperationalError) -> EnvironmentFailure:
    # The transaction was rolled back: nothing of the run was written.
    reason = str(exc.orig or exc).strip().splitlines()[0]
    return EnvironmentFailure(f"the database failed mid-run, nothing was written: {reason}")


def _split_option(message: str) -> UsageError:
    # The rollover's errors start with the option they name ("--to: ..."); keep it first.
    option, _, detail = message.partition(": ")
    return UsageError(detail, option) if option.startswith("--") else UsageError(message)


@year_app.command(epilog=EXIT_CODES_HELP)
def rollover(
    to: Annotated[str, typer.Option("--to", help="The new academic year, e.g. 2026-2027.")],
    from_year: Annotated[
        str | None,
        typer.Option("--from", help="The year to carry over (default: the one before --to)."),
    ] = None,
    timezone: Annotated[
        str, typer.Option(help="The school's time zone: slots keep their wall-clock time.")
    ] = "UTC",
    yes: Yes = False,
    json_output: JsonOutput = False,
    database_url: DatabaseUrl = None,
    metrics_file: MetricsFile = None,
    pushgateway: Pushgateway = None,
) -> None:
    """Carry the previous year's activities into a new year (groups carry over as they are).

    A dry run prints the plan; `--yes` applies it in one transaction, through the app's
    activity service (each new activity seats the learners already enrolled). Re-running
    creates nothing twice; the source year is only read.
    """
    with command_run("year rollover", target_year=to, apply=yes) as run:
        changed = _report_metrics(run, "year rollover", metrics_file, pushgateway)
        try:
            source = check_years(to, from_year)
            zone = load_zone(timezone)
        except RolloverInputError as exc:
            raise _split_option(str(exc)) from None
        settings = database_settings(database_url)
        engine = open_engine(settings, "--database-url" if database_url else "DATABASE_URL")
        try:
            if yes:
                with write_transaction(engine) as conn, progress_bar() as bar:
                    lock_rollover(conn)
                    plan = plan_rollover(conn, to, source, zone)
                    task = bar.add_task("activities", total=len(plan.to_create))
                    outcome = apply_rollover(conn, plan, lambda: bar.advance(task))
            else:
                with read_transaction(engine) as conn:
                    plan = plan_rollover(conn, to, source, zone)
                outcome = None
        except OperationalError as exc:
            raise _database_failure(exc) from None
        finally:
            engine.dispose()
        changed["objects"] = len(outcome.activity_ids) if outcome else 0
        run.record(
            source_year=source,
            to_create=len(plan.to_create),
            already_carried=len(plan.already_carried),
            skipped=len(plan.skipped),
            created=changed["objects"],
        )
        if json_output:
            document = {"applied": yes, **plan.as_dict()}
            if outcome is not None:
                document["created_ids"] = outcome.activity_ids
                document["participations_created"] = outcome.participations_created
                document["waitlisted"] = outcome.waitlisted
            emit_json(document)
            return
        out = stdout_console()
        _print_year_plan(out, plan)
        if outcome is None:
            out.print("Dry run: nothing changed. Add --yes to apply.")
        else:
            out.print(
                f"Applied: {len(outcome.activity_ids)} activities created in "
                f"{plan.target_year}, {outcome.participations_created} participations created "
                f"({outcome.waitlisted} waitlisted)."
            )


def _print_year_plan(out: Console, plan: YearPlan) -> None:
    out.print(
        f"Rollover {plan.source_year} -> {plan.target_year}: "
        f"{len(plan.to_create)} activities to create, {len(plan.already_carried)} already "
        f"carried over, {len(plan.skipped)} skipped; {plan.steps_kept} steps and "
        f"{plan.groups_kept} groups carry over unchanged."
    )
    if plan.to_create:
        table = Table(title="Activities to create", title_justify="left")
        for column in ("from", "element", "kind", "group", "starts", "ends", "capacity"):
            table.add_column(column)
        for item in plan.to_create[:TABLE_ROWS]:
            table.add_row(
                str(item.source_id),
                item.element_code,
                item.kind,
                "" if item.group_id is None else str(item.group_id),
                item.starts_at.isoformat(),
                item.ends_at.isoformat(),
                "" if item.capacity is None else str(item.capacity),
            )
        out.print(table)
        if len(plan.to_create) > TABLE_ROWS:
            out.print(f"... and {len(plan.to_create) - TABLE_ROWS} more (--json lists them all)")
    for skipped in plan.skipped[:TABLE_ROWS]:
        out.print(
            f"skipped activity {skipped.source_id} ({skipped.element_code}): {skipped.reason}"
        )


@curriculum_app.command(epilog=EXIT_CODES_HELP)
def switch(
    file: Annotated[Path, typer.Option("--file", help="The new curriculum (API JSON).")],
    period: Annotated[str, typer.Option("--period", help="Its curriculum period, e.g. 2029-2034.")],
    map_file: Annotated[
        Path | None, typer.Option("--map", help="CSV old_code,new_code naming renamed codes.")
    ] = None,
    yes: Yes = False,
    json_output: JsonOutput = False,
    database_url: DatabaseUrl = None,
    metrics_file: MetricsFile = None,
    pushgateway: Pushgateway = None,
) -> None:
    """Publish a new curriculum as a new programme version, after a full check and a diff.

    The previous version, and every enrolment made under it, stays as it is. A dry run
    rehearses the import and rolls it back; `--yes` commits it in one transaction.
    """
    with command_run("curriculum switch", file=str(file), period=period, apply=yes) as run:
        changed = _report_metrics(run, "curriculum switch", metrics_file, pushgateway)
        try:
            body = load_curriculum(file)
            check_period(body, period, file)
            renames = load_rename_map(map_file) if map_file is not None else {}
        except CurriculumInputError as exc:
            raise _split_option(str(exc)) from None
        settings = database_settings(database_url)
        engine = open_engine(settings, "--database-url" if database_url else "DATABASE_URL")
        try:
            result = switch_curriculum(engine, body, renames, apply=yes)
        except CurriculumInputError as exc:
            raise _split_option(str(exc)) from None
        except OperationalError as exc:
            raise _database_failure(exc) from None
        finally:
            engine.dispose()
        diff = result.plan.diff
        changed["objects"] = 1 if yes and not result.plan.already_published else 0
        run.record(
            version=result.plan.version_code,
            added=len(diff.added),
            removed=len(diff.removed),
            renamed=len(diff.renamed),
        )
        if json_output:
            document = {"applied": yes, **result.plan.as_dict()}
            if yes:
                document["programme_version_id"] = result.imported["programme_version_id"]
            emit_json(document)
            return
        _print_switch(stdout_console(), result)


def _print_switch(out: Console, result: SwitchResult) -> None:
    plan = result.plan
    previous = (
        f"replacing {plan.previous.code} ({plan.previous.curriculum_period})"
        if plan.previous
        else "no previous version of this programme"
    )
    again = " (already published: labels are updated, new codes added)"
    out.print(
        f"Curriculum {plan.version_code} of {plan.programme_code} for "
        f"{plan.curriculum_period}, {previous}" + (again if plan.already_published else "")
    )
    diff = plan.diff
    out.print(
        f"{len(diff.added)} added, {len(diff.removed)} removed, {len(diff.renamed)} renamed, "
        f"{len(diff.relabelled)} relabelled, {diff.unchanged} unchanged"
    )
    sections = (
        ("added", diff.added),
        ("removed", diff.removed),
        ("renamed", [f"{old} -> {new}" for old, new in diff.renamed]),
        ("relabelled", [f"{code}: {old!r} -> {new!r}" for code, old, new in diff.relabelled]),
    )
    for title, items in sections:
        if items:
            more = f" ... and {len(items) - TABLE_ROWS} more" if len(items) > TABLE_ROWS else ""
            out.print(f"[bold]{title}[/]: " + ", ".join(items[:TABLE_ROWS]) + more)
    if result.applied:
        out.print(
            f"Applied: programme version {result.imported['programme_version_id']} with "
            f"{len(result.imported['steps'])} steps and {len(result.imported['elements'])} "
            "elements."
        )
    else:
        out.print("Dry run: the import was rehearsed and rolled back. Add --yes to apply.")
