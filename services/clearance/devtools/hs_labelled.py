"""The labelled HS sets of ``../shared/data/hs_labelled`` (README section 7), read as they are.

Three formats, told apart by their columns:

- HSCodeComp (``id, text, attributes, category, price, code_full, hs6``): an e-commerce title,
  its attributes (JSON) and category path, a 10-digit US HTS code;
- ATLAS (``id, split, text, codes_full, hs6``): a CBP ruling's description; ``codes_full`` and
  ``hs6`` may list several codes (``;`` or ``|``), any of which is right;
- TB-TCHQ (``id, ref, year, text, technical_spec, code_full, hs6``): the declared name and the
  customs' technical description (Vietnamese), an 8-digit AHTN code.

What the classifier reads of a row is what an order would carry: the description (with the
technical description or the informative attributes appended) and the category.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LabelledRow", "read_labelled", "short_titles"]

#: Attribute names that say nothing about the goods (logistics, identifiers, provenance).
_UNINFORMATIVE = (
    "origin",
    "cn",
    "brand",
    "model",
    "package",
    "measurement",
    "each pack",
    "sold in",
    "hign",
    "high-concerned",
    "certification",
    "size",
    "weight",
    "color",
    "colour",
    "is_customized",
    "place of origin",
)
_CODE_SEPARATORS = re.compile(r"[;|,\s]+")


@dataclass(frozen=True)
class LabelledRow:
    """One labelled description: what to classify and the right six-digit codes (any of)."""

    id: str
    text: str
    category: str | None
    codes: tuple[str, ...]


def attribute_text(attributes: str) -> str:
    """The values of a listing's informative attributes (JSON object), as words."""
    try:
        parsed = json.loads(attributes)
    except ValueError:
        return ""
    if not isinstance(parsed, dict):
        return ""
    return " ".join(
        str(value) for key, value in parsed.items() if not key.lower().startswith(_UNINFORMATIVE)
    )


def _codes(row: dict[str, str]) -> tuple[str, ...]:
    raw = row.get("hs6") or row.get("codes_full") or row.get("code_full") or ""
    digits = [code.replace(".", "") for code in _CODE_SEPARATORS.split(raw) if code]
    return tuple(dict.fromkeys(code[:6] for code in digits if len(code) >= 6))


def _row(row: dict[str, str]) -> LabelledRow:
    parts = [row.get("text") or ""]
    if row.get("technical_spec"):
        parts.append(row["technical_spec"])
    if row.get("attributes"):
        parts.append(attribute_text(row["attributes"]))
    text = " | ".join(" ".join(part.split()) for part in parts if part.strip())
    return LabelledRow(
        id=row.get("id") or "", text=text, category=row.get("category") or None, codes=_codes(row)
    )


def read_labelled(path: Path) -> list[LabelledRow]:
    """Every row of a labelled CSV that has a code (the three formats above)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = [_row(row) for row in csv.DictReader(handle)]
    return [row for row in rows if row.codes]


def short_titles(rows: list[LabelledRow], count: int) -> list[LabelledRow]:
    """Each row cut to the first ``count`` words of its title (the text before the first
    ``|``), without its category: how the classifier does on a short listing title."""
    return [
        LabelledRow(
            id=row.id,
            text=" ".join(row.text.split("|")[0].split()[:count]),
            category=None,
            codes=row.codes,
        )
        for row in rows
    ]
