"""The one settings object, read from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SQLITE_PATH = Path("var") / "campus.db"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(ValueError):
    """A setting from the environment is missing or malformed."""


def _int_env(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _log_level_env() -> str:
    raw = os.environ.get("LOG_LEVEL") or "INFO"
    if raw.upper() not in LOG_LEVELS:
        raise SettingsError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {raw!r}")
    return raw.upper()


@dataclass(frozen=True)
class Settings:
    """Everything that changes with the site, nothing that changes with the code."""

    database_url: str = f"sqlite:///{DEFAULT_SQLITE_PATH}"
    workers: int = 2
    threads: int = 4
    # Requests served at once by one worker before it sheds load with 503.
    max_in_flight: int = 64
    # Seconds a request waits for a database connection before it is shed.
    pool_timeout: float = 5.0
    max_body_bytes: int = 16 * 1024 * 1024
    log_level: str = "INFO"
    otlp_endpoint: str | None = None
    service_name: str = "campus-app"

    @classmethod
    def from_env(cls) -> Settings:
        """Read settings from the process environment, refusing malformed values."""
        url = os.environ.get("DATABASE_URL") or cls.database_url
        workers = _int_env("APP_WORKERS", 2, 1, 256)
        threads = _int_env("APP_THREADS", 4, 1, 256)
        return cls(
            database_url=url,
            workers=workers,
            threads=threads,
            max_in_flight=_int_env("APP_MAX_IN_FLIGHT", 16 * threads, 1, 100_000),
            pool_timeout=float(_int_env("APP_POOL_TIMEOUT_MS", 5000, 1, 600_000)) / 1000,
            max_body_bytes=_int_env("APP_MAX_BODY_BYTES", 16 * 1024 * 1024, 1024, 1 << 30),
            log_level=_log_level_env(),
            otlp_endpoint=os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None,
            service_name=os.environ.get("OTEL_SERVICE_NAME", "campus-app"),
        )
