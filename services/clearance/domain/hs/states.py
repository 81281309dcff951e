"""Goods that a heading takes in one state only: plastics in primary forms, waste and scrap,
unwrought metal, live animals.

A description that names an article ("polyethylene packaging bag", "floor mats made of
polyethylene sheeting") shares its material's words with the heading of that material in
primary forms, and often more of them than with the heading of the article. The nomenclature
says what a primary form is (Chapter 39, Note 6: liquids and pastes, including dispersions and
solutions; blocks of irregular shape, lumps, powders, granules, flakes and similar bulk forms),
and waste, unwrought metal and live animals are states the goods are said to be in. So a
candidate under such a heading fits a description only when the description says that state;
the classifier lowers the others (``Params.unstated_state``).

The headings are those whose HS 2022 text is the state and nothing else: "Polymers of
ethylene, in primary forms" (not "Natural rubber ... in primary forms or in plates, sheets or
strip"), "Waste, parings and scrap, of plastics", "Aluminium; unwrought", "Bovine animals;
live". The words are read from the description's terms (``clearance.domain.hs.text.terms``:
folded, singular, with word pairs), Vietnamese by its two-syllable phrases ("dạng hạt", "phế
liệu"), since one syllable folded ("hat", "long") is also an English word.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, NamedTuple

from clearance.domain.hs.text import term_set

__all__ = ["STATES", "State", "states_said"]


class State(NamedTuple):
    """The headings whose goods are in this state only, and the terms that say it."""

    headings: frozenset[str]
    terms: frozenset[str]


def _headings(text: str) -> frozenset[str]:
    """``"3901-3914 3915"`` -> every four-digit heading in the ranges."""
    found: set[str] = set()
    for part in text.split():
        first, _, last = part.partition("-")
        found.update(f"{number:04d}" for number in range(int(first), int(last or first) + 1))
    return frozenset(found)


STATES: Final[dict[str, State]] = {
    # Chapter 39 Note 6; headings 39.01-39.14 are each "..., in primary forms"
    "primary_form": State(
        _headings("3901-3914"),
        term_set(
            "primary liquid paste dispersion emulsion suspension solution block lump powder "
            "granule granular pellet flake resin polymer homopolymer copolymer virgin "
            "nguyen_sinh dang_hat hat_nhua dang_bot dang_long dang_cuc dung_dich nhu_tuong "
            "dang_nguyen"
        ),
    ),
    # headings whose text is waste and scrap only (39.15, 47.07, 50.03, 51.03, 52.02, 55.05,
    # 63.10, 71.12, 72.04, 74.04, 75.03, 76.02, 78.02, 79.02, 80.02, 85.49; the textile wastes
    # with their noils and garnetted stock; not 40.04 or 70.01, which also take rubber powders
    # and glass in the mass)
    "waste": State(
        _headings(
            "3915 4707 5003 5103 5202 5505 6310 7112 7204 7404 7503 7602 7802 7902 8002 8549"
        ),
        term_set(
            "waste scrap paring cutting trimming remnant rag noil garnetted recovered "
            "phe_lieu phe_thai vun_nhua manh_vun"
        ),
    ),
    # "Pig iron and spiegeleisen in pigs, blocks or other primary forms", "Iron and non-alloy
    # steel in ingots or other primary forms", "Copper; refined and copper alloys, unwrought",
    # "Nickel; unwrought" ... "Tin; unwrought" (72.01, 72.06, 74.03 ... 80.01)
    # ("chưa gia công", not yet worked: "chưa" is a stopword, so "gia công" alone says it, and
    # "đã gia công" too; a wrong reading only spares a candidate its loss)
    "unwrought": State(
        _headings("7201 7206 7403 7502 7601 7801 7901 8001"),
        term_set(
            "unwrought ingot cathode pig primary block nhom_thoi dang_thoi thoi_nhom thep_thoi "
            "gia_cong"
        ),
    ),
    # "Horses, asses, mules and hinnies; live" ... "Animals; live, n.e.c.", "Fish; live"
    "live": State(
        _headings("0101-0106 0301"),
        term_set("live living alive breeding ca_song lon_song ga_song vit_song"),
    ),
}


def states_said(terms: Iterable[str]) -> frozenset[str]:
    """The states a description's terms say (``{"primary_form"}`` for "PP granules")."""
    found = frozenset(terms)
    return frozenset(name for name, state in STATES.items() if not state.terms.isdisjoint(found))
