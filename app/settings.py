"""The one settings object, read from the environment."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_SQLITE_PATH = Path("var") / "campus.db"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# Exam-notice QR tokens are signed with EXAM_TOKEN_KEY (HMAC-SHA256). Without it, a laptop
# (`make run`, tests) uses this published development key; with APP_ENV=production a missing or
# short key stops the app at start, so no production notice is ever signed with it.
DEVELOPMENT_EXAM_TOKEN_KEY = "development-only-exam-token-key-not-secret!"  # noqa: S105
MIN_EXAM_TOKEN_KEY_LENGTH = 32
ENVIRONMENTS = ("development", "production")
SERVERS = ("gthread", "granian")


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


def _bool_env(name: str, default: bool) -> bool:
    raw = (os.environ.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _log_level_env() -> str:
    raw = os.environ.get("LOG_LEVEL") or "INFO"
    if raw.upper() not in LOG_LEVELS:
        raise SettingsError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {raw!r}")
    return raw.upper()


@dataclass(frozen=True)
class Settings:
    """Everything that changes with the site, nothing that changes with the code."""

    database_url: str = f"sqlite:///{DEFAULT_SQLITE_PATH}"
    # The HTTP server `serve` runs: gunicorn's threaded worker timing its own queue, or granian
    # behind a front proxy that stamps X-Request-Start (app.http.granian_server).
    server: str = "gthread"
    workers: int = 2
    threads: int = 4
    # Longest a request may wait for a server thread before it is answered 503 at once.
    queue_budget: float = 0.2
    # Count the time before the server from a front proxy's X-Request-Start (clients can forge it).
    trust_request_start: bool = False
    # Seconds a server process keeps a token's principal (app.services.principal_cache): a
    # revoked token is refused within this time; 0 looks every token up on every request.
    token_cache_seconds: float = 5.0
    # Seconds a request waits for a database connection before it is shed.
    pool_timeout: float = 5.0
    max_body_bytes: int = 16 * 1024 * 1024
    log_level: str = "INFO"
    otlp_endpoint: str | None = None
    service_name: str = "campus-app"
    environment: str = "development"
    exam_token_key: str = DEVELOPMENT_EXAM_TOKEN_KEY
    # Exam dates and times on documents are printed in the school's own time zone.
    site_timezone: str = "Europe/Paris"
    # Addresses of the front proxies (nginx, the ingress controllers): only a request whose
    # peer is one of them may say which entry it came through (audiences.ENTRY_HEADER).
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def from_env(cls) -> Settings:
        """Read settings from the process environment, refusing malformed values."""
        url = os.environ.get("DATABASE_URL") or cls.database_url
        environment = _environment()
        workers = _int_env("APP_WORKERS", 2, 1, 256)
        threads = _int_env("APP_THREADS", 4, 1, 256)
        server = os.environ.get("APP_SERVER") or "gthread"
        if server not in SERVERS:
            raise SettingsError(f"APP_SERVER must be one of {', '.join(SERVERS)}, got {server!r}")
        trust_request_start = _bool_env("APP_TRUST_REQUEST_START", False)
        if server == "granian" and not trust_request_start:
            raise SettingsError(
                "APP_SERVER=granian needs APP_TRUST_REQUEST_START=true behind a front proxy that "
                "stamps X-Request-Start: granian tells the app nothing of the time a request "
                "waited, so without the proxy's stamp a surge could never be shed"
            )
        return cls(
            database_url=url,
            server=server,
            workers=workers,
            threads=threads,
            queue_budget=_int_env("APP_QUEUE_BUDGET_MS", 200, 1, 60_000) / 1000,
            trust_request_start=trust_request_start,
            token_cache_seconds=float(_int_env("APP_TOKEN_CACHE_SECONDS", 5, 0, 300)),
            pool_timeout=float(_int_env("APP_POOL_TIMEOUT_MS", 5000, 1, 600_000)) / 1000,
            max_body_bytes=_int_env("APP_MAX_BODY_BYTES", 16 * 1024 * 1024, 1024, 1 << 30),
            log_level=_log_level_env(),
            otlp_endpoint=os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None,
            service_name=os.environ.get("OTEL_SERVICE_NAME", "campus-app"),
            environment=environment,
            exam_token_key=_exam_token_key(environment),
            site_timezone=_timezone_env("SITE_TIMEZONE", "Europe/Paris"),
            trusted_proxies=_networks_env("APP_TRUSTED_PROXIES"),
        )


def _environment() -> str:
    value = os.environ.get("APP_ENV") or "development"
    if value not in ENVIRONMENTS:
        raise SettingsError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}, got {value!r}")
    return value


def _exam_token_key(environment: str) -> str:
    """EXAM_TOKEN_KEY; the development key only outside production, never a short key."""
    key = os.environ.get("EXAM_TOKEN_KEY") or ""
    if not key:
        if environment == "production":
            raise SettingsError(
                "EXAM_TOKEN_KEY is required in production (a random secret of at least "
                f"{MIN_EXAM_TOKEN_KEY_LENGTH} characters, e.g. `openssl rand -base64 48`)"
            )
        return DEVELOPMENT_EXAM_TOKEN_KEY
    if len(key) < MIN_EXAM_TOKEN_KEY_LENGTH:
        raise SettingsError(
            f"EXAM_TOKEN_KEY must be at least {MIN_EXAM_TOKEN_KEY_LENGTH} characters, "
            f"got {len(key)}"
        )
    if environment == "production" and key == DEVELOPMENT_EXAM_TOKEN_KEY:
        raise SettingsError(
            "EXAM_TOKEN_KEY: the published development key is refused in production"
        )
    return key


def _timezone_env(name: str, default: str) -> str:
    value = os.environ.get(name) or default
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"{name} must be an IANA time zone such as Europe/Paris, got {value!r}"
        ) from None
    return value


def _networks_env(name: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """A comma-separated list of addresses or CIDRs (`127.0.0.1, 10.42.0.0/16`); empty: none."""
    raw = os.environ.get(name) or ""
    result = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            network = ipaddress.ip_network(item, strict=True)
        except ValueError:
            raise SettingsError(
                f"{name} must list addresses or CIDRs such as 127.0.0.1,10.42.0.0/16, got {item!r}"
            ) from None
        if network.prefixlen == 0:
            raise SettingsError(
                f"{name} must name the proxies, not every address ({item}): a client could "
                "then choose its entry"
            )
        result.append(network)
    return tuple(result)
