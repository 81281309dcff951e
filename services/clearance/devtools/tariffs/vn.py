"""Viet Nam: the 2026 export-import tariff (AHTN 2022, 8-digit lines) from ``hs_tariff_2026.json``.

Each object gives the MFN ("preferential") rate ``nk_ud``, the ATIGA and ACFTA special
preferential rates and the possible VAT rates of the line. The VAT list is kept as the source
writes it, in the order it writes it, because the order carries meaning: ``[8, 10]`` is a 10% line
the temporary reduction brings to 8%, ``[10, 8]`` a 10% line outside the reduction (the special
consumption tax goods, metals and mining products of Decree 174/2025's appendices), ``[5, 8, 10]``
a line at 5% for some uses and 10% (8%) otherwise. Chapter 98 (rates for goods meeting conditions,
which repeat codes of chapters 1-97) is left out.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from clearance.devtools.tariffs.common import Provenance, Tariff, TariffRow, not_computable
from clearance.domain.tariff import AdValorem, DutyForm, percent

__all__ = ["PROVENANCE", "read_vn"]

PROVENANCE = Provenance(
    title="Viet Nam export and import tariff 2026 (AHTN 2022, 8-digit lines of chapters 01-97)",
    reference=(
        "Decree 26/2023/ND-CP (preferential import tariff) as amended, incl. Decree 108/2025/ND-CP;"
        " ATIGA and ACFTA special preferential import tariffs 2022-2027"
    ),
    vintage="2026 (the 'BIEU THUE XNK 2026' compilation)",
    source=(
        "https://github.com/miiinniam/jiuneng-osrm backend/data/hs_tariff_2026.json "
        "(extracted from the 'BIEU THUE XNK 2026.xlsx' compilation)"
    ),
    source_commit="1d005bdd7238e6a8b41d4ee8696e25e4251a687d (2026-08-07)",
    licence=(
        "no licence in the source repository; the rates and nomenclature are Vietnamese legal "
        "normative documents, which the Law on Intellectual Property 2005 Art. 15 leaves without "
        "copyright protection"
    ),
    not_modelled=(
        "chapter 98 (conditional rates); the normal rate (150% of MFN, for origins without MFN "
        "treatment); specific, compound and out-of-quota duties (quoted, not computed); other "
        "agreements (EVFTA, RCEP, CPTPP...); excise and environmental protection tax"
    ),
)

_VAT_CLASSES = {(8.0, 10.0): "8/10", (10.0, 8.0): "10", (5.0, 8.0, 10.0): "5/8/10"}


def _rate(value: Any, what: str) -> DutyForm | None:
    """A percentage from the source (a number, or a list of equal numbers); ``None`` if absent."""
    if value is None:
        return None
    if isinstance(value, list):
        distinct = sorted(set(value))
        if len(distinct) != 1:
            return not_computable(f"{what}: several rates in the source {value}")
        value = distinct[0]
    return AdValorem(percent(str(Decimal(repr(float(value))))))


def _row(entry: dict[str, Any]) -> TariffRow:
    mfn = _rate(entry["nk_ud"], "MFN") or not_computable(
        "the source gives no numeric MFN rate for this line (a specific, compound or "
        "out-of-quota duty in Decree 26/2023/ND-CP)"
    )
    preferential = {
        column: form
        for column, key in (("ATIGA", "atiga"), ("ACFTA", "acfta"))
        if (form := _rate(entry[key], column)) is not None
    }
    vat = _VAT_CLASSES.get(tuple(entry["vat"] or ()), "")
    return TariffRow(hs=entry["hs"], mfn=mfn, preferential=preferential, vat=vat)


def read_vn(files: list[Path]) -> Tariff:
    """The tariff of ``hs_tariff_2026.json`` (one file)."""
    (path,) = files
    entries = json.loads(path.read_text(encoding="utf-8"))
    rows = [_row(entry) for entry in entries if not entry["hs"].startswith("98")]
    if len({row.hs for row in rows}) != len(rows):
        raise ValueError(f"{path}: a code repeats outside chapter 98")
    return Tariff(provenance=PROVENANCE, rows=rows, preference_columns=("ATIGA", "ACFTA"), vat=True)
