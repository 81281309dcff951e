"""European Union: the CN 2026 codes (``cnCodes_2026.json``) with the third-country duties of the
CET 2020 (``eu_cet_2020_mfn_from_ukgt_comparison.csv``).

No 2026 duty file is available, so a CN 2026 code takes the 2020 duty of the same code (the file
records that vintage). A code that is new since 2020 takes the duty of its HS6 parent only where
every CN 2020 line under that parent has the same duty (the note says so); otherwise the line is
kept with a text the engine quotes (``TARIFF_RATE_UNKNOWN``), never a guessed duty. A CN 2020 code
given only as 10-digit lines in the 2020 file takes their duty when they all agree.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

from clearance.devtools.tariffs.cet import parse_cet_rate
from clearance.devtools.tariffs.common import Provenance, Tariff, TariffRow, not_computable

__all__ = ["PROVENANCE", "read_eu"]

PROVENANCE = Provenance(
    title=(
        "EU Combined Nomenclature 2026 codes with the Common Customs Tariff 2020 third-country "
        "duties"
    ),
    reference=(
        "Council Regulation (EEC) 2658/87 Annex I (Combined Nomenclature), conventional "
        "(third-country) duty"
    ),
    vintage="CN 2026 codes; duties of the CET 2020 (CN 2020), not re-checked against TARIC 2026",
    source=(
        "https://github.com/xterr/php-cncodes Resources/cnCodes_2026.json (EU Publications Office "
        "CN data); https://github.com/GSS-Cogs/family-trade datasets/DIT-UK-tariffs/"
        "observations.csv cet_duty_rate column (DIT global-uk-tariff.csv, 2020-12-02)"
    ),
    source_commit=(
        "php-cncodes edf79ad347ceefedb1cad00cd36215a587471efd (2026-02-18); family-trade "
        "edf3ccb4ae015e5312565ae226a76bdb7f31bb5c (2021-03-01)"
    ),
    licence=(
        "CN: EU Publications Office, reuse with attribution (Commission Decision 2011/833/EU); "
        "CET column: Crown copyright, Open Government Licence v3 (DIT publication)"
    ),
    not_modelled=(
        "duty changes since 2020; TARIC measures (suspensions, quotas, anti-dumping, "
        "preferences); agricultural components, entry prices and per-hectolitre duties (quoted, "
        "not computed)"
    ),
)


def _cet_2020(path: Path) -> tuple[dict[str, str], dict[str, list[str]]]:
    """CN8 -> duty text, and CN8 -> the duty texts of its 10-digit lines."""
    cn8: dict[str, str] = {}
    tens: dict[str, list[str]] = defaultdict(list)
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            code, duty = row["cn_code"], row["eu_cet_third_country_duty_2020"].strip()
            if len(code) == 8:
                cn8[code] = duty
            else:
                tens[code[:8]].append(duty)
    return cn8, tens


def _duty_2020(code: str, cn8: dict[str, str], tens: dict[str, list[str]]) -> str | None:
    """The 2020 duty text of a CN8 code (its own, or that of all its 10-digit lines if equal)."""
    if code in cn8:
        return cn8[code]
    texts = set(tens.get(code, ()))
    return texts.pop() if len(texts) == 1 else None


def read_eu(files: list[Path]) -> Tariff:
    """The tariff of ``cnCodes_2026.json`` and the CET 2020 CSV (two files, in that order)."""
    codes_path, cet_path = files
    codes = sorted({entry["code"] for entry in json.loads(codes_path.read_text("utf-8"))})
    cn8, tens = _cet_2020(cet_path)
    by_hs6: dict[str, set[str]] = defaultdict(set)
    for code in {*cn8, *tens}:
        duty = _duty_2020(code, cn8, tens)
        by_hs6[code[:6]].add(duty if duty is not None else "(several)")
    rows = []
    for code in codes:
        duty = _duty_2020(code, cn8, tens)
        if duty is not None:
            rows.append(TariffRow(hs=code, mfn=parse_cet_rate(duty)))
            continue
        parent = by_hs6.get(code[:6], set())
        if len(parent) == 1 and "(several)" not in parent:
            duty = next(iter(parent))
            note = f"not in CN 2020: the duty of every CN 2020 line of HS {code[:6]}"
            rows.append(TariffRow(hs=code, mfn=parse_cet_rate(duty), note=note))
            continue
        why = f"CN 2026 code not in CN 2020, and the CN 2020 lines of HS {code[:6]} " + (
            "have different duties" if parent else "do not exist"
        )
        rows.append(TariffRow(hs=code, mfn=not_computable(why), note="no 2020 duty"))
    return Tariff(provenance=PROVENANCE, rows=rows, notes=True)
