"""A failing request is logged with its request id and without the data it carried."""

from __future__ import annotations

import io
import json
import logging

import structlog
from sqlalchemy import text

from app.observability.logging import configure_logging
from app.services import learners

SECRET = "grace.hopper@example.org"


def test_an_unexpected_error_logs_the_request_id_and_no_bound_parameters(
    client, staff, monkeypatch
):
    def broken(conn, body):
        conn.execute(text("SELECT * FROM no_such_table WHERE email = :email"), body)

    monkeypatch.setattr(learners, "create_learner", broken)
    from app.http.resources import learners as resource

    monkeypatch.setattr(resource, "create_learner", broken)
    buffer = io.StringIO()
    configure_logging("INFO", stream=buffer)
    try:
        answer = client.simulate_post(
            "/api/v1/learners",
            headers={**staff, "X-Request-ID": "req-42"},
            json={"external_id": "X", "first_name": "G", "last_name": "H", "email": SECRET},
        )
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    assert answer.status_code == 500 and SECRET not in answer.text
    assert SECRET not in buffer.getvalue()
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    (error,) = [line for line in lines if line["event"] == "unhandled_error"]
    assert error["request_id"] == "req-42"
    assert "no_such_table" in error["exception"]  # the cause is still there to debug
