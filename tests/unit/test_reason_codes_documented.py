"""Every reason code and risk signal the domain emits is explained in packs/README.md, so an
officer or a platform reading a decision can look any code up, and is one the console's table of
texts (``clearance.domain.reasons``) knows."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "services" / "clearance" / "domain"
README = ROOT / "services" / "clearance" / "packs" / "README.md"

# code="X", code=CONSTANT is resolved below, and signals appended as string literals
EMITTED = re.compile(r'code="([A-Z_]+)"|signals\.append\("([A-Z_]+)"\)|"([A-Z_]+)" if hit\.kind')
CONSTANT = re.compile(r'^\s*([A-Za-z_]+)(?:: Final)? = "([A-Z_]+)"$', re.MULTILINE)


def _emitted_codes() -> set[str]:
    codes: set[str] = set()
    for path in DOMAIN.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for match in EMITTED.finditer(text):
            codes.update(group for group in match.groups() if group)
        codes.update(value for _, value in CONSTANT.findall(text))
        codes.update(re.findall(r'else "([A-Z_]+)"', text))
    return codes


def test_the_scan_finds_the_codes_it_should() -> None:
    codes = _emitted_codes()
    assert {"DUTY_DE_MINIMIS", "RISK_SCORE", "COMPLIANCE_SAMPLE", "NEW_SELLER"} <= codes
    assert {"PROHIBITED_GOODS", "RESTRICTED_GOODS", "SCREENING_RESTRICTED"} <= codes
    assert "RULE_NOT_IN_FORCE" in codes  # a class attribute: ``code: Final = "..."``


def test_every_emitted_code_is_in_the_packs_readme() -> None:
    documented = set(re.findall(r"`([A-Z][A-Z_]+)`", README.read_text(encoding="utf-8")))
    assert sorted(_emitted_codes() - documented) == []


def test_every_emitted_code_is_one_the_console_has_texts_for() -> None:
    from typing import get_args

    from clearance.domain.reasons import REASON_CODES, RISK_SIGNALS
    from clearance.messages import DeadLetterCode

    # An exception's dead-letter code (``UnsupportedDestination.code``) is no reason.
    reasons = _emitted_codes() - set(get_args(DeadLetterCode))
    assert sorted(reasons - (REASON_CODES | RISK_SIGNALS)) == []
