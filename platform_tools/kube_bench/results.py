"""Reading kube-bench JSON results in every shape kube-bench has printed.

Shapes seen in the wild (all carry the same per-check fields: `test_number`, `test_desc`,
`status`, `scored`, `remediation`, grouped as controls -> `tests` (groups) -> `results`):

- current `--json`: one object `{"Controls": [controls, ...], "Totals": {...}}`;
- a list of controls objects without `Totals` (single-target runs of older versions);
- a single controls object (`kube-bench node --json` of old versions);
- several JSON documents concatenated, one per target (versions before the one-document fix).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATUSES = ("PASS", "FAIL", "WARN", "INFO")
_TOTAL_KEYS = ("total_pass", "total_fail", "total_warn", "total_info")


class ResultsError(ValueError):
    """The results file cannot be read as kube-bench output; the message says where and why."""


@dataclass(frozen=True)
class CheckResult:
    """One CIS check as kube-bench reported it."""

    id: str
    description: str
    status: str
    scored: bool
    remediation: str
    section: str
    target: str


@dataclass(frozen=True)
class BenchResults:
    """Every check of a results file, plus the totals kube-bench printed (when it did)."""

    checks: tuple[CheckResult, ...]
    declared_totals: dict[str, int] | None = field(default=None)

    def counts(self) -> dict[str, int]:
        """Number of checks per status, computed from the checks themselves."""
        tally = dict.fromkeys(STATUSES, 0)
        for check in self.checks:
            tally[check.status] += 1
        return tally


def load_results(path: Path) -> BenchResults:
    """Read and validate a kube-bench results file; ResultsError on any problem."""
    try:
        # utf-8-sig: results saved by Windows tools start with a byte-order mark.
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ResultsError(f"{path}: is a directory, expected a kube-bench JSON file") from None
    except UnicodeDecodeError:
        raise ResultsError(f"{path}: not UTF-8 text, expected kube-bench JSON") from None
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return parse_results(text)
    except ResultsError as exc:
        raise ResultsError(f"{path}: {exc}") from None


def parse_results(text: str) -> BenchResults:
    """Parse kube-bench JSON text of any known shape into checks."""
    documents = _json_documents(text)
    checks: list[CheckResult] = []
    totals: dict[str, int] | None = None
    for doc_index, document in enumerate(documents):
        where = f"document {doc_index + 1}" if len(documents) > 1 else "top level"
        for controls, controls_where in _controls_of(document, where):
            checks.extend(_checks_of(controls, controls_where))
        doc_totals = _declared_totals(document, where)
        if doc_totals is not None:
            totals = _add_totals(totals, doc_totals)
    if not checks:
        raise ResultsError("no check results found (kube-bench ran no checks, or wrong file)")
    return BenchResults(checks=tuple(checks), declared_totals=totals)


def _json_documents(text: str) -> list[Any]:
    """One or more JSON documents separated by whitespace (old versions printed one per target)."""
    if not text.strip():
        raise ResultsError("empty file, expected kube-bench JSON")
    try:
        return [json.loads(text)]
    except json.JSONDecodeError as first_error:
        documents = _concatenated_documents(text)
        if documents is None:
            raise ResultsError(
                f"malformed JSON at line {first_error.lineno}, column {first_error.colno}: "
                f"{first_error.msg}"
            ) from None
        return documents


def _concatenated_documents(text: str) -> list[Any] | None:
    decoder = json.JSONDecoder()
    documents = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            return documents if len(documents) > 1 else None
        try:
            document, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            return None
        documents.append(document)


def _controls_of(document: Any, where: str) -> Iterator[tuple[dict[str, Any], str]]:
    if isinstance(document, list):
        for index, item in enumerate(document):
            yield from _controls_of(item, f"{where}[{index}]")
        return
    if not isinstance(document, dict):
        raise ResultsError(f"{where}: expected an object or a list, got {_kind(document)}")
    if "Controls" in document:
        controls_list = document["Controls"]
        if not isinstance(controls_list, list):
            raise ResultsError(f"{where}.Controls: expected a list, got {_kind(controls_list)}")
        for index, controls in enumerate(controls_list):
            if not isinstance(controls, dict):
                raise ResultsError(
                    f"{where}.Controls[{index}]: expected an object, got {_kind(controls)}"
                )
            yield controls, f"{where}.Controls[{index}]"
        return
    if "tests" in document:
        yield document, where
        return
    if _is_totals_only(document):
        return
    raise ResultsError(
        f"{where}: not kube-bench output (no 'Controls' list and no 'tests' of a controls section)"
    )


def _is_totals_only(document: dict[str, Any]) -> bool:
    keys = set(document)
    return bool(keys) and keys <= {"Totals", *_TOTAL_KEYS}


def _checks_of(controls: dict[str, Any], where: str) -> Iterator[CheckResult]:
    target = _optional_text(controls, "text", where) or _optional_text(controls, "node_type", where)
    groups = controls.get("tests")
    if groups is None:
        return
    if not isinstance(groups, list):
        raise ResultsError(f"{where}.tests: expected a list, got {_kind(groups)}")
    for group_index, group in enumerate(groups):
        group_where = f"{where}.tests[{group_index}]"
        if not isinstance(group, dict):
            raise ResultsError(f"{group_where}: expected an object, got {_kind(group)}")
        section = _optional_text(group, "section", group_where)
        results = group.get("results")
        if results is None:
            continue
        if not isinstance(results, list):
            raise ResultsError(f"{group_where}.results: expected a list, got {_kind(results)}")
        for result_index, result in enumerate(results):
            yield _check(result, f"{group_where}.results[{result_index}]", section, target)


def _check(result: Any, where: str, section: str, target: str) -> CheckResult:
    if not isinstance(result, dict):
        raise ResultsError(f"{where}: expected an object, got {_kind(result)}")
    raw_id = result.get("test_number")
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int | float) or str(raw_id) == "":
        raise ResultsError(f"{where}.test_number: missing or not a check number")
    raw_status = result.get("status")
    status = raw_status.strip().upper() if isinstance(raw_status, str) else None
    if status not in STATUSES:
        raise ResultsError(
            f"{where}.status (check {raw_id}): expected one of {', '.join(STATUSES)}, "
            f"got {raw_status!r}"
        )
    scored = result.get("scored", True)
    if not isinstance(scored, bool):
        raise ResultsError(f"{where}.scored (check {raw_id}): expected true or false")
    return CheckResult(
        id=str(raw_id),
        description=_optional_text(result, "test_desc", where),
        status=status,
        # A check without the field is treated as scored: an unknown must not unblock.
        scored=scored,
        remediation=_optional_text(result, "remediation", where),
        section=section,
        target=target,
    )


def _declared_totals(document: Any, where: str) -> dict[str, int] | None:
    if not isinstance(document, dict) or "Totals" not in document:
        return None
    totals = document["Totals"]
    if not isinstance(totals, dict):
        raise ResultsError(f"{where}.Totals: expected an object, got {_kind(totals)}")
    parsed = {}
    for key in _TOTAL_KEYS:
        value = totals.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ResultsError(f"{where}.Totals.{key}: expected a count, got {value!r}")
        parsed[key.removeprefix("total_").upper()] = value
    return parsed


def _add_totals(left: dict[str, int] | None, right: dict[str, int]) -> dict[str, int]:
    if left is None:
        return dict(right)
    return {key: left.get(key, 0) + right.get(key, 0) for key in STATUSES}


def _optional_text(mapping: dict[str, Any], key: str, where: str) -> str:
    value = mapping.get(key)
    if value is None:
        return ""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)
    raise ResultsError(f"{where}.{key}: expected text, got {_kind(value)}")


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "a boolean"}.get(
        type(value), "null" if value is None else "a number"
    )
