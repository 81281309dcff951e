"""Text to terms for HS classification: one normalisation for the index and for the queries.

English and Vietnamese share one pipeline. Vietnamese is folded to plain ASCII (``điện thoại`` ->
``dien thoai``) so a listing typed without diacritics finds the same terms as one typed with them;
the syllable pairs (``dien_thoai``) keep the meaning that single folded syllables lose. English
plurals and a few spelling variants are folded (``jewelry`` -> ``jewellery``), and words that say
nothing about the goods (``other``, ``loai khac``, ``new``, ``hot sale``) are dropped.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterator
from typing import Final

__all__ = ["fold", "query_terms", "reads_vietnamese", "term_set", "terms", "words"]

#: Function words and tariff or listing boilerplate, English and (folded) Vietnamese.
STOPWORDS: Final = frozenset(
    """
    a an and or of the for in on at with without to by from as its it their is are be been not no
    than whether which that this these those such other others otherwise thereof therefor nes
    nesoi incl including include includes excluding excl etc kind kinds type types form forms
    whose all any each per only more less but also put up made into under over within like
    new hot sale free shipping high quality best top fashion style styles popular cheap
    pcs pc piece pieces lot lots set sets pack packs size sizes color colors colour colours
    wholesale retail brand brands original genuine item items product products cm mm inch
    va cac hoac duoc nhung khong loai khac
    """.split()  # noqa: SIM905 (a list of words reads better as text)
)

#: Vietnamese function words, recognised with their diacritics only (folded, ``cho`` is also
#: ``chó``, a dog, and ``da`` is ``da``, leather).
VIETNAMESE_STOPWORDS: Final = frozenset(
    """
    của và cho hoặc có được đã chưa là từ trong với những một này đó không theo dùng sử để trên
    dưới hay về ra vào các loại khác bằng như khi thì mà nên đến hàng gồm
    """.split()  # noqa: SIM905 (a list of words reads better as text)
)

#: Words that describe how goods look, not what they are: alone they mislead ("red" finds red
#: lead, "giant" finds nothing useful); beside a noun they can still tell ("black_tea",
#: "white_cement"), so they are kept in word pairs only. Colours that are also goods or
#: materials (orange, cream, ivory, gold, silver) are not in the list.
LOOKS: Final = frozenset(
    """
    red blue green yellow black white pink purple grey gray brown beige golden
    multicolour multicolor multi colourful colorful pastel
    large small mini medium big giant jumbo tiny little
    spot spotty dotty polka dot dots retrospot stripe striped stripy floral design
    vintage retro assorted fancy cute lovely beautiful luxury classic deluxe
    """.split()  # noqa: SIM905 (a list of words reads better as text)
)

#: American spellings and variants -> the form the index uses.
SPELLINGS: Final = {
    "jewelry": "jewellery",
    "jewel": "jewellery",
    "jewels": "jewellery",
    "colour": "color",
    "aluminum": "aluminium",
    "fiber": "fibre",
    "fibers": "fibre",
    "tire": "tyre",
    "tires": "tyre",
    "sulfate": "sulphate",
    "sulfur": "sulphur",
    "caliber": "calibre",
    "center": "centre",
    "catalog": "catalogue",
    "tshirt": "t_shirt",
    "tshirts": "t_shirt",
    "tee": "t_shirt",
    "tees": "t_shirt",
    "cellphone": "mobile_phone",
    # polymers by their trade abbreviations, as the tariff names them ("polymers of ethylene")
    "pe": "polyethylene",
    "hdpe": "polyethylene",
    "ldpe": "polyethylene",
    "lldpe": "polyethylene",
    "pp": "polypropylene",
    "tpu": "polyurethane",
    "smartphone": "smartphones",
    # plurals that the plain rule folds wrongly ("scarves" -> "scarve", "bikinis" kept)
    "scarves": "scarf",
    "hoodies": "hoodie",
    "nighties": "nightie",
    "bikinis": "bikini",
    # "shorts" the garment, not "short" the length ("short sleeves", "short plush")
    "shorts": "shorts",
}

_TOKEN: Final = re.compile(r"[^\W_]+")

#: Viet Nam's classification notices end a name with who issued them ("... do Tổng cục trưởng
#: Tổng cục Hải quan ban hành") and label their fields ("công dụng:"): words of the form, not
#: of the goods, that would make every notice alike.
_NOTICE_FORMULA: Final = re.compile(
    r"\b(?:do\s+)?(?:tổng\s+cục\s+trưởng\s+)?tổng\s+cục\s+hải\s+quan\s+ban\s+hành\b"
    r"|\bcông\s+dụng\s*:|\btên\s+gọi\s+theo\s+cấu\s+tạo\b|\btên\s+gọi\s+đồng\s+nghĩa\b\s*:?"
    r"|\bký,\s*mã\s+hiệu,\s*chủng\s+loại\b\s*:?"
)
_KEEP_S: Final = ("ss", "us", "is", "ous", "ics")
_T_SHIRT: Final = re.compile(r"\bt[\s\-–]{0,3}shirt")
""""T-shirt", "T shirt": one word (a lone "t" is dropped, and "shirt" is another garment)."""


def fold(word: str) -> str:
    """Without diacritics (Vietnamese ``đ`` -> ``d``), as plain letters."""
    decomposed = unicodedata.normalize("NFKD", word.replace("đ", "d"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _singular(word: str) -> str:
    """Plain English plurals folded (``boxes`` -> ``box``, ``batteries`` -> ``battery``)."""
    if len(word) <= 3 or not word.endswith("s") or word.endswith(_KEEP_S):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes", "zes", "oes")):
        return word[:-2]
    return word[:-1]


def words(text: str) -> list[str]:
    """The meaningful words of ``text``: folded, singular, no stopwords, no bare numbers; a
    Vietnamese syllable that "không" denies is one word with it (``khong_det``)."""
    found = []
    lowered = unicodedata.normalize("NFC", _T_SHIRT.sub("tshirt", text.lower()))
    lowered = _NOTICE_FORMULA.sub(" ", lowered)
    for token in _denials_joined(lowered):
        if token in VIETNAMESE_STOPWORDS:
            continue
        raw = fold(token)
        if raw.isdigit() or len(raw) < 2 or raw in STOPWORDS or not raw.isascii():
            continue
        word = SPELLINGS[raw] if raw in SPELLINGS else _singular(raw)
        found.append(SPELLINGS.get(word, word))
    return found


_NOT: Final = frozenset({"không", "khong"})
#: Words before "không" that make it no denial: "hàng không" (aviation), "hoặc không" (or not:
#: "có hoặc không có", whether or not with).
_NOT_DENIAL_AFTER: Final = frozenset({"hàng", "hang", "hoặc", "hoac"})
_CLAUSE: Final = re.compile(r"[,;:.|()\[\]]")


def _denials_joined(lowered: str) -> Iterator[str]:
    """The tokens of ``lowered``, "không" (not) joined to the Vietnamese syllable it denies in
    the same clause, past function words: "không dệt" (nonwoven) is ``không_dệt``, not "dệt"
    (woven), and so are "không gỉ" (stainless), "không dây" (wireless), "không dùng điện" (not
    electric: ``không_điện``), "không tự dính" (not self-adhesive: ``không_tự``, then the pair
    ``không_tự_dính``). The tariff's Vietnamese says them the same way, and their plain words
    would pull to the goods that are woven, wired or self-adhesive. A word that cannot be a
    Vietnamese syllable (a brand, most English words) ends the denial."""
    for clause in _CLAUSE.split(lowered):
        denying, previous = False, ""
        for token in _TOKEN.findall(clause):
            if token in _NOT and previous not in _NOT_DENIAL_AFTER:
                denying, previous = True, token
                continue
            previous = token
            if denying and token in VIETNAMESE_STOPWORDS:
                continue  # "không dùng điện": the denial is of "điện"
            if denying and (not token.isascii() or _VIETNAMESE_SYLLABLE.fullmatch(token)):
                token = f"không_{token}"
            denying = False
            yield token


def term_set(written: str) -> frozenset[str]:
    """Terms written as ``terms`` makes them, separated by spaces: words, and Vietnamese
    phrases as folded pairs (``dang_hat``, ``ao_khoac``). For the word lists of rules."""
    return frozenset(written.split())


def terms(text: str) -> list[str]:
    """Words and adjacent word pairs (``mobile_phone``, ``thuc_pham``): what is indexed; a word
    of ``LOOKS`` only in its pairs."""
    found = words(text)
    pairs = [f"{first}_{second}" for first, second in itertools.pairwise(found)]
    return [word for word in found if word not in LOOKS] + pairs


_SEGMENT: Final = re.compile(r"[|,;/()\[\]]+|\s-\s")
HEAD_WEIGHT: Final = 2

_PHRASE_END: Final = re.compile(r"[|,;]+")
"""A purpose phrase runs to the next comma, semicolon or field separator."""
_PURPOSE: Final = re.compile(
    r"\b(?:for|used (?:in|for|as|to|with|on|by)|compatible with|fits?|intended|designed to)\b"
)
"""Where an English phrase turns from the goods to what they serve (Vietnamese phrases name
the goods first, so their head is not read at all)."""
#: A part, accessory or spare is classified with the goods it fits (Section XVI note 2,
#: Section XVII note 3): the words after its "for" name its kind ("spare parts for lawn
#: mowers"), so its head is read as before.
PART_WORDS: Final = frozenset("part component accessory spare replacement".split())  # noqa: SIM905


#: A Vietnamese syllable typed without its marks: an onset, one to three vowels and one of the
#: few finals Vietnamese allows (no English "-s", "-d", "-l", "-r", no "st-" or "bl-").
_VIETNAMESE_SYLLABLE: Final = re.compile(
    r"(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?[aeiouy]{1,3}(ng|nh|ch|[cmnpt])?"
)


def reads_vietnamese(segment: str) -> bool:
    """Whether a phrase typed without diacritics is Vietnamese: at least two of its words, and
    four in five, are Vietnamese syllables ("vi da bo", "tai nghe bluetooth khong day"; a brand
    or a model number does not count against it). English rarely passes: one in 3,134 UCI
    descriptions did at three in four."""
    tokens = [t for t in _TOKEN.findall(fold(segment.lower())) if t.isalpha()]
    syllables = sum(1 for token in tokens if _VIETNAMESE_SYLLABLE.fullmatch(token))
    return syllables >= 2 and 5 * syllables >= 4 * len(tokens)


def query_terms(text: str) -> dict[str, int]:
    """Term counts of a description, the head noun of each English phrase counted
    ``HEAD_WEIGHT`` times: in "coffee mug" or "hot water bottle" the goods are the last word,
    not the first (a Vietnamese phrase names them first: "cốc cà phê" or, typed without its
    marks, "coc ca phe", so it is left as is). A phrase's purpose ("case for iPhone",
    "engine used in generator sets") names what the goods serve: the head noun is the last
    word before it ("case", "engine")."""
    counts: dict[str, int] = {}
    for term in terms(text):
        counts[term] = counts.get(term, 0) + 1
    for phrase in _PHRASE_END.split(unicodedata.normalize("NFC", text.lower())):
        for segment in _SEGMENT.split(goods_part(phrase)):
            if not segment.isascii() or reads_vietnamese(segment):
                continue
            found = [word for word in words(segment) if word not in LOOKS]
            if found:
                counts[found[-1]] = counts.get(found[-1], 0) + HEAD_WEIGHT - 1
    return counts


def goods_part(phrase: str) -> str:
    """The phrase (in lower case) before its first purpose words ("for", "used in",
    "compatible with"), or all of it when it has none, names no goods before them ("for iphone
    13 case") or is a part's ("replacement roller head for electric foot file")."""
    match = _PURPOSE.search(phrase)
    if match is None:
        return phrase
    goods = phrase[: match.start()]
    named = terms(goods)
    if not named or not PART_WORDS.isdisjoint(named):
        return phrase
    return goods
