"""`platform-tools year …` and `platform-tools curriculum …`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from app.store.engine import read_transaction, write_transaction
from platform_tools.rollover.curriculum_file import (
    CurriculumInputError,
    check_period,
    load_curriculum,
)
from platform_tools.rollover.curriculum_switch import SwitchResult, switch_curriculum
from platform_tools.rollover.database import SettingsError, engine_from_env
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

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2

year_app = typer.Typer(
    name="year", help="Academic years: roll the set-up over.", no_args_is_help=True
)
curriculum_app = typer.Typer(
    name="curriculum", help="Curricula: switch to a new one.", no_args_is_help=True
)

_err = Console(stderr=True, highlight=False)


@year_app.callback()
def year() -> None:
    """Academic years."""


@curriculum_app.callback()
def curriculum() -> None:
    """Curricula (programme versions)."""


def _fail(message: str, code: int) -> typer.Exit:
    _err.print(f"[bold red]error[/]: {message}", markup=True, soft_wrap=True)
    return typer.Exit(code)


@year_app.command()
def rollover(
    to: Annotated[str, typer.Option("--to", help="The new academic year, e.g. 2026-2027.")],
    from_year: Annotated[
        str | None,
        typer.Option("--from", help="The year to carry over (default: the one before --to)."),
    ] = None,
    timezone: Annotated[
        str, typer.Option(help="The school's time zone: slots keep their wall-clock time.")
    ] = "UTC",
    yes: Annotated[bool, typer.Option("--yes", help="Apply (without it, a dry run).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    """Carry the previous year's activities into a new year (groups carry over as they are).

    A dry run prints the plan; `--yes` applies it in one transaction. Re-running creates
    nothing twice; the source year is only read. Exit 2 on unusable input.
    """
    try:
        source = check_years(to, from_year)
        zone = load_zone(timezone)
        engine = engine_from_env()
    except (RolloverInputError, SettingsError) as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    try:
        if yes:
            with write_transaction(engine) as conn:
                lock_rollover(conn)
                plan = plan_rollover(conn, to, source, zone)
                outcome = apply_rollover(conn, plan)
        else:
            with read_transaction(engine) as conn:
                plan = plan_rollover(conn, to, source, zone)
            outcome = None
    except SQLAlchemyError as exc:
        raise _fail(f"database: {exc.__class__.__name__}: {str(exc)[:300]}", EXIT_FAILED) from None
    finally:
        engine.dispose()
    if as_json:
        document = {"applied": yes, **plan.as_dict()}
        if outcome is not None:
            document["created_ids"] = outcome.activity_ids
            document["participations_created"] = outcome.participations_created
            document["waitlisted"] = outcome.waitlisted
        typer.echo(json.dumps(document, indent=2))
        return
    out = Console(highlight=False)
    _print_year_plan(out, plan)
    if outcome is None:
        out.print("Dry run: nothing changed. Add --yes to apply.")
    else:
        out.print(
            f"Applied: {len(outcome.activity_ids)} activities created in {plan.target_year}, "
            f"{outcome.participations_created} participations created "
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
        for item in plan.to_create[:200]:
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
        if len(plan.to_create) > 200:
            out.print(f"... and {len(plan.to_create) - 200} more (--json lists them all)")
    for skipped in plan.skipped[:50]:
        out.print(
            f"skipped activity {skipped.source_id} ({skipped.element_code}): {skipped.reason}"
        )


@curriculum_app.command()
def switch(
    file: Annotated[Path, typer.Option("--file", help="The new curriculum (API JSON).")],
    period: Annotated[str, typer.Option("--period", help="Its curriculum period, e.g. 2029-2034.")],
    map_file: Annotated[
        Path | None, typer.Option("--map", help="CSV old_code,new_code naming renamed codes.")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Apply (without it, a dry run).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    """Publish a new curriculum as a new programme version, after a full check and a diff.

    The previous version, and every enrolment made under it, stays as it is. A dry run
    rehearses the import and rolls it back; `--yes` commits it in one transaction.
    """
    try:
        body = load_curriculum(file)
        check_period(body, period, file)
        renames = load_rename_map(map_file) if map_file is not None else {}
        engine = engine_from_env()
    except (CurriculumInputError, SettingsError) as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    try:
        result = switch_curriculum(engine, body, renames, apply=yes)
    except CurriculumInputError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    except SQLAlchemyError as exc:
        raise _fail(f"database: {exc.__class__.__name__}: {str(exc)[:300]}", EXIT_FAILED) from None
    finally:
        engine.dispose()
    if as_json:
        document = {"applied": yes, **result.plan.as_dict()}
        if yes:
            document["programme_version_id"] = result.imported["programme_version_id"]
        typer.echo(json.dumps(document, indent=2))
        return
    _print_switch(Console(highlight=False), result)


def _print_switch(out: Console, result: SwitchResult) -> None:
    plan = result.plan
    previous = (
        f"replacing {plan.previous.code} ({plan.previous.curriculum_period})"
        if plan.previous
        else "no previous version of this programme"
    )
    out.print(
        f"Curriculum {plan.version_code} of {plan.programme_code} for "
        f"{plan.curriculum_period}, {previous}"
        + (
            " (already published: labels are updated, new codes added)"
            if plan.already_published
            else ""
        )
    )
    diff = plan.diff
    out.print(
        f"{len(diff.added)} added, {len(diff.removed)} removed, {len(diff.renamed)} renamed, "
        f"{len(diff.relabelled)} relabelled, {diff.unchanged} unchanged"
    )
    for title, rows in (
        ("added", [(code,) for code in diff.added]),
        ("removed", [(code,) for code in diff.removed]),
        ("renamed", diff.renamed),
        ("relabelled", diff.relabelled),
    ):
        if rows:
            out.print(f"[bold]{title}[/]: " + ", ".join(" -> ".join(row) for row in rows[:100]))
    if result.applied:
        out.print(
            f"Applied: programme version {result.imported['programme_version_id']} with "
            f"{len(result.imported['steps'])} steps and {len(result.imported['elements'])} "
            "elements."
        )
    else:
        out.print("Dry run: the import was rehearsed and rolled back. Add --yes to apply.")
