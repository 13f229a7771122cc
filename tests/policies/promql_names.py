"""Metric names and label matchers used by PromQL expressions (rules and Grafana panels).

No PromQL parser ships in Python, so this strips what cannot be a metric name (strings,
matchers, ranges, grouping clauses, Grafana variables) and keeps the identifiers not called
as functions. It errs towards reporting too many names, never too few: an unknown name then
fails the catalogue test loudly rather than slipping through.
"""

from __future__ import annotations

import re

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_GRAFANA_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\w+")
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", re.IGNORECASE
)
_OFFSET = re.compile(r"\boffset\s+-?[\w.]+|@\s*[\w.()]+", re.IGNORECASE)
_IDENTIFIER = re.compile(r"(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(\s*\()?")
_KEYWORDS = {"and", "or", "unless", "bool", "inf", "nan", "by", "without", "on", "ignoring"}
_SELECTOR = re.compile(r"(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}")
_MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')


def metric_names(expression: str) -> set[str]:
    """Every metric (or recorded series) name an expression selects."""
    text = _GRAFANA_VARIABLE.sub("", expression)
    text = _STRING.sub('""', text)
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    text = _OFFSET.sub(" ", text)
    names = set()
    for match in _IDENTIFIER.finditer(text):
        name, called = match.group(1), match.group(2)
        if called or name.lower() in _KEYWORDS:
            continue
        names.add(name)
    return names


def selectors(expression: str) -> list[tuple[str, dict[str, tuple[str, str]]]]:
    """(metric name, {label: (operator, value)}) for each `name{...}` selector."""
    text = _GRAFANA_VARIABLE.sub("X", expression)
    found = []
    for name, body in _SELECTOR.findall(text):
        matchers = {label: (op, value) for label, op, value in _MATCHER.findall(body)}
        found.append((name, matchers))
    return found
