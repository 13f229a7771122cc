"""What a change touches: a set of enrolments, or a set of activities."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
