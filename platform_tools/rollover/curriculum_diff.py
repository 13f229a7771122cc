"""What a new curriculum changes against the one it replaces: added, removed, renamed codes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from platform_tools.rollover.curriculum_file import CurriculumInputError


@dataclass(frozen=True)
class Entry:
    """A code of a curriculum: a step or a teaching element, with its label."""

    kind: str  # "step" or "element"
    label: str


@dataclass
class CurriculumDiff:
    """Codes of the new curriculum against the previous one; renames come from the map."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    relabelled: list[tuple[str, str, str]] = field(default_factory=list)
    unchanged: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (`--json`)."""
        return {
            "added": self.added,
            "removed": self.removed,
            "renamed": [{"old": old, "new": new} for old, new in self.renamed],
            "relabelled": [
                {"code": code, "old_label": old, "new_label": new}
                for code, old, new in self.relabelled
            ],
            "unchanged": self.unchanged,
        }


def document_codes(body: Mapping[str, Any]) -> dict[str, Entry]:
    """Every step and element code of a curriculum document (the API's JSON)."""
    codes: dict[str, Entry] = {}
    for step_in in body["steps"]:
        codes[step_in["code"]] = Entry("step", step_in["label"])
        for item in _elements(step_in.get("elements", [])):
            codes[item["code"]] = Entry("element", item["label"])
    return codes


def _elements(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    stack = list(items)
    while stack:
        item = stack.pop()
        yield item
        stack.extend(item.get("children", []))


def diff_codes(
    old: Mapping[str, Entry], new: Mapping[str, Entry], renames: Mapping[str, str]
) -> CurriculumDiff:
    """Compare two code sets; a rename must join an old code to a new one of the same kind."""
    problems = []
    for old_code, new_code in renames.items():
        if old_code not in old:
            problems.append(f"{old_code} is not a code of the previous curriculum")
        elif new_code not in new:
            problems.append(f"{new_code} (new name of {old_code}) is not in the new curriculum")
        elif old[old_code].kind != new[new_code].kind:
            problems.append(
                f"{old_code} ({old[old_code].kind}) and {new_code} ({new[new_code].kind}) "
                "are not the same kind of code"
            )
        elif old_code in new and old_code != new_code:
            problems.append(f"{old_code} is renamed but the new curriculum still has it")
    if problems:
        raise CurriculumInputError("--map: " + "; ".join(problems[:10]))
    targets = set(renames.values())
    diff = CurriculumDiff()
    for code in sorted(new):
        if code in old:
            if old[code].label != new[code].label:
                diff.relabelled.append((code, old[code].label, new[code].label))
            else:
                diff.unchanged += 1
        elif code not in targets:
            diff.added.append(code)
    for code in sorted(old):
        if code in renames:
            if renames[code] != code:
                diff.renamed.append((code, renames[code]))
        elif code not in new:
            diff.removed.append(code)
    return diff
