"""Entry point of the load generator in infra/ (master and workers run `-f locustfile.py`):
the scenario named by LOADTEST_SCENARIO (rentree_wave by default).

Locust takes the User and LoadTestShape classes it finds in this module, so only the chosen
scenario's classes are brought in: its shape (furlough_surge) drives the run, and the other
scenarios' users never start.
"""

from __future__ import annotations

import importlib
import os

from locust import LoadTestShape, User

SCENARIOS = ("rentree_wave", "furlough_surge", "exam_rush")
SCENARIO = os.environ.get("LOADTEST_SCENARIO") or "rentree_wave"
if SCENARIO not in SCENARIOS:
    raise SystemExit(f"LOADTEST_SCENARIO must be one of {', '.join(SCENARIOS)}, got {SCENARIO!r}")

_module = importlib.import_module(SCENARIO)
globals().update(
    {
        name: value
        for name, value in vars(_module).items()
        if isinstance(value, type)
        and issubclass(value, (User, LoadTestShape))
        and value.__module__ == SCENARIO
    }
)
