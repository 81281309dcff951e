"""United Kingdom: the UK Global Tariff as published by DIT on 2020-12-02 (in force 2021-01-01),
``ukgt_2021_vs_eu_cet.csv``, the newest UK schedule in the reference data (its vintage is
recorded in the file and in every decision's reference).

Codes that lost their leading zero are padded (7 -> 8, 9 -> 10 digits). Both 8- and 10-digit
lines are kept: a declared 8-digit code with 10-digit lines under it takes their common duty, or
asks for the full code. Duties are the UKGT column, in GBP (the CET column in EUR is not used).
The file's flags (tariff suspension, quota, trade remedy) go to the line's note.
"""

from __future__ import annotations

import csv
from pathlib import Path

from clearance.devtools.tariffs.cet import parse_cet_rate
from clearance.devtools.tariffs.common import Provenance, Tariff, TariffRow

__all__ = ["PROVENANCE", "read_gb"]

PROVENANCE = Provenance(
    title="UK Global Tariff (DIT global-uk-tariff.csv, published 2020-12-02)",
    reference=(
        "The Customs Tariff (Establishment) (EU Exit) Regulations 2020 (UK Global Tariff), MFN "
        "duties"
    ),
    vintage=(
        "UKGT 2021 (published 2020-12-02, HS 2017 codes); not re-checked against the current UK "
        "Trade Tariff"
    ),
    source=(
        "https://github.com/GSS-Cogs/family-trade datasets/DIT-UK-tariffs/observations.csv "
        "(DIT 'check future UK trade tariffs' download global-uk-tariff.csv)"
    ),
    source_commit="edf3ccb4ae015e5312565ae226a76bdb7f31bb5c (2021-03-01)",
    licence=(
        "Crown copyright, Open Government Licence v3 (attribution: Department for International "
        "Trade)"
    ),
    not_modelled=(
        "changes since 2021 (HS 2022 codes such as 8517.13 smartphones are missing); "
        "suspensions, quotas and trade remedies (flagged in the note only); preferences; "
        "per-hectolitre, % vol and special weight bases (quoted, not computed)"
    ),
)

_FLAGS = (
    ("suspension_applies", "a tariff suspension may apply"),
    ("atq_applies", "a tariff quota may apply"),
    ("trade_remedy_applies", "a trade remedy applies"),
)


def _code(raw: str) -> str:
    """The commodity code with its lost leading zero restored (8 or 10 digits)."""
    return raw.zfill(8) if len(raw) <= 8 else raw.zfill(10)


def read_gb(files: list[Path]) -> Tariff:
    """The tariff of ``ukgt_2021_vs_eu_cet.csv`` (one file)."""
    (path,) = files
    rows = []
    with path.open(encoding="utf-8", newline="") as handle:
        for record in csv.DictReader(handle):
            note = "; ".join(text for key, text in _FLAGS if record[key] == "True")
            rows.append(
                TariffRow(
                    hs=_code(record["commodity"]),
                    mfn=parse_cet_rate(record["ukgt_duty_rate"]),
                    note=note,
                )
            )
    if len({row.hs for row in rows}) != len(rows):
        raise ValueError(f"{path}: a commodity code repeats")
    return Tariff(provenance=PROVENANCE, rows=rows, notes=True)
