"""Every reason code and risk signal the engine emits, and what each means in the officer's
language: the shared table ``packs/reasons.yaml``, English and Vietnamese.

The engine's messages (English, with their numbers and references) are the record of a decision;
a reader shows the text of the code in its language, then that message. The table is checked
when it is loaded: each code below has a non-empty text in every language, and the table lists no
other code (a misspelt one would never be shown).
"""

from __future__ import annotations

import functools
import importlib.resources
from typing import Literal

import msgspec
import yaml

from clearance.domain.packs import PackError

__all__ = [
    "LANGUAGES",
    "REASON_CODES",
    "RISK_SIGNALS",
    "Language",
    "ReasonTexts",
    "bundled_reason_texts",
    "load_reason_texts",
]

Language = Literal["en", "vi"]
LANGUAGES: tuple[Language, ...] = ("en", "vi")

#: Every reason code the engine and the decision revisions put in ``decision.reasons``
#: (``packs/README.md`` explains each; a test checks this list against the engine's source).
REASON_CODES: frozenset[str] = frozenset(
    {
        "COMPLIANCE_SAMPLE",
        "CONSIGNEE_AGGREGATE_EXCEEDS_THRESHOLD",
        "CONSIGNEE_ANNUAL_CAP_EXCEEDED",
        "CUSTOMS_CONTROL",  # what a platform reads in place of the risk reasons (issue #20)
        "DE_MINIMIS_NOT_ELIGIBLE",
        "DUTY_DE_MINIMIS",
        "EXCHANGE_RATE_UNAVAILABLE",
        "EXCISE_GOODS_FORMAL_ENTRY",
        "FLAT_DUTY_PER_SUBHEADING",
        "GIFT_RELIEF",
        "HS_CODE_MISMATCH",
        "HS_CODE_SUGGESTED",
        "HS_CODE_TOO_SHORT",
        "INCONSISTENT_SHIPPING",
        "LOW_VALUE_CEILING_EXCEEDED",
        "MISSING_CONSIGNEE_IDENTITY",
        "MISSING_HS_CODE",
        "MISSING_UNIT_WEIGHT",
        "ORDER_CANCELLED",
        "PLATFORM_CHANGE_REFUSED",
        "PREFERENCE_APPLIED",
        "PREFERENCE_NOT_APPLIED",
        "PROHIBITED_GOODS",
        "REASSESSED_AFTER_INSPECTION",
        "RELEASED_AFTER_INSPECTION",
        "RESTRICTED_GOODS",
        "RISK_SCORE",
        "RULE_NOT_IN_FORCE",
        "SEIZED_AFTER_INSPECTION",
        "TARIFF_LINE_AMBIGUOUS",
        "TARIFF_RATE_UNKNOWN",
        "TAX_COLLECTED_AT_CHECKOUT",
        "TAX_COLLECTION_NOT_RECOGNISED",
        "TAX_DE_MINIMIS",
        "TAX_DUE_FROM_SELLER",
        "VAT_RATE_CONDITIONAL",
    }
)

#: Every risk signal the engine puts in ``decision.risk.signals`` (some share a reason's code).
RISK_SIGNALS: frozenset[str] = frozenset(
    {
        "COMPLIANCE_SAMPLE",
        "CONSIGNEE_VELOCITY",
        "HIGH_RISK_ORIGIN",
        "HS_CODE_MISMATCH",
        "HS_CODE_TOO_SHORT",
        "INCONSISTENT_SHIPPING",
        "MISSING_CONSIGNEE_IDENTITY",
        "MISSING_HS_CODE",
        "MISSING_UNIT_WEIGHT",
        "NEW_SELLER",
        "SCREENING_PROHIBITED",
        "SCREENING_RESTRICTED",
        "TARIFF_LINE_AMBIGUOUS",
        "TARIFF_RATE_UNKNOWN",
        "UNDERVALUATION_SUSPECTED",
        "VALUE_JUST_UNDER_THRESHOLD",
    }
)

_SOURCE = "packs/reasons.yaml"


class _Texts(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    en: str
    vi: str


class _Table(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    codes: dict[str, _Texts]


class ReasonTexts:
    """The text of each code in each language."""

    __slots__ = ("_texts",)

    def __init__(self, texts: dict[str, dict[Language, str]]) -> None:
        self._texts = texts

    def text(self, code: str, language: Language) -> str:
        """What ``code`` means in ``language``; the code itself for one the table lacks (a
        decision stored by a later release)."""
        texts = self._texts.get(code)
        return code if texts is None else texts[language]

    @property
    def codes(self) -> frozenset[str]:
        """The codes the table explains."""
        return frozenset(self._texts)


def load_reason_texts(text: str | bytes, origin: str = _SOURCE) -> ReasonTexts:
    """Decode and check the table; raises ``PackError`` naming the file and the code."""
    try:
        table = msgspec.convert(yaml.safe_load(text), _Table)
    except (yaml.YAMLError, msgspec.ValidationError) as error:
        raise PackError(f"{origin}: {error}") from error
    expected = REASON_CODES | RISK_SIGNALS
    missing = sorted(expected - table.codes.keys())
    if missing:
        raise PackError(f"{origin}: codes: no text for {', '.join(missing)}")
    unknown = sorted(table.codes.keys() - expected)
    if unknown:
        raise PackError(f"{origin}: codes: not a code the engine emits: {', '.join(unknown)}")
    texts: dict[str, dict[Language, str]] = {}
    for code, entry in table.codes.items():
        texts[code] = {"en": entry.en.strip(), "vi": entry.vi.strip()}
        empty = [language for language in LANGUAGES if not texts[code][language]]
        if empty:
            raise PackError(f"{origin}: codes.{code}: empty text in {', '.join(empty)}")
    return ReasonTexts(texts)


@functools.cache
def bundled_reason_texts() -> ReasonTexts:
    """The table shipped in the package (read once per process)."""
    text = (importlib.resources.files("clearance.packs") / "reasons.yaml").read_bytes()
    return load_reason_texts(text)
