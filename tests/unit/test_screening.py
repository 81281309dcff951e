"""Screening reads a listing the way an officer does: contraband is caught in English and
Vietnamese (with or without diacritics), look-alikes (colours, imitations, toys, prints, scents,
tools named after weapons) are not."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from clearance.domain.packs import PackRegistry, UnsupportedDestination, load_pack_text
from clearance.domain.screening import screen_items
from clearance.messages import Item, Money, decode_order_event
from clearance.service.assessing import Assessor
from clearance.settings import DEV_IDENTITY_KEY

DATA = Path(__file__).resolve().parent.parent / "data"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
REGISTRY = PackRegistry.bundled()


def _hits(description: str, pack_id: str = "vn", hs_code: str | None = None) -> list[str]:
    item = Item(
        description=description,
        quantity=1,
        unit_price=Money("1"),
        origin_country="CN",
        hs_code=hs_code,
        line_id=1,
    )
    return [f"{hit.code}: {hit.matched}" for hit in screen_items([item], REGISTRY.get(pack_id))]


def _labelled() -> list[dict[str, str]]:
    with (DATA / "screening_labelled.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_labelled_set_is_big_enough_and_balanced() -> None:
    rows = _labelled()
    contraband = [row for row in rows if row["label"] == "contraband"]
    assert len(rows) >= 60
    assert 0.4 <= len(contraband) / len(rows) <= 0.6
    for category in ("wildlife", "narcotics", "weapons", "e-cigarettes"):
        for label in ("contraband", "look-alike"):
            for language in ("en", "vi"):
                assert any(
                    (row["category"], row["label"], row["language"]) == (category, label, language)
                    for row in rows
                ), (category, label, language)


@pytest.mark.parametrize("row", _labelled(), ids=lambda row: row["listing"])
def test_every_contraband_listing_is_flagged_and_no_look_alike_is(row: dict[str, str]) -> None:
    hits = _hits(row["listing"], "vn", row["hs_code"] or None)
    if row["label"] == "contraband":
        assert hits, f"not caught: {row['listing']} ({row['why']})"
    else:
        assert hits == [], f"look-alike flagged: {row['listing']} ({row['why']})"


def test_uci_look_alikes_are_not_flagged_in_any_pack() -> None:
    # descriptions of both UCI giftware streams that carry a listed word (tests/data, CC BY 4.0)
    with (DATA / "uci_screening_lookalikes.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) >= 100
    for pack in ("vn", "eu", "gb", "au", "us", "sg", "ca", "jp"):
        flagged = {
            row["description"]: hits
            for row in rows
            if (hits := _hits(row["description"], pack, row["hs_code"] or None))
        }
        assert flagged == {}, pack


def test_a_colour_word_needs_evidence_of_the_material() -> None:
    assert _hits("Ivory kitchen scales", "eu") == []
    assert _hits("Ivory bangle", "eu") == ["IVORY: ivory (bangle)"]
    assert _hits("Ivory bangle, resin", "eu") == []  # another material is stated
    assert _hits("Carved ivory pendant on a silver chain", "eu") == ["IVORY: ivory (carved)"]
    assert _hits("Genuine ivory chess set", "eu") == ["IVORY: ivory (genuine)"]
    assert _hits("Ivory chess set", "eu", hs_code="960110") == ["IVORY: HS 960110"]
    assert _hits("Revolver wooden ruler") == []
    assert _hits("Colt revolver .38 calibre") == ["WEAPONS: revolver (calibre)"]


def test_negation_imitation_and_depiction_clear_the_name_only() -> None:
    assert _hits("Handbag, no ivory used", "eu") == []
    assert _hits("Imitation rhino horn cup", "eu") == []
    assert _hits("Rhino horn cup", "eu") == ["CITES_WILDLIFE: rhino horn"]
    assert _hits("Pangolin soft toy", "eu") == []
    assert _hits("Pangolin", "eu", hs_code="950300") == []  # declared as a toy
    assert _hits("Dried pangolin", "eu") == ["CITES_WILDLIFE: pangolin"]
    # a substance is not cleared by "synthetic" (synthetic drugs are drugs)
    assert _hits("Synthetic cannabis 5g", "eu") == ["CANNABIS: cannabis"]
    assert _hits("Cannabis scented candle", "eu") == []


def test_diacritics_typed_must_match_and_bare_words_match_bare() -> None:
    folder = Path(__file__).resolve().parents[2] / "services/clearance/packs/vn"
    pack = load_pack_text(
        (folder / "pack.yaml")
        .read_text(encoding="utf-8")
        .replace("terms: [firearm,", "terms: [đạn, firearm,"),
        "test",
        read_file=lambda name: (folder / name).read_bytes(),
    )

    def flagged(description: str) -> bool:
        item = Item(
            description=description,
            quantity=1,
            unit_price=Money("1"),
            origin_country="CN",
            line_id=1,
        )
        return bool(screen_items([item], pack))

    assert flagged("hộp đạn 9mm")  # with its diacritics
    assert flagged("hop dan 9mm")  # typed without: the bare form
    assert not flagged("miếng dán màn hình")  # 'dán' (stick) is not 'đạn' (bullet)


def test_cannabis_seeds_are_caught_in_every_pack() -> None:
    assert _hits("cannabis seeds feminized") == ["NARCOTICS: cannabis"]
    assert _hits("hạt giống cần sa") == ["NARCOTICS: hạt giống cần sa"]
    for pack in ("eu", "gb", "au", "us", "sg", "ca", "jp"):
        assert _hits("cannabis seeds feminized", pack) == ["CANNABIS: cannabis"], pack


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data absent: the UCI stream is there")
def test_the_uci_stream_is_almost_never_flagged() -> None:
    # clearance import online-retail ... --as-of 2026-11-20, then assess: measured 210 of 1,572
    # decisions flagged (13.4%, all IVORY) before the officer-like matcher, 0 after (the items
    # carry no codes: the engine's classifier suggests them)
    from clearance.devtools.importer import online_retail_events

    path = SHARED / "orders" / "online_retail_II_2009-12_2010-12.csv.gz"
    assessor = Assessor(DEV_IDENTITY_KEY)
    decided = flagged = 0
    for _, value in online_retail_events(path, as_of=date(2026, 11, 20)):
        order = decode_order_event(value)
        try:
            decision = assessor.assess(order).decision  # type: ignore[arg-type]
        except UnsupportedDestination:
            continue
        decided += 1
        codes = {reason.code for reason in decision.reasons}
        flagged += bool(codes & {"PROHIBITED_GOODS", "RESTRICTED_GOODS"})
    assert decided > 1500
    assert flagged / decided <= 0.005
