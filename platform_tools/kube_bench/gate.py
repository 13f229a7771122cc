"""The gate's decision: which failures block, which are excused, what is only reported."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from platform_tools.kube_bench.allowlist import AllowEntry, Allowlist
from platform_tools.kube_bench.results import BenchResults, CheckResult


@dataclass(frozen=True)
class Excused:
    """A failure and the allow-list entry that excuses it."""

    check: CheckResult
    entry: AllowEntry


@dataclass(frozen=True)
class GateDecision:
    """What the gate found in one results file."""

    counts: dict[str, int]
    blocking: tuple[CheckResult, ...]
    expired: tuple[Excused, ...]
    excused: tuple[Excused, ...]
    unscored_failures: tuple[CheckResult, ...]
    warnings: tuple[CheckResult, ...]
    unused_entries: tuple[AllowEntry, ...]
    declared_totals: dict[str, int] | None

    @property
    def passed(self) -> bool:
        """The gate passes when no scored failure is left unexcused."""
        return not self.blocking

    @property
    def totals_disagree(self) -> bool:
        """kube-bench printed totals that do not match its own results."""
        return self.declared_totals is not None and self.declared_totals != self.counts


def evaluate(results: BenchResults, allowlist: Allowlist, today: dt.date) -> GateDecision:
    """Decide on `results`: a scored FAIL blocks unless an entry valid `today` excuses it.

    An expired entry no longer excuses its failure (it blocks, and is reported as expired);
    unscored failures and WARN results are reported, never blocking.
    """
    blocking: list[CheckResult] = []
    expired: list[Excused] = []
    excused: list[Excused] = []
    unscored: list[CheckResult] = []
    warnings: list[CheckResult] = []
    used: set[str] = set()
    for check in results.checks:
        if check.status == "WARN":
            warnings.append(check)
        if check.status != "FAIL":
            continue
        if not check.scored:
            unscored.append(check)
            if allowlist.entry_for(check.id) is not None:
                used.add(check.id)
            continue
        entry = allowlist.entry_for(check.id)
        if entry is None:
            blocking.append(check)
            continue
        used.add(entry.id)
        if entry.valid_on(today):
            excused.append(Excused(check, entry))
        else:
            blocking.append(check)
            expired.append(Excused(check, entry))
    unused = tuple(entry for key, entry in allowlist.entries.items() if key not in used)
    return GateDecision(
        counts=results.counts(),
        blocking=tuple(blocking),
        expired=tuple(expired),
        excused=tuple(excused),
        unscored_failures=tuple(unscored),
        warnings=tuple(warnings),
        unused_entries=unused,
        declared_totals=results.declared_totals,
    )
