"""The exam-notice signing key: from the environment, a development default only outside
production, and the app refuses to start without a real one in production."""

from __future__ import annotations

import pytest

from app.http.app import create_app
from app.settings import DEVELOPMENT_EXAM_TOKEN_KEY, Settings, SettingsError

REAL_KEY = "q" * 48


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("APP_ENV", "EXAM_TOKEN_KEY", "SITE_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)


def test_development_uses_the_published_development_key_when_none_is_set():
    assert Settings.from_env().exam_token_key == DEVELOPMENT_EXAM_TOKEN_KEY


def test_the_key_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("EXAM_TOKEN_KEY", REAL_KEY)
    monkeypatch.setenv("APP_ENV", "production")
    assert Settings.from_env().exam_token_key == REAL_KEY


@pytest.mark.parametrize(
    ("environment", "key", "message"),
    [
        ("production", None, "EXAM_TOKEN_KEY is required in production"),
        ("production", "short", "at least 32 characters"),
        ("development", "short", "at least 32 characters"),
        ("production", DEVELOPMENT_EXAM_TOKEN_KEY, "development key is refused"),
        ("staging-ish", REAL_KEY, "APP_ENV must be one of"),
    ],
)
def test_a_missing_short_or_published_key_in_production_is_refused(
    monkeypatch, environment, key, message
):
    monkeypatch.setenv("APP_ENV", environment)
    if key is not None:
        monkeypatch.setenv("EXAM_TOKEN_KEY", key)
    with pytest.raises(SettingsError, match=message):
        Settings.from_env()


def test_the_app_does_not_start_in_production_without_a_key(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(SettingsError, match="EXAM_TOKEN_KEY"):
        create_app()


def test_an_unknown_time_zone_is_refused(monkeypatch):
    monkeypatch.setenv("SITE_TIMEZONE", "Europe/Atlantis")
    with pytest.raises(SettingsError, match="SITE_TIMEZONE"):
        Settings.from_env()
