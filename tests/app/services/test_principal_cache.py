"""A server process keeps a token's principal for APP_TOKEN_CACHE_SECONDS, never longer, never
past the token's expiry, never for a token it did not find, and never more than its size."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import timedelta

import falcon.testing

from app import clock
from app.http.app import create_app
from app.services.principal_cache import PrincipalCache
from app.services.tokens import Principal, create_token, find_token, revoke_token
from app.store.engine import write_transaction
from app.store.schema import api_token


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


STAFF = Principal(1, "staff", "office", None, None)


def test_a_principal_is_kept_for_its_seconds_and_not_one_more():
    ticks = Ticks()
    cache = PrincipalCache(5, monotonic=ticks)
    cache.put("digest", STAFF, None)
    ticks.now += 4.9
    assert cache.get("digest") == STAFF
    ticks.now += 0.1
    assert cache.get("digest") is None
    assert cache.get("other") is None


def test_a_principal_is_never_kept_past_its_token_expiry():
    cache = PrincipalCache(300, monotonic=Ticks())
    cache.put("digest", STAFF, clock.now() + timedelta(seconds=1))
    assert cache.get("digest") == STAFF
    clock.set_now(clock.now() + timedelta(seconds=1))
    assert cache.get("digest") is None


def test_zero_seconds_keeps_nothing():
    cache = PrincipalCache(0, monotonic=Ticks())
    cache.put("digest", STAFF, None)
    assert cache.get("digest") is None


def test_the_least_recently_used_principal_goes_first_when_full():
    cache = PrincipalCache(60, size=2, monotonic=Ticks())
    cache.put("a", STAFF, None)
    cache.put("b", STAFF, None)
    assert cache.get("a") == STAFF  # b is now the least recently used
    cache.put("c", STAFF, None)
    assert cache.get("b") is None
    assert cache.get("a") == STAFF and cache.get("c") == STAFF


def test_a_revoked_token_is_refused_once_the_kept_principal_is_stale(settings, engine, monkeypatch):
    ticks = Ticks()
    monkeypatch.setattr("app.services.principal_cache.time.monotonic", ticks)
    client = falcon.testing.TestClient(
        create_app(dataclasses.replace(settings, token_cache_seconds=5), engine)
    )
    with write_transaction(engine) as conn:
        token = create_token(conn, "staff", "leaver")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.simulate_get("/api/v1/learners/1", headers=headers).status_code == 404
    with write_transaction(engine) as conn:
        revoke_token(conn, find_token(conn, None, token)["id"])
    # Kept a moment by the process that saw it, then refused.
    assert client.simulate_get("/api/v1/learners/1", headers=headers).status_code == 404
    ticks.now += 5
    assert client.simulate_get("/api/v1/learners/1", headers=headers).status_code == 401


def test_an_unknown_token_is_looked_up_every_time(settings, engine):
    client = falcon.testing.TestClient(
        create_app(dataclasses.replace(settings, token_cache_seconds=60), engine)
    )
    token = "cp_not-yet-minted"
    headers = {"Authorization": f"Bearer {token}"}
    assert client.simulate_get("/api/v1/learners/1", headers=headers).status_code == 401
    with write_transaction(engine) as conn:
        # Minted after its first use was refused: a refusal must not have been kept.
        conn.execute(
            api_token.insert().values(
                token_hash=hashlib.sha256(token.encode()).hexdigest(),
                role="staff",
                name="late",
                created_at=clock.now(),
            )
        )
    assert client.simulate_get("/api/v1/learners/1", headers=headers).status_code == 404
