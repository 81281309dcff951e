"""United States: the Harmonized Tariff Schedule (USITC JSON export, ``hts_2026_rev_10.json.gz``).

Lines are the 8- and 10-digit records that carry a general (column 1) rate; statistical suffixes
without a rate of their own are found through their 8-digit parent (longest prefix). The special
column's programme codes become one preference column each, for the free trade agreements in
force (GSP, AGOA and the other unilateral programmes are left out). Chapters 98 and 99 (special
provisions, temporary reductions and the additional duties of Section 301/232/IEEPA) are left out.

Rates: ``Free``, ``6.8%``, cents or dollars per kg, per metric ton, each, head, pair, dozen (pairs)
or gross, and their sums (``1.1¢/kg + 4.4%``); cents become dollars exactly. Anything else (per
litre, per proof litre, per barrel, "on drained weight", "the duty provided in the applicable
subheading") is kept as text the engine quotes.
"""

from __future__ import annotations

import gzip
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from clearance.devtools.tariffs.common import Provenance, Tariff, TariffRow, not_computable
from clearance.domain.tariff import AdValorem, Compound, DutyForm, Specific, SpecificUnit, percent

__all__ = ["AGREEMENT_PROGRAMMES", "PROVENANCE", "parse_us_rate", "read_us"]

PROVENANCE = Provenance(
    title="Harmonized Tariff Schedule of the United States, 2026 Revision 10 (chapters 01-97)",
    reference=(
        "Harmonized Tariff Schedule of the United States (19 U.S.C. 1202), general and special "
        "columns"
    ),
    vintage="HTS 2026 Revision 10",
    source=(
        "https://hts.usitc.gov/ (USITC JSON export) via https://github.com/arifshehab/"
        "tariff-rate-tracker data/hts_archives/hts_2026_rev_10.json.gz"
    ),
    source_commit="c9b94db402dc9086f8d764832ea0f8ee983c084a (2026-06-09)",
    licence="a work of the US Government (public domain)",
    not_modelled=(
        "chapters 98-99 (incl. Section 301/232/IEEPA additional duties, only footnote pointers "
        "here); column 2 rates; GSP, AGOA, CBERA and other unilateral programmes; quotas; per "
        "litre, per barrel and other quantity bases (quoted, not computed)"
    ),
)

AGREEMENT_PROGRAMMES: Final = (
    "AU", "BH", "CL", "CO", "IL", "JO", "JP", "KR", "MA", "OM", "P", "PA", "PE", "S", "SG",
)  # fmt: skip
"""Special-column codes of free trade agreements (USMCA is ``S``, CAFTA-DR ``P``)."""

_UNITS: Final[dict[str, tuple[Decimal, SpecificUnit]]] = {
    "kg": (Decimal(1), "kg"),
    "t": (Decimal(1000), "kg"),
    "each": (Decimal(1), "u"),
    "head": (Decimal(1), "u"),
    "pr.": (Decimal(1), "pair"),
    "doz. pr.": (Decimal(12), "pair"),
    "doz.": (Decimal(12), "u"),
    "gross": (Decimal(144), "u"),
}
_TERM: Final = re.compile(r"(?:(\d+(?:\.\d+)?)¢|\$(\d+(?:\.\d+)?))\s*(?:/\s*|\s+)(.+)")
_GROUP: Final = re.compile(r"([^()]+?)\s*\(([^()]*)\)")


def _term(text: str) -> DutyForm | None:
    text = text.strip()
    if text == "Free":
        return AdValorem(Decimal(0))
    if (match := re.fullmatch(r"(\d+(?:\.\d+)?)%", text)) is not None:
        return AdValorem(percent(match.group(1)))
    match = _TERM.fullmatch(text)
    if match is None or match.group(3).strip() not in _UNITS:
        return None
    cents, dollars, unit = match.groups()
    amount = Decimal(cents) / 100 if cents is not None else Decimal(dollars)
    per, counted = _UNITS[unit.strip()]
    return Specific(amount, "USD", per, counted)


def parse_us_rate(text: str) -> DutyForm:
    """A general or special rate of the HTS as a duty form (quoted when not computable)."""
    terms = [_term(part) for part in " ".join(text.split()).split(" + ")]
    forms = [term for term in terms if term is not None]
    if not forms or len(forms) != len(terms):
        return not_computable(text)
    return forms[0] if len(forms) == 1 else Compound(tuple(forms))


def _special(text: str) -> dict[str, DutyForm]:
    """Programme code -> rate, from ``Free (AU,BH,...) 3.4% (JP)``; codes of agreements only."""
    found: dict[str, DutyForm] = {}
    for rate_text, codes in _GROUP.findall(" ".join(text.split())):
        if rate_text.strip().startswith("See"):
            continue
        form = parse_us_rate(rate_text)
        for code in (c.strip() for c in codes.split(",")):
            if code in AGREEMENT_PROGRAMMES:
                found[code] = form
    return found


def _row(record: dict[str, Any]) -> TariffRow | None:
    code = record["htsno"].replace(".", "")
    general = " ".join((record.get("general") or "").split())
    if not code or not general or code[:2] in {"98", "99"}:
        return None
    note = "; ".join(
        note["value"].strip()
        for note in record.get("footnotes") or []
        if "general" in note.get("columns", []) and note.get("value", "").strip()
    )
    return TariffRow(
        hs=code,
        mfn=parse_us_rate(general),
        preferential=_special(record.get("special") or ""),
        note=" ".join(note.split())[:200],
    )


def read_us(files: list[Path]) -> Tariff:
    """The tariff of the USITC JSON export (one ``.json`` or ``.json.gz`` file)."""
    (path,) = files
    raw = path.read_bytes()
    records = json.loads(gzip.decompress(raw) if path.suffix == ".gz" else raw)
    rows = [row for record in records if (row := _row(record)) is not None]
    return Tariff(
        provenance=PROVENANCE, rows=rows, preference_columns=AGREEMENT_PROGRAMMES, notes=True
    )
