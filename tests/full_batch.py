"""A full enrolment batch (the route table's largest accepted body), for the proxies' limits."""

from __future__ import annotations

import json

from app.http.schemas import MAX_BATCH


def full_batch_body(items: int = MAX_BATCH) -> bytes:
    """`items` enrolments with long ids and a few groups, choices and exemptions each: the
    size a real 10,000-learner batch reaches, or more."""
    enrolments = [
        {
            "learner_id": 900_000_000 + i,
            "step_id": 123_456_789,
            "academic_year": 2026,
            "start_date": "2026-09-01",
            "groups": [100_000_001, 100_000_002, 100_000_003],
            "choices": [200_000_001, 200_000_002, 200_000_003],
            "exemptions": [300_000_001, 300_000_002],
        }
        for i in range(items)
    ]
    return json.dumps({"enrolments": enrolments}).encode()
