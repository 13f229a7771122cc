"""A repeated event is logged once per interval, with the count of those it stands for."""

from __future__ import annotations

from app.observability.log_throttle import LogThrottle


def test_the_first_event_is_due_then_the_rest_are_counted_until_the_interval_passes():
    now = [100.0]
    throttle = LogThrottle(60, monotonic=lambda: now[0])
    assert throttle.count() == 1
    assert [throttle.count() for _ in range(3)] == [None, None, None]
    now[0] += 59.9
    assert throttle.count() is None
    now[0] += 0.1
    assert throttle.count() == 5
    assert throttle.count() is None
