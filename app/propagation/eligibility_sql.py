"""The one eligibility query (DOMAIN.md rules 1-6), written once and used three ways:
to insert what is missing, to delete what is no longer eligible, and to reconcile.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Exists, FromClause, Select, and_, exists, or_, select

from app.store.schema import (
    activity,
    element,
    element_closure,
    enrolment,
    enrolment_choice,
    enrolment_exemption,
    enrolment_group,
)


def on_the_enrolments_path(e: FromClause, element_id: ColumnElement[int]) -> ColumnElement[bool]:
    """Rules 3 and 4 for the element `element_id` and enrolment `e`: every optional element on
    its path is chosen, and none on its path is exempted.

    Two anti-joins over the closure table, so a deep tree costs one indexed lookup per
    ancestor, not a recursion.
    """
    path = element_closure.alias("path")
    ancestor = element.alias("ancestor")
    optional_not_chosen = exists().where(
        path.c.descendant_id == element_id,
        ancestor.c.id == path.c.ancestor_id,
        ancestor.c.optional.is_(True),
        # Nested two deep: SQLAlchemy would only correlate with the closest query, so the
        # enrolment and ancestor are named as outer tables here.
        ~exists()
        .where(
            enrolment_choice.c.enrolment_id == e.c.id,
            enrolment_choice.c.element_id == ancestor.c.id,
        )
        .correlate_except(enrolment_choice),
    )
    exempt_path = element_closure.alias("exempt_path")
    exempted = exists().where(
        exempt_path.c.descendant_id == element_id,
        enrolment_exemption.c.enrolment_id == e.c.id,
        enrolment_exemption.c.element_id == exempt_path.c.ancestor_id,
    )
    return and_(~optional_not_chosen, ~exempted)


def eligible(e: FromClause, a: FromClause, el: FromClause) -> ColumnElement[bool]:
    """True when enrolment `e` is eligible for activity `a` whose element row is `el`.

    The caller joins `el` on `el.id = a.element_id`.
    """
    in_group = or_(
        a.c.group_id.is_(None),
        exists().where(
            enrolment_group.c.enrolment_id == e.c.id,
            enrolment_group.c.group_id == a.c.group_id,
        ),
    )
    return and_(
        e.c.status == "active",  # rule 1
        e.c.academic_year == a.c.academic_year,  # rule 1
        el.c.step_id == e.c.step_id,  # rule 2
        on_the_enrolments_path(e, a.c.element_id),  # rules 3 and 4
        in_group,  # rule 5
        # Rule 6. Both engines compare an instant with a date at midnight UTC: PostgreSQL
        # sessions run in UTC, and SQLite stores UTC instants as text that sorts as time.
        a.c.ends_at >= e.c.start_date,
    )


def eligible_pairs(
    enrolment_filter: ColumnElement[bool] | None = None,
    activity_filter: ColumnElement[bool] | None = None,
) -> Select:
    """(activity_id, enrolment_id, capacity) of every eligible pair matching the filters.

    The filters use the module-level `activity` and `enrolment` tables. Enrolments are joined
    through their step and year, so the planner walks one step's activities at a time.
    """
    el = element.alias("el")
    query = (
        select(activity.c.id.label("activity_id"), enrolment.c.id.label("enrolment_id"))
        .select_from(activity)
        .join(el, el.c.id == activity.c.element_id)
        .join(
            enrolment,
            and_(
                enrolment.c.step_id == el.c.step_id,
                enrolment.c.academic_year == activity.c.academic_year,
            ),
        )
        .where(eligible(enrolment, activity, el))
    )
    if enrolment_filter is not None:
        query = query.where(enrolment_filter)
    if activity_filter is not None:
        query = query.where(activity_filter)
    return query


def pair_is_eligible(enrolment_id: ColumnElement[int], activity_id: ColumnElement[int]) -> Exists:
    """A correlated EXISTS: is the pair named by two outer columns eligible?"""
    return eligible_pairs(enrolment.c.id == enrolment_id, activity.c.id == activity_id).exists()
