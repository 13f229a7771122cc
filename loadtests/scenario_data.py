"""The data a scenario runs on (ids and tokens made by prepare.py), read once per process."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from locust import events
from locust.runners import WorkerRunner


class ScenarioDataError(RuntimeError):
    """The prepared data is missing or does not fit the scenario."""


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    parser.add_argument(
        "--scenario-data",
        env_var="LOADTEST_DATA",
        default="",
        help="JSON file written by `python -m loadtests.prepare` (ids and tokens)",
    )


@cache
def _read(path: str) -> dict[str, Any]:
    if not path:
        raise ScenarioDataError(
            "no scenario data: run `python -m loadtests.prepare` and pass --scenario-data "
            "(or LOADTEST_DATA)"
        )
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ScenarioDataError(f"--scenario-data {path}: {exc}") from None
    if not isinstance(data, dict) or "scenario" not in data:
        raise ScenarioDataError(f"--scenario-data {path}: not a file written by prepare.py")
    return data


def load(environment: Any, scenario: str) -> dict[str, Any]:
    """The prepared data of `scenario`, refused with a message naming the file otherwise."""
    data = _read(environment.parsed_options.scenario_data)
    if data["scenario"] != scenario:
        raise ScenarioDataError(
            f"--scenario-data was prepared for {data['scenario']}, not {scenario}"
        )
    return data


def share(environment: Any, items: list[Any]) -> list[Any]:
    """This process's share of `items`: workers take disjoint slices (no two register the
    same student), a single process takes everything."""
    runner = environment.runner
    if not isinstance(runner, WorkerRunner):
        return list(items)
    options = environment.parsed_options
    count = max(int(getattr(options, "expect_workers", 1) or 1), 1)
    processes = int(getattr(options, "processes", 0) or 0)
    if processes > 0:
        count = processes
    return list(items[runner.worker_index % count :: count])
