"""Alert rules: valid for promtool, unit-tested by promtool, annotated for on-call."""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.policies.policy_files import (
    POLICIES,
    REPO,
    RUNBOOK_URL_PREFIX,
    RUNBOOKS_DIR,
    alerts,
    all_rules,
    load_yaml,
    promtool_test_files,
    rule_files,
)

SEVERITIES = {"critical", "warning"}
FALCO_PRIORITY_NUMBERS = {
    "EMERGENCY": "0",
    "ALERT": "1",
    "CRITICAL": "2",
    "ERROR": "3",
    "WARNING": "4",
    "NOTICE": "5",
    "INFORMATIONAL": "6",
    "INFO": "6",
    "DEBUG": "7",
}


def test_rule_files_and_promtool_tests_exist() -> None:
    assert len(rule_files()) >= 5
    assert len(promtool_test_files()) >= len(rule_files())


def test_promtool_check_rules_accepts_every_rule_file(promtool: str) -> None:
    result = subprocess.run(
        [promtool, "check", "rules", *map(str, rule_files())],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("test_file", promtool_test_files(), ids=lambda path: path.name)
def test_promtool_unit_tests_pass(promtool: str, test_file: Path) -> None:
    result = subprocess.run(
        [promtool, "test", "rules", test_file.name],
        cwd=test_file.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _alert_cases() -> dict[str, Counter]:
    cases: dict[str, Counter] = {}
    for path in promtool_test_files():
        for test in load_yaml(path)["tests"]:
            for case in test.get("alert_rule_test", []):
                kind = "fires" if case.get("exp_alerts") else "quiet"
                cases.setdefault(case["alertname"], Counter())[kind] += 1
    return cases


def test_every_alert_has_a_case_where_it_fires_and_one_where_it_must_not() -> None:
    cases = _alert_cases()
    for alert in alerts():
        name = alert["alert"]
        assert cases.get(name, Counter())["fires"] >= 1, f"{name}: no promtool case where it fires"
        assert cases.get(name, Counter())["quiet"] >= 1, f"{name}: no case where it must not fire"
    unknown = set(cases) - {alert["alert"] for alert in alerts()}
    assert not unknown, f"promtool tests name alerts that do not exist: {sorted(unknown)}"


def test_every_rule_file_is_loaded_by_a_promtool_test() -> None:
    loaded = set()
    for path in promtool_test_files():
        for rule_file in load_yaml(path)["rule_files"]:
            target = (path.parent / rule_file).resolve()
            assert target.is_file(), f"{path.name}: {rule_file} does not exist"
            loaded.add(target)
    assert {path.resolve() for path in rule_files()} <= loaded


def test_alert_and_record_names_are_unique() -> None:
    names = [rule.get("alert") or rule.get("record") for rule in all_rules()]
    duplicates = [name for name, count in Counter(names).items() if count > 1]
    assert not duplicates


@pytest.mark.parametrize("alert", alerts(), ids=lambda rule: rule["alert"])
def test_every_alert_has_severity_summary_and_runbook_url(alert: dict) -> None:
    name = alert["alert"]
    assert re.fullmatch(r"Campus[A-Z][A-Za-z0-9]+", name)
    assert alert["labels"]["severity"] in SEVERITIES
    annotations = alert["annotations"]
    assert annotations["summary"].strip() and annotations["description"].strip()
    assert annotations["runbook_url"] == f"{RUNBOOK_URL_PREFIX}docs/runbooks/{name}.md"


@pytest.mark.parametrize("alert", alerts(), ids=lambda rule: rule["alert"])
def test_every_runbook_url_resolves_to_a_file_in_the_repository(alert: dict) -> None:
    url = alert["annotations"]["runbook_url"]
    assert url.startswith(RUNBOOK_URL_PREFIX)
    path = REPO / url.removeprefix(RUNBOOK_URL_PREFIX)
    assert path.is_file(), f"{alert['alert']}: {path.relative_to(REPO)} does not exist"


def test_every_alert_runbook_belongs_to_an_alert() -> None:
    names = {alert["alert"] for alert in alerts()}
    orphans = [path.name for path in RUNBOOKS_DIR.glob("Campus*.md") if path.stem not in names]
    assert not orphans, f"runbooks for alerts that no longer exist: {orphans}"


def test_falco_rules_named_in_alert_tests_exist_with_their_priority() -> None:
    falco = load_yaml(POLICIES / "falco" / "campus_rules.yaml")
    priorities = {
        item["rule"]: FALCO_PRIORITY_NUMBERS[item["priority"].upper()]
        for item in falco
        if "rule" in item
    }
    seen = 0
    for test in load_yaml(POLICIES / "prometheus" / "tests" / "campus-security.test.yml")["tests"]:
        for series in test["input_series"]:
            match = re.search(r'rule_name="([^"]+)",priority="(\d)"', series["series"])
            if match:
                seen += 1
                assert priorities.get(match.group(1)) == match.group(2), match.group(0)
    assert seen >= 3


def test_yaml_of_rules_and_tests_parses_without_duplicate_keys() -> None:
    class StrictLoader(yaml.SafeLoader):
        pass

    def no_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict:
        keys = [loader.construct_object(key) for key, _ in node.value]
        duplicated = [key for key, count in Counter(keys).items() if count > 1]
        assert not duplicated, f"duplicate keys {duplicated} at line {node.start_mark.line + 1}"
        return loader.construct_mapping(node)

    StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, no_duplicates)
    for path in [*rule_files(), *promtool_test_files()]:
        yaml.load(path.read_text(), Loader=StrictLoader)  # noqa: S506 - SafeLoader subclass
