"""One settings object, read once from the environment and validated at start.

Every field names its environment variable and says what it is for. `load_settings` collects every problem
at once and raises `ConfigError` whose message names each offending variable, so an operator fixes a
deployment in one pass. The residency rule (R-SEC-6) lives here too: an outbound endpoint whose host the
operator did not declare as hosted in Russia stops the start.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["ConfigError", "Settings", "load_settings"]


class ConfigError(Exception):
    """The environment does not describe a deployment we can start."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n  - " + "\n  - ".join(problems))


def env(name: str, default: Any, doc: str) -> Any:
    """Declare a setting read from the environment variable `name`."""
    if isinstance(default, tuple | list | dict):
        return field(default_factory=lambda: default, metadata={"env": name, "doc": doc})
    return field(default=default, metadata={"env": name, "doc": doc})


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    url: str | None = env("DATABASE_URL", None, "PostgreSQL URL; unset means the launcher starts the embedded one")
    pool_size: int = env("DB_POOL_SIZE", 10, "connections kept per process")
    max_overflow: int = env("DB_MAX_OVERFLOW", 10, "extra connections allowed under bursts")
    pool_recycle_s: int = env(
        "DB_POOL_RECYCLE_S", 900, "close a connection after this many seconds: bounds per-schema catalog caches"
    )
    statement_cache_size: int = env(
        "DB_STATEMENT_CACHE_SIZE", 256, "prepared statements kept per connection (they differ per school schema)"
    )
    command_timeout_s: float = env("DB_COMMAND_TIMEOUT_S", 30.0, "a single statement is cancelled after this")


@dataclass(frozen=True, slots=True)
class RedisSettings:
    url: str | None = env("REDIS_URL", None, "Redis URL; unset means the launcher starts the embedded one")
    namespace: str = env("REDIS_NAMESPACE", "journal", "prefix of every key and queue, so deployments can share")


@dataclass(frozen=True, slots=True)
class HttpSettings:
    host: str = env("JOURNAL_HOST", "127.0.0.1", "address the API binds to")
    port: int = env("JOURNAL_PORT", 8000, "port the API binds to")
    public_url: str = env("JOURNAL_PUBLIC_URL", "", "address users open; defaults to http://host:port")
    registry_ttl_s: float = env("SCHOOL_REGISTRY_TTL_S", 5.0, "how long a school's registry entry is cached")


@dataclass(frozen=True, slots=True)
class SecuritySettings:
    secret_key: str = env(
        "JOURNAL_SECRET_KEY", "", "signs CSRF tokens; the same in every API process (the launcher makes one)"
    )
    session_idle_minutes: int = env(
        "SESSION_IDLE_MINUTES", 30, "a session unused this long ends (R-SEC-4); a school's own setting wins"
    )
    session_max_hours: int = env("SESSION_MAX_HOURS", 12, "a session ends this long after login, however used")


@dataclass(frozen=True, slots=True)
class OutboundSettings:
    """Every service outside this process that receives data: each one is checked against residency."""

    s3_endpoint_url: str | None = env(
        "S3_ENDPOINT_URL", None, "S3-compatible object storage; unset means the launcher starts an in-memory one"
    )
    s3_bucket: str = env("S3_BUCKET", "journal-files", "bucket that holds the files")
    s3_access_key_id: str = env("S3_ACCESS_KEY_ID", "", "access key of the object storage")
    s3_secret_access_key: str = env("S3_SECRET_ACCESS_KEY", "", "secret key of the object storage")
    s3_region: str = env("S3_REGION", "ru-central1", "region name the object storage signs requests with")
    file_max_bytes: int = env("FILE_MAX_BYTES", 20 * 1024 * 1024, "largest file a person may upload, in bytes")
    smtp_host: str | None = env("SMTP_HOST", None, "outgoing mail server")
    smtp_port: int = env("SMTP_PORT", 25, "outgoing mail server port")
    smtp_from: str = env("SMTP_FROM", "noreply@localhost", "sender address of the notification mail")
    smtp_username: str = env("SMTP_USERNAME", "", "login at the outgoing mail server; empty means none")
    smtp_password: str = env("SMTP_PASSWORD", "", "password at the outgoing mail server")
    smtp_starttls: bool = env("SMTP_STARTTLS", False, "upgrade the mail connection with STARTTLS")
    oidc_issuers: tuple[str, ...] = env("OIDC_ISSUERS", (), "comma-separated OpenID Connect issuers")
    otlp_endpoint: str | None = env("OTEL_EXPORTER_OTLP_ENDPOINT", None, "OpenTelemetry collector (OTLP/HTTP)")


@dataclass(frozen=True, slots=True)
class ResidencySettings:
    allowed_hosts: tuple[str, ...] = env(
        "RESIDENCY_ALLOWED_HOSTS",
        ("localhost", "127.0.0.1", "::1"),
        "comma-separated hosts declared as hosted in Russia; '*.example.ru' allows subdomains",
    )


@dataclass(frozen=True, slots=True)
class TelemetrySettings:
    service_name: str = env("OTEL_SERVICE_NAME", "school-journal", "service name on traces and metrics")
    log_level: str = env("LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING or ERROR")


@dataclass(frozen=True, slots=True)
class Settings:
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    http: HttpSettings = field(default_factory=HttpSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    outbound: OutboundSettings = field(default_factory=OutboundSettings)
    residency: ResidencySettings = field(default_factory=ResidencySettings)
    telemetry: TelemetrySettings = field(default_factory=TelemetrySettings)
    data_dir: str = env("JOURNAL_DATA_DIR", ".data", "local folder for embedded servers and demo files")
    default_time_zone: str = env("JOURNAL_DEFAULT_TIME_ZONE", "Europe/Moscow", "time zone of a new school")

    @property
    def public_url(self) -> str:
        return self.http.public_url or f"http://{self.http.host}:{self.http.port}"

    def require_backends(self) -> None:
        """Processes that talk to PostgreSQL and Redis call this: the URLs must be known by then."""
        missing = [name for name, value in (("DATABASE_URL", self.database.url), ("REDIS_URL", self.redis.url))
                   if not value]
        if missing:
            raise ConfigError([f"{name} is not set; start the system with infra/local/run.sh, which starts the "
                               "embedded servers, or point it at real ones" for name in missing])


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _convert(raw: str, annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        return None if raw.strip() == "" else _convert(raw, inner[0])
    if annotation is int:
        return int(raw)
    if annotation is float:
        return float(raw)
    if annotation is bool:
        if raw.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if raw.strip().lower() in ("0", "false", "no", "off", ""):
            return False
        raise ValueError("expected true or false")
    if origin is tuple:
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw.strip()


def _load_group(cls: type, environ: Mapping[str, str], problems: list[str]) -> Any:
    values: dict[str, Any] = {}
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if "env" not in f.metadata:
            values[f.name] = _load_group(hints[f.name], environ, problems)
            continue
        name = f.metadata["env"]
        if name not in environ:
            continue
        try:
            values[f.name] = _convert(environ[name], hints[f.name])
        except ValueError:
            problems.append(f"{name}={environ[name]!r} is not a valid {getattr(hints[f.name], '__name__', 'value')}")
    return cls(**values)


def _hosts_of(setting: str, value: str) -> list[str]:
    """The hosts an endpoint setting points at, local sockets left out; '' stands for a missing host.

    A URL without a host may name its hosts in the query: `?host=/socket/dir` or, in SQLAlchemy's multi-host
    form, `?host=a:5432&host=b:5432` (the driver fails over to each in turn, so every one is checked).
    """
    if setting == "SMTP_HOST":
        return [value.strip().lower()]
    parts = urlsplit(value if "//" in value else f"//{value}")
    if parts.hostname:
        return [parts.hostname.lower()]
    if parts.scheme.startswith("unix"):
        return []
    entries = [e.strip() for v in parse_qs(parts.query).get("host", []) for e in v.split(",") if e.strip()]
    if not entries:
        return [""]
    return [(urlsplit(f"//{e}").hostname or "").lower() for e in entries if not e.startswith("/")]


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """Whether `host` is one the operator declared; '*.region.ru' matches any subdomain of region.ru."""
    for pattern in (p.lower() for p in allowed):
        if pattern.startswith("*.") and host.endswith(pattern[1:]):
            return True
        if host == pattern:
            return True
    return False


def residency_problems(settings: Settings) -> list[str]:
    """Every configured outbound endpoint outside the residency allow-list (R-SEC-6)."""
    endpoints: list[tuple[str, str]] = [
        ("DATABASE_URL", settings.database.url or ""),
        ("REDIS_URL", settings.redis.url or ""),
        ("S3_ENDPOINT_URL", settings.outbound.s3_endpoint_url or ""),
        ("SMTP_HOST", settings.outbound.smtp_host or ""),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", settings.outbound.otlp_endpoint or ""),
        *(("OIDC_ISSUERS", issuer) for issuer in settings.outbound.oidc_issuers),
    ]
    problems = []
    for setting, value in endpoints:
        if not value:
            continue
        for host in _hosts_of(setting, value):
            if not host or not host_allowed(host, settings.residency.allowed_hosts):
                problems.append(
                    f"{setting} points at host {host or '(none)'!r}, which is not in RESIDENCY_ALLOWED_HOSTS; "
                    "data may only go to services hosted in Russia (R-SEC-6)"
                )
    return problems


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the settings; raise ConfigError naming every bad variable."""
    environ = os.environ if environ is None else environ
    problems: list[str] = []
    settings: Settings = _load_group(Settings, environ, problems)
    if settings.telemetry.log_level.upper() not in _LOG_LEVELS:
        problems.append(f"LOG_LEVEL={settings.telemetry.log_level!r} must be one of {', '.join(_LOG_LEVELS)}")
    if not 1 <= settings.http.port <= 65535:
        problems.append(f"JOURNAL_PORT={settings.http.port} must be between 1 and 65535")
    if settings.security.secret_key and len(settings.security.secret_key) < 32:
        problems.append("JOURNAL_SECRET_KEY must be at least 32 characters")
    if settings.security.session_idle_minutes < 1 or settings.security.session_max_hours < 1:
        problems.append("SESSION_IDLE_MINUTES and SESSION_MAX_HOURS must be positive")
    if settings.outbound.file_max_bytes < 1:
        problems.append("FILE_MAX_BYTES must be at least 1")
    if settings.database.pool_size < 1:
        problems.append("DB_POOL_SIZE must be at least 1")
    try:
        zoneinfo.ZoneInfo(settings.default_time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems.append(f"JOURNAL_DEFAULT_TIME_ZONE={settings.default_time_zone!r} is not an IANA time zone")
    for url_setting, url in (("DATABASE_URL", settings.database.url), ("REDIS_URL", settings.redis.url)):
        if url and "://" not in url:
            problems.append(f"{url_setting} must be a URL such as postgresql://host/db or redis://host:6379/0")
    problems.extend(residency_problems(settings))
    if problems:
        raise ConfigError(problems)
    return settings


def documented_settings() -> list[tuple[str, str, Any]]:
    """(variable, description, default) of every setting: the README's table is made from this."""
    rows: list[tuple[str, str, Any]] = []

    def walk(cls: type) -> None:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if "env" in f.metadata:
                factory: Any = f.default_factory
                default = f.default if f.default is not dataclasses.MISSING else factory()
                rows.append((f.metadata["env"], f.metadata["doc"], default))
            else:
                walk(hints[f.name])

    walk(Settings)
    return rows
