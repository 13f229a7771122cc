"""Calls the document tests share."""

from __future__ import annotations

import falcon.testing


def notice_of(school, registration_id: int, headers: dict[str, str] | None = None) -> bytes:
    answer = school.client.simulate_get(
        f"/api/v1/exam-registrations/{registration_id}/notice.pdf",
        headers=headers or school.staff,
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    return answer.content


def verify_token(client: falcon.testing.TestClient, token: str):
    """The public verification: no Authorization header."""
    return client.simulate_get("/api/v1/exam-notices/verify", params={"token": token})
