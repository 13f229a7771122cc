"""The exam registration's state machine: which action moves which state where.

    draft → submitted → verified → paid → final, plus rejected and cancelled.

Who may act is the route table's business (roles) and the resource's (a student acts only on
their own registration); this module only knows states, so it is the same for every caller.
"""

from __future__ import annotations

from app.domain.errors import Conflict

STATES = ("draft", "submitted", "verified", "paid", "final", "rejected", "cancelled")

# action: (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({"draft"}), "submitted"),
    "verify": (frozenset({"submitted"}), "verified"),
    "reject": (frozenset({"submitted", "verified"}), "rejected"),
    "pay": (frozenset({"verified"}), "paid"),
    "finalise": (frozenset({"paid"}), "final"),
    "cancel": (frozenset({"draft", "submitted", "verified"}), "cancelled"),
}

# States that hold seats and block a second registration for the same period.
LIVE_STATES = ("draft", "submitted", "verified", "paid", "final")


def next_state(current: str, action: str) -> str:
    """The state `action` leads to from `current`; 409 naming the current state otherwise."""
    sources, target = TRANSITIONS[action]
    if current not in sources:
        allowed = ", ".join(sorted(sources))
        raise Conflict.of(
            "status",
            f"the registration is {current}: {action} is only possible from {allowed}",
        )
    return target
