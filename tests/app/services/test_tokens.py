"""Tokens expire when told to, and are checked on every request."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app import clock
from app.domain.errors import InvalidInput
from app.services.tokens import create_token
from app.store.engine import write_transaction


def test_an_expiring_token_works_until_its_expiry_and_never_after(client, engine):
    with write_transaction(engine) as conn:
        token = create_token(conn, "staff", "contractor", expires_at=clock.now() + timedelta(1))
    headers = {"Authorization": f"Bearer {token}"}
    assert client.simulate_get("/api/v1/learners/1", headers=headers).status_code == 404
    clock.set_now(clock.now() + timedelta(days=1))
    refused = client.simulate_get("/api/v1/learners/1", headers=headers)
    assert refused.status_code == 401
    assert "expired" in refused.json["detail"]


def test_a_token_cannot_be_born_expired(engine):
    with pytest.raises(InvalidInput, match="expires"), write_transaction(engine) as conn:
        create_token(conn, "staff", "x", expires_at=clock.now())
