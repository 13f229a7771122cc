"""What a change touches: a set of enrolments, or a set of activities."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ARRAY, BigInteger, ColumnElement, and_, any_, bindparam, select

from app.store.json_rows import id_rows

TRIGGERS = (
    "enrolment_create",
    "enrolment_batch",
    "enrolment_update",
    "enrolment_cancel",
    "activity_create",
    "activity_update",
    "activity_delete",
    "reconcile",
)


@dataclass(frozen=True)
class Scope:
    """Propagate for these enrolments (against every activity of their steps), or for these
    activities (against every enrolment of their steps)."""

    trigger: str
    enrolment_ids: Sequence[int] = ()
    activity_ids: Sequence[int] = ()

    def __post_init__(self) -> None:
        if self.trigger not in TRIGGERS:
            raise ValueError(f"unknown propagation trigger {self.trigger!r}")
        if bool(self.enrolment_ids) == bool(self.activity_ids):
            raise ValueError("a scope names enrolments or activities, not both or neither")


def in_ids(column: ColumnElement[int], ids: Sequence[int], dialect: str) -> ColumnElement[bool]:
    """`column` is one of `ids`, sent as one parameter whatever their number.

    PostgreSQL gets an array, `= ANY(...)`: the planner then knows how many ids there are
    (it assumes 100 rows for any set-returning function), which decides between probing an
    index per row and hashing once. It also gets the ids' range, which an index can walk:
    rows just created have the newest ids, and without the range the planner scanned the
    whole table to find them (a cost that grew with the table, run after run, when the
    validator propagated its new enrolments). When the ids fill their range, the range alone
    is sent. SQLite unpacks the JSON batch.
    """
    if dialect == "postgresql":
        listed = list(ids)
        if not listed:
            return column == any_(bindparam(None, listed, type_=ARRAY(BigInteger)))
        low, high = min(listed), max(listed)
        if high - low + 1 == len(set(listed)):
            # Every id of the range, as rows created by one statement have: the range alone
            # says it, without an array to send and to estimate id by id when planning.
            return column.between(low, high)
        among = column == any_(bindparam(None, listed, type_=ARRAY(BigInteger)))
        return and_(among, column.between(low, high))
    return column.in_(select(id_rows(dialect, "scope_ids", ids).c.id))
