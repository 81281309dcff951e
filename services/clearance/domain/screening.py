"""Screening against the pack's prohibited and restricted lists, on normalised whole words.

Words are casefolded, Unicode-normalised and split on spaces and punctuation but not inside
hyphenated or apostrophised words, so ``"ivory-coloured"`` is one word and never matches
``ivory``; a multi-word term must appear as consecutive words. Exception phrases (``ivory
colour``) stop a match that starts at the same word.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
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


def words(text: str) -> tuple[str, ...]:
    """Normalised words of ``text`` (NFC, casefolded, hyphenated words kept whole)."""
    return tuple(_WORD.findall(unicodedata.normalize("NFC", text).casefold()))


@lru_cache(maxsize=4096)
def _phrase(text: str) -> tuple[str, ...]:
    return words(text)


def _starts_at(haystack: tuple[str, ...], needle: tuple[str, ...], index: int) -> bool:
    return bool(needle) and haystack[index : index + len(needle)] == needle


def _term_found(description: tuple[str, ...], entry: ScreeningEntry) -> str | None:
    exceptions = [_phrase(text) for text in entry.except_phrases]
    for term in entry.terms:
        needle = _phrase(term)
        for index in range(len(description)):
            if _starts_at(description, needle, index) and not any(
                _starts_at(description, exception, index) for exception in exceptions
            ):
                return term
    return None


def _entry_hit(item: Item, description: tuple[str, ...], entry: ScreeningEntry) -> str | None:
    term = _term_found(description, entry)
    if term is not None:
        return term
    if item.hs_code is not None:
        for prefix in entry.hs_prefixes:
            if item.hs_code.startswith(prefix):
                return f"HS {prefix}"
    return None


def screen_items(items: list[Item], pack: RulePack) -> list[ScreeningHit]:
    """Every prohibited or restricted match, per line, in line order."""
    hits = []
    lists: tuple[tuple[Literal["prohibited", "restricted"], list[ScreeningEntry]], ...] = (
        ("prohibited", pack.screening.prohibited),
        ("restricted", pack.screening.restricted),
    )
    for position, item in enumerate(items, start=1):
        description = words(item.description)
        for kind, entries in lists:
            for entry in entries:
                matched = _entry_hit(item, description, entry)
                if matched is not None:
                    hits.append(
                        ScreeningHit(
                            kind=kind,
                            code=entry.code,
                            line_id=item.line_id or position,
                            matched=matched,
                            reference=f"{entry.reference} <{entry.source}>",
                        )
                    )
    return hits
