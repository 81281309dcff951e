"""The imported tariffs against their sources in ``../shared/data``: re-importing reproduces each
committed ``tariff.tsv`` byte for byte, and the engine's duty on sampled lines is the rate the
source file writes (ad valorem, specific, compound; with and without preferences).

The expected duties are computed here from the source's own text with small, separate rules for
the plain forms, not with the importers' parsers, so a mistake in one is not hidden by the other.
The readers' parsing of the rarer forms is checked on literal examples (no source needed).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import importlib.resources
import json
import random
import re
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from clearance.devtools.tariffs import SOURCES, build_tariff
from clearance.devtools.tariffs.cet import parse_cet_rate
from clearance.devtools.tariffs.jp import applied_mfn, parse_jp_rate
from clearance.devtools.tariffs.us import parse_us_rate
from clearance.domain.assess import assess
from clearance.domain.context import AssessmentContext
from clearance.domain.fx import ExchangeRates
from clearance.domain.money import round_money
from clearance.domain.packs import PackRegistry, RulePack
from clearance.domain.rounding import round_to
from clearance.domain.tariff import format_form
from clearance.entrypoints.cli import main
from clearance.messages import ORDER_PLACED_DECODER, ClearanceDecision

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
REGISTRY = PackRegistry.bundled()
SAMPLE = 40

needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(),
    reason="../shared/data absent: the tariffs are checked against their source files there",
)

IMPORTS = {  # pack -> (source format, files under ../shared/data)
    "vn": ("vn", ["vn/hs_tariff_2026.json"]),
    "us": ("us", ["us_hts/hts_2026_rev_10.json.gz"]),
    "eu": ("eu", ["eu/cnCodes_2026.json", "eu/eu_cet_2020_mfn_from_ukgt_comparison.csv"]),
    "gb": ("gb", ["uk/ukgt_2021_vs_eu_cet.csv"]),
    "jp": ("jp", ["jp/tariffdata"]),
}


# --- the readers on literal examples (no source needed) -----------------------------------------


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("Free", "0%"),
        ("6.8%", "6.8%"),
        ("1.1¢/kg + 4.4%", "0.011 USD/kg + 4.4%"),
        ("$1.035/kg", "1.035 USD/kg"),
        ("68¢/head", "0.68 USD/u"),
        ("0.9¢ each", "0.009 USD/u"),
        ("37.5¢/doz. pr. + 3%", "0.375 USD/12pair + 3%"),
        ("$2.50/t", "2.5 USD/1000kg"),
        ("21.1¢/liter", "?21.1¢/liter"),
        ("The duty provided in the applicable subheading + 25%", "?The duty provided in the "
         "applicable subheading + 25%"),
    ],
)  # fmt: skip
def test_us_rates(text: str, form: str) -> None:
    assert format_form(parse_us_rate(text)) == form


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("12.0%", "12%"),
        ("10.20% + 93.10 EUR / 100 kg", "10.2% + 93.1 EUR/100kg"),
        ("10.00% + 77.00 GBP/100kg", "10% + 77 GBP/100kg"),
        ("4.50% MIN 0.30 EUR / item MAX 0.80 EUR / item", "min(max(4.5%; 0.3 EUR/u); 0.8 EUR/u)"),
        ("52.00 EUR / 1,000 items", "52 EUR/1000u"),
        ("12 EUR / tonne", "12 EUR/1000kg"),
        ("6.20% + 27.10 EUR / 100 kg MAX 17.90%", "min(6.2% + 27.1 EUR/100kg; 17.9%)"),
        ("14.00% (01 JUL - 31 JAN), 0.00% (01 FEB - 30 JUN)",
         "season(07-01..01-31: 14%; 02-01..06-30: 0%)"),
        ("8% (1 JAN-15 FEB, 1 JUN-31 DEC), 10% (16 FEB-31 MAY)",
         "season(01-01..02-15,06-01..12-31: 8%; 02-16..05-31: 10%)"),
        ("11.20% (01 JAN-31 APR), 0% (01 MAY-31 DEC)",
         "season(01-01..04-31: 11.2%; 05-01..12-31: 0%)"),
        ("3.20 GBP / hl", "?3.20 GBP / hl"),
        ("12.8% + EA MAX 18.7% + ADSZ", "?12.8% + EA MAX 18.7% + ADSZ"),
        ("7.2 MIN 0.36 EUR/100 kg", "?7.2 MIN 0.36 EUR/100 kg"),
        ("Entry Price", "?Entry Price"),
        ("", "?no rate in the source"),
    ],
)  # fmt: skip
def test_cet_and_ukgt_rates(text: str, form: str) -> None:
    assert format_form(parse_cet_rate(text)) == form


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("無税", "0%"),
        ("10.9%", "10.9%"),
        ("3,400,000円/頭", "3400000 JPY/u"),
        ("30%又は4,300円/足のうちいずれか高い税率", "max(30%; 4300 JPY/pair)"),
        ("25%又は390円/kgのうちいずれか低い税率", "min(25%; 390 JPY/kg)"),
        ("8.5%＋50円/kg", "8.5% + 50 JPY/kg"),
        ("◎無税", "?◎無税"),
        ("20円/l", "?20円/l"),
    ],
)
def test_japanese_rates(text: str, form: str) -> None:
    assert format_form(parse_jp_rate(text)) == form


@pytest.mark.parametrize(
    ("general", "temporary", "wto", "form"),
    [
        ("10%", "", "(10%)", "10%"),  # a bracketed WTO rate is not applied
        ("10%", "5%", "(10%)", "5%"),  # the temporary rate where there is one
        ("20%", "", "16%", "16%"),  # unless the WTO rate is lower
        ("5%", "", "8%", "5%"),
        ("60%又は4,800円/足のうちいずれか高い税率", "", "30%又は4,300円/足のうちいずれか高い税率",
         "min(max(60%; 4800 JPY/pair); max(30%; 4300 JPY/pair))"),
        ("", "", "(3%)", "?no applied rate in the schedule (general '', WTO '(3%)')"),
    ],
)  # fmt: skip
def test_japans_applied_mfn_rate(general: str, temporary: str, wto: str, form: str) -> None:
    assert format_form(applied_mfn(general, temporary, wto)) == form


def test_every_source_format_has_an_import() -> None:
    assert sorted(SOURCES) == sorted(IMPORTS)
    with pytest.raises(ValueError, match="reads 2 file"):
        build_tariff("eu", [Path("cnCodes_2026.json")], "eu")


# --- the committed files against their sources --------------------------------------------------


def committed(pack_id: str) -> bytes:
    return (importlib.resources.files("clearance.packs") / pack_id / "tariff.tsv").read_bytes()


@needs_shared
@pytest.mark.parametrize("pack_id", sorted(IMPORTS))
def test_reimporting_reproduces_the_committed_tariff_byte_for_byte(pack_id: str) -> None:
    source, files = IMPORTS[pack_id]
    rebuilt = build_tariff(source, [SHARED / file for file in files], pack_id)
    assert rebuilt == committed(pack_id), (
        f"packs/{pack_id}/tariff.tsv differs from its source: run "
        f"clearance tariff import {source} {' '.join('../shared/data/' + f for f in files)} "
        f"--pack {pack_id}"
    )


def decide(
    pack: RulePack,
    code: str,
    value: str,
    *,
    day: str,
    origin: str = "CN",
    quantity: int = 1,
    weight: str | None = None,
    proof: dict[str, str] | None = None,
    options: dict[str, bool] | None = None,
) -> ClearanceDecision:
    """The decision for one line of ``code`` worth ``value`` (pack currency) on ``day``."""
    line: dict[str, Any] = {
        "description": "sampled tariff line",
        "quantity": quantity,
        "unit_price": value,
        "origin_country": origin,
        "hs_code": code,
    }
    if weight is not None:
        line["unit_weight_kg"] = weight
    order: dict[str, Any] = {
        "type": "order.placed",
        "event_id": "e",
        "platform": "shop",
        "order_id": "o",
        "occurred_at": f"{day}T12:00:00+00:00",
        "destination_country": pack.countries[0],
        "currency": pack.currency,
        "seller": {"id": "s", "name": "S", "country": origin},
        "consignee": {
            "id": "c",
            "name": "C",
            "country": pack.countries[0],
            "identity": {"type": "national_id", "number": "001099012345"},
        },
        "items": [line],
        "transport": {"mode": "post"},
    }
    if proof is not None:
        order["origin_proof"] = proof
    context = AssessmentContext(
        decision_id=uuid.UUID(int=1),
        decided_at=dt.datetime(2026, 11, 20, tzinfo=dt.UTC),
        consignee_ref="c",
        pack=pack,
        rates=ExchangeRates([]),
        options=options or {},
    )
    decoded = ORDER_PLACED_DECODER.decode(msgspec.json.encode(order))
    return assess(decoded, context).decision


def expect_duty(
    pack: RulePack, decision: ClearanceDecision, expected: Decimal, code: str, text: str
) -> None:
    wanted = round_money(expected, pack.currency, pack.rounding)
    statutory = pack.statutory_rounding
    if statutory is not None and statutory.duty.total is not None:  # Japan: to JPY 100 down
        wanted = round_to(wanted, statutory.duty.total, statutory.duty.rule)
    codes = [reason.code for reason in decision.reasons]
    assert decision.duty == wanted, f"{pack.id} {code} {text!r}: {decision.duty} != {wanted}"
    assert "TARIFF_RATE_UNKNOWN" not in codes and "TARIFF_LINE_AMBIGUOUS" not in codes


def sample(candidates: list[Any], seed: int) -> list[Any]:
    return random.Random(seed).sample(candidates, min(SAMPLE, len(candidates)))


PERCENT = re.compile(r"(\d+(?:\.\d+)?)%")


def pct(text: str) -> Decimal:
    return Decimal(text) / 100


# --- Viet Nam: MFN, ATIGA, ACFTA ----------------------------------------------------------------


@needs_shared
def test_vn_duties_are_the_source_rates_with_and_without_preferences() -> None:
    pack = REGISTRY.get("vn")
    entries = json.loads((SHARED / "vn/hs_tariff_2026.json").read_text(encoding="utf-8"))
    lines = [e for e in entries if not e["hs"].startswith("98") and e["nk_ud"] is not None]
    value, day = Decimal(10_000_000), "2026-09-01"
    for entry in sample(lines, 1):
        decision = decide(pack, entry["hs"], str(value), day=day)
        expect_duty(pack, decision, value * Decimal(str(entry["nk_ud"])) / 100, entry["hs"], "mfn")
    written = {line.hs for line in pack.duty.preferences["ACFTA"].table.lines}  # type: ignore[union-attr]
    for column, agreement, document, origin in (
        ("atiga", "ATIGA", "FORM_D", "TH"),
        ("acfta", "ACFTA", "FORM_E", "CN"),
    ):
        claimed = [e for e in lines if isinstance(e[column], float) and e["hs"] not in written]
        for entry in sample(claimed, 2):
            proof = {"agreement": agreement, "document": document}
            decision = decide(pack, entry["hs"], str(value), day=day, origin=origin, proof=proof)
            rate = min(Decimal(str(entry[column])), Decimal(str(entry["nk_ud"])))
            expect_duty(pack, decision, value * rate / 100, entry["hs"], agreement)


@needs_shared
def test_vn_tax_is_the_lines_vat_class() -> None:
    pack = REGISTRY.get("vn")
    entries = json.loads((SHARED / "vn/hs_tariff_2026.json").read_text(encoding="utf-8"))
    by_class = {"8/10": Decimal("0.08"), "10": Decimal("0.10")}  # 2026: Decree 174/2025
    source_order = {(8.0, 10.0): "8/10", (10.0, 8.0): "10"}
    lines = [e for e in entries if tuple(e["vat"] or ()) in source_order and e["nk_ud"] is not None]
    for entry in sample(lines, 3):
        decision = decide(pack, entry["hs"], "10000000", day="2026-09-01")
        wanted = by_class[source_order[tuple(entry["vat"])]]
        assert decision.lines[0].tax_rate == wanted, (entry["hs"], entry["vat"])


# --- United States: general column and the special programmes -----------------------------------

US_TERM = re.compile(r"(?:(\d+(?:\.\d+)?)¢|\$(\d+(?:\.\d+)?))(?:/kg| each)")


def us_expected(text: str, value: Decimal, quantity: int, kg: Decimal) -> Decimal | None:
    """The duty of the plain US forms: Free, N%, N¢/kg, $N/kg, N¢ each, and their sums."""
    total = Decimal(0)
    for term in text.split(" + "):
        if term == "Free":
            continue
        if match := PERCENT.fullmatch(term):
            total += value * pct(match.group(1))
        elif match := US_TERM.fullmatch(term):
            amount = Decimal(match.group(1)) / 100 if match.group(1) else Decimal(match.group(2))
            total += amount * (kg * quantity if term.endswith("/kg") else quantity)
        else:
            return None
    return total


def us_records() -> Iterator[dict[str, Any]]:
    for record in json.loads(
        gzip.decompress((SHARED / "us_hts/hts_2026_rev_10.json.gz").read_bytes())
    ):
        code = record["htsno"].replace(".", "")
        if code and code[:2] not in {"98", "99"} and (record["general"] or "").strip():
            yield {**record, "code": code, "general": " ".join(record["general"].split())}


@needs_shared
def test_us_duties_are_the_general_rates_ad_valorem_specific_and_compound() -> None:
    pack = REGISTRY.get("us")
    value, quantity, kg = Decimal("1000.00"), 4, Decimal("2.5")
    records = [r for r in us_records() if us_expected(r["general"], value, 1, kg) is not None]
    kinds: dict[str, list[dict[str, Any]]] = {"percent": [], "specific": [], "compound": []}
    for record in records:
        text = record["general"]
        kind = (
            "compound" if " + " in text else "specific" if "¢" in text or "$" in text else "percent"
        )
        kinds[kind].append(record)
    assert all(len(found) >= 10 for found in kinds.values()), {k: len(v) for k, v in kinds.items()}
    for seed, found in enumerate(kinds.values()):
        for record in sample(found, 10 + seed):
            expected = us_expected(record["general"], value * quantity, quantity, kg)
            assert expected is not None
            decision = decide(
                pack,
                record["code"],
                str(value),
                day="2026-09-01",
                quantity=quantity,
                weight=str(kg),
            )
            expect_duty(pack, decision, expected, record["code"], record["general"])


@needs_shared
def test_us_korus_rates_with_an_origin_proof() -> None:
    pack = REGISTRY.get("us")
    free = re.compile(r"Free \(([^)]*)\)")
    value = Decimal("1000.00")
    records = [
        r
        for r in us_records()
        if PERCENT.fullmatch(r["general"])
        and pct(PERCENT.fullmatch(r["general"]).group(1)) > 0  # type: ignore[union-attr]
        and (m := free.match(" ".join((r["special"] or "").split())))
        and "KR" in [c.strip() for c in m.group(1).split(",")]
    ]
    proof = {"agreement": "KORUS", "document": "SELF_CERTIFICATION"}
    for record in sample(records, 4):
        with_proof = decide(
            pack, record["code"], str(value), day="2026-09-01", origin="KR", proof=proof
        )
        expect_duty(pack, with_proof, Decimal(0), record["code"], record["special"])
        without = decide(pack, record["code"], str(value), day="2026-09-01", origin="KR")
        expected = value * pct(PERCENT.fullmatch(record["general"]).group(1))  # type: ignore[union-attr]
        expect_duty(pack, without, expected, record["code"], record["general"])


# --- EU and GB: percent, specific and compound per 100 kg ---------------------------------------

CET = re.compile(r"(?:(\d+(?:\.\d+)?)% \+ )?(\d+(?:\.\d+)?) (?:EUR|GBP) ?/ ?100 ?kg")


def cet_expected(text: str, value: Decimal, kg: Decimal) -> tuple[str, Decimal] | None:
    if match := PERCENT.fullmatch(text):
        return "percent", value * pct(match.group(1))
    if match := CET.fullmatch(text):
        specific = Decimal(match.group(2)) * kg / 100
        if match.group(1) is None:
            return "specific", specific
        return "compound", value * pct(match.group(1)) + specific
    return None


def check_cet_lines(pack_id: str, rows: list[tuple[str, str]], seed: int) -> None:
    pack = REGISTRY.get(pack_id)
    value, quantity, kg = Decimal("400.00"), 3, Decimal("1.5")
    kinds: dict[str, list[tuple[str, str]]] = {"percent": [], "specific": [], "compound": []}
    for code, text in rows:
        found = cet_expected(text, value * quantity, kg * quantity)
        if found is not None:
            kinds[found[0]].append((code, text))
    assert all(len(found) >= 5 for found in kinds.values()), {k: len(v) for k, v in kinds.items()}
    for offset, candidates in enumerate(kinds.values()):
        for code, text in sample(candidates, seed + offset):
            expected = cet_expected(text, value * quantity, kg * quantity)
            assert expected is not None
            decision = decide(
                pack, code, str(value), day="2026-09-15", quantity=quantity, weight=str(kg)
            )
            expect_duty(pack, decision, expected[1], code, text)


def cet_2020() -> dict[str, str]:
    with (SHARED / "eu/eu_cet_2020_mfn_from_ukgt_comparison.csv").open(encoding="utf-8") as handle:
        return {
            row["cn_code"]: " ".join(row["eu_cet_third_country_duty_2020"].split())
            for row in csv.DictReader(handle)
        }


@needs_shared
def test_eu_cn_2026_lines_take_the_cet_2020_duty_of_the_same_code() -> None:
    cet = cet_2020()
    codes = json.loads((SHARED / "eu/cnCodes_2026.json").read_text(encoding="utf-8"))
    rows = [(c["code"], cet[c["code"]]) for c in codes if c["code"] in cet]
    check_cet_lines("eu", rows, 20)


@needs_shared
def test_eu_new_codes_fall_back_to_their_hs6_parent_only_when_unambiguous() -> None:
    pack, cet = REGISTRY.get("eu"), cet_2020()
    by_hs6: dict[str, set[str]] = {}
    for code, text in cet.items():
        if len(code) == 8:
            by_hs6.setdefault(code[:6], set()).add(text)
    new = [
        c["code"]
        for c in json.loads((SHARED / "eu/cnCodes_2026.json").read_text(encoding="utf-8"))
        if c["code"] not in cet and not any(k.startswith(c["code"]) for k in cet if len(k) == 10)
    ]
    one_rate = [
        c
        for c in new
        if len(by_hs6.get(c[:6], ())) == 1 and PERCENT.fullmatch(next(iter(by_hs6[c[:6]])))
    ]
    several = [c for c in new if len(by_hs6.get(c[:6], ())) > 1]
    assert len(one_rate) >= 5 and len(several) >= 5
    for code in sample(one_rate, 21)[:10]:
        text = next(iter(by_hs6[code[:6]]))
        decision = decide(pack, code, "400.00", day="2026-09-15")
        expect_duty(pack, decision, Decimal(400) * pct(text[:-1]), code, f"HS6 {code[:6]}: {text}")
    for code in sample(several, 22)[:10]:
        decision = decide(pack, code, "400.00", day="2026-09-15")
        assert decision.status == "hold" and "TARIFF_RATE_UNKNOWN" in [
            r.code for r in decision.reasons
        ]


@needs_shared
def test_gb_lines_take_the_uk_global_tariff_duty() -> None:
    with (SHARED / "uk/ukgt_2021_vs_eu_cet.csv").open(encoding="utf-8") as handle:
        raw = [
            (r["commodity"], " ".join(r["ukgt_duty_rate"].split())) for r in csv.DictReader(handle)
        ]
    padded = [(c.zfill(8) if len(c) <= 8 else c.zfill(10), text) for c, text in raw]
    longer = {code[:8] for code, _ in padded if len(code) == 10}
    rows = [(code, text) for code, text in padded if code not in longer]  # declarable lines
    check_cet_lines("gb", rows, 30)


# --- Japan: applied MFN and the EU-Japan EPA ----------------------------------------------------

JP_SPECIFIC = re.compile(r"([\d,]+)円/kg")
JP_HIGHER = re.compile(r"(\d+(?:\.\d+)?)%又は([\d,]+)円/kgのうちいずれか高い税率")


def jp_amount(text: str, value: Decimal, kg: Decimal) -> Decimal | None:
    if text == "無税":
        return Decimal(0)
    if match := PERCENT.fullmatch(text):
        return value * pct(match.group(1))
    if match := JP_SPECIFIC.fullmatch(text):
        return Decimal(match.group(1).replace(",", "")) * kg
    if match := JP_HIGHER.fullmatch(text):
        return max(value * pct(match.group(1)), Decimal(match.group(2).replace(",", "")) * kg)
    return None


def jp_lines() -> Iterator[tuple[str, dict[str, str]]]:
    """9-digit lines stating their own general rate (no inheritance to reproduce here)."""

    def walk(node: dict[str, Any]) -> Iterator[tuple[str, dict[str, str]]]:
        rate = node.get("rate") or {}
        if node.get("hs_code") and (rate.get("基本") or "").strip():
            yield node["stat_code"].replace(".", "") + node["hs_code"], rate
        for child in node.get("children") or []:
            yield from walk(child)

    for path in sorted((SHARED / "jp/tariffdata").glob("j_*_tariff_data.json")):
        for node in json.loads(path.read_text(encoding="utf-8")):
            yield from walk(node)


def jp_expected(rate: dict[str, str], value: Decimal, kg: Decimal) -> Decimal | None:
    """Temporary else general, unless an unbracketed WTO rate is lower."""
    base_text = (rate.get("暫定") or "").strip() or rate["基本"].strip()
    base = jp_amount(base_text, value, kg)
    wto_text = (rate.get("WTO協定") or "").strip()
    unmarked = wto_text.lstrip("◎※*●")
    if base is None or not wto_text or unmarked.startswith(("(", "（")):
        return base  # no WTO rate, or one in brackets: not applied
    if unmarked != wto_text:
        return None  # a mark this test does not read
    wto = jp_amount(wto_text, value, kg)
    return None if wto is None else min(base, wto)


@needs_shared
def test_jp_duties_are_the_applied_mfn_rates() -> None:
    pack = REGISTRY.get("jp")
    value, quantity, kg = Decimal(60_000), 2, Decimal("1.5")
    seen: dict[str, int] = {}
    lines = []
    for code, rate in jp_lines():
        seen[code] = seen.get(code, 0) + 1
        if jp_expected(rate, value * quantity, kg * quantity) is not None:
            lines.append((code, rate))
    lines = [(code, rate) for code, rate in lines if seen[code] == 1]  # not the seasonal pairs
    specific = [line for line in lines if "円" in line[1]["基本"] + (line[1].get("暫定") or "")]
    temporary = [line for line in lines if (line[1].get("暫定") or "").strip()]
    wto_lower = [line for line in lines if (line[1].get("WTO協定") or "")[:1].isdigit()]
    assert len(specific) >= 5 and len(temporary) >= 5 and len(wto_lower) >= 5
    chosen = (
        sample(lines, 40) + sample(specific, 41) + sample(temporary, 42) + sample(wto_lower, 43)
    )
    for code, rate in chosen:
        expected = jp_expected(rate, value * quantity, kg * quantity)
        assert expected is not None
        decision = decide(
            pack, code, str(value), day="2026-10-05", quantity=quantity, weight=str(kg)
        )
        expect_duty(pack, decision, expected, code, str(rate))


@needs_shared
def test_jp_eu_epa_rates_with_a_statement_on_origin() -> None:
    pack = REGISTRY.get("jp")
    value = Decimal(60_000)
    lines = [
        (code, rate)
        for code, rate in jp_lines()
        if PERCENT.fullmatch(rate.get("EPA_欧州連合") or "")
        and jp_expected(rate, value, Decimal(1)) is not None
        and PERCENT.fullmatch((rate.get("暫定") or "").strip() or rate["基本"].strip())
    ]
    proof = {"agreement": "EU_EPA", "document": "STATEMENT_ON_ORIGIN"}
    for code, rate in sample(lines, 50):
        mfn = jp_expected(rate, value, Decimal(1))
        assert mfn is not None
        preferential = value * pct(rate["EPA_欧州連合"][:-1])
        decision = decide(pack, code, str(value), day="2026-10-05", origin="IT", proof=proof)
        expect_duty(pack, decision, min(mfn, preferential), code, rate["EPA_欧州連合"])


# --- the command ----------------------------------------------------------------------------------


def test_the_import_command_refuses_a_wrong_number_of_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tariff.tsv"
    args = ["tariff", "import", "eu", "cnCodes_2026.json", "--pack", "eu", "--out", str(out)]
    assert main(args) == 2 and not out.exists()
    assert "eu reads 2 file(s)" in capsys.readouterr().err
    assert main(["tariff", "import", "gb", "x.csv", "--pack", "nowhere"]) == 2
    assert "no pack 'nowhere'" in capsys.readouterr().err


@needs_shared
def test_the_import_command_writes_the_packs_tariff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tariff.tsv"
    source = str(SHARED / "uk/ukgt_2021_vs_eu_cet.csv")
    assert main(["tariff", "import", "gb", source, "--pack", "gb", "--out", str(out)]) == 0
    assert out.read_bytes() == committed("gb")
    assert "11830 lines (11393 with a computable MFN duty)" in capsys.readouterr().out
