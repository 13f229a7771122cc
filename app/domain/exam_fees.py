"""The exam registration fee, in integer cents.

fee = fixed(modality) + per_hour(modality) * supervised hours of the exams sat this period.
Exams deferred to the resit period are charged there, not here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class FeeSchedule:
    """A modality's prices, in cents."""

    fixed_fee_cents: int
    fee_per_hour_cents: int


def registration_fee(schedule: FeeSchedule, sat_hours: Iterable[int]) -> int:
    """The fee in cents for sitting exams of `sat_hours` supervised hours each."""
    hours = sum(sat_hours)
    if hours < 0 or schedule.fixed_fee_cents < 0 or schedule.fee_per_hour_cents < 0:
        raise ValueError("fees and hours are never negative")
    return schedule.fixed_fee_cents + schedule.fee_per_hour_cents * hours
