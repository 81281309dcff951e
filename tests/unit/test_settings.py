"""Settings come from the environment; bad values name the variable."""

from __future__ import annotations

import pytest

from clearance.entrypoints.http.console import trace_link
from clearance.settings import DEV_IDENTITY_KEY, SettingsError, load_settings


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
