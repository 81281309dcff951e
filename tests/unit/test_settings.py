"""Settings come from the environment; bad values name the variable."""

from __future__ import annotations

import pytest

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
    ],
)
def test_invalid_values_name_the_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_settings({"CLEARANCE_IDENTITY_KEY": "k" * 32, variable: value})
