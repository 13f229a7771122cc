"""Grafana dashboards: loadable JSON, one data source variable, panels that fit and query."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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
