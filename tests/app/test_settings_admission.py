"""Admission settings: the server, the queue budget and trusting a proxy's X-Request-Start,
refused with the variable's name when malformed."""

from __future__ import annotations

import pytest

from app.settings import Settings, SettingsError


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("APP_QUEUE_BUDGET_MS", "APP_TRUST_REQUEST_START", "APP_SERVER"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_shed_after_200_ms_and_ignore_the_proxy_header():
    settings = Settings.from_env()
    assert settings.queue_budget == 0.2
    assert settings.trust_request_start is False


@pytest.mark.parametrize(("raw", "seconds"), [("1", 0.001), ("750", 0.75), ("60000", 60.0)])
def test_the_budget_is_read_in_milliseconds(monkeypatch, raw, seconds):
    monkeypatch.setenv("APP_QUEUE_BUDGET_MS", raw)
    assert Settings.from_env().queue_budget == pytest.approx(seconds)


@pytest.mark.parametrize("raw", ["0", "60001", "-5", "fast", "1.5"])
def test_a_bad_budget_is_refused_by_name(monkeypatch, raw):
    monkeypatch.setenv("APP_QUEUE_BUDGET_MS", raw)
    with pytest.raises(SettingsError, match="APP_QUEUE_BUDGET_MS"):
        Settings.from_env()


@pytest.mark.parametrize(("raw", "trusted"), [("true", True), ("1", True), ("off", False)])
def test_trusting_the_proxy_header_is_a_boolean(monkeypatch, raw, trusted):
    monkeypatch.setenv("APP_TRUST_REQUEST_START", raw)
    assert Settings.from_env().trust_request_start is trusted


def test_a_bad_trust_value_is_refused_by_name(monkeypatch):
    monkeypatch.setenv("APP_TRUST_REQUEST_START", "maybe")
    with pytest.raises(SettingsError, match="APP_TRUST_REQUEST_START"):
        Settings.from_env()


def test_the_server_is_gthread_unless_granian_is_asked_for_behind_a_stamping_proxy(monkeypatch):
    assert Settings.from_env().server == "gthread"
    monkeypatch.setenv("APP_SERVER", "granian")
    with pytest.raises(SettingsError, match="APP_TRUST_REQUEST_START"):
        Settings.from_env()
    monkeypatch.setenv("APP_TRUST_REQUEST_START", "true")
    assert Settings.from_env().server == "granian"


@pytest.mark.parametrize("raw", ["uvicorn", "Granian", "sync"])
def test_an_unknown_server_is_refused_by_name(monkeypatch, raw):
    monkeypatch.setenv("APP_SERVER", raw)
    with pytest.raises(SettingsError, match="APP_SERVER"):
        Settings.from_env()
