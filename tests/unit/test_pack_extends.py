"""Packs extend packs: a proposed law overrides only what it changes, merged before validation
and the digest (as an OpenFisca reform modifies a baseline); a dated value may carry its own
reference."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
import pytest

from clearance.domain.packs import PackError, PackRegistry, load_pack_text

REGISTRY = PackRegistry.bundled()

BASE = """
id: base
version: "1"
name: Base
status: in_force
countries: [VN]
currency: VND
timezone: Asia/Ho_Chi_Minh
valuation: {threshold: cif, customs_value: cif, reference: r, source: s}
duty:
  de_minimis:
    option: relief
    transport_modes: [express]
    value_limit:
      values: {2016-09-01: "1000000", 2027-01-01: null}
      unit: VND
      reference: Decree 134
      source: https://example.org/134
  table: {reference: r, source: s, lines: []}
tax:
  name: VAT
  base: [customs_value, duty]
  standard_rate: {values: {2009-01-01: "0.10"}, unit: rate, reference: VAT Law, source: s}
options:
  relief: {default: true, description: d, reference: r, source: s}
"""

CHILD = """
id: child
extends: base
version: "1"
name: Child
status: proposed
options: {relief: null}
duty:
  de_minimis:
    option: null
    transport_modes: null
    value_limit:
      values:
        2025-02-11: {value: "2000000", reference: Draft decree, source: https://example.org/draft}
"""


def _reader(texts: dict[str, str]) -> Any:
    return lambda pack_id: texts[pack_id].encode() if pack_id in texts else None


def test_a_child_overrides_only_what_it_names() -> None:
    child = load_pack_text(CHILD, "child.yaml", read_pack=_reader({"base": BASE}))
    rule = child.duty.de_minimis
    assert rule is not None
    assert (child.id, child.status, child.extends, child.currency) == (
        "child",
        "proposed",
        "base",
        "VND",
    )
    assert rule.option is None and rule.transport_modes == [] and child.options == {}
    limit = rule.value_limit
    # the dated values merge: the reform changes the parameter from its date, null stays null
    assert limit.at(date(2020, 1, 1)) == 1_000_000
    assert limit.at(date(2026, 1, 1)) == 2_000_000
    assert limit.at(date(2027, 6, 1)) is None
    assert limit.cite(date(2026, 1, 1)) == "Draft decree <https://example.org/draft>"
    assert limit.cite(date(2020, 1, 1)) == "Decree 134 <https://example.org/134>"
    assert limit.reference_at(date(2026, 1, 1)) == ("Draft decree", "https://example.org/draft")


def test_the_digest_covers_the_merged_pack() -> None:
    first = load_pack_text(CHILD, "child.yaml", read_pack=_reader({"base": BASE}))
    changed_base = BASE.replace('"0.10"', '"0.08"')
    second = load_pack_text(CHILD, "child.yaml", read_pack=_reader({"base": changed_base}))
    assert first.digest != second.digest


def test_a_missing_base_or_a_cycle_is_refused_with_the_file_named() -> None:
    with pytest.raises(PackError, match=r"child.yaml: extends: no pack 'base'"):
        load_pack_text(CHILD, "child.yaml", read_pack=_reader({}))
    looped = BASE.replace("id: base", "id: base\nextends: child")
    with pytest.raises(PackError, match=r"child\.yaml.*cycle"):
        load_pack_text(CHILD, "child.yaml", read_pack=_reader({"base": looped, "child": CHILD}))
    typo = CHILD.replace("option: null", "opton: null")
    with pytest.raises(PackError, match="opton"):
        load_pack_text(typo, "child.yaml", read_pack=_reader({"base": BASE}))


def test_the_draft_decree_pack_differs_from_vn_only_in_the_duty_relief() -> None:
    vn = msgspec.to_builtins(REGISTRY.get("vn"))
    draft = msgspec.to_builtins(REGISTRY.get("vn-draft-2025"))
    own = {"id", "version", "name", "status", "description", "digest", "source_file", "extends"}
    differing = {key for key in vn if vn[key] != draft[key]} - own
    assert differing == {"duty", "options"}
    assert {k for k in vn["duty"] if vn["duty"][k] != draft["duty"][k]} == {"de_minimis"}
    # the drift the hand copy had: chapter 93 screening, risk weights and reference prices
    assert draft["screening"] == vn["screening"] and draft["risk"] == vn["risk"]
    assert draft["risk_weights"] == vn["risk_weights"]
