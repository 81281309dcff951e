"""Readers of the tariff texts in ``../shared/data``: every line's text, with its parents' text.

A tariff line alone often means nothing ("Of cotton", "Other"); each reader gives the line's own
words together with its parents' within the heading (``own``), and the heading's and chapter's
text apart (``context``, weighed less: it is shared by every subheading of the heading). Texts go
to the six-digit subheading (HS 2022) they belong to. Exclusion clauses ("(excl. ...)",
"other than ...") are cut: their words name what the line is *not*.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Passage", "hs2022", "nomenclature", "passages"]

_EXCLUSION = re.compile(
    r"\((?:excl\.?|excluding|other than|not including|except)[^()]*(?:\([^()]*\)[^()]*)*\)",
    re.IGNORECASE,
)
_DASHES = re.compile(r"^[\s\-–]+")


@dataclass(frozen=True)
class Passage:
    """Text of one tariff line that describes subheading ``hs6``; ``source`` names the file."""

    hs6: str
    own: str
    context: str
    source: str


def clean(text: str) -> str:
    """The description without exclusion clauses, leading dashes and trailing colons."""
    return _EXCLUSION.sub(" ", _DASHES.sub("", text)).strip().rstrip(":").strip()


def nomenclature(data: Path) -> dict[str, tuple[str, str]]:
    """HS 2022 code (2, 4 or 6 digits) -> (description, parent code)."""
    path = data / "hs2022" / "harmonized-system.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {row["hscode"]: (row["description"], row["parent"]) for row in rows}


def hs2022(data: Path) -> Iterator[Passage]:
    """UN Comtrade's short description of each subheading, its heading's and chapter's."""
    codes = nomenclature(data)
    for code, (text, _) in codes.items():
        if len(code) == 6 and code.isdigit():
            context = f"{codes.get(code[:4], ('', ''))[0]} {codes.get(code[:2], ('', ''))[0]}"
            yield Passage(code, clean(text), context, "hs2022")


def us_hts(data: Path) -> Iterator[Passage]:
    """US HTS 2026: each 8/10-digit line with its indented parents (the heading line as context)."""
    path = data / "us_hts" / "hts_2026_rev_10_flat.csv"
    parents: list[str] = []
    heading = ""
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            indent = int(row["indent"] or 0)
            text = clean(row["description"])
            digits = row["digits"]
            del parents[indent:]
            parents.extend([""] * (indent - len(parents)))
            if indent == 0 and len(digits) == 4:
                heading = text
                parents = [text]
                continue
            parents.append(text)
            if len(digits) >= 6 and digits[:2] not in ("98", "99"):
                own = " ".join(part for part in parents[1:] if part)
                yield Passage(digits[:6], own, heading, "us_hts_2026")


def vn_ahtn(data: Path) -> Iterator[Passage]:
    """Viet Nam's AHTN 2022 lines, English and Vietnamese (parents are not in the file)."""
    rows = json.loads((data / "vn" / "hs_tariff_2026.json").read_text(encoding="utf-8"))
    for row in rows:
        code = str(row["hs"])
        if code[:2] == "98":
            continue
        yield Passage(code[:6], clean(row.get("desc_en") or ""), "", "vn_ahtn_2026_en")
        yield Passage(code[:6], clean(row.get("desc_vn") or ""), "", "vn_ahtn_2026_vi")


def eu_cn(data: Path) -> Iterator[Passage]:
    """EU Combined Nomenclature 2026 CN8 names (the parents are the HS 2022 texts)."""
    rows = json.loads((data / "eu" / "cnCodes_2026.json").read_text(encoding="utf-8"))
    for row in rows:
        yield Passage(row["code"][:6], clean(row["name"]), "", "eu_cn_2026")


def uk_tariff(data: Path) -> Iterator[Passage]:
    """The UK/EU tariff comparison's self-contained descriptions (CN 2020, HS 2017 based)."""
    path = data / "uk" / "ukgt_2021_vs_eu_cet.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            code = row["commodity"]
            code = code.zfill(10) if len(code) in (9, 10) else code.zfill(8)
            yield Passage(code[:6], clean(row["description"]), "", "uk_global_tariff_2021")


def passages(data: Path) -> Iterator[Passage]:
    """Every source's passages, HS 2022 first."""
    yield from hs2022(data)
    yield from us_hts(data)
    yield from vn_ahtn(data)
    yield from eu_cn(data)
    yield from uk_tariff(data)
