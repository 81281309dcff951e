"""The console's text for each reason code and risk signal (``packs/reasons.yaml``): both
languages for every code the engine emits, checked when the table is loaded."""

from __future__ import annotations

import argparse
import importlib.resources
import json

import pytest
import yaml

from clearance.devtools.generator import generate_events
from clearance.domain.packs import PackError, PackRegistry
from clearance.domain.reasons import (
    REASON_CODES,
    RISK_SIGNALS,
    bundled_reason_texts,
    load_reason_texts,
)
from clearance.entrypoints.assess_cmd import StreamAssessor
from clearance.service.assessing import Assessor

TABLE = (importlib.resources.files("clearance.packs") / "reasons.yaml").read_text("utf-8")


def _table_without(code: str) -> str:
    raw = yaml.safe_load(TABLE)
    del raw["codes"][code]
    return yaml.safe_dump(raw, allow_unicode=True)


def test_the_bundled_table_has_both_languages_for_every_code() -> None:
    texts = bundled_reason_texts()
    assert texts.codes == REASON_CODES | RISK_SIGNALS
    for code in texts.codes:
        english, vietnamese = texts.text(code, "en"), texts.text(code, "vi")
        assert english and vietnamese and english != vietnamese, code
    assert texts.text("DUTY_DE_MINIMIS", "vi").startswith("Trong ngưỡng miễn thuế")


def test_a_code_without_text_is_refused_at_load() -> None:
    with pytest.raises(PackError, match="no text for RISK_SCORE"):
        load_reason_texts(_table_without("RISK_SCORE"))


def test_an_unknown_code_is_refused_at_load() -> None:
    raw = yaml.safe_load(TABLE)
    raw["codes"]["DUTY_DE_MINIMUS"] = {"en": "typo", "vi": "lỗi"}
    with pytest.raises(PackError, match="not a code the engine emits: DUTY_DE_MINIMUS"):
        load_reason_texts(yaml.safe_dump(raw, allow_unicode=True))


@pytest.mark.parametrize(
    ("entry", "problem"),
    [({"en": "Within", "vi": "  "}, "empty text in vi"), ({"en": "Within"}, "vi")],
)
def test_a_missing_or_empty_language_is_refused_at_load(
    entry: dict[str, str], problem: str
) -> None:
    raw = yaml.safe_load(TABLE)
    raw["codes"]["DUTY_DE_MINIMIS"] = entry
    with pytest.raises(PackError, match=problem):
        load_reason_texts(yaml.safe_dump(raw, allow_unicode=True))


def test_an_unknown_code_in_a_stored_decision_is_shown_as_itself() -> None:
    assert bundled_reason_texts().text("A_LATER_CODE", "vi") == "A_LATER_CODE"


def test_every_code_a_generated_stream_gets_has_a_text() -> None:
    """At run time too (the source scan cannot see codes built from data)."""
    engine = Assessor("test-identity-key-0123", PackRegistry.bundled())
    stream = StreamAssessor(engine, argparse.Namespace(pack=None, as_of=None))
    seen: set[str] = set()
    for offset, (_, value) in enumerate(generate_events(2_000, seed=5)):
        body = json.loads(stream.one("generated", offset, value))
        if body.get("type") == "clearance.decision":
            seen.update(reason["code"] for reason in body["reasons"])
            seen.update(body["risk"]["signals"])
    assert {"RISK_SCORE", "NEW_SELLER", "TARIFF_RATE_UNKNOWN"} <= seen
    assert seen <= bundled_reason_texts().codes
