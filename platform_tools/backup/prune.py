"""`backup prune`: grandfather-father-son retention that never deletes the newest verified
backup. The plan is a pure function of the backups' start times, so it is tested on
fabricated dates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Policy:
    """How many of the newest days, ISO weeks and months keep their newest backup."""

    daily: int
    weekly: int
    monthly: int


@dataclass(frozen=True)
class Candidate:
    """A complete backup as the policy sees it."""

    id: str
    started_at: dt.datetime
    verified: bool


@dataclass
class PrunePlan:
    """Which backups stay (and why) and which go."""

    keep: dict[str, list[str]] = field(default_factory=dict)
    delete: list[str] = field(default_factory=list)


def _keep_newest_per_period(
    newest_first: Sequence[Candidate],
    periods: int,
    period_of: Callable[[dt.datetime], Hashable],
    label: Callable[[dt.datetime], str],
    plan: PrunePlan,
) -> None:
    seen: set[Hashable] = set()
    for candidate in newest_first:
        if len(seen) >= periods:
            return
        period = period_of(candidate.started_at)
        if period in seen:
            continue
        seen.add(period)
        plan.keep.setdefault(candidate.id, []).append(label(candidate.started_at))


def plan_prune(candidates: Sequence[Candidate], policy: Policy) -> PrunePlan:
    """Keep the newest backup of each of the `daily` newest days, `weekly` newest ISO weeks
    and `monthly` newest months that have backups (UTC), and always the newest verified one;
    every other complete backup is to be deleted. Newest first in both lists."""
    newest_first = sorted(candidates, key=lambda c: (c.started_at, c.id), reverse=True)
    plan = PrunePlan()

    def day(moment: dt.datetime) -> dt.date:
        return moment.astimezone(dt.UTC).date()

    def week(moment: dt.datetime) -> tuple[int, int]:
        iso = moment.astimezone(dt.UTC).isocalendar()
        return (iso.year, iso.week)

    def month(moment: dt.datetime) -> tuple[int, int]:
        moment = moment.astimezone(dt.UTC)
        return (moment.year, moment.month)

    _keep_newest_per_period(newest_first, policy.daily, day, lambda m: f"daily {day(m)}", plan)
    _keep_newest_per_period(
        newest_first, policy.weekly, week, lambda m: "weekly {}-W{:02d}".format(*week(m)), plan
    )
    _keep_newest_per_period(
        newest_first, policy.monthly, month, lambda m: "monthly {}-{:02d}".format(*month(m)), plan
    )
    newest_verified = next((c for c in newest_first if c.verified), None)
    if newest_verified is not None:
        plan.keep.setdefault(newest_verified.id, []).append("newest verified backup")
    plan.delete = [c.id for c in newest_first if c.id not in plan.keep]
    plan.keep = {c.id: plan.keep[c.id] for c in newest_first if c.id in plan.keep}
    return plan
