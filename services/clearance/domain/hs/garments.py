"""Garments by type: the headings of Chapters 61 and 62 that take each kind of garment.

The two chapters sort garments first by type, then by who wears them, then by fibre: "Jerseys,
pullovers, cardigans, waistcoats and similar articles" (61.10), "T-shirts, singlets and other
vests" (61.09), "Overcoats, ..., anoraks (including ski-jackets), wind-cheaters" (61.01) or
"Suits, ensembles, jackets, blazers, trousers, ... shorts" (61.03). A description of "men's knit
jackets, 100% polyester" shares more words (knit, polyester, men's) with the jerseys of man-made
fibres than with any jacket, so the type it names is read apart: a candidate of these chapters
whose heading does not take any type the description names loses ``Params.other_garment``.

A word may name types of several headings ("jacket": 61.01 and 61.03; "vest": the singlets of
61.09 and the waistcoats of 61.10; "pants": trousers, and underpants in British English): its
type takes all of them, and a description that names several types takes every heading of each
("jacket and cardigan"); but swimwear is swimwear whatever else it is called (a "swim boxer" is
no underpants). Babies' garments (61.11, 62.09) and garments of felt or
coated fabrics (61.13, 62.10) take every type, and are never lowered when a type is named.
Vietnamese names are two-syllable phrases ("áo khoác", "quần jean"), since one syllable folded
("quan", "ao") is also another word.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from clearance.domain.hs.text import term_set

__all__ = ["GARMENT_CHAPTERS", "GARMENT_TYPES", "garment_headings"]

GARMENT_CHAPTERS: Final = frozenset({"61", "62"})

#: Headings and items that take garments of every type: babies' garments, garments made up of
#: felt, nonwovens or coated, covered or laminated fabrics (headings 56.02, 56.03, 59.03, 59.06,
#: 59.07), and the parts of garments (61.17.90, 62.17.90: "zipper pull for a jacket").
_EVERY_TYPE: Final = frozenset({"6111", "6209", "6113", "6210", "61179", "62179"})


_ENSEMBLES: Final = frozenset({"61032", "61042", "62032", "62042"})
"""Ensembles (61.03.2, 61.04.2, 62.03.2, 62.04.2): a jacket with trousers, a top with a skirt.
A listing of an ensemble often names its pieces rather than the word: two of them take it."""

#: type -> (the headings, or items of five digits, whose HS 2022 text names it; its terms).
#: Headings 61.03, 61.04, 62.03 and 62.04 are divided by type at their first subheading digit:
#: suits (.1), ensembles (.2), jackets and blazers (.3), trousers and shorts (61.03.4, 62.03.4,
#: 61.04.6, 62.04.6), dresses (.4) and skirts (.5); 61.07, 61.08, 62.07 and 62.08 likewise.
GARMENT_TYPES: Final[dict[str, tuple[frozenset[str], frozenset[str]]]] = {
    # 61.01/61.02, 62.01/62.02: "Overcoats, car-coats, capes, cloaks, anoraks (including
    # ski-jackets), wind-cheaters, wind-jackets and similar articles"
    "coat": (
        frozenset({"6101", "6102", "6201", "6202"}),
        term_set(
            "coat overcoat raincoat parka anorak windbreaker cape cloak poncho ao_choang ao_mua"
        ),
    ),
    # ski- and wind-jackets are in 61.01, other jackets and blazers in 61.03.3
    "jacket": (
        frozenset({"6101", "6102", "6201", "6202", "61033", "61043", "62033", "62043"}),
        term_set("jacket blazer ao_vest ao_khoac"),
    ),
    "suit": (
        frozenset({"61031", "61041", "62031", "62041"}),
        term_set("suit tuxedo bo_vest com_le"),
    ),
    "ensemble": (_ENSEMBLES, term_set("ensemble outfit")),
    "trousers": (
        frozenset({"61034", "61046", "62034", "62046"}),
        term_set(
            "trouser shorts jean breech shortall legging slack jogger chino "
            "quan_dai quan_au quan_jean quan_short quan_sooc quan_kaki"
        ),
    ),
    "dress": (frozenset({"61044", "62044"}), term_set("dress vay_lien")),
    # a gown is a dress, a nightgown or a surgical gown (other garments)
    "gown": (
        frozenset({"61044", "62044", "61083", "61089", "62082", "62089", "6114", "6211"}),
        term_set("gown"),
    ),
    "skirt": (frozenset({"61045", "62045"}), term_set("skirt chan_vay")),
    # 61.05/61.06, 62.05/62.06: shirts, blouses and shirt-blouses
    "shirt": (
        frozenset({"6105", "6106", "6205", "6206"}),
        term_set("shirt blouse so_mi"),
    ),
    # underpants and briefs, slips and petticoats, briefs and panties (62.08.9 with singlets)
    "underpants": (
        frozenset({"61071", "61081", "61082", "62071", "62081", "62089"}),
        term_set("underpant brief panty boxer petticoat"),
    ),
    # nightshirts, nightdresses and pyjamas; negligees are with the bathrobes
    "nightwear": (
        frozenset({"61072", "61083", "62072", "62082", "61089", "62089"}),
        term_set(
            "nightdress nightgown nightshirt nightie pyjama pajama pijama sleepwear negligee do_ngu"
        ),
    ),
    "bathrobe": (
        frozenset({"61079", "61089", "62079", "62089"}),
        term_set("bathrobe robe dressing_gown choang_tam"),
    ),
    "underwear": (
        frozenset({"6107", "6108", "6207", "6208"}),
        term_set("underwear lingerie"),
    ),
    # "pants" are trousers in American English and underpants in British
    "pants": (
        frozenset({"61034", "61046", "62034", "62046", "61071", "61082", "62071", "62089"}),
        term_set("pant"),
    ),
    # 61.09: "T-shirts, singlets and other vests"; woven singlets and vests: 62.07.9, 62.08.9
    "t_shirt": (
        frozenset({"6109", "62079", "62089"}),
        term_set("t_shirt singlet camisole ao_thun ao_phong"),
    ),
    # a vest is a singlet (61.09) or, in American English, a waistcoat (61.10; woven, 62.11),
    # and a padded or puffer vest is a sleeveless jacket of 61.01/62.01
    "vest": (
        frozenset({"6109", "6110", "62079", "62089", "6211", "6101", "6102", "6201", "6202"}),
        term_set("vest waistcoat gilet"),
    ),
    # 61.10: "Jerseys, pullovers, cardigans, waistcoats (vests) and similar articles"
    "sweater": (
        frozenset({"6110"}),
        term_set("sweater pullover cardigan sweatshirt hoodie ao_len ao_ni ao_hoodie"),
    ),
    # a jumper is a pullover, and in American English a pinafore dress
    "jumper": (frozenset({"6110", "61044", "62044"}), term_set("jumper")),
    # 61.12, 62.11: "Track suits, ski suits and swimwear", divided by type at their first
    # subheading digit (woven track suits are with the "other garments" of 62.11.3 and .4)
    "swimwear": (
        frozenset({"61123", "61124", "62111"}),
        term_set(
            "swimwear swimsuit bathing_suit swim swimming bikini board_shorts do_boi ao_tam "
            "ao_boi quan_boi"
        ),
    ),
    "track_suit": (frozenset({"61121", "62113", "62114"}), term_set("tracksuit track_suit")),
    "ski_suit": (frozenset({"61122", "62112"}), term_set("ski_suit")),
    # trunks are swimwear or underpants
    "trunks": (frozenset({"61123", "62111", "61071", "62071"}), term_set("trunk")),
    # 61.15: "Panty hose, tights, stockings, socks and other hosiery"
    "hosiery": (
        frozenset({"6115"}),
        term_set("sock stocking tight pantyhose panty_hose hosiery tat_chan"),
    ),
    # 61.16, 62.16: "Gloves, mittens and mitts"
    "gloves": (
        frozenset({"6116", "6216"}),
        term_set("glove mitten mitt gang_tay"),
    ),
    # 62.12: "Brassieres, girdles, corsets, braces, suspenders, garters"
    "brassiere": (
        frozenset({"6212"}),
        term_set("bra brassiere girdle corset suspender garter ao_nguc"),
    ),
    # 61.17, 62.14: "Shawls, scarves, mufflers, mantillas, veils and the like"
    "scarf": (
        frozenset({"6117", "6214"}),
        term_set("scarf shawl muffler mantilla khan_choang"),
    ),
}

_OUTERWEAR: Final = frozenset({"jacket", "suit", "trousers", "dress", "skirt", "pants"})
#: Words that make the garment swimwear, whatever else it is called: a "swim boxer", "swim
#: brief", "swimming trunks" or a "bathing suit" is no underwear or suit ("board shorts" are
#: swimwear or shorts).
_SWIM: Final = term_set("swim swimming swimwear swimsuit bathing_suit do_boi ao_boi quan_boi")
_SWIM_NAMES: Final = frozenset({"underpants", "trunks", "pants", "underwear", "suit"})


def garment_headings(terms: Iterable[str]) -> frozenset[str] | None:
    """The headings (four digits) and items (five) of Chapters 61 and 62 that take the garment
    types the terms name, with those that take every type; ``None`` when they name none."""
    found = frozenset(terms)
    named = [name for name, (_, words) in GARMENT_TYPES.items() if not words.isdisjoint(found)]
    if not _SWIM.isdisjoint(found):
        named = [name for name in named if name not in _SWIM_NAMES]
    if not named:
        return None
    allowed = set(_EVERY_TYPE).union(*(GARMENT_TYPES[name][0] for name in named))
    if len(_OUTERWEAR.intersection(named)) > 1:
        allowed |= _ENSEMBLES
    return frozenset(allowed)
