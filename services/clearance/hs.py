"""HS code suggestion from a plain-language description, with a confidence, for orders without one.

The index is built from the HS 2022 nomenclature (UN Comtrade's short descriptions of the 5,613
six-digit subheadings, ``clearance hs build``), never copied into the repository. A suggestion is
a search, not a classification: words of the description are matched against the subheading's
text (and, with less weight, its heading's), rarer words counting more, with a short list of
retail synonyms ("mug" -> cups, "t-light" -> candles). The confidence says how much of the
description the best subheading explains and how clearly it beats the next one; below the
importer's threshold no code is given, so the engine asks for one (``MISSING_HS_CODE``).
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

from msgspec import Struct

__all__ = ["HsIndex", "Suggestion", "words"]

#: Words that carry no meaning for classification.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "or",
        "of",
        "the",
        "for",
        "in",
        "on",
        "with",
        "without",
        "to",
        "by",
        "its",
        "their",
        "other",
        "others",
        "not",
        "nes",
        "n.e.c",
        "than",
        "whether",
        "incl",
        "including",
        "excluding",
        "excl",
        "etc",
        "kind",
        "kinds",
        "used",
        "use",
        "set",
        "sets",
        "piece",
        "pieces",
        "pc",
        "pcs",
        "s",
        "assorted",
        "large",
        "small",
        "mini",
        "jumbo",
        "medium",
        "new",
        "vintage",
        "retro",
        "design",
        "colour",
        "color",
        "red",
        "pink",
        "blue",
        "green",
        "white",
        "black",
        "cream",
        "ivory",
        "gold",
        "silver",
        "purple",
        "yellow",
        "orange",
        "brown",
        "grey",
        "spotty",
        "spot",
        "dots",
        "dot",
        "heart",
        "hearts",
        "love",
        "lovebird",
        "sweetheart",
        "fancy",
        "party",
    ]
)

#: Retail words and the nomenclature's words for the same goods.
SYNONYMS: Mapping[str, tuple[str, ...]] = {
    "mug": ("cups", "tableware", "ceramic"),
    "mugs": ("cups", "tableware", "ceramic"),
    "teacup": ("cups", "tableware"),
    "tea": ("tableware",),
    "ceramic": ("ceramic", "tableware"),
    "t-light": ("candles",),
    "tlight": ("candles",),
    "candle": ("candles",),
    "candles": ("candles",),
    "lights": ("lamps", "lighting"),
    "light": ("lamps", "lighting"),
    "lantern": ("lamps", "lighting"),
    "lamp": ("lamps", "lighting"),
    "christmas": ("christmas", "festivity"),
    "advent": ("christmas", "festivity"),
    "bauble": ("christmas", "festivity"),
    "decoration": ("festivity", "decorative"),
    "bunting": ("festivity",),
    "card": ("cards", "printed"),
    "cards": ("cards", "printed", "playing"),
    "jigsaw": ("puzzles",),
    "puzzle": ("puzzles",),
    "puzzles": ("puzzles",),
    "game": ("games",),
    "ladders": ("games",),
    "bag": ("bags",),
    "bags": ("bags",),
    "doormat": ("mats", "floor"),
    "cushion": ("cushions",),
    "towels": ("towels", "toilet", "kitchen"),
    "towel": ("towels", "toilet", "kitchen"),
    "umbrella": ("umbrellas",),
    "bracelet": ("jewellery", "imitation"),
    "necklace": ("jewellery", "imitation"),
    "earrings": ("jewellery", "imitation"),
    "matches": ("matches",),
    "sign": ("signs", "plates"),
    "clock": ("clocks",),
    "frame": ("frames", "photograph"),
    "stickers": ("labels", "paper"),
    "wrap": ("wrapping", "paper"),
    "wraps": ("wrapping", "paper"),
    "bottle": ("bottles",),
    "glove": ("gloves",),
    "gloves": ("gloves",),
    "cutlery": ("spoons", "forks", "cutlery"),
    "hair": ("hair",),
    "comb": ("combs",),
    "cabinet": ("furniture",),
    "drawer": ("furniture",),
    "box": ("boxes", "cases"),
    "storage": ("boxes",),
    "knob": ("mountings", "fittings"),
    "coasters": ("tableware",),
    "glass": ("glassware", "glass"),
}

_WORD = re.compile(r"[a-z][a-z'\-]+")


def words(text: str) -> list[str]:
    """Lower-case meaningful words of ``text``, with plain plurals folded (lamps -> lamp)."""
    found = []
    for raw in _WORD.findall(text.lower()):
        word = raw.strip("'-")
        if len(word) < 3 or word in STOPWORDS:
            continue
        found.append(word)
        if word.endswith("es") and len(word) > 4:
            found.append(word[:-2])
        elif word.endswith("s") and len(word) > 3:
            found.append(word[:-1])
    return found


class Suggestion(Struct, frozen=True, kw_only=True):
    """A six-digit subheading that matches a description, with how sure the match is (0..1)."""

    hs_code: str
    description: str
    confidence: float


class HsIndex(Struct, kw_only=True):
    """Words -> subheadings, with weights; built once from the nomenclature, saved as JSON."""

    descriptions: dict[str, str]
    postings: dict[str, dict[str, float]]
    idf: dict[str, float]

    @classmethod
    def from_nomenclature(cls, csv_path: Path) -> HsIndex:
        """Build from ``harmonized-system.csv`` (columns section, hscode, description, parent,
        level): a subheading's own words weigh 1, its heading's 0.4, its chapter's 0.15."""
        with csv_path.open(encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
        text = {row["hscode"]: row["description"] for row in rows}
        descriptions = {row["hscode"]: row["description"] for row in rows if row["level"] == "6"}
        postings: dict[str, dict[str, float]] = defaultdict(dict)
        for code, description in descriptions.items():
            for weight, source in ((0.15, text.get(code[:2], "")), (0.4, text.get(code[:4], ""))):
                for word in words(source):
                    postings[word][code] = max(postings[word].get(code, 0.0), weight)
            for word in words(description):
                postings[word][code] = 1.0
        total = len(descriptions)
        idf = {word: math.log(1 + total / len(codes)) for word, codes in postings.items()}
        return cls(descriptions=descriptions, postings=dict(postings), idf=idf)

    def save(self, path: Path) -> None:
        """Write the index as JSON (under the user's cache directory by default)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        index = {"descriptions": self.descriptions, "postings": self.postings, "idf": self.idf}
        path.write_text(json.dumps(index), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> HsIndex:
        """Read an index written by ``save``."""
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(descriptions=data["descriptions"], postings=data["postings"], idf=data["idf"])

    def _query(self, description: str) -> dict[str, float]:
        query: dict[str, float] = {}
        for word in words(description):
            for term in (word, *SYNONYMS.get(word, ())):
                if term in self.idf:
                    query[term] = max(query.get(term, 0.0), self.idf[term])
        return query

    def suggest(self, description: str, limit: int = 3) -> list[Suggestion]:
        """The best subheadings for ``description``, best first (none when no word is known)."""
        query = self._query(description)
        if not query:
            return []
        scores: dict[str, float] = defaultdict(float)
        for term, weight in query.items():
            for code, strength in self.postings[term].items():
                scores[code] += weight * strength
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]
        possible = sum(query.values())
        best = ranked[0][1]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        # Coverage of the description, discounted when the runner-up is nearly as good.
        clarity = 1.0 if runner_up == 0 else min(1.0, 0.5 + (best - runner_up) / best)
        return [
            Suggestion(
                hs_code=code,
                description=self.descriptions[code],
                confidence=round(min(1.0, score / possible) * (clarity if i == 0 else 0.5), 3),
            )
            for i, (code, score) in enumerate(ranked)
        ]

    def best(self, description: str) -> Suggestion | None:
        """The single best suggestion, or None."""
        found = self.suggest(description, limit=2)
        return found[0] if found else None


def chapters(suggestions: Iterable[Suggestion]) -> list[str]:
    """The two-digit chapters of ``suggestions`` (for checking against labels)."""
    return [suggestion.hs_code[:2] for suggestion in suggestions]
