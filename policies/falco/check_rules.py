"""Static checker for Falco rules files, for where Falco itself cannot run (CI, laptops).

It checks what `falco --validate` would reject and what our house style requires:
- valid YAML, a list of rule/macro/list items with their required keys and no unknown keys;
- priorities from Falco's list; unique names per kind;
- every macro and list referenced by a condition is defined in the file or named in the
  shipped list of upstream names we rely on (upstream_names.yaml);
- literals inside `in (...)`/`intersects (...)`/`pmatch (...)` are quoted, numbers or paths:
  a bare word there must be a list name, so a typo in a list name cannot pass as a literal;
- each rule is scoped by a campus_* macro that names our namespaces, has an output with the
  fields on-call needs for its source, MITRE tags, and well-formed `exceptions`;
- no local macro or list is left unused.

Usage: python policies/falco/check_rules.py [RULES.yaml [UPSTREAM_NAMES.yaml]]
Exit 0 when clean, 1 with one line per problem, 2 when a file cannot be read.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent
DEFAULT_RULES = HERE / "campus_rules.yaml"
DEFAULT_UPSTREAM = HERE / "upstream_names.yaml"

PRIORITIES = {
    "emergency",
    "alert",
    "critical",
    "error",
    "warning",
    "notice",
    "informational",
    "info",
    "debug",
}
KEYS = {
    "rule": (
        {"rule", "desc", "condition", "output", "priority", "tags"},
        {"source", "enabled", "exceptions", "warn_evttypes", "skip-if-unknown-filter"},
    ),
    "macro": ({"macro", "condition"}, set()),
    "list": ({"list", "items"}, set()),
}
HEADER_KEYS = {"required_engine_version", "required_plugin_versions"}
# Fields on-call needs in every output, by event source: pod, namespace, image, command, user.
# Audit events carry no image (the exec request does not name it), hence no image field there.
OUTPUT_FIELDS = {
    "syscall": (
        "%k8s.pod.name",
        "%k8s.ns.name",
        "%container.image.repository",
        "%proc.cmdline",
        "%user.name",
    ),
    "k8s_audit": (
        "%ka.target.name",
        "%ka.target.namespace",
        "%ka.uri.param[command]",
        "%ka.user.name",
    ),
}
NAMESPACE_FIELDS = ("k8s.ns.name", "ka.target.namespace")
SCOPE_PREFIX = "campus_"
EXCEPTION_COMPS = {
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "in",
    "intersects",
    "pmatch",
    "startswith",
    "endswith",
    "contains",
    "icontains",
    "bcontains",
    "bstartswith",
    "glob",
}
_COMPARISONS = {
    "=",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "contains",
    "icontains",
    "bcontains",
    "startswith",
    "bstartswith",
    "endswith",
    "glob",
    "iglob",
    "regex",
}
_SET_OPERATORS = {"in", "intersects", "pmatch"}
_KEYWORDS = {"and", "or", "not", "exists"}
_TOKEN = re.compile(r"\(|\)|,|[^\s(),]+")
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_BARE_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_MITRE_TACTIC = re.compile(r"^mitre_[a-z_]+$")
_MITRE_TECHNIQUE = re.compile(r"^T\d{4}(\.\d{3})?$")


@dataclass
class References:
    """Names a condition uses as macros and as lists."""

    macros: set[str] = field(default_factory=set)
    lists: set[str] = field(default_factory=set)
    bare_literals: set[str] = field(default_factory=set)


class RulesFileError(ValueError):
    """A file cannot be read or parsed at all."""


def condition_references(condition: str, known_lists: set[str]) -> References:
    """Split a Falco condition into macro references and list references.

    Bare words after a comparison operator are values; bare words inside a set operator's
    parentheses are list references when `known_lists` has them, otherwise bare literals.
    """
    refs = References()
    tokens = _TOKEN.findall(_QUOTED.sub('"_"', condition))
    index = 0
    while index < len(tokens):
        word = tokens[index]
        lowered = word.lower()
        if lowered in _SET_OPERATORS and index + 1 < len(tokens) and tokens[index + 1] == "(":
            index += 2
            while index < len(tokens) and tokens[index] != ")":
                item = tokens[index]
                if item != "," and _BARE_WORD.match(item):
                    target = refs.lists if item in known_lists else refs.bare_literals
                    target.add(item)
                index += 1
        elif lowered in _COMPARISONS:
            index += 1  # the value compared against
        elif lowered not in _KEYWORDS and _BARE_WORD.match(word):
            refs.macros.add(word)
        index += 1
    return refs


def load_upstream_names(path: Path) -> tuple[set[str], set[str]]:
    """Macros and lists we rely on from upstream rules files."""
    document = _load_yaml(path)
    if not isinstance(document, dict) or not isinstance(document.get("files"), dict):
        raise RulesFileError(f"{path}: expected a mapping with 'files'")
    macros: set[str] = set()
    lists: set[str] = set()
    for name, entry in document["files"].items():
        if not isinstance(entry, dict):
            raise RulesFileError(f"{path}: files.{name} must map 'macros' and 'lists'")
        macros |= set(entry.get("macros") or [])
        lists |= set(entry.get("lists") or [])
    return macros, lists


def check_rules(document: Any, upstream_macros: set[str], upstream_lists: set[str]) -> list[str]:
    """Every problem of a parsed rules file, one readable line each (empty when clean)."""
    if not isinstance(document, list):
        return ["the rules file must be a YAML list of rule, macro and list items"]
    problems: list[str] = []
    items: dict[str, dict[str, dict[str, Any]]] = {"rule": {}, "macro": {}, "list": {}}
    for position, item in enumerate(document):
        kind = _kind_of(item)
        if kind is None:
            problems.append(f"item {position + 1}: not a rule, macro or list")
            continue
        if kind == "header":
            continue
        name = item[kind]
        label = f"{kind} {name!r}"
        if not isinstance(name, str) or not name.strip():
            problems.append(f"item {position + 1}: {kind} name must be non-empty text")
            continue
        required, optional = KEYS[kind]
        missing = sorted(required - set(item))
        unknown = sorted(set(item) - required - optional)
        if missing:
            problems.append(f"{label}: missing {', '.join(missing)}")
        if unknown:
            problems.append(f"{label}: unknown key(s) {', '.join(unknown)}")
        if name in items[kind]:
            problems.append(f"{label}: defined twice")
        items[kind][name] = item
    local_lists = set(items["list"])
    known_lists = local_lists | upstream_lists
    known_macros = set(items["macro"]) | upstream_macros
    used: set[str] = set()
    macro_refs: dict[str, References] = {}
    for name, macro in items["macro"].items():
        refs = _refs_of(f"macro {name!r}", macro.get("condition"), known_lists, problems)
        macro_refs[name] = refs
        used |= refs.macros | refs.lists
        _check_references(f"macro {name!r}", refs, known_macros, problems)
    for name, lst in items["list"].items():
        entries = lst.get("items")
        if not isinstance(entries, list):
            problems.append(f"list {name!r}: items must be a list")
            continue
        used |= {entry for entry in entries if isinstance(entry, str) and entry in known_lists}
    for name, rule in items["rule"].items():
        label = f"rule {name!r}"
        refs = _refs_of(label, rule.get("condition"), known_lists, problems)
        used |= refs.macros | refs.lists
        _check_references(label, refs, known_macros, problems)
        _check_scope(label, refs, items["macro"], macro_refs, problems)
        _check_priority(label, rule.get("priority"), problems)
        _check_output(label, rule, problems)
        _check_tags(label, rule.get("tags"), problems)
        _check_exceptions(label, rule.get("exceptions"), problems)
    for kind in ("macro", "list"):
        for name in sorted(set(items[kind]) - used):
            problems.append(f"{kind} {name!r}: defined but never used")
    return problems


def check_file(rules_path: Path, upstream_path: Path) -> list[str]:
    """Check one rules file against the shipped upstream names; RulesFileError if unreadable."""
    upstream_macros, upstream_lists = load_upstream_names(upstream_path)
    return check_rules(_load_yaml(rules_path), upstream_macros, upstream_lists)


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesFileError(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f" at line {mark.line + 1}" if mark is not None else ""
        raise RulesFileError(f"{path}: not valid YAML{place}") from None


def _kind_of(item: Any) -> str | None:
    if not isinstance(item, dict):
        return None
    kinds = [kind for kind in ("rule", "macro", "list") if kind in item]
    if len(kinds) == 1:
        return kinds[0]
    if not kinds and set(item) and set(item) <= HEADER_KEYS:
        return "header"
    return None


def _refs_of(label: str, condition: Any, known_lists: set[str], problems: list[str]) -> References:
    if not isinstance(condition, str) or not condition.strip():
        problems.append(f"{label}: condition must be non-empty text")
        return References()
    if condition.count("(") != condition.count(")"):
        problems.append(f"{label}: unbalanced parentheses in condition")
    return condition_references(condition, known_lists)


def _check_references(
    label: str, refs: References, known_macros: set[str], problems: list[str]
) -> None:
    for macro in sorted(refs.macros - known_macros):
        problems.append(f"{label}: macro {macro!r} is not defined here nor in upstream_names.yaml")
    for word in sorted(refs.bare_literals):
        problems.append(
            f"{label}: {word!r} inside in (...) is neither a known list nor a quoted literal"
        )


def _check_scope(
    label: str,
    refs: References,
    macros: dict[str, dict[str, Any]],
    macro_refs: dict[str, References],
    problems: list[str],
) -> None:
    if not any(_scopes_namespaces(name, macros, macro_refs, set()) for name in refs.macros):
        problems.append(
            f"{label}: not scoped by a {SCOPE_PREFIX}* macro that selects our namespaces"
        )


def _scopes_namespaces(
    name: str,
    macros: dict[str, dict[str, Any]],
    macro_refs: dict[str, References],
    seen: set[str],
) -> bool:
    if not name.startswith(SCOPE_PREFIX) or name not in macros or name in seen:
        return False
    seen.add(name)
    condition = str(macros[name].get("condition", ""))
    if any(namespace_field in condition for namespace_field in NAMESPACE_FIELDS):
        return True
    return any(
        _scopes_namespaces(inner, macros, macro_refs, seen) for inner in macro_refs[name].macros
    )


def _check_priority(label: str, priority: Any, problems: list[str]) -> None:
    if not isinstance(priority, str) or priority.lower() not in PRIORITIES:
        problems.append(f"{label}: priority {priority!r} is not one of Falco's priorities")


def _check_output(label: str, rule: dict[str, Any], problems: list[str]) -> None:
    output = rule.get("output")
    source = rule.get("source", "syscall")
    if source not in OUTPUT_FIELDS:
        problems.append(f"{label}: source {source!r} is not one this checker knows")
        return
    if not isinstance(output, str):
        problems.append(f"{label}: output must be text")
        return
    for needed in OUTPUT_FIELDS[source]:
        if needed not in output:
            problems.append(f"{label}: output lacks {needed}")


def _check_tags(label: str, tags: Any, problems: list[str]) -> None:
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        problems.append(f"{label}: tags must be a list of words")
        return
    if not any(_MITRE_TACTIC.match(tag) for tag in tags):
        problems.append(f"{label}: tags lack a MITRE tactic (mitre_*)")
    if not any(_MITRE_TECHNIQUE.match(tag) for tag in tags):
        problems.append(f"{label}: tags lack a MITRE technique id (Txxxx)")


def _check_exceptions(label: str, exceptions: Any, problems: list[str]) -> None:
    if exceptions is None:
        return
    if not isinstance(exceptions, list):
        problems.append(f"{label}: exceptions must be a list")
        return
    names: set[str] = set()
    for index, exception in enumerate(exceptions):
        where = f"{label}: exceptions[{index}]"
        if not isinstance(exception, dict) or not isinstance(exception.get("name"), str):
            problems.append(f"{where}: needs a name")
            continue
        if exception["name"] in names:
            problems.append(f"{where}: name {exception['name']!r} used twice")
        names.add(exception["name"])
        unknown = sorted(set(exception) - {"name", "fields", "comps", "values"})
        if unknown:
            problems.append(f"{where}: unknown key(s) {', '.join(unknown)}")
        _check_exception_shape(where, exception, problems)


def _check_exception_shape(where: str, exception: dict[str, Any], problems: list[str]) -> None:
    fields = exception.get("fields")
    comps = exception.get("comps")
    values = exception.get("values", [])
    if not isinstance(values, list):
        problems.append(f"{where}: values must be a list")
        return
    if isinstance(fields, str):
        # One field: comps is one operator, values a flat list of values.
        if comps is not None and comps not in EXCEPTION_COMPS:
            problems.append(f"{where}: comps {comps!r} is not a Falco comparison")
        if "." not in fields:
            problems.append(f"{where}: {fields!r} is not a Falco field")
        return
    if not isinstance(fields, list) or not fields:
        problems.append(f"{where}: fields must be a field or a list of fields")
        return
    for field_name in fields:
        if not isinstance(field_name, str) or "." not in field_name:
            problems.append(f"{where}: {field_name!r} is not a Falco field")
    if comps is not None:
        if not isinstance(comps, list) or len(comps) != len(fields):
            problems.append(f"{where}: comps must list one operator per field")
        else:
            for comp in comps:
                if comp not in EXCEPTION_COMPS:
                    problems.append(f"{where}: comps {comp!r} is not a Falco comparison")
    for value_index, value in enumerate(values):
        if not isinstance(value, list) or len(value) != len(fields):
            problems.append(
                f"{where}: values[{value_index}] must be a tuple of {len(fields)} values"
            )


def main(argv: list[str]) -> int:
    """Check the given rules file (default: campus_rules.yaml); print problems."""
    rules_path = Path(argv[0]) if argv else DEFAULT_RULES
    upstream_path = Path(argv[1]) if len(argv) > 1 else DEFAULT_UPSTREAM
    try:
        problems = check_file(rules_path, upstream_path)
    except RulesFileError as exc:
        print(f"check_rules: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"{rules_path}: {problem}")
    if not problems:
        print(f"{rules_path}: OK")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
