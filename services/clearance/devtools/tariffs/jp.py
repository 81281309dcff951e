"""Japan: Japan Customs' tariff schedule of 2026-07-09 (``jp/tariffdata/``, one JSON tree per
chapter, 9-digit statistical lines).

The applied MFN duty is the temporary rate (暫定) where there is one, else the general rate (基本),
unless the WTO rate (WTO協定) is lower, which then applies; a WTO rate printed in brackets is not
an applied one. When both are plain percentages the lower is taken here; otherwise the file says
``min(...)`` and the engine takes the lower for the goods at hand. A line that states none of the
three takes them from the nearest line above it (the statistical splits made only for the EPA
columns), and a general rate stated only above is taken from there. Only nodes with a statistical
code are lines; the rated nodes between a subheading and its lines only pass their rates down.

Each EPA column becomes a preference column (``EU``, ``UK``, ``CPTPP``, ``RCEP_CN``...); EPA rates
in brackets are not applied. Rates that depend on the description of the goods (quota, "other than
embroidered"...), on a reference price, or on litres or square metres, and rates marked with a
sign whose meaning is not modelled (◎, ※, *, ●), are kept as text for the engine to quote.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from clearance.devtools.tariffs.common import Provenance, Tariff, TariffRow, not_computable
from clearance.domain.tariff import (
    AdValorem,
    Compound,
    DutyForm,
    Highest,
    Lowest,
    NotComputable,
    Season,
    Seasonal,
    Specific,
    SpecificUnit,
    format_form,
    percent,
)

__all__ = ["EPA_COLUMNS", "PROVENANCE", "applied_mfn", "parse_jp_rate", "read_jp"]

PROVENANCE = Provenance(
    title="Customs Tariff Schedules of Japan, version 2026-07-09 (9-digit statistical lines)",
    reference=(
        "Customs Tariff Act (Act No. 54 of 1910) and Act on Temporary Measures concerning "
        "Customs (Act No. 36 of 1960): general, temporary and WTO rates; EPA rates"
    ),
    vintage="Japan Customs schedule 2026_07_09",
    source=(
        "https://www.customs.go.jp/english/tariff/ (Japan Customs) via "
        "https://github.com/qlitre/japan-tariff-mcp src/tariffdata/"
    ),
    source_commit="715eff92066635603d701c7d410c6bb6c8260a0c (2026-07-12)",
    licence=(
        "Japan Customs' published schedule (Government of Japan Standard Terms of Use 2.0, "
        "compatible with CC BY 4.0: attribute Japan Customs); scraper repository MIT"
    ),
    not_modelled=(
        "GSP and LDC preferential rates; the simplified rates for small-value imports; "
        "tariff-quota, reference-price and description-dependent rates (quoted, not computed)"
    ),
)

EPA_COLUMNS: Final[dict[str, str]] = {
    "EPA_シンガポール": "SG",
    "EPA_メキシコ": "MX",
    "EPA_マレーシア": "MY",
    "EPA_チリ": "CL",
    "EPA_タイ": "TH",
    "EPA_インドネシア": "ID",
    "EPA_ブルネイ": "BN",
    "EPA_アセアン": "ASEAN",
    "EPA_フィリピン": "PH",
    "EPA_スイス": "CH",
    "EPA_ベトナム": "VN",
    "EPA_インド": "IN",
    "EPA_ペルー": "PE",
    "EPA_豪州": "AU",
    "EPA_モンゴル": "MN",
    "EPA_CPTPP": "CPTPP",
    "EPA_欧州連合": "EU",
    "EPA_英国": "UK",
    "EPA_RCEP_アセアン豪州NZ": "RCEP_ASEAN_AU_NZ",
    "EPA_RCEP_中国": "RCEP_CN",
    "EPA_RCEP_韓国": "RCEP_KR",
    "EPA_日米貿易協定": "US",
}
"""Japan Customs' EPA column -> this tariff's preference column."""

_MFN_KEYS: Final = ("基本", "暫定", "WTO協定")
_UNITS: Final[dict[str, SpecificUnit]] = {
    "kg": "kg", "個": "u", "頭": "u", "本": "u", "枚": "u", "足": "pair",
}  # fmt: skip
_MARKS: Final = "◎※*●"
_WIDE: Final = str.maketrans({"％": "%", "＋": "+", "（": "(", "）": ")"})
_HIGHER: Final = re.compile(r"(.+)又は(.+)のうちいずれか高い税率")
_LOWER: Final = re.compile(r"(.+)又は(.+)のうちいずれか低い税率")
_SEASON: Final = re.compile(
    r"毎年(\d+)月(\d+)日から(?:同年|翌年)(\d+)月(\d+|末日)日?までに輸入されるもの"
)


def _normalised(text: str) -> str:
    return " ".join(text.translate(_WIDE).split())


def _term(text: str) -> DutyForm | None:
    text = text.strip()
    if text == "無税":
        return AdValorem(Decimal(0))
    if (match := re.fullmatch(r"(\d+(?:\.\d+)?)%", text)) is not None:
        return AdValorem(percent(match.group(1)))
    match = re.fullmatch(r"([\d,]+(?:\.\d+)?)円/(.+)", text)
    if match is None or match.group(2) not in _UNITS:
        return None
    amount = Decimal(match.group(1).replace(",", ""))
    return Specific(amount, "JPY", Decimal(1), _UNITS[match.group(2)])


def _sum(text: str) -> DutyForm | None:
    terms = [_term(part) for part in text.split("+")]
    forms = [term for term in terms if term is not None]
    if not forms or len(forms) != len(terms):
        return None
    return forms[0] if len(forms) == 1 else Compound(tuple(forms))


def parse_jp_rate(text: str) -> DutyForm:
    """A rate of Japan's schedule as a duty form (quoted when not computable)."""
    cleaned = _normalised(text)
    for pattern, kind in ((_HIGHER, Highest), (_LOWER, Lowest)):
        if (match := pattern.fullmatch(cleaned)) is not None:
            first, second = _sum(match.group(1)), _sum(match.group(2))
            if first is None or second is None:
                return not_computable(text)
            return kind((first, second))
    form = _sum(cleaned)
    return form if form is not None else not_computable(text)


def _bracketed(text: str) -> bool:
    """A rate in brackets (possibly after a mark): bound, not applied."""
    return _normalised(text).lstrip(_MARKS).startswith("(")


def applied_mfn(general: str, temporary: str, wto: str) -> DutyForm:
    """Temporary else general, unless the (unbracketed) WTO rate is lower."""
    base_text = temporary if temporary.strip() else general
    wto_applies = bool(wto.strip()) and not _bracketed(wto)
    if not base_text.strip() or _bracketed(base_text):
        return (
            parse_jp_rate(wto)
            if wto_applies
            else not_computable(
                f"no applied rate in the schedule (general {general!r}, WTO {wto!r})"
            )
        )
    base = parse_jp_rate(base_text)
    if not wto_applies:
        return base
    bound = parse_jp_rate(wto)
    if bound == base:
        return base
    if isinstance(base, AdValorem) and isinstance(bound, AdValorem):
        return base if base.rate <= bound.rate else bound
    return Lowest((base, bound))


def _inherited(rate: dict[str, str], above: dict[str, str]) -> dict[str, str]:
    """The MFN cells of a line: all from above when it states none, else its own (the general
    rate from above when only that is missing)."""
    own = {key: (rate.get(key) or "").strip() for key in _MFN_KEYS}
    if not any(own.values()):
        return dict(above)
    if not own["基本"]:
        own["基本"] = above.get("基本", "")
    return own


def _rows(
    node: dict[str, Any], above: dict[str, str], epa_above: dict[str, str], rows: list[TariffRow]
) -> None:
    """Rows for ``node`` and its children; only nodes with a statistical code are lines."""
    rate: dict[str, str] = node.get("rate") or {}
    cells, epa = above, epa_above
    if any(rate.values()):
        cells = _inherited(rate, above)
        epa = {key: rate.get(key) or "" for key in EPA_COLUMNS}
    if node.get("hs_code"):
        preferential = {
            column: parse_jp_rate(epa[key])
            for key, column in EPA_COLUMNS.items()
            if epa.get(key, "").strip() and not _bracketed(epa[key])
        }
        code = node["stat_code"].replace(".", "") + node["hs_code"]
        mfn = applied_mfn(cells.get("基本", ""), cells.get("暫定", ""), cells.get("WTO協定", ""))
        rows.append(TariffRow(hs=code, mfn=mfn, preferential=preferential, note=node["desc"]))
    for child in node.get("children") or []:
        _rows(child, cells, epa, rows)


def _season(description: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The import period a line's description states (``毎年6月1日から同年11月30日まで``)."""
    match = _SEASON.search(description)
    if match is None:
        return None
    month1, day1, month2, day2 = match.groups()
    last = 29 if month2 == "2" else 31  # 末日: the month's last day (a leap day is covered)
    return (int(month1), int(day1)), (int(month2), last if day2 == "末日" else int(day2))


def _seasonal(code: str, lines: list[TariffRow]) -> TariffRow:
    """Lines of one code that differ by the season of import, as one seasonal line."""
    ranges = [_season(line.note) for line in lines]
    if any(found is None for found in ranges):
        why = f"{len(lines)} lines of the schedule share this code (conditions not modelled)"
        return TariffRow(hs=code, mfn=not_computable(why))

    def by_season(forms: list[DutyForm]) -> DutyForm:
        if all(form == forms[0] for form in forms):
            return forms[0]
        if any(isinstance(form, NotComputable) for form in forms):
            return not_computable(
                "; ".join(
                    f"{line.note}: {format_form(f)}" for line, f in zip(lines, forms, strict=True)
                )
            )
        seasons = tuple(
            Season(ranges=(found,), form=form)
            for found, form in zip(ranges, forms, strict=True)
            if found is not None
        )
        return Seasonal(seasons)

    columns = [c for c in EPA_COLUMNS.values() if all(c in line.preferential for line in lines)]
    return TariffRow(
        hs=code,
        mfn=by_season([line.mfn for line in lines]),
        preferential={c: by_season([line.preferential[c] for line in lines]) for c in columns},
    )


def read_jp(files: list[Path]) -> Tariff:
    """The tariff of the ``tariffdata`` folder (one folder: ``j_NN_tariff_data.json`` files)."""
    (folder,) = files
    read: list[TariffRow] = []
    for path in sorted(folder.glob("j_*_tariff_data.json")):
        for node in json.loads(path.read_text(encoding="utf-8")):
            _rows(node, {}, {}, read)
    by_code: dict[str, list[TariffRow]] = {}
    for row in read:
        by_code.setdefault(row.hs, []).append(row)
    rows = [
        replace(lines[0], note="") if len(lines) == 1 else _seasonal(code, lines)
        for code, lines in by_code.items()
    ]
    columns = tuple(EPA_COLUMNS.values())
    return Tariff(provenance=PROVENANCE, rows=rows, preference_columns=columns)
