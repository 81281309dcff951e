"""Screening against the pack's prohibited and restricted lists, on normalised whole words.

Words are casefolded, Unicode-normalised and split on spaces and punctuation but not inside
hyphenated or apostrophised words, so ``"ivory-coloured"`` is one word and never matches
``ivory``; a multi-word term must appear as consecutive words. Exception phrases (``ivory
colour``) stop a match that starts at the same word.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final, Literal

from msgspec import Struct

from clearance.domain.packs import RulePack, ScreeningEntry
from clearance.messages import Item

__all__ = ["ScreeningHit", "screen_items", "words"]

_WORD: Final = re.compile(r"\w+(?:[-'’]\w+)*")


class ScreeningHit(Struct, frozen=True, kw_only=True):
    kind: Literal["prohibited", "restricted"]
    code: str
    line_id: int
    matched: str
    reference: str


def _without_marks(text: str) -> str:
    """Text without diacritics (``ngà voi`` -> ``nga voi``, ``đ`` -> ``d``): listings are often
    typed without them, and a list entry must still match."""
    if text.isascii():  # most listings: nothing to strip
        return text.casefold()
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def words(text: str) -> tuple[str, ...]:
    """Normalised words of ``text`` (casefolded, without diacritics, hyphenated words whole)."""
    return tuple(_WORD.findall(_without_marks(text)))


class _Term(Struct, frozen=True):
    words: tuple[str, ...]
    text: str
    exceptions: tuple[tuple[str, ...], ...]


class _Matcher:
    """A pack's screening terms indexed by their first word (one dict lookup per word)."""

    __slots__ = ("by_first_word", "entries", "hs_rules")

    def __init__(self, entries: list[tuple[Literal["prohibited", "restricted"], ScreeningEntry]]):
        self.entries = entries
        self.hs_rules = [
            (position, tuple(entry.hs_prefixes))
            for position, (_, entry) in enumerate(entries)
            if entry.hs_prefixes
        ]
        self.by_first_word: dict[str, list[tuple[int, _Term]]] = {}
        for position, (_, entry) in enumerate(entries):
            exceptions = tuple(words(text) for text in entry.except_phrases)
            for term in entry.terms:
                term_words = words(term)
                if term_words:
                    self.by_first_word.setdefault(term_words[0], []).append(
                        (position, _Term(term_words, term, exceptions))
                    )

    def terms_found(self, description: tuple[str, ...]) -> dict[int, str]:
        """Entry position -> the first term of that entry found in ``description``."""
        found: dict[int, str] = {}
        for index, word in enumerate(description):
            for position, term in self.by_first_word.get(word, ()):
                if position in found or not _starts_at(description, term.words, index):
                    continue
                if not any(_starts_at(description, e, index) for e in term.exceptions):
                    found[position] = term.text
        return found


_MATCHERS: dict[str, _Matcher] = {}


def _matcher(pack: RulePack) -> _Matcher:
    """The compiled matcher of ``pack`` (cached by digest: same content, same matcher)."""
    matcher = _MATCHERS.get(pack.digest)
    if matcher is None:
        entries: list[tuple[Literal["prohibited", "restricted"], ScreeningEntry]] = [
            ("prohibited", entry) for entry in pack.screening.prohibited
        ]
        entries += [("restricted", entry) for entry in pack.screening.restricted]
        matcher = _MATCHERS[pack.digest] = _Matcher(entries)
    return matcher


def _starts_at(haystack: tuple[str, ...], needle: tuple[str, ...], index: int) -> bool:
    return bool(needle) and haystack[index : index + len(needle)] == needle


def screen_items(items: list[Item], pack: RulePack) -> list[ScreeningHit]:
    """Every prohibited or restricted match, per line, in line order."""
    matcher = _matcher(pack)
    hits = []
    for position, item in enumerate(items, start=1):
        found = matcher.terms_found(words(item.description))
        if item.hs_code is not None:
            for entry_position, prefixes in matcher.hs_rules:
                if entry_position not in found and item.hs_code.startswith(prefixes):
                    prefix = next(p for p in prefixes if item.hs_code.startswith(p))
                    found[entry_position] = f"HS {prefix}"
        for entry_position in sorted(found):
            kind, entry = matcher.entries[entry_position]
            hits.append(
                ScreeningHit(
                    kind=kind,
                    code=entry.code,
                    line_id=item.line_id or position,
                    matched=found[entry_position],
                    reference=f"{entry.reference} <{entry.source}>",
                )
            )
    return hits
