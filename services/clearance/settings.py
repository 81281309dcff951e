"""The one settings object, read from environment variables.

Every variable is named here with its default and meaning; invalid configuration stops start-up with
a message that names the variable (``SettingsError``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

__all__ = ["Settings", "SettingsError", "load_settings", "to_environment"]

#: The HMAC key used when none is configured, accepted only in ``dev`` (never in production).
DEV_IDENTITY_KEY = "dev-only-identity-key-not-secret"
#: The compliance sample's key when none is configured, accepted only in ``dev`` and ``test``.
DEV_SAMPLE_KEY = "dev-only-sample-key-not-secret"

#: A platform's name as the contracts allow it (``PlatformName`` in ``clearance.messages``).
PLATFORM_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
#: Never a platform: the suffix of the dead-letter topic (``orders.v1.dlt``).
RESERVED_PLATFORMS = frozenset({"dlt"})

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]
OrderTopics = Literal["per-platform", "shared"]


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
    sample_key: str = ""
    """``CLEARANCE_SAMPLE_KEY``: HMAC key of the compliance sample's draw (a platform that cannot
    compute the draw cannot steer around it); required outside dev/test, never the identity key."""
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    """``KAFKA_SECURITY_PROTOCOL``: ``SSL`` (TLS, with a client certificate for mTLS), ``SASL_SSL``
    (TLS and a SASL login), ``SASL_PLAINTEXT`` (not in prod), or ``PLAINTEXT``."""
    kafka_sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    """``KAFKA_SASL_MECHANISM``: the SASL mechanism of the ``SASL_*`` protocols."""
    kafka_sasl_username: str = ""
    """``KAFKA_SASL_USERNAME``: the SASL user (the Kafka principal the ACLs name)."""
    kafka_sasl_password: str = ""
    """``KAFKA_SASL_PASSWORD``: the SASL user's password (a secret)."""
    kafka_ssl_cafile: str = ""
    """``KAFKA_SSL_CAFILE``: PEM file of the CA that signed the brokers' certificates (empty: the
    system's trusted CAs)."""
    kafka_ssl_certfile: str = ""
    """``KAFKA_SSL_CERTFILE``: PEM client certificate for mutual TLS (``KAFKA_SSL_KEYFILE``)."""
    kafka_ssl_keyfile: str = ""
    """``KAFKA_SSL_KEYFILE``: PEM private key of the client certificate."""
    order_topics: OrderTopics | None = None
    """``CLEARANCE_ORDER_TOPICS``: ``per-platform`` (``orders.v1.<platform>``, each platform's
    principal allowed to write only its own: the record's platform is checked against its topic)
    or ``shared`` (one ``orders.v1``: any producer may claim any platform). Default: per-platform
    in prod, shared in dev and test."""
    platforms: str = ""
    """``CLEARANCE_PLATFORMS``: with per-platform topics, the comma-separated platforms whose
    topics the worker reads and ``clearance migrate --topics`` creates; empty: the worker reads
    every ``orders.v1.<platform>`` topic there is (a pattern)."""
    batch_size: Annotated[int, Meta(ge=1, le=10_000)] = 500
    """``CLEARANCE_BATCH_SIZE``: most records the worker takes in one batch."""
    linger_ms: Annotated[int, Meta(ge=0, le=10_000)] = 5
    """``CLEARANCE_LINGER_MS``: producer linger, milliseconds."""
    fetch_max_wait_ms: Annotated[int, Meta(ge=0, le=10_000)] = 20
    """``CLEARANCE_FETCH_MAX_WAIT_MS``: how long a fetch waits for ``fetch_min_bytes``,
    milliseconds: the most an order waits in the broker for others to share its batch (and, on
    the embedded dev broker, which does not wake a parked fetch, for new records at all)."""
    fetch_min_bytes: Annotated[int, Meta(ge=1, le=1_048_576)] = 16_384
    """``CLEARANCE_FETCH_MIN_BYTES``: a fetch waits for this much data (about 15 orders of 1.1 KB)
    or ``fetch_max_wait_ms``, whichever comes first. At a few hundred orders a second a batch then
    holds ten or more orders instead of two or three, which share its fixed costs (the database's
    round trips and transaction, the offset commit); with a backlog, fetches fill at once (#23)."""
    enable_idempotence: bool = True
    """``CLEARANCE_ENABLE_IDEMPOTENCE``: idempotent producer; false on the dev broker."""
    session_timeout_ms: Annotated[int, Meta(ge=500, le=300_000)] = 10_000
    """``CLEARANCE_SESSION_TIMEOUT_MS``: a worker silent this long leaves the group."""
    heartbeat_interval_ms: Annotated[int, Meta(ge=100, le=100_000)] = 3_000
    """``CLEARANCE_HEARTBEAT_INTERVAL_MS``: consumer-group heartbeat period."""
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

    # --- tenants: which orders topic is whose ---------------------------------------------------

    @property
    def per_platform(self) -> bool:
        """Orders arrive on one topic per platform (resolved by ``load_settings``)."""
        return self.order_topics == "per-platform"

    @property
    def platform_list(self) -> list[str]:
        """``CLEARANCE_PLATFORMS`` as a list."""
        return [name.strip() for name in self.platforms.split(",") if name.strip()]

    def orders_topic(self, platform: str) -> str:
        """Where ``platform``'s orders are produced: ``orders.v1.<platform>``, or the shared
        ``orders.v1``."""
        if self.per_platform:
            return self.topic(f"orders.v1.{platform}")
        return self.topic("orders.v1")

    def platform_of(self, topic: str) -> str | None:
        """The platform an orders topic belongs to (per-platform topics), else None: a record on
        it may only speak for that platform."""
        if not self.per_platform:
            return None
        head = self.topic("orders.v1.")
        if not topic.startswith(head):
            return None
        name = topic[len(head) :]
        if name in RESERVED_PLATFORMS or not PLATFORM_NAME.match(name):
            return None
        return name

    def consumed_topics(self) -> tuple[list[str], str | None]:
        """What the worker subscribes to: (topics, None), or ([], a pattern) for per-platform
        topics without a platform list (new platforms' topics are found as they appear)."""
        inspections = self.topic("inspections.v1")
        if not self.per_platform:
            return [self.topic("orders.v1"), inspections], None
        if self.platform_list:
            return [*(self.orders_topic(p) for p in self.platform_list), inspections], None
        prefix = re.escape(self.topic_prefix)
        platform = r"(?!(?:" + "|".join(sorted(RESERVED_PLATFORMS)) + r")$)[a-z0-9][a-z0-9-]{1,39}"
        return [], rf"^{prefix}(?:orders\.v1\.{platform}|inspections\.v1)$"


#: Environment variable for each settings field.
ENV: dict[str, str] = {
    "environment": "CLEARANCE_ENV",
    "kafka_bootstrap_servers": "KAFKA_BOOTSTRAP_SERVERS",
    "database_url": "DATABASE_URL",
    "consumer_group": "CLEARANCE_CONSUMER_GROUP",
    "topic_prefix": "CLEARANCE_TOPIC_PREFIX",
    "identity_key": "CLEARANCE_IDENTITY_KEY",
    "sample_key": "CLEARANCE_SAMPLE_KEY",
    "kafka_security_protocol": "KAFKA_SECURITY_PROTOCOL",
    "kafka_sasl_mechanism": "KAFKA_SASL_MECHANISM",
    "kafka_sasl_username": "KAFKA_SASL_USERNAME",
    "kafka_sasl_password": "KAFKA_SASL_PASSWORD",
    "kafka_ssl_cafile": "KAFKA_SSL_CAFILE",
    "kafka_ssl_certfile": "KAFKA_SSL_CERTFILE",
    "kafka_ssl_keyfile": "KAFKA_SSL_KEYFILE",
    "order_topics": "CLEARANCE_ORDER_TOPICS",
    "platforms": "CLEARANCE_PLATFORMS",
    "batch_size": "CLEARANCE_BATCH_SIZE",
    "linger_ms": "CLEARANCE_LINGER_MS",
    "fetch_max_wait_ms": "CLEARANCE_FETCH_MAX_WAIT_MS",
    "fetch_min_bytes": "CLEARANCE_FETCH_MIN_BYTES",
    "enable_idempotence": "CLEARANCE_ENABLE_IDEMPOTENCE",
    "session_timeout_ms": "CLEARANCE_SESSION_TIMEOUT_MS",
    "heartbeat_interval_ms": "CLEARANCE_HEARTBEAT_INTERVAL_MS",
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
    "fetch_min_bytes",
    "session_timeout_ms",
    "heartbeat_interval_ms",
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
    settings = _with_defaults(settings)
    _check_secrets(settings)
    _check_kafka_security(settings)
    _check_platforms(settings)
    return settings


def _with_defaults(settings: Settings) -> Settings:
    """The defaults that depend on the environment: dev keys, the order topics' layout."""
    changes: dict[str, object] = {}
    if settings.order_topics is None:
        changes["order_topics"] = "per-platform" if settings.environment == "prod" else "shared"
    if settings.environment != "prod":
        if not settings.identity_key:
            changes["identity_key"] = DEV_IDENTITY_KEY
        if not settings.sample_key:
            changes["sample_key"] = DEV_SAMPLE_KEY
    return msgspec.structs.replace(settings, **changes) if changes else settings


def _check_secrets(settings: Settings) -> None:
    if settings.environment != "prod":
        return
    if len(settings.identity_key) < 16:
        raise SettingsError(
            "CLEARANCE_IDENTITY_KEY must be set to a secret of at least 16 characters "
            "(it keys the hash of consignee identities); set CLEARANCE_ENV=dev for local use"
        )
    if len(settings.sample_key) < 16:
        raise SettingsError(
            "CLEARANCE_SAMPLE_KEY must be set to a secret of at least 16 characters "
            "(it keys the compliance sample's draw); set CLEARANCE_ENV=dev for local use"
        )
    if settings.sample_key == settings.identity_key:
        raise SettingsError("CLEARANCE_SAMPLE_KEY must differ from CLEARANCE_IDENTITY_KEY")


def _check_kafka_security(settings: Settings) -> None:
    protocol = settings.kafka_security_protocol
    sasl = protocol.startswith("SASL_")
    tls = protocol.endswith("SSL")
    if sasl and not (settings.kafka_sasl_username and settings.kafka_sasl_password):
        raise SettingsError(
            f"KAFKA_SECURITY_PROTOCOL={protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
        )
    if bool(settings.kafka_ssl_certfile) != bool(settings.kafka_ssl_keyfile):
        raise SettingsError("KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE go together (mutual TLS)")
    if not tls and (settings.kafka_ssl_cafile or settings.kafka_ssl_certfile):
        raise SettingsError(
            f"KAFKA_SSL_* files are set but KAFKA_SECURITY_PROTOCOL={protocol} does not use TLS"
        )
    if settings.environment == "prod" and protocol == "SASL_PLAINTEXT":
        raise SettingsError(
            "KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT sends credentials without TLS: use SASL_SSL"
        )


def _check_platforms(settings: Settings) -> None:
    for name in settings.platform_list:
        if name in RESERVED_PLATFORMS or not PLATFORM_NAME.match(name):
            raise SettingsError(f"CLEARANCE_PLATFORMS: {name!r} is not a platform name")


def to_environment(settings: Settings, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default ``os.environ``) plus the variables that make a child process load
    ``settings`` again (``clearance dev``, the benchmarks and tests start workers this way)."""
    environment = dict(os.environ if base is None else base)
    for field, variable in ENV.items():
        value = getattr(settings, field)
        if value is None:
            environment.pop(variable, None)
            continue
        environment[variable] = str(value).lower() if isinstance(value, bool) else str(value)
    return environment
