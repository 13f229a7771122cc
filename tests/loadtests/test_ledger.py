"""The zero-loss ledger against a real served app: what exists is found, what does not is lost."""

from __future__ import annotations

import pytest
import requests

from loadtests import ledger
from tests.loadtests.helpers import served_app

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_check_finds_acknowledged_writes_and_reports_missing_ones(tmp_path):
    with served_app(tmp_path) as (url, token):
        made = requests.post(
            url + "/api/v1/learners",
            json={"external_id": "LED-1", "first_name": "A", "last_name": "B",
                  "email": "led1@example.org"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )  # fmt: skip
        assert made.status_code == 201, made.text
        found = ledger.Entry("learner", f"/api/v1/learners/{made.json()['id']}")
        missing = ledger.Entry("learner", "/api/v1/learners/987654321")
        wrong_status = ledger.Entry("learner", f"/api/v1/learners/{made.json()['id']}", ("final",))
        lost = ledger.check(url, token, [found, missing, wrong_status])
    assert set(lost) == {missing, wrong_status}
    assert lost[missing] == "HTTP 404"
    assert "expected one of final" in lost[wrong_status]
