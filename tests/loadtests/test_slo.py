"""SLO gates over Locust's own aggregated statistics."""

from __future__ import annotations

import importlib
import os

import pytest

from loadtests import slo


@pytest.fixture(scope="module")
def request_stats():
    """Locust's RequestStats class, imported without gevent's monkey patching of this process."""
    before = os.environ.get("LOCUST_SKIP_MONKEY_PATCH")
    os.environ["LOCUST_SKIP_MONKEY_PATCH"] = "1"
    try:
        return importlib.import_module("locust.stats").RequestStats
    finally:
        if before is None:
            del os.environ["LOCUST_SKIP_MONKEY_PATCH"]


OBJECTIVES = slo.Objectives(
    scenario="test",
    max_error_ratio=0.01,
    latency={"POST /x": slo.Latency(100, 200), "GET /y": slo.Latency(50, 80)},
)


def stats_with(
    request_stats, post_ms, get_ms, failures=0, shed=0, error="409: conflict", retried=0
):
    stats = request_stats()
    for ms in post_ms:
        stats.log_request("POST", "POST /x", ms, 10)
    for ms in get_ms:
        stats.log_request("GET", "GET /y", ms, 10)
    for _ in range(failures):
        stats.log_request("POST", "POST /x", 5, 0)
        stats.log_error("POST", "POST /x", error)
    for _ in range(shed):
        stats.log_request("POST", "POST /x [shed]", 1, 0)
        stats.log_error("POST", "POST /x [shed]", "shed 503 Retry-After")
    for _ in range(retried):
        stats.log_request("POST", "POST /x [retried]", 1, 0)
        stats.log_error("POST", "POST /x [retried]", "connection: connection closed.")
    return stats


def by_gate(verdicts):
    return {v.gate.split(" (n=")[0]: v for v in verdicts}


def test_every_gate_met(request_stats):
    verdicts = slo.evaluate(OBJECTIVES, stats_with(request_stats, [20] * 200, [10] * 200))
    assert all(v.met for v in verdicts), verdicts


def test_a_slow_tail_misses_the_p99_gate_only(request_stats):
    stats = stats_with(request_stats, [20] * 97 + [900] * 3, [10] * 100)
    gates = by_gate(slo.evaluate(OBJECTIVES, stats))
    assert not gates["POST /x p95/p99"].met and gates["POST /x p95/p99"].timing
    assert gates["GET /y p95/p99"].met and gates["error ratio"].met


def test_errors_over_the_ratio_miss_and_shed_calls_do_not_count_as_errors(request_stats):
    gates = by_gate(slo.evaluate(OBJECTIVES, stats_with(request_stats, [20] * 98, [10], 3)))
    assert not gates["error ratio"].met
    gates = by_gate(slo.evaluate(OBJECTIVES, stats_with(request_stats, [20] * 98, [10], shed=50)))
    assert gates["error ratio"].met and "50" in gates["shed (503/429 + Retry-After)"].measured


def test_attempts_retried_after_a_lost_connection_are_reported_apart(request_stats):
    stats = stats_with(request_stats, [20] * 98, [10], retried=7)
    gates = by_gate(slo.evaluate(OBJECTIVES, stats))
    assert gates["error ratio"].met
    assert "(7)" in gates["retried after a lost connection"].measured
    strict = slo.Objectives("strict", OBJECTIVES.latency, max_retried_ratio=0.01)
    assert not by_gate(slo.evaluate(strict, stats))["retried after a lost connection"].met


def test_a_5xx_without_retry_after_misses_its_gate(request_stats):
    stats = stats_with(request_stats, [20] * 1000, [10], 1, error="5xx 500 without Retry-After")
    gates = by_gate(slo.evaluate(OBJECTIVES, stats))
    assert not gates["5xx other than 503 + Retry-After"].met


def test_a_request_kind_never_served_misses(request_stats):
    gates = by_gate(slo.evaluate(OBJECTIVES, stats_with(request_stats, [20] * 10, [])))
    assert not gates["GET /y p95/p99"].met and not gates["GET /y p95/p99"].timing


def test_functional_mode_binds_everything_but_timings(request_stats):
    stats = stats_with(request_stats, [20] * 97 + [900] * 3, [10] * 100)
    verdicts = slo.evaluate(OBJECTIVES, stats)
    assert all(v.met for v in slo.binding(verdicts, "functional"))
    assert not all(v.met for v in slo.binding(verdicts, "enforce"))
    assert slo.binding(verdicts, "report") == []
    assert "missed (not enforced)" in slo.report(OBJECTIVES, verdicts, stats, "functional")
