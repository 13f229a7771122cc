"""Schedule conflicts: pairs of a learner's seated participations whose activities overlap.

A learner's schedule is every activity where they hold a seat (status `active`) through any
of their active enrolments. Two activities conflict when their periods overlap: one starts
before the other ends (an activity ending at 10:00 and one starting at 10:00 do not). Each
list is one query over sets, paged in a fixed key order.
"""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, case, or_, select, text, true

from app.domain import values
from app.domain.errors import InvalidInput, NotFound
from app.store.schema import activity, enrolment, learner, participation, step


def encode_key(key: tuple[int, ...]) -> str:
    """An opaque cursor that resumes after the composite key `key`."""
    text = "v1:" + ":".join(str(part) for part in key)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_key(cursor: str | None, parts: int) -> tuple[int, ...]:
    """The composite key a cursor resumes after (zeros for the first page); 422 if forged."""
    if not cursor:
        return (0,) * parts
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, *numbers = raw.split(":")
        key = tuple(int(n) for n in numbers)
        if version != "v1" or len(key) != parts or not all(0 <= n < 2**63 for n in key):
            raise ValueError
        return key
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput.of("cursor", "not a cursor this API gave out") from None


def _overlap_columns(a1: Any, a2: Any) -> list[ColumnElement[Any]]:
    """Where the periods of activities `a1` and `a2` overlap: the later start, the earlier end."""
    return [
        case((a1.c.starts_at > a2.c.starts_at, a1.c.starts_at), else_=a2.c.starts_at).label(
            "overlap_starts_at"
        ),
        case((a1.c.ends_at < a2.c.ends_at, a1.c.ends_at), else_=a2.c.ends_at).label(
            "overlap_ends_at"
        ),
    ]


def _overlapping(a1: Any, a2: Any) -> ColumnElement[bool]:
    """`a2` comes after `a1` by id and their periods overlap (touching ends do not)."""
    return and_(a2.c.id > a1.c.id, a1.c.starts_at < a2.c.ends_at, a2.c.starts_at < a1.c.ends_at)


def _pairs(learner_id: ColumnElement[int]) -> tuple[Select, ColumnElement[int], ColumnElement[int]]:
    """Each overlapping pair of the seats of the learner `learner_id`, lower activity id first,
    with the two activity id columns."""
    e1, e2 = enrolment.alias("e1"), enrolment.alias("e2")
    p1, p2 = participation.alias("p1"), participation.alias("p2")
    a1, a2 = activity.alias("a1"), activity.alias("a2")
    query = (
        select(
            a1.c.id.label("activity_id"),
            a2.c.id.label("other_activity_id"),
            *_overlap_columns(a1, a2),
        )
        .select_from(e1)
        .join(p1, and_(p1.c.enrolment_id == e1.c.id, p1.c.status == "active"))
        .join(a1, a1.c.id == p1.c.activity_id)
        .join(e2, and_(e2.c.learner_id == e1.c.learner_id, e2.c.status == "active"))
        .join(p2, and_(p2.c.enrolment_id == e2.c.id, p2.c.status == "active"))
        .join(
            a2,
            and_(a2.c.id == p2.c.activity_id, _overlapping(a1, a2)),
        )
        .where(e1.c.learner_id == learner_id, e1.c.status == "active")
    )
    return query, a1.c.id, a2.c.id


def _conflicts(
    learner_id: ColumnElement[int],
    chosen: ColumnElement[bool],
    after: tuple[int, ...],
    limit: int,
    dialect: str = "sqlite",
) -> Select:
    """Each overlapping pair of one learner's seats once, lower activity id first, in
    (learner, activity, other activity) order after the key `after`.

    `learner_id` is a column of a table row per learner (`chosen` picks the rows), read in
    learner order through an index. SQLite joins each learner's seats with themselves and
    stops at the end of the page. PostgreSQL is given the same work as a LATERAL subquery per
    learner, sorted and cut at a page within it: whatever its row estimates (a cohort enrolled
    since the last ANALYZE is estimated at 1 row, each enrolment's seats at 2 instead of 16),
    it then walks learners in order and stops after a page, where the flat join paired the
    whole cohort and sorted it (bench/propagation.py, scenario g).
    """
    if dialect != "postgresql":
        return _flat_conflicts(learner_id, chosen, after, limit)
    pairs, a1_id, a2_id = _pairs(learner_id)
    own = (
        pairs.where(_after((learner_id, a1_id, a2_id), after))
        .order_by(a1_id, a2_id)
        .limit(limit + 1)
        .lateral("pairs")
    )
    return (
        select(
            learner_id.label("learner_id"),
            own.c.activity_id,
            own.c.other_activity_id,
            own.c.overlap_starts_at,
            own.c.overlap_ends_at,
        )
        .select_from(learner_id.table)
        .join(own, true())
        .where(chosen, learner_id >= after[0])
        .order_by(learner_id, own.c.activity_id, own.c.other_activity_id)
        .limit(limit + 1)
    )


def _flat_conflicts(
    learner_id: ColumnElement[int], chosen: ColumnElement[bool], after: tuple[int, ...], limit: int
) -> Select:
    """Each overlapping pair of one learner's seats once, lower activity id first, in
    (learner, activity, other activity) order after the key `after`.

    `learner_id` is a column of a table row per learner (`chosen` picks the rows), read in
    learner order through an index; each learner's seats are joined with themselves. SQLite
    then stops at the end of the page.
    """
    who = learner_id.table
    e1, e2 = enrolment.alias("e1"), enrolment.alias("e2")
    p1, p2 = participation.alias("p1"), participation.alias("p2")
    a1, a2 = activity.alias("a1"), activity.alias("a2")
    key = (learner_id, a1.c.id, a2.c.id)
    return (
        select(
            learner_id.label("learner_id"),
            a1.c.id.label("activity_id"),
            a2.c.id.label("other_activity_id"),
            *_overlap_columns(a1, a2),
        )
        .select_from(who)
        .join(e1, and_(e1.c.learner_id == learner_id, e1.c.status == "active"))
        .join(p1, and_(p1.c.enrolment_id == e1.c.id, p1.c.status == "active"))
        .join(a1, a1.c.id == p1.c.activity_id)
        .join(e2, and_(e2.c.learner_id == learner_id, e2.c.status == "active"))
        .join(p2, and_(p2.c.enrolment_id == e2.c.id, p2.c.status == "active"))
        .join(
            a2,
            and_(a2.c.id == p2.c.activity_id, _overlapping(a1, a2)),
        )
        .where(chosen, learner_id >= after[0], _after(key, after))
        .order_by(*key)
        .limit(limit + 1)
    )


def _after(key: tuple[ColumnElement[int], ...], after: tuple[int, ...]) -> ColumnElement[bool]:
    """`key` > `after` in lexicographic order (spelled out: both engines plan it well)."""
    return or_(
        *(
            and_(*(k == a for k, a in zip(key[:i], after[:i], strict=True)), key[i] > after[i])
            for i in range(len(key))
        )
    )


def _page(rows: list[Any], limit: int, with_learner: bool) -> dict[str, Any]:
    items = [
        {
            **({"learner_id": r.learner_id} if with_learner else {}),
            "activity_id": r.activity_id,
            "other_activity_id": r.other_activity_id,
            "overlap_starts_at": r.overlap_starts_at.isoformat(),
            "overlap_ends_at": r.overlap_ends_at.isoformat(),
        }
        for r in rows[:limit]
    ]
    last = rows[limit - 1] if len(rows) > limit else None
    return {
        "items": items,
        "next_cursor": None
        if last is None
        else encode_key(
            ((last.learner_id,) if with_learner else ())
            + (last.activity_id, last.other_activity_id)
        ),
    }


def learner_conflicts(
    conn: Connection, learner_id: int, limit: int, cursor: str | None
) -> dict[str, Any]:
    """The overlapping pairs of one learner's seats, by (activity, other activity)."""
    after = decode_key(cursor, 2)
    one = learner.alias("who")
    rows = conn.execute(
        _conflicts(one.c.id, one.c.id == learner_id, (learner_id, *after), limit, conn.dialect.name)
    ).all()
    return _page(rows, limit, with_learner=False)


def step_conflicts(
    conn: Connection, step_id: int, academic_year: str | None, limit: int, cursor: str | None
) -> dict[str, Any]:
    """For every learner actively enrolled in the step that year, the overlapping pairs of
    their seats, by (learner, activity, other activity)."""
    if not academic_year:
        raise InvalidInput.of("academic_year", "required, as YYYY-YYYY")
    year = values.academic_year(academic_year, "academic_year")
    after = decode_key(cursor, 3)
    # One active enrolment per learner, step and year: each learner of the cohort comes once.
    cohort = enrolment.alias("cohort")
    chosen = and_(
        cohort.c.step_id == step_id, cohort.c.academic_year == year, cohort.c.status == "active"
    )
    if conn.dialect.name == "postgresql":
        # The LATERAL rows arrive in learner order, each learner's sorted: an incremental sort
        # stops after a page (51 ms at M). A cohort enrolled since the last ANALYZE is
        # estimated at 1 row, for which sorting everything looks as cheap and is chosen
        # (0.45 s at M, walking the whole cohort). Sorting everything is ruled out for this
        # read-only transaction's remaining statements.
        conn.execute(text("SET LOCAL enable_sort = off"))
    rows = conn.execute(
        _conflicts(cohort.c.learner_id, chosen, after, limit, conn.dialect.name)
    ).all()
    # An unknown step is told apart only when there is nothing to show: one query otherwise.
    if not rows and conn.execute(select(step.c.id).where(step.c.id == step_id)).first() is None:
        raise NotFound.of("step_id", f"no step {step_id}")
    return _page(rows, limit, with_learner=True)
