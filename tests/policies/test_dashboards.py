"""Grafana dashboards: loadable JSON, one data source variable, panels that fit and query."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.policies.policy_files import DASHBOARDS_DIR

DASHBOARDS = sorted(DASHBOARDS_DIR.glob("*.json"))
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
# What each dashboard is for, as the metrics it must chart.
PURPOSE = {
    "campus-app.json": {"campus_http_requests_total", "campus_http_request_duration_seconds"},
    "campus-propagation.json": {"campus_propagation_runs_total", "campus_propagation_errors"},
    "campus-surge.json": {"campus_http_requests_in_flight", "campus_http_requests_shed_total"},
    "campus-backups.json": {"campus_backup_last_success", "campus_archive_last_run_success"},
}


def test_the_four_dashboards_exist_with_unique_uids() -> None:
    assert {path.name for path in DASHBOARDS} == set(PURPOSE)
    uids = [json.loads(path.read_text())["uid"] for path in DASHBOARDS]
    assert len(set(uids)) == len(uids)


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_dashboard_is_well_formed(path: Path) -> None:
    dashboard = json.loads(path.read_text())
    assert dashboard["title"] and dashboard["schemaVersion"] >= 36
    variables = dashboard["templating"]["list"]
    assert variables[0]["type"] == "datasource" and variables[0]["name"] == "datasource"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(set(ids)) == len(ids)
    cells: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        assert panel["datasource"] == DATASOURCE, panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        area = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not area & cells, f"{panel['title']} overlaps another panel"
        cells |= area
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert ref_ids and len(set(ref_ids)) == len(ref_ids), panel["title"]
        assert all(target["expr"].strip() for target in panel["targets"]), panel["title"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_dashboard_charts_what_it_is_for(path: Path) -> None:
    text = " ".join(
        target["expr"]
        for panel in json.loads(path.read_text())["panels"]
        for target in panel["targets"]
    )
    for metric in PURPOSE[path.name]:
        assert metric in text, f"{path.name} does not chart {metric}"


def _promql_of_panels() -> list[str]:
    # Grafana's variables become what Grafana would send: a range and match-all regexes.
    expressions = []
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel["targets"]:
                expr = target["expr"].replace("$__rate_interval", "5m")
                expressions.append(expr.replace("$route", ".*").replace("$trigger", ".*"))
    return expressions


def test_every_panel_query_is_valid_promql_for_promtool(promtool: str, tmp_path: Path) -> None:
    expressions = _promql_of_panels()
    assert not any("$" in expr for expr in expressions), "an unknown Grafana variable"
    rules = {
        "groups": [
            {
                "name": "dashboard-queries",
                "rules": [
                    {"record": f"dashboard:query:{index}", "expr": expr}
                    for index, expr in enumerate(expressions)
                ],
            }
        ]
    }
    rule_file = tmp_path / "dashboards.yml"
    rule_file.write_text(yaml.safe_dump(rules))
    result = subprocess.run(
        [promtool, "check", "rules", str(rule_file)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
