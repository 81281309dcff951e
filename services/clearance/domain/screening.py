"""Screening against the pack's prohibited and restricted lists, read the way an officer reads.

A listing is split into words (casefolded, hyphenated words whole: ``ivory-coloured`` is one word
and never ``ivory``). A word typed with Vietnamese diacritics must match them (``dán`` is not
``đạn``); a word typed without them matches the bare form (``nga voi`` is ``ngà voi``). A plural
``s``/``es`` matches its singular. A term then matches as consecutive words, and its context
decides whether the listing names the goods or only their name
(``clearance.domain.screening_lexicon``):

- an exception phrase of the entry that covers the match is not the goods (``glue gun``);
- a negation just before it is not the goods (``no ivory``);
- a material or an animal with an imitation word next to it is a look (``faux ivory``,
  ``tiger print``); another material just before it is an imitation (``resin rhino horn``);
- an animal, a substance or a device near a toy, print or picture word is a depiction
  (``pangolin plush``, ``cannabis leaf t-shirt``, ``toy pistol``), and so is an animal or a
  substance on a line whose HS code is a toy, print, garment, perfume or candle;
- a substance near a scent word is a scent (``opium scented candle``);
- a word with another everyday meaning (``ivory`` is a colour, a ``revolver`` ruler revolves)
  names the goods only when the listing points to them: ``genuine``/``real`` just before it, a
  word of the entry's ``evidence`` near it (``tusk``, ``carved``, ``calibre``), or one of its
  ``typical_articles`` near it (``bangle``) when no other material is stated (``ivory paper
  doilies`` are paper, a ``pearl bracelet ivory`` is pearls);
- another material next to a material or an animal makes it an imitation (``resin rhino
  horn``).

A line whose HS code starts with one of an entry's ``hs_prefixes`` is a hit whatever its words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Final, Literal

from msgspec import Struct

from clearance.domain import screening_lexicon as lexicon
from clearance.domain.packs import RulePack, ScreeningEntry
from clearance.messages import Item

__all__ = ["ScreeningHit", "Word", "screen_items", "words"]

_WORD: Final = re.compile(r"\w+(?:[-'’]\w+)*")
_NEAR: Final = 3
"""Words either side of a term in which a depiction, scent or evidence word counts."""


class ScreeningHit(Struct, frozen=True, kw_only=True):
    kind: Literal["prohibited", "restricted"]
    code: str
    line_id: int
    matched: str
    reference: str


def _bare(text: str) -> str:
    """``text`` without diacritics (``ngà voi`` -> ``nga voi``, ``đ`` -> ``d``)."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


class Word(Struct, frozen=True):
    """One word of a listing: as typed (casefolded, NFC) and without diacritics."""

    typed: str
    bare: str

    @property
    def has_marks(self) -> bool:
        return self.typed != self.bare


def _tokens(text: str) -> tuple[Word, ...]:
    folded = text.casefold()
    if folded.isascii():  # most listings: nothing to normalise or strip
        return tuple(Word(token, token) for token in _WORD.findall(folded))
    folded = unicodedata.normalize("NFC", folded)
    return tuple(Word(token, _bare(token)) for token in _WORD.findall(folded))


def words(text: str) -> tuple[str, ...]:
    """Normalised words of ``text`` (casefolded, without diacritics, hyphenated words whole)."""
    return tuple(word.bare for word in _tokens(text))


def _same(word: Word, wanted: Word) -> bool:
    """A listing word is a term word: exactly as typed with diacritics, or bare without them;
    a plural ``s``/``es`` matches its singular."""
    if word.has_marks:
        return word.typed == wanted.typed
    bare = word.bare
    return bare == wanted.bare or bare in (wanted.bare + "s", wanted.bare + "es")


def _phrase_at(listing: Sequence[Word], phrase: Sequence[Word], index: int) -> bool:
    if not phrase or index < 0 or index + len(phrase) > len(listing):
        return False
    return all(_same(listing[index + k], phrase[k]) for k in range(len(phrase)))


def _phrase_in(listing: Sequence[Word], phrase: Sequence[Word], start: int, stop: int) -> bool:
    """``phrase`` lies wholly within ``listing[start:stop]``."""
    start, stop = max(start, 0), min(stop, len(listing))
    return any(_phrase_at(listing, phrase, i) for i in range(start, stop - len(phrase) + 1))


class _Phrases:
    """A list of phrases (lexicon words or pack words), parsed once."""

    __slots__ = ("phrases",)

    def __init__(self, texts: Iterable[str]) -> None:
        self.phrases = [p for p in (_tokens(text) for text in texts) if p]

    def within(self, listing: Sequence[Word], start: int, stop: int) -> str | None:
        """The first phrase lying within ``listing[start:stop]``, as written, or ``None``."""
        for phrase in self.phrases:
            if _phrase_in(listing, phrase, start, stop):
                return " ".join(word.typed for word in phrase)
        return None

    def covering(self, listing: Sequence[Word], start: int, stop: int) -> bool:
        """Some phrase overlaps every word of ``listing[start:stop]`` (it contains the match)."""
        for phrase in self.phrases:
            for i in range(max(stop - len(phrase), 0), min(start, len(listing)) + 1):
                if i + len(phrase) >= stop and _phrase_at(listing, phrase, i):
                    return True
        return False


_NEGATIONS: Final = _Phrases(lexicon.NEGATIONS)
_IMITATION_BEFORE: Final = _Phrases(lexicon.IMITATION_BEFORE)
_IMITATION_AFTER: Final = _Phrases(lexicon.IMITATION_AFTER)
_GENUINE: Final = _Phrases(lexicon.GENUINE)
_MATERIALS: Final = _Phrases(lexicon.OTHER_MATERIALS)
_DEPICTIONS: Final = _Phrases(lexicon.DEPICTIONS)
_SCENTS: Final = _Phrases(lexicon.SCENTED_PRODUCTS)


class _Entry:
    """One pack entry, its phrases parsed once."""

    __slots__ = ("articles", "entry", "evidence", "exceptions", "kind", "list_kind")

    def __init__(self, list_kind: Literal["prohibited", "restricted"], entry: ScreeningEntry):
        self.list_kind: Literal["prohibited", "restricted"] = list_kind
        self.entry = entry
        self.kind = entry.kind
        self.exceptions = _Phrases(entry.except_phrases)
        self.evidence = _Phrases(entry.evidence)
        self.articles = _Phrases(entry.typical_articles)

    def reading(self, listing: Sequence[Word], start: int, stop: int, hs_code: str) -> str | None:
        """What the words at ``[start, stop)`` show, if they name the goods; ``None`` if the
        listing only uses their name (an exception, negation, look, depiction or scent)."""
        if self.exceptions.covering(listing, start, stop):
            return None
        if _NEGATIONS.within(listing, start - 2, start):
            return None
        kind = self.kind
        if kind in ("material", "animal") and (
            _IMITATION_BEFORE.within(listing, start - 2, start)
            or _IMITATION_AFTER.within(listing, stop, stop + 1)
            or _MATERIALS.within(listing, start - 1, start)
            or _MATERIALS.within(listing, stop, stop + 1)
        ):
            return None
        if kind in ("animal", "substance", "product") and _DEPICTIONS.within(
            listing, start - _NEAR, stop + _NEAR
        ):
            return None
        if kind in ("animal", "substance") and hs_code.startswith(lexicon.DEPICTION_HS_PREFIXES):
            return None
        if kind == "substance" and _SCENTS.within(listing, start - _NEAR, stop + _NEAR):
            return None
        return ""

    def evidence_for(self, listing: Sequence[Word], start: int, stop: int) -> str | None:
        """For a word with another everyday meaning (a colour: ``ivory``; anything that
        revolves: ``revolver``): what points to the listed goods, or ``None``."""
        found = _GENUINE.within(listing, start - 2, start) or self.evidence.within(
            listing, start - _NEAR, stop + _NEAR
        )
        if found:
            return found
        article = self.articles.within(listing, start - _NEAR, stop + _NEAR)
        if article and not _MATERIALS.within(listing, 0, len(listing)):
            return article
        return None


class _Term(Struct, frozen=True):
    entry: int
    words: tuple[Word, ...]
    text: str
    ambiguous: bool


class _Matcher:
    """A pack's screening terms indexed by the bare form of their first word."""

    __slots__ = ("by_first_word", "entries", "hs_rules")

    def __init__(self, entries: list[_Entry]) -> None:
        self.entries = entries
        self.hs_rules = [
            (position, tuple(entry.entry.hs_prefixes))
            for position, entry in enumerate(entries)
            if entry.entry.hs_prefixes
        ]
        self.by_first_word: dict[str, list[_Term]] = {}
        for position, entry in enumerate(entries):
            texts = [(t, False) for t in entry.entry.terms]
            texts += [(t, True) for t in entry.entry.ambiguous_terms]
            for text, ambiguous in texts:
                term_words = _tokens(text)
                if not term_words:
                    continue
                term = _Term(position, term_words, text, ambiguous)
                first = term_words[0].bare
                for key in (first, first + "s", first + "es"):
                    self.by_first_word.setdefault(key, []).append(term)

    def terms_found(self, description: str, hs_code: str) -> dict[int, str]:
        """Entry position -> what matched, for every entry the listing names."""
        found: dict[int, str] = {}
        folded = description.casefold()
        # most listings are ASCII and name nothing: one dict lookup per word, nothing built
        if folded.isascii() and not any(w in self.by_first_word for w in _WORD.findall(folded)):
            return found
        listing = _tokens(description)
        for index, word in enumerate(listing):
            for term in self.by_first_word.get(word.bare, ()):
                if term.entry in found or not _phrase_at(listing, term.words, index):
                    continue
                entry = self.entries[term.entry]
                stop = index + len(term.words)
                if entry.reading(listing, index, stop, hs_code) is None:
                    continue
                if not term.ambiguous:
                    found[term.entry] = term.text
                    continue
                evidence = entry.evidence_for(listing, index, stop)
                if evidence is not None:
                    found[term.entry] = f"{term.text} ({evidence})"
        return found


_MATCHERS: dict[str, _Matcher] = {}


def _matcher(pack: RulePack) -> _Matcher:
    """The compiled matcher of ``pack`` (cached by digest: same content, same matcher)."""
    matcher = _MATCHERS.get(pack.digest)
    if matcher is None:
        entries = [_Entry("prohibited", entry) for entry in pack.screening.prohibited]
        entries += [_Entry("restricted", entry) for entry in pack.screening.restricted]
        matcher = _MATCHERS[pack.digest] = _Matcher(entries)
    return matcher


def screen_items(items: list[Item], pack: RulePack) -> list[ScreeningHit]:
    """Every prohibited or restricted match, per line, in line order."""
    matcher = _matcher(pack)
    hits = []
    for position, item in enumerate(items, start=1):
        hs_code = item.hs_code or ""
        found = matcher.terms_found(item.description, hs_code)
        if hs_code:
            for entry_position, prefixes in matcher.hs_rules:
                if entry_position not in found and hs_code.startswith(prefixes):
                    prefix = next(p for p in prefixes if hs_code.startswith(p))
                    found[entry_position] = f"HS {prefix}"
        for entry_position in sorted(found):
            entry = matcher.entries[entry_position]
            hits.append(
                ScreeningHit(
                    kind=entry.list_kind,
                    code=entry.entry.code,
                    line_id=item.line_id or position,
                    matched=found[entry_position],
                    reference=f"{entry.entry.reference} <{entry.entry.source}>",
                )
            )
    return hits
