"""Comparing stacks: what differs per component, and which versions skipped a stage."""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field
from typing import Any

from platform_tools.drift.model import StackState, promotion_rank


@dataclass(frozen=True)
class KeyDrift:
    """A configuration key whose value differs; None where a stack lacks the key."""

    key: str
    values: dict[str, str | None]


@dataclass
class ComponentDrift:
    """How one component differs between the stacks (only what differs is filled)."""

    name: str
    lacking: list[str] = field(default_factory=list)
    images: dict[str, list[str]] = field(default_factory=dict)
    charts: dict[str, str | None] = field(default_factory=dict)
    config: list[KeyDrift] = field(default_factory=list)


@dataclass(frozen=True)
class SkippedVersion:
    """`version` of `component` runs in `stack` though no stack of the stage before ran it."""

    stack: str
    component: str
    version: str
    previous: list[str]


@dataclass
class DriftReport:
    """Every difference between `stacks`, and the versions that skipped testing."""

    stacks: list[str]
    components: list[ComponentDrift]
    skipped: list[SkippedVersion]

    def as_dict(self) -> dict[str, Any]:
        """The report as one JSON-ready document."""
        return asdict(self)


def compare(states: list[StackState]) -> DriftReport:
    """What differs between the stacks' components, in the stacks' order."""
    stacks = [s.stack for s in states]
    names = sorted({name for s in states for name in s.components})
    drifts = []
    for name in names:
        here = {s.stack: s.components.get(name) for s in states}
        drift = ComponentDrift(name, lacking=[stack for stack, c in here.items() if c is None])
        present = {stack: c for stack, c in here.items() if c is not None}
        images = {stack: sorted(c.images) for stack, c in present.items()}
        if len({tuple(v) for v in images.values()}) > 1:
            drift.images = images
        charts = {stack: c.chart for stack, c in present.items()}
        if len(set(charts.values())) > 1:
            drift.charts = charts
        keys = sorted({key for c in present.values() for key in c.config})
        for key in keys:
            values = {stack: c.config.get(key) for stack, c in present.items()}
            if len(set(values.values())) > 1:
                drift.config.append(KeyDrift(key, values))
        if drift.lacking or drift.images or drift.charts or drift.config:
            drifts.append(drift)
    return DriftReport(stacks, drifts, skipped_versions(states))


def skipped_versions(states: list[StackState]) -> list[SkippedVersion]:
    """Versions a stack runs that no stack of the previous stage (among those compared) runs:
    they reached it without being tested on the way (dev → staging → prod)."""
    by_rank: dict[int, list[StackState]] = {}
    for state in states:
        by_rank.setdefault(promotion_rank(state.stack), []).append(state)
    ranks = sorted(by_rank)
    skipped = []
    for lower, upper in itertools.pairwise(ranks):
        previous = by_rank[lower]
        for state in by_rank[upper]:
            for name, component in sorted(state.components.items()):
                ran = set().union(
                    *(p.components[name].versions() for p in previous if name in p.components)
                )
                for version in sorted(component.versions() - ran):
                    skipped.append(
                        SkippedVersion(state.stack, name, version, [p.stack for p in previous])
                    )
    return skipped
