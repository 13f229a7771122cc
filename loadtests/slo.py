"""SLO gates: each scenario declares its objectives, the run exits non-zero when one is missed.

Objectives are per request kind (the Locust request name): p95 and p99 latency of the answers
the app served. For the whole run: the error ratio (failed calls over calls, shed ones apart),
no 5xx other than a 503 with Retry-After, and optionally a ceiling on the share of calls shed.
Evaluated once, at the end, where the stats are complete (the master, or the only process):
hooks.py wires it into Locust; this module does not import Locust.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SHED_SUFFIX = " [shed]"
RETRIED_SUFFIX = " [retried]"
UNEXPECTED_5XX = "5xx "


@dataclass(frozen=True)
class Latency:
    """Latency objective of one request kind, in milliseconds."""

    p95_ms: float
    p99_ms: float


@dataclass(frozen=True)
class Objectives:
    """What one scenario promises."""

    scenario: str
    latency: dict[str, Latency]
    max_error_ratio: float = 0.001
    max_shed_ratio: float = 1.0
    # Attempts lost with their connection and retried (keep-alive races, restarts).
    max_retried_ratio: float = 1.0
    max_unexpected_5xx: int = 0
    notes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    gate: str
    objective: str
    measured: str
    met: bool
    timing: bool = False


_declared: list[Objectives] = []


def declare(objectives: Objectives) -> Objectives:
    """Register the scenario's objectives (a locustfile declares one set)."""
    _declared.append(objectives)
    return objectives


def declared() -> list[Objectives]:
    """The objectives declared in this process."""
    return list(_declared)


def binding(verdicts: list[Verdict], mode: str) -> list[Verdict]:
    """The verdicts that decide the exit code: all (enforce), the ones that are not timings
    (functional: CI smokes on a shared machine), none (report)."""
    if mode == "enforce":
        return verdicts
    if mode == "functional":
        return [v for v in verdicts if not v.timing]
    return []


def evaluate(objectives: Objectives, stats: Any) -> list[Verdict]:
    """Every gate of `objectives` against Locust's aggregated `stats`."""
    verdicts: list[Verdict] = []
    served = [
        e for e in stats.entries.values() if not e.name.endswith((SHED_SUFFIX, RETRIED_SUFFIX))
    ]
    retried = sum(e.num_requests for e in stats.entries.values() if e.name.endswith(RETRIED_SUFFIX))
    shed = sum(e.num_requests for e in stats.entries.values() if e.name.endswith(SHED_SUFFIX))
    calls = sum(e.num_requests for e in served)
    failures = sum(e.num_failures for e in served)
    ratio = failures / calls if calls else 1.0
    verdicts.append(
        Verdict(
            "error ratio",
            f"<= {objectives.max_error_ratio:.3%}",
            f"{ratio:.3%} ({failures}/{calls})",
            calls > 0 and ratio <= objectives.max_error_ratio,
        )
    )
    shed_ratio = shed / (calls + shed) if calls + shed else 0.0
    verdicts.append(
        Verdict(
            "shed (503/429 + Retry-After)",
            f"<= {objectives.max_shed_ratio:.0%}",
            f"{shed_ratio:.2%} ({shed})",
            shed_ratio <= objectives.max_shed_ratio,
        )
    )
    verdicts.append(
        Verdict(
            "retried after a lost connection",
            f"<= {objectives.max_retried_ratio:.0%}",
            f"{retried / (calls + retried) if calls + retried else 0:.2%} ({retried})",
            retried <= objectives.max_retried_ratio * (calls + retried),
        )
    )
    bad_5xx = sum(
        err.occurrences for err in stats.errors.values() if UNEXPECTED_5XX in str(err.error)
    )
    verdicts.append(
        Verdict(
            "5xx other than 503 + Retry-After",
            f"<= {objectives.max_unexpected_5xx}",
            str(bad_5xx),
            bad_5xx <= objectives.max_unexpected_5xx,
        )
    )
    for kind, target in objectives.latency.items():
        entries = [e for e in served if e.name == kind]
        count = sum(e.num_requests - e.num_failures for e in entries)
        if count == 0:
            verdicts.append(Verdict(f"{kind} p95/p99", "some answers", "none served", False))
            continue
        p95 = max(e.get_response_time_percentile(0.95) for e in entries)
        p99 = max(e.get_response_time_percentile(0.99) for e in entries)
        verdicts.append(
            Verdict(
                f"{kind} p95/p99 (n={count})",
                f"<= {target.p95_ms:.0f}/{target.p99_ms:.0f} ms",
                f"{p95:.0f}/{p99:.0f} ms",
                p95 <= target.p95_ms and p99 <= target.p99_ms,
                timing=True,
            )
        )
    return verdicts


def report(
    objectives: Objectives, verdicts: list[Verdict], stats: Any, mode: str = "enforce"
) -> str:
    """The gates as a table, with the throughput that went with them."""
    total = stats.total
    lines = [
        f"\nSLO gates of {objectives.scenario}: {total.num_requests} calls, "
        f"{total.total_rps:.1f} req/s, goodput {total.total_rps - total.total_fail_per_sec:.1f}"
        " req/s",
        f"  {'gate':<52} {'objective':<22} {'measured':<24} verdict",
    ]
    for v in verdicts:
        verdict = "met" if v.met else "MISSED"
        if not v.met and v not in binding(verdicts, mode):
            verdict = "missed (not enforced)"
        lines.append(f"  {v.gate:<52} {v.objective:<22} {v.measured:<24} {verdict}")
    missed = sum(not v.met for v in verdicts)
    lines.append(f"SLO: {missed} gate(s) missed" if missed else "SLO: every gate met")
    return "\n".join(lines)
