"""The Falco rules file passes the static checker, and the checker catches each mistake."""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
FALCO = REPO / "policies" / "falco"
RULES = FALCO / "campus_rules.yaml"
UPSTREAM = FALCO / "upstream_names.yaml"


def _load_checker() -> ModuleType:
    # The checker ships next to the rules as a plain script (policies/ is not a package).
    spec = importlib.util.spec_from_file_location("falco_check_rules", FALCO / "check_rules.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


checker = _load_checker()
UPSTREAM_MACROS, UPSTREAM_LISTS = checker.load_upstream_names(UPSTREAM)


def shipped() -> list[dict[str, Any]]:
    return copy.deepcopy(yaml.safe_load(RULES.read_text()))


def problems_of(document: Any) -> list[str]:
    return checker.check_rules(document, UPSTREAM_MACROS, UPSTREAM_LISTS)


def rule(document: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(item for item in document if item.get("rule") == name)


def test_shipped_rules_pass_the_checker() -> None:
    assert problems_of(shipped()) == []
    assert checker.main([str(RULES), str(UPSTREAM)]) == 0


def test_every_detection_the_platform_promises_has_a_rule() -> None:
    names = {item["rule"] for item in shipped() if "rule" in item}
    assert names == {
        "Campus shell in app or database container",
        "Campus package manager in container",
        "Campus write below etc or app code",
        "Campus app outbound connection to unexpected destination",
        "Campus unexpected program in database container",
        "Campus read of sensitive file",
        "Campus kubectl exec into database pod",
    }


def test_every_rule_runs_on_syscall_events_which_the_deployed_falco_captures() -> None:
    # The deployed Falco loads no k8saudit plugin and receives no audit events: a rule of
    # another source would never load (infra's tests check the release's values too).
    sources = {item.get("source", "syscall") for item in shipped() if "rule" in item}
    assert sources == {"syscall"}
    exec_rule = rule(shipped(), "Campus kubectl exec into database pod")
    assert "container_entrypoint" in rule_condition(exec_rule)


def rule_condition(item: dict[str, Any]) -> str:
    """The rule's condition with its campus_ macros expanded (one level)."""
    macros = {m["macro"]: m["condition"] for m in shipped() if "macro" in m}
    return " ".join(macros.get(word, word) for word in item["condition"].split())


def test_scoping_macros_name_exactly_our_namespaces() -> None:
    lists = {item["list"]: item["items"] for item in shipped() if "list" in item}
    assert lists["campus_app_namespaces"] == ["campus"]
    assert lists["campus_db_namespaces"] == ["campus-db"]


def _set(document: list[dict[str, Any]], name: str, key: str, value: Any) -> list[dict[str, Any]]:
    rule(document, name)[key] = value
    return document


SHELL = "Campus shell in app or database container"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: _set(d, SHELL, "priority", "URGENT"), "priority 'URGENT' is not one of"),
        (
            lambda d: _set(d, SHELL, "condition", "spawned_proces and campus_container"),
            "macro 'spawned_proces' is not defined",
        ),
        (
            lambda d: _set(
                d,
                SHELL,
                "condition",
                "spawned_process and campus_container and proc.name in (shel_binaries)",
            ),
            "'shel_binaries' inside in (...) is neither a known list",
        ),
        (
            lambda d: _set(d, SHELL, "condition", "spawned_process and shell_procs"),
            "not scoped by a campus_* macro",
        ),
        (
            lambda d: _set(d, SHELL, "output", "Shell (command=%proc.cmdline user=%user.name)"),
            "output lacks %k8s.pod.name",
        ),
        (lambda d: _set(d, SHELL, "tags", ["campus", "shell"]), "tags lack a MITRE tactic"),
        (
            lambda d: _set(d, SHELL, "tags", ["campus", "mitre_execution"]),
            "tags lack a MITRE technique id",
        ),
        (
            lambda d: _set(
                d,
                SHELL,
                "exceptions",
                [{"name": "x", "fields": ["proc.pname", "proc.cmdline"], "values": [["a"]]}],
            ),
            "values[0] must be a tuple of 2 values",
        ),
        (
            lambda d: _set(
                d, SHELL, "exceptions", [{"name": "x", "fields": "proc.name", "comps": "like"}]
            ),
            "comps 'like' is not a Falco comparison",
        ),
        (lambda d: [*d, copy.deepcopy(rule(d, SHELL))], f"rule {SHELL!r}: defined twice"),
        (
            lambda d: [*d, {"macro": "campus_unused", "condition": "container"}],
            "macro 'campus_unused': defined but never used",
        ),
        (
            lambda d: [*d, {"rule": "Campus incomplete", "condition": "campus_container"}],
            "rule 'Campus incomplete': missing desc, output, priority, tags",
        ),
        (
            lambda d: _set(d, SHELL, "source", "aws_cloudtrail"),
            "source 'aws_cloudtrail' is not one this checker knows",
        ),
        (lambda d: {"rules": d}, "must be a YAML list"),
    ],
)
def test_the_checker_reports_each_kind_of_mistake(mutate, expected: str) -> None:
    problems = problems_of(mutate(shipped()))
    assert any(expected in problem for problem in problems), problems


def test_an_unparsable_rules_file_exits_2(tmp_path: Path, capsys) -> None:
    broken = tmp_path / "rules.yaml"
    broken.write_text("- rule: x\n  condition: [unclosed\n")
    assert checker.main([str(broken), str(UPSTREAM)]) == 2
    assert "not valid YAML at line" in capsys.readouterr().err


def test_a_rules_file_with_problems_exits_1(tmp_path: Path, capsys) -> None:
    document = _set(shipped(), SHELL, "priority", "LOUD")
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(document))
    assert checker.main([str(path), str(UPSTREAM)]) == 1
    assert "priority 'LOUD'" in capsys.readouterr().out
