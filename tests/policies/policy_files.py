"""Where the policy files live, and their parsed content, for the policies tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
POLICIES = REPO / "policies"
RULES_DIR = POLICIES / "prometheus" / "rules"
PROMTOOL_TESTS_DIR = POLICIES / "prometheus" / "tests"
DASHBOARDS_DIR = POLICIES / "dashboards"
RUNBOOKS_DIR = REPO / "docs" / "runbooks"
RUNBOOK_URL_PREFIX = "https://github.com/campus-platform/campus-platform/blob/main/"


def rule_files() -> list[Path]:
    """Every Prometheus rule file shipped in policies/prometheus/rules."""
    return sorted(RULES_DIR.glob("*.yml"))


def promtool_test_files() -> list[Path]:
    """Every promtool unit-test file shipped in policies/prometheus/tests."""
    return sorted(PROMTOOL_TESTS_DIR.glob("*.yml"))


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def all_rules() -> list[dict[str, Any]]:
    """Every rule (alerting and recording) of every rule file, with its file name."""
    rules = []
    for path in rule_files():
        for group in load_yaml(path)["groups"]:
            for rule in group["rules"]:
                rules.append({**rule, "_file": path.name})
    return rules


def alerts() -> list[dict[str, Any]]:
    return [rule for rule in all_rules() if "alert" in rule]
