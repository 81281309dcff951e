"""Material, gender, construction and power of goods, read from a text: the nomenclature's own
distinctions ("of cotton", "of plastics", "men's or boys'", "knitted or crocheted",
"non-electric") and a shopper's or customs officer's words for them, English and Vietnamese.

The same reader runs over the tariff's texts (at build time) and a description (at run time),
so a subheading "of cotton" and a listing "100% cotton" or "vải bông" meet on the facet
``cotton``. A facet has at most one parent (``polyester`` -> ``synthetic`` -> ``man_made`` ->
``textile``): a tariff text "of base metal" covers a description's "stainless steel".

Negation counts: "not knitted or crocheted" is ``woven``, "non-electric" is ``non_electric``,
"(other than cotton)" says the line is *not* ``cotton`` (and "(other than wool or fine animal
hair, cotton or synthetic fibres)" denies each of the three), "whether or not knitted" says nothing;
an imitation is not its model ("faux leather", "PU leather", "giả da" are ``plastics``; "gold
colour", "gold plated" are no precious metal; "imitation pearls" no pearls). Polymers are
plastics (Chapter 39 Note 1); "acrylic" is a synthetic fibre among textile words and a plastic
elsewhere; a metal named with its anion is a compound, not the metal ("zinc oxide", "lithium
iron (II) phosphate", "oxit sắt").

Vietnamese is read with or without its diacritics: single syllables that fold into another word
("da" leather / "đá" stone, "giấy" paper / "giày" shoes) count only as typed with their
diacritics, phrases of two or more syllables ("cao su", "thuy tinh") either way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Final, NamedTuple

from clearance.domain.hs.garments import garment_headings
from clearance.domain.hs.text import query_terms, term_set

__all__ = [
    "FACETS",
    "Facets",
    "Stated",
    "agreement",
    "agreement_of",
    "chief_fibre",
    "facets_of",
    "lineage",
    "with_ancestors",
]

#: facet -> (group, parent facet or "")
FACETS: Final[dict[str, tuple[str, str]]] = {
    "textile": ("material", ""),
    "cotton": ("material", "textile"),
    "wool": ("material", "textile"),
    "silk": ("material", "textile"),
    "flax": ("material", "textile"),
    "man_made": ("material", "textile"),
    "synthetic": ("material", "man_made"),
    "artificial": ("material", "man_made"),
    "plastics": ("material", ""),
    "rubber": ("material", ""),
    "leather": ("material", ""),
    "wood": ("material", ""),
    "bamboo": ("material", "wood"),
    "paper": ("material", ""),
    "glass": ("material", ""),
    "ceramic": ("material", ""),
    "stone": ("material", ""),
    "gem": ("material", "stone"),
    "pearl": ("material", ""),
    "metal": ("material", ""),
    "base_metal": ("material", "metal"),
    "iron_steel": ("material", "base_metal"),
    "aluminium": ("material", "base_metal"),
    "copper": ("material", "base_metal"),
    "zinc": ("material", "base_metal"),
    "precious_metal": ("material", "metal"),
    "men": ("gender", ""),
    "women": ("gender", ""),
    "babies": ("gender", ""),
    "knitted": ("construction", ""),
    "woven": ("construction", ""),
    "electric": ("power", ""),
    "non_electric": ("power", ""),
}

#: Negated, a facet means its opposite ("not knitted" is woven); the others mean nothing.
OPPOSITE: Final = {"knitted": "woven", "electric": "non_electric"}

_WORDS: Final[dict[str, str]] = {
    # textiles (HS Section XI's materials and the fabrics shoppers name)
    "textile": "textile textiles fabric fabrics | hang det | vải",
    "cotton": "cotton cottons coton | soi bong | vai bong | bông",
    "wool": "wool wools woollen woolen cashmere merino mohair alpaca angora | animal hair | "
    "long cuu | soi len | vai len",
    "silk": "silk silks | to tam | lụa",
    "flax": "flax linen | vai lanh",
    "man_made": "manmade | man made",
    "synthetic": "polyester nylon polyamide spandex elastane lycra | synthetic fibre | "
    "synthetic fibres | synthetic fiber | synthetic fibers | synthetic filament | "
    "synthetic filaments | synthetic staple | synthetic fabric | soi tong hop",
    "artificial": "viscose rayon lyocell tencel | artificial fibre | artificial fibres | "
    "artificial fiber | artificial filament | artificial filaments | artificial staple | "
    "soi nhan tao",
    # other materials (the chapters' and headings' "of ...")
    "plastics": "plastic plastics polyethylene polypropylene pvc polystyrene polycarbonate "
    "polyurethane pu leatherette simili polymer polymers copolymer copolymers polyme | "
    "polyvinyl chloride | nhua | gia da | da pu",
    "rubber": "rubber latex | cao su",
    "leather": "leather leathers cowhide suede nubuck | da that | da bo | da thuoc | bang da",
    "wood": "wood woods wooden timber plywood | bang go | gỗ",
    "bamboo": "bamboo | bang tre | tre nua",
    "paper": "paper papers paperboard cardboard | bang giay | giấy",
    "glass": "glass glassware | thuy tinh",
    "ceramic": "ceramic ceramics porcelain stoneware earthenware | gom su | gốm | sứ",
    "stone": "stone stones marble granite | da cam thach | da hoa cuong",
    "gem": "gem gems gemstone gemstones diamond diamonds ruby sapphire emerald jade amethyst "
    "opal topaz garnet zircon zirconia | precious stone | precious stones | semi precious | "
    "da quy | ngọc",
    "pearl": "pearl pearls | ngoc trai",
    "metal": "metal metals | kim loai",
    "base_metal": "alloy alloys nickel titanium | base metal | base metals | hop kim",
    "iron_steel": "iron steel steels stainless inox tinplate | thep | sắt",
    "aluminium": "aluminium aluminum | bang nhom | hop kim nhom | nhôm",
    "copper": "copper brass bronze | dong thau | bang dong",
    "zinc": "zinc | kẽm",
    "precious_metal": "gold silver platinum sterling s925 | precious metal | precious metals | "
    "bang vang | bang bac | bac 925",
    # for whom (Chapters 61 and 62: "men's or boys'", "women's or girls'", "babies'")
    "men": "men mens man male males boy boys gentleman gentlemen | cho nam | ao nam | quan nam | "
    "giay nam | nam gioi | be trai | thun nam | mi nam | khoac nam | jean nam",
    "women": "women womens woman ladies lady female females girl girls | cho nu | ao nu | "
    "quan nu | giay nu | nu gioi | phu nu | be gai | nữ",
    "babies": "baby babies infant infants newborn | so sinh | em be",
    # how a fabric is made (Chapter 61 knitted, Chapter 62 not)
    "knitted": "knitted knit knits crocheted crochet jersey | det kim",
    "woven": "woven denim chiffon poplin twill broadcloth corduroy organza taffeta | det thoi",
    # powered or not (the tariff's "electric" / "non-electric")
    "electric": "electric electrical electrically electronic rechargeable usb | "
    "chay dien | dung dien | bang dien | dien tu | điện",
    "non_electric": "| hand operated",
    # a fibre or a plastic by what is around it (``_ACRYLIC``)
    "acrylic": "acrylic",
}


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.replace("đ", "d"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _lexicon() -> tuple[dict[tuple[str, ...], str], dict[str, str]]:
    """``_WORDS`` as folded phrases (one or more words) -> facet, and the Vietnamese syllables
    that count only as typed with their diacritics -> facet. In each entry the words before the
    first ``|`` are single English words; each part after it is a phrase, or one syllable: with
    diacritics it is matched only as typed, without them folded like the rest."""
    phrases: dict[tuple[str, ...], str] = {}
    accented: dict[str, str] = {}
    for facet, text in _WORDS.items():
        single, *others = (part.strip() for part in text.split("|"))
        for word in single.split():
            phrases[(word,)] = facet
        for phrase in others:
            if " " in phrase or phrase.isascii():
                phrases[tuple(_fold(phrase).split())] = facet
            else:
                accented[unicodedata.normalize("NFC", phrase)] = facet
    return phrases, accented


_PHRASES, _ACCENTED = _lexicon()
_LONGEST: Final = max(len(phrase) for phrase in _PHRASES)

#: Words before a facet that negate it (folded: "không" is "khong").
_NEGATORS: Final = frozenset({"not", "non", "excluding", "excl", "except"})
#: "other than X", "whether or not X": X is excluded, or nothing is said.
_OTHER_THAN: Final = ("other", "than")
#: Words before a material that make it an imitation of it.
_IMITATION: Final = frozenset(
    {"faux", "imitation", "fake", "artificial", "synthetic", "pu", "vegan", "gia", "simulated"}
)
#: Words after a precious metal that make it a colour or a coat, not the metal.
_LOOK_ONLY: Final = frozenset(
    {
        "color",
        "colour",
        "colored",
        "coloured",
        "tone",
        "toned",
        "plated",
        "plating",
        "filled",
        "foil",
        "finish",
        "mau",
    }
)
#: "Acrylic" is a synthetic fibre among textile words ("100% acrylic knit", "nylon, spandex and
#: acrylic", "acrylic yarn", "acrylic socks") and a plastic elsewhere ("acrylic keychain",
#: "acrylic sheet" of poly(methyl methacrylate)); in "acrylic acid" and its esters it is neither.
_ACRYLIC: Final = "acrylic"
#: Textile goods that name no garment type (``garments``) and no fibre: the text's terms.
_TEXTILE_TERMS: Final = term_set("yarn fibre fiber fabric felt blanket beanie hat")
_A_SHARE_OF_ACRYLIC: Final = re.compile(r"\d\s*%\s*acrylic")
_NOT_A_MATERIAL_AFTER: Final = frozenset({"acid", "acids", "ester", "esters"})
#: A metal named with its anion is a chemical compound, not the metal ("zinc oxide", "lithium
#: iron (II) phosphate", Vietnamese "oxit sắt": Chapters 28 and 29, not 72-81). Vietnamese names
#: the anion first.
_VIETNAMESE_ANIONS: Final = frozenset(
    {"oxit", "dioxit", "hydroxit", "clorua", "sunfat", "nitrat", "photphat", "cacbonat"}
)
_COMPOUND: Final = frozenset(
    {
        *("oxide", "dioxide", "trioxide", "hydroxide", "peroxide", "chloride", "sulfate"),
        *("sulphate", "sulfide", "sulphide", "nitrate", "nitrite", "phosphate", "carbonate"),
        *("bicarbonate", "acetate", "silicate", "fluoride", "bromide", "iodide", "cyanide"),
        *("chromate", "citrate", "gluconate", "stearate", "oxalate", "titanate"),
        *("oxides", "dioxides", "hydroxides", "chlorides", "sulfates", "sulphates", "sulfides"),
        *("sulphides", "nitrates", "phosphates", "carbonates", "acetates", "silicates"),
        *("fluorides", "bromides", "iodides", "cyanides", "chromates", "citrates", "stearates"),
        *_VIETNAMESE_ANIONS,
    }
)
#: "iron (II)": the oxidation state in brackets is read as part of the name, not a clause
_OXIDATION_STATE: Final = re.compile(r"\s*\(\s*(?:ii|iii|iv|vi)\s*\)")
_TOKEN: Final = re.compile(r"[^\W_]+")
_CLAUSE: Final = re.compile(r"[|,;:()\[\]!?]+|\s-\s")


class Facets(NamedTuple):
    """What a text says the goods are (``said``) and what it says they are not (``denied``)."""

    said: frozenset[str]
    denied: frozenset[str]

    def in_group(self, group: str) -> Facets:
        """Only the facets of ``group``."""
        return Facets(
            frozenset(f for f in self.said if FACETS[f][0] == group),
            frozenset(f for f in self.denied if FACETS[f][0] == group),
        )

    def encoded(self) -> list[str]:
        """As stored in the model: ``["cotton", "-man_made"]`` (sorted)."""
        return sorted(self.said) + sorted(f"-{facet}" for facet in self.denied)

    @classmethod
    def decoded(cls, stored: list[str]) -> Facets:
        """From ``encoded``'s list."""
        return cls(
            frozenset(f for f in stored if not f.startswith("-")),
            frozenset(f[1:] for f in stored if f.startswith("-")),
        )


def facets_of(text: str) -> Facets:
    """The facets a text says and denies (see the module's docstring)."""
    said: set[str] = set()
    denied: set[str] = set()
    lowered = _OXIDATION_STATE.sub("", unicodedata.normalize("NFC", text.lower()))
    rest = _EXCLUSION.sub(lambda bracket: _read_exclusion(bracket, said, denied), lowered)
    for clause in _CLAUSE.split(rest):
        _read_clause(_TOKEN.findall(clause), said, denied)
    if _ACRYLIC in said | denied:
        acrylic = "synthetic" if _among_textiles(said, lowered) else "plastics"
        for found in (said, denied):
            if _ACRYLIC in found:
                found.discard(_ACRYLIC)
                found.add(acrylic)
    chief = chief_fibre(lowered)
    if chief is not None:  # a blend is of its chief fibre alone
        said = {facet for facet in said if facet not in _FIBRE_CHAPTER} | {chief}
    # a kind excluded is not the whole material: "polymers ... other than copolymers" are plastics
    return Facets(frozenset(said), frozenset(denied - said))


#: The textile facets by the chapter of their fibres (Chapters 54 and 55 count as one,
#: Section XI Note 2(B)(c)), and ``_LAST_HEADING``, which of the man-made fibres comes last
#: (artificial filament 54.03 and staple 55.04 after synthetic 54.02 and 55.03).
_FIBRE_CHAPTER: Final = {
    "silk": 50,
    "wool": 51,
    "cotton": 52,
    "flax": 53,
    "man_made": 54,
    "synthetic": 54,
    "artificial": 54,
}
_LAST_HEADING: Final = {"man_made": 0, "synthetic": 1, "artificial": 2}
#: Fibres named in a blend's shares that the material lexicon leaves out, since alone they
#: often mean something else ("acrylic" keychains are plastics, "acetate" a chemical).
_BLEND_FIBRES: Final = {
    "acrylic": "synthetic",
    "modacrylic": "synthetic",
    "polyurethane": "synthetic",
    "modal": "artificial",
    "acetate": "artificial",
    "cupro": "artificial",
}
_SHARE: Final = re.compile(r"(\d+(?:[.,]\d+)?)\s*%\s*([^\W\d_]+)")


def _among_textiles(said: set[str], lowered: str) -> bool:
    """Whether a text is about textiles: it says a fibre, knitted or woven, a share of acrylic,
    a garment or another textile good."""
    if any(facet in FACETS and FACETS[facet][0] == "construction" for facet in said):
        return True
    if any(facet in FACETS and "textile" in lineage(facet) for facet in said):
        return True
    if _A_SHARE_OF_ACRYLIC.search(lowered):
        return True
    terms = query_terms(lowered)
    return not _TEXTILE_TERMS.isdisjoint(terms) or garment_headings(terms) is not None


def chief_fibre(text: str) -> str | None:
    """The fibre a blend is classified as, when a text gives the shares of two or more that
    add up to 100% ("50% cotton and 50% polyester": ``synthetic``), else None. Section XI
    Note 2: the textile material that predominates by weight, chosen first by chapter
    (Chapters 54 and 55 as one) and then within it; when none predominates, the one whose
    heading comes last in numerical order (WCO, HS 2022 Section XI Notes 2(A) and
    2(B)(b)-(c); Subheading Note 2(A) applies it to the made-up goods of Chapters 56 to 63).
    Shares that do not add up (a shell and its lining, a fibre the lexicon does not know, the
    fibre written before its share) say nothing."""
    shares: dict[str, float] = {}
    for number, word in _SHARE.findall(unicodedata.normalize("NFC", text.lower())):
        facet = _BLEND_FIBRES.get(word) or _PHRASES.get((_fold(word),)) or _ACCENTED.get(word)
        if facet in _FIBRE_CHAPTER:
            shares[facet] = shares.get(facet, 0.0) + float(number.replace(",", "."))
    if len(shares) < 2 or abs(sum(shares.values()) - 100) > 1:
        return None
    by_chapter: dict[int, float] = {}
    for facet, share in shares.items():
        by_chapter[_FIBRE_CHAPTER[facet]] = by_chapter.get(_FIBRE_CHAPTER[facet], 0.0) + share
    chapter = max(by_chapter, key=lambda number: (by_chapter[number], number))
    within = [facet for facet in shares if _FIBRE_CHAPTER[facet] == chapter]
    return max(within, key=lambda facet: (shares[facet], _LAST_HEADING.get(facet, 0)))


#: A bracket that excludes a list: "(other than wool or fine animal hair, cotton or synthetic
#: fibres)", "(not knitted or crocheted)". Its exclusion reaches each item of the list, past
#: the commas that end a clause elsewhere; a bracket of several clauses whose last names no
#: list ("(not see-through, cotton lining)") is read as any other text.
_EXCLUSION: Final = re.compile(r"\(\s*(?:other\s+than|excluding|excl\.?|except|not)\b([^()]*)\)")
_LIST_WORDS: Final = frozenset({"or", "and", "nor"})
#: What comes before an item of the list: its start, a list word, or "of"/"with" before a
#: material ("(other than of cotton)", "(covered with plastics or rubber)").
_BEFORE_ITEM: Final = _LIST_WORDS | {"of", "with"}


def _read_exclusion(bracket: re.Match[str], said: set[str], denied: set[str]) -> str:
    """The items of an excluding bracket denied ("not knitted" also says woven), and a clause
    boundary in its place; or the bracket as it is when it is no list. An item stands alone
    between list words: "other than expansible polystyrene", "hard rubber", "copper-zinc base
    alloys", "women's full or knee-length hosiery" name a kind of a material or goods, and
    exclude no material or wearer."""
    clauses = _CLAUSE.split(bracket.group(1))
    if len(clauses) > 1 and _LIST_WORDS.isdisjoint(_TOKEN.findall(clauses[-1])):
        return bracket.group(0)
    # a denial that says its opposite holds as the plain reading has it ("(other than electric
    # blankets)": non-electric); nothing else the plain reading would say or deny inside the
    # bracket ("animal hair" in "other than ... fine animal hair", "other than copper-zinc")
    plain: set[str] = set()
    for clause in _CLAUSE.split(bracket.group(0)[1:-1]):
        _read_clause(_TOKEN.findall(clause), set(), plain)
    for negated in plain & OPPOSITE.keys():
        _deny(negated, said, denied)
    for clause in clauses:
        for found, folded, i, length in _phrases(_TOKEN.findall(clause)):
            end = i + length
            alone = (i == 0 or folded[i - 1] in _BEFORE_ITEM) and (
                end == len(folded) or folded[end] in _LIST_WORDS
            )
            facet = _as_read(found, folded, i, length) if alone else None
            if facet is not None:
                _deny(facet, said, denied)
    return " | "


def _read_clause(accented: list[str], said: set[str], denied: set[str]) -> None:
    """The facets of one clause (a negation reaches no further than its clause, and from a
    denied item to the next one joined to it by a list word: "other than cotton or man-made
    fibres" denies both)."""
    denied_until = -1  # where the last denied item ended
    for found, folded, i, length in _phrases(accented):
        facet = _as_read(found, folded, i, length)
        if facet is None:
            continue
        negation = _negation(folded, i)
        if negation is None and i - 1 == denied_until and folded[i - 1] in _LIST_WORDS:
            negation = "denied"
        if negation == "denied":
            _deny(facet, said, denied)
            denied_until = i + length
        elif negation is None:
            said.add(facet)


def _phrases(accented: list[str]) -> Iterator[tuple[str, list[str], int, int]]:
    """Each facet phrase of a clause's words, longest first: ``(facet, the folded words, its
    first word's position, its length in words)``."""
    folded = [_fold(word) for word in accented]
    i = 0
    while i < len(folded):
        found, length = _match(folded, accented, i)
        if found is None:
            i += 1
            continue
        yield found, folded, i, length
        i += length


def _deny(facet: str, said: set[str], denied: set[str]) -> None:
    """A facet denied; a denial that means its opposite says it ("not knitted": woven)."""
    denied.add(facet)
    if facet in OPPOSITE:
        said.add(OPPOSITE[facet])


def _match(folded: list[str], accented: list[str], i: int) -> tuple[str | None, int]:
    """The longest phrase starting at word ``i``: its facet and its length in words."""
    for length in range(min(_LONGEST, len(folded) - i), 0, -1):
        facet = _PHRASES.get(tuple(folded[i : i + length]))
        if facet is not None:
            return facet, length
    return _ACCENTED.get(accented[i]), 1


def _as_read(facet: str, folded: list[str], i: int, length: int) -> str | None:
    """The facet as its neighbours make it: an imitation leather is plastics, an imitation
    pearl or stone none, a gold colour no metal."""
    before = folded[i - 1] if i > 0 else ""
    after = folded[i + length] if i + length < len(folded) else ""
    if before in _IMITATION and facet in ("leather", "pearl", "gem", "stone"):
        return "plastics" if facet == "leather" else None
    if facet == _ACRYLIC and after in _NOT_A_MATERIAL_AFTER:
        return None
    if facet in _METALS and (after in _COMPOUND or before in _VIETNAMESE_ANIONS):
        return None
    if facet == "precious_metal" and (after in _LOOK_ONLY or before in ("mau", "ma", "rose")):
        return None
    return facet


def _negation(folded: list[str], i: int) -> str | None:
    """``"denied"`` when one of the three words before negates the facet ("not knitted or
    crocheted" reaches "crocheted"), ``"silent"`` after "whether or not", else None."""
    if "whether" in folded[max(0, i - 5) : i]:
        return "silent"
    before = folded[max(0, i - 3) : i]
    if any(word in _NEGATORS for word in before) or "khong" in before[-2:]:
        return "denied"
    if tuple(folded[max(0, i - 2) : i]) == _OTHER_THAN or (
        len(before) == 3 and tuple(before[:2]) == _OTHER_THAN and before[2] == "of"
    ):
        return "denied"
    return None


def lineage(facet: str) -> tuple[str, ...]:
    """The facet and its ancestors (``polyester`` is ``synthetic``, ``man_made``, ``textile``)."""
    found = [facet]
    while parent := FACETS[found[-1]][1]:
        found.append(parent)
    return tuple(found)


#: The metals, whose name with an anion after it is a compound (``_as_read``).
_METALS: Final = frozenset(facet for facet in FACETS if "metal" in lineage(facet))


class Stated(NamedTuple):
    """A tariff text's facets of one group, ready to compare with descriptions: what it says,
    the same with their ancestors, what it denies."""

    said: frozenset[str]
    covers: frozenset[str]
    denied: frozenset[str]

    @classmethod
    def of(cls, tariff: Facets, group: str) -> Stated:
        """The facets of ``group`` in ``tariff``."""
        said = tariff.in_group(group)
        return cls(said.said, with_ancestors(said.said), said.denied)


def with_ancestors(facets: frozenset[str]) -> frozenset[str]:
    """The facets and all their ancestors."""
    return frozenset(ancestor for facet in facets for ancestor in lineage(facet))


def agreement(query: frozenset[str], tariff: Facets, group: str) -> int:
    """+1 when the tariff text says what the description says in ``group`` (or says an
    ancestor of it: "of base metal" covers "steel"), -1 when it says only something else or
    denies it, 0 when either says nothing or the description is vaguer ("metal" and "of iron
    or steel")."""
    wanted = frozenset(facet for facet in query if FACETS[facet][0] == group)
    if not wanted:
        return 0
    return agreement_of(wanted, with_ancestors(wanted), Stated.of(tariff, group))


def agreement_of(wanted: frozenset[str], lines: frozenset[str], tariff: Stated) -> int:
    """``agreement`` for the description's facets of the tariff's group (``wanted``, non-empty)
    and their ancestors (``lines``)."""
    if not tariff.denied.isdisjoint(lines):
        return -1
    if not tariff.said.isdisjoint(lines):
        return 1
    if not tariff.said or not wanted.isdisjoint(tariff.covers):
        return 0  # silent, or the description is vaguer than the tariff: no conflict
    return -1
