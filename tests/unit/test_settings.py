"""Settings come from the environment; bad values name the variable."""

from __future__ import annotations

import asyncio
import re
import ssl
from pathlib import Path
from typing import Any

import pytest

from clearance.adapters import kafka
from clearance.adapters.kafka import security_options
from clearance.entrypoints.http.controllers.console import trace_link
from clearance.settings import (
    DEV_IDENTITY_KEY,
    DEV_SAMPLE_KEY,
    Settings,
    SettingsError,
    load_settings,
)


def test_defaults_and_overrides() -> None:
    settings = load_settings(
        {"CLEARANCE_ENV": "dev", "CLEARANCE_BATCH_SIZE": "250", "CLEARANCE_TOPIC_PREFIX": "x."}
    )
    assert settings.batch_size == 250
    assert settings.topic("orders.v1") == "x.orders.v1"
    assert settings.identity_key == DEV_IDENTITY_KEY


def test_production_refuses_to_start_without_an_identity_key() -> None:
    with pytest.raises(SettingsError, match="CLEARANCE_IDENTITY_KEY"):
        load_settings({})


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CLEARANCE_BATCH_SIZE", "many"),
        ("CLEARANCE_BATCH_SIZE", "0"),
        ("CLEARANCE_ENABLE_IDEMPOTENCE", "maybe"),
        ("CLEARANCE_ENV", "staging"),
        ("CLEARANCE_TRACE_URL_TEMPLATE", "http://localhost:16686/trace/"),  # no {trace_id}
        ("CLEARANCE_TRACE_URL_TEMPLATE", "javascript:alert('{trace_id}')"),
    ],
)
def test_invalid_values_name_the_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_settings({"CLEARANCE_IDENTITY_KEY": "k" * 32, variable: value})


TLS = Path(__file__).resolve().parents[1] / "data" / "tls"
PROD = {"CLEARANCE_IDENTITY_KEY": "i" * 32, "CLEARANCE_SAMPLE_KEY": "s" * 32}


def test_production_needs_its_own_key_for_the_compliance_sample() -> None:
    with pytest.raises(SettingsError, match="CLEARANCE_SAMPLE_KEY"):
        load_settings({"CLEARANCE_IDENTITY_KEY": "i" * 32})
    with pytest.raises(SettingsError, match="must differ"):
        load_settings({"CLEARANCE_IDENTITY_KEY": "k" * 32, "CLEARANCE_SAMPLE_KEY": "k" * 32})
    assert load_settings(PROD).sample_key == "s" * 32
    assert load_settings({"CLEARANCE_ENV": "test"}).sample_key == DEV_SAMPLE_KEY


def test_orders_arrive_on_a_topic_per_platform_in_production() -> None:
    prod = load_settings(PROD)
    assert prod.per_platform and prod.orders_topic("shopmart") == "orders.v1.shopmart"
    assert prod.platform_of("orders.v1.shopmart") == "shopmart"
    for topic in ("orders.v1", "orders.v1.dlt", "decisions.v1", "orders.v1.Shop", "x.orders.v1.a"):
        assert prod.platform_of(topic) is None, topic
    shared = load_settings({**PROD, "CLEARANCE_ORDER_TOPICS": "shared"})
    assert shared.orders_topic("shopmart") == "orders.v1"
    assert shared.platform_of("orders.v1.shopmart") is None  # nothing is bound: the stated risk
    assert load_settings({"CLEARANCE_ENV": "dev"}).order_topics == "shared"


def test_the_worker_subscribes_to_the_platforms_topics_by_list_or_by_pattern() -> None:
    listed = load_settings({**PROD, "CLEARANCE_PLATFORMS": "shopmart, quickcart"})
    assert listed.consumed_topics() == (
        ["orders.v1.shopmart", "orders.v1.quickcart", "inspections.v1"],
        None,
    )
    prefixed = load_settings({**PROD, "CLEARANCE_TOPIC_PREFIX": "eu."})
    topics, pattern = prefixed.consumed_topics()
    assert topics == [] and pattern is not None
    matches = {t for t in _CANDIDATES if re.match(pattern, t)}
    assert matches == {"eu.orders.v1.shopmart", "eu.orders.v1.q-2", "eu.inspections.v1"}
    with pytest.raises(SettingsError, match="CLEARANCE_PLATFORMS"):
        load_settings({**PROD, "CLEARANCE_PLATFORMS": "shopmart,dlt"})


_CANDIDATES = {
    "eu.orders.v1.shopmart",
    "eu.orders.v1.q-2",
    "eu.inspections.v1",
    "eu.orders.v1",
    "eu.orders.v1.dlt",  # the dead letters are never read back as orders
    "eu.decisions.v1",
    "orders.v1.shopmart",  # another installation's prefix
    "eu.orders.v1.shop.x",
    "eu.orders.v1.Shop",
}


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "KAFKA_SASL_USERNAME"),
        ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CERTFILE": "c.pem"}, "go together"),
        ({"KAFKA_SSL_CAFILE": "ca.pem"}, "does not use TLS"),
        ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, "KAFKA_SECURITY_PROTOCOL"),
        ({"KAFKA_SASL_MECHANISM": "GSSAPI"}, "KAFKA_SASL_MECHANISM"),
        (
            {
                "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                "KAFKA_SASL_USERNAME": "u",
                "KAFKA_SASL_PASSWORD": "p",
            },
            "without TLS",
        ),
    ],
)
def test_kafka_security_settings_are_checked_at_start(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({**PROD, **environ})


def _clients_made(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> dict[str, dict[str, Any]]:
    """The keyword arguments each Kafka client the service makes is given (clients recorded,
    not connected)."""
    made: dict[str, dict[str, Any]] = {}

    class Recorder:
        def __init__(self, kind: str, **kwargs: Any) -> None:
            made[kind] = kwargs

        async def start(self) -> None:
            return None

        async def list_topics(self) -> list[str]:
            return [topic.name for topic in kafka.service_topics(settings)]

        async def close(self) -> None:
            return None

    monkeypatch.setattr(kafka, "AIOKafkaProducer", lambda **kw: Recorder("producer", **kw))
    monkeypatch.setattr(kafka, "AIOKafkaConsumer", lambda **kw: Recorder("consumer", **kw))
    monkeypatch.setattr(kafka, "AIOKafkaAdminClient", lambda **kw: Recorder("admin", **kw))
    kafka.make_producer(settings)
    kafka.make_consumer(settings)
    asyncio.run(kafka.ensure_topics(settings))
    return made


def test_the_workers_fetch_waits_for_a_batch_or_its_wait_as_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    defaults = _clients_made(monkeypatch, load_settings(PROD))["consumer"]
    # A fetch waits for about 15 orders, at most 20 ms: batches share their round trips (#23).
    assert (defaults["fetch_min_bytes"], defaults["fetch_max_wait_ms"]) == (16_384, 20)
    tuned = load_settings(
        {**PROD, "CLEARANCE_FETCH_MIN_BYTES": "1", "CLEARANCE_FETCH_MAX_WAIT_MS": "100"}
    )
    consumer = _clients_made(monkeypatch, tuned)["consumer"]
    assert (consumer["fetch_min_bytes"], consumer["fetch_max_wait_ms"]) == (1, 100)
    with pytest.raises(SettingsError, match="CLEARANCE_FETCH_MIN_BYTES"):
        load_settings({**PROD, "CLEARANCE_FETCH_MIN_BYTES": "0"})


def test_every_client_the_service_makes_logs_in_as_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scram = load_settings(
        {
            **PROD,
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SASL_USERNAME": "clearance-worker",
            "KAFKA_SASL_PASSWORD": "secret",
            "KAFKA_SSL_CAFILE": str(TLS / "ca.crt"),
        }
    )
    options = security_options(scram)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == (
        "clearance-worker",
        "secret",
    )
    context = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert any("clearance test CA" in str(ca["subject"]) for ca in context.get_ca_certs())
    made = _clients_made(monkeypatch, scram)
    assert set(made) == {"producer", "consumer", "admin"}
    for kind, kwargs in made.items():
        assert kwargs["security_protocol"] == "SASL_SSL", kind
        assert kwargs["sasl_plain_username"] == "clearance-worker", kind
        assert isinstance(kwargs["ssl_context"], ssl.SSLContext), kind
    mutual = load_settings(
        {
            **PROD,
            "KAFKA_SECURITY_PROTOCOL": "SSL",
            "KAFKA_SSL_CAFILE": str(TLS / "ca.crt"),
            "KAFKA_SSL_CERTFILE": str(TLS / "client.crt"),
            "KAFKA_SSL_KEYFILE": str(TLS / "client.key"),
        }
    )
    assert "sasl_mechanism" not in security_options(mutual)
    plain = security_options(load_settings(PROD))
    assert plain == {"security_protocol": "PLAINTEXT"}


def test_the_console_links_a_decision_to_its_trace_in_jaeger_or_tempo() -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    jaeger = "http://localhost:16686/trace/{trace_id}"
    # Grafana's Explore URL for Tempo holds JSON: braces other than {trace_id} stay as they are
    tempo = 'https://grafana.example/explore?left={"datasource":"tempo","queries":[{"query":"{trace_id}"}]}'
    for template in (jaeger, tempo):
        settings = load_settings({"CLEARANCE_ENV": "dev", "CLEARANCE_TRACE_URL_TEMPLATE": template})
        link = trace_link(settings.trace_url_template, trace_id)
        assert link == template.replace("{trace_id}", trace_id)
    assert trace_link("", trace_id) is None and trace_link(jaeger, None) is None
