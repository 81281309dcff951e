"""The one settings object, read from environment variables.

Every variable is named here with its default and meaning; invalid configuration stops start-up with
a message that names the variable (``SettingsError``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

__all__ = ["Settings", "SettingsError", "load_settings", "to_environment"]

#: The HMAC key used when none is configured, accepted only in ``dev`` (never in production).
DEV_IDENTITY_KEY = "dev-only-identity-key-not-secret"


class SettingsError(ValueError):
    """Configuration is invalid; the message names the environment variable to fix."""


class Settings(Struct, frozen=True, kw_only=True):
    """Runtime configuration. Field ``x_y`` is read from environment variable ``ENV[x_y]``."""

    environment: Literal["dev", "test", "prod"] = "prod"
    """``CLEARANCE_ENV``: dev and test accept a built-in identity key."""
    kafka_bootstrap_servers: str = "localhost:9092"
    """``KAFKA_BOOTSTRAP_SERVERS``: comma-separated host:port list."""
    database_url: str = "postgresql://localhost/clearance"
    """``DATABASE_URL``: a libpq URI (``postgresql://user:pass@host:port/db``)."""
    consumer_group: Annotated[str, Meta(min_length=1)] = "clearance"
    """``CLEARANCE_CONSUMER_GROUP``: the Kafka consumer group of the workers."""
    topic_prefix: str = ""
    """``CLEARANCE_TOPIC_PREFIX``: prepended to every topic name (isolation of tenants or tests)."""
    identity_key: str = ""
    """``CLEARANCE_IDENTITY_KEY``: HMAC key for consignee identity; required outside dev/test."""
    batch_size: Annotated[int, Meta(ge=1, le=10_000)] = 500
    """``CLEARANCE_BATCH_SIZE``: most records the worker takes in one batch."""
    linger_ms: Annotated[int, Meta(ge=0, le=10_000)] = 5
    """``CLEARANCE_LINGER_MS``: producer linger, milliseconds."""
    fetch_max_wait_ms: Annotated[int, Meta(ge=0, le=10_000)] = 100
    """``CLEARANCE_FETCH_MAX_WAIT_MS``: how long a fetch waits for data, milliseconds."""
    enable_idempotence: bool = True
    """``CLEARANCE_ENABLE_IDEMPOTENCE``: idempotent producer; false on the dev broker."""
    session_timeout_ms: Annotated[int, Meta(ge=500, le=300_000)] = 10_000
    """``CLEARANCE_SESSION_TIMEOUT_MS``: a worker silent this long leaves the group."""
    heartbeat_interval_ms: Annotated[int, Meta(ge=100, le=100_000)] = 3_000
    """``CLEARANCE_HEARTBEAT_INTERVAL_MS``: consumer-group heartbeat period."""
    outbox_grace_ms: Annotated[int, Meta(ge=0, le=3_600_000)] = 10_000
    """``CLEARANCE_OUTBOX_GRACE_MS``: age after which a stored, unacknowledged decision is
    published by the outbox drain (long enough for a live worker to publish its own batch)."""
    stuck_after_seconds: Annotated[int, Meta(ge=5, le=86_400)] = 120
    """``CLEARANCE_STUCK_AFTER_SECONDS``: a partition with records waiting and no commit for this
    long is stuck: logged with its offsets, and (when no database or broker fault explains it)
    reported by ``/health/live``."""
    database_schema: str = ""
    """``CLEARANCE_DATABASE_SCHEMA``: PostgreSQL schema of the tables (default: the search path).
    Leave it empty behind PgBouncer, which does not pass ``search_path`` on (set the role's)."""
    database_statement_cache_size: Annotated[int, Meta(ge=0, le=10_000)] = 100
    """``CLEARANCE_DB_STATEMENT_CACHE_SIZE``: prepared statements asyncpg keeps per connection. Keep
    the default with PostgreSQL or PgBouncer >= 1.21 with ``max_prepared_statements`` (the shipped
    Pooler); 0 behind a transaction-mode pooler that cannot track prepared statements."""
    partitions: Annotated[int, Meta(ge=1, le=1000)] = 12
    """``CLEARANCE_PARTITIONS``: partitions per topic when the service creates its topics."""
    api_host: str = "127.0.0.1"
    """``CLEARANCE_API_HOST``: address the HTTP API listens on."""
    api_port: Annotated[int, Meta(ge=0, le=65535)] = 8000
    """``CLEARANCE_API_PORT``: port the HTTP API listens on."""
    api_rate_per_key: Annotated[float, Meta(gt=0, le=100_000)] = 1000.0
    """``CLEARANCE_API_RATE_PER_KEY``: requests per second one API key may make (burst: twice)."""
    trace_url_template: Annotated[str, Meta(pattern=r"^$|^https?://.*\{trace_id\}")] = ""
    """``CLEARANCE_TRACE_URL_TEMPLATE``: link from a decision to its trace in the console, an
    http(s) URL with ``{trace_id}``, e.g. ``http://localhost:16686/trace/{trace_id}`` (Jaeger);
    empty: no link."""
    ops_host: str = "127.0.0.1"
    """``CLEARANCE_OPS_HOST``: address of the worker's ``/metrics`` and ``/health/*`` listener."""
    ops_port: Annotated[int, Meta(ge=0, le=65535)] = 9102
    """``CLEARANCE_OPS_PORT``: port of the worker's ``/metrics`` and ``/health/*`` listener."""

    def topic(self, name: str) -> str:
        """The full name of a topic (``orders.v1`` -> ``<prefix>orders.v1``)."""
        return f"{self.topic_prefix}{name}"


#: Environment variable for each settings field.
ENV: dict[str, str] = {
    "environment": "CLEARANCE_ENV",
    "kafka_bootstrap_servers": "KAFKA_BOOTSTRAP_SERVERS",
    "database_url": "DATABASE_URL",
    "consumer_group": "CLEARANCE_CONSUMER_GROUP",
    "topic_prefix": "CLEARANCE_TOPIC_PREFIX",
    "identity_key": "CLEARANCE_IDENTITY_KEY",
    "batch_size": "CLEARANCE_BATCH_SIZE",
    "linger_ms": "CLEARANCE_LINGER_MS",
    "fetch_max_wait_ms": "CLEARANCE_FETCH_MAX_WAIT_MS",
    "enable_idempotence": "CLEARANCE_ENABLE_IDEMPOTENCE",
    "session_timeout_ms": "CLEARANCE_SESSION_TIMEOUT_MS",
    "heartbeat_interval_ms": "CLEARANCE_HEARTBEAT_INTERVAL_MS",
    "outbox_grace_ms": "CLEARANCE_OUTBOX_GRACE_MS",
    "stuck_after_seconds": "CLEARANCE_STUCK_AFTER_SECONDS",
    "database_schema": "CLEARANCE_DATABASE_SCHEMA",
    "database_statement_cache_size": "CLEARANCE_DB_STATEMENT_CACHE_SIZE",
    "partitions": "CLEARANCE_PARTITIONS",
    "api_host": "CLEARANCE_API_HOST",
    "api_port": "CLEARANCE_API_PORT",
    "api_rate_per_key": "CLEARANCE_API_RATE_PER_KEY",
    "trace_url_template": "CLEARANCE_TRACE_URL_TEMPLATE",
    "ops_host": "CLEARANCE_OPS_HOST",
    "ops_port": "CLEARANCE_OPS_PORT",
}

_INTS = {
    "batch_size",
    "linger_ms",
    "fetch_max_wait_ms",
    "session_timeout_ms",
    "heartbeat_interval_ms",
    "outbox_grace_ms",
    "stuck_after_seconds",
    "database_statement_cache_size",
    "partitions",
    "api_port",
    "ops_port",
}
_BOOLS = {"enable_idempotence"}
_FLOATS = {"api_rate_per_key"}


def _parse(field: str, text: str) -> object:
    if field in _INTS:
        try:
            return int(text)
        except ValueError:
            raise SettingsError(f"{ENV[field]}={text!r} is not a whole number") from None
    if field in _FLOATS:
        try:
            return float(text)
        except ValueError:
            raise SettingsError(f"{ENV[field]}={text!r} is not a number") from None
    if field in _BOOLS:
        lowered = text.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise SettingsError(f"{ENV[field]}={text!r} must be true or false")
    return text


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Read settings from ``environ`` (default ``os.environ``); ``overrides`` win over both.

    Raises ``SettingsError`` naming the variable when a value is invalid, or when a production
    process has no ``CLEARANCE_IDENTITY_KEY``.
    """
    environ = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    for field, variable in ENV.items():
        if variable in environ:
            raw[field] = _parse(field, environ[variable])
    raw.update(overrides)
    try:
        settings = msgspec.convert(raw, Settings)
    except msgspec.ValidationError as error:
        message = str(error)
        for field, variable in ENV.items():
            if f"`$.{field}`" in message:
                raise SettingsError(f"{variable}: {message.split(' - at ')[0]}") from None
        raise SettingsError(message) from None
    if settings.environment != "prod" and not settings.identity_key:
        settings = msgspec.structs.replace(settings, identity_key=DEV_IDENTITY_KEY)
    if settings.environment == "prod" and len(settings.identity_key) < 16:
        raise SettingsError(
            "CLEARANCE_IDENTITY_KEY must be set to a secret of at least 16 characters "
            "(it keys the hash of consignee identities); set CLEARANCE_ENV=dev for local use"
        )
    return settings


def to_environment(settings: Settings, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default ``os.environ``) plus the variables that make a child process load
    ``settings`` again (``clearance dev``, the benchmarks and tests start workers this way)."""
    environment = dict(os.environ if base is None else base)
    for field, variable in ENV.items():
        value = getattr(settings, field)
        environment[variable] = str(value).lower() if isinstance(value, bool) else str(value)
    return environment
