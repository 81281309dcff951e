"""National tariffs in the engine: duty forms as the law writes them, the tariff file, the line a
code finds, and what a decision says when a duty cannot be computed (never a guessed number)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from clearance.domain.assess import assess
from clearance.domain.context import AssessmentContext
from clearance.domain.duty import Ambiguous, Found, find_tariff_line
from clearance.domain.fx import ExchangeRates
from clearance.domain.packs import PackError, RulePack, _reader, load_pack_text
from clearance.domain.tariff import (
    AdValorem,
    Compound,
    Computed,
    Goods,
    Highest,
    Lowest,
    NotComputable,
    Seasonal,
    Specific,
    TariffError,
    Uncomputable,
    ad_valorem_part,
    describe_form,
    evaluate,
    format_form,
    parse_form,
    parse_tariff,
    percent,
)
from clearance.messages import ORDER_PLACED_DECODER, ClearanceDecision

# --- duty forms ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "12%",
        "0%",
        "16.5%",
        "77 GBP/100kg",
        "0.011 USD/kg",
        "3400000 JPY/u",
        "52 EUR/1000u",
        "0.3 USD/12pair",
        "10.2% + 93.1 EUR/100kg",
        "max(10%; 2.5 EUR/kg)",
        "min(max(4.5%; 0.3 EUR/u); 0.8 EUR/u)",
        "min(9.1% + 45.1 EUR/100kg; 18.9% + 16.5 EUR/100kg)",
        "season(07-01..01-31: 14%; 02-01..06-30: 0%)",
        "season(01-01..02-15,06-01..12-31: 8%; 02-16..05-31: 10%)",
        "?3.20 GBP / hl",
    ],
)
def test_a_form_reads_back_as_written(text: str) -> None:
    assert format_form(parse_form(text)) == text


@pytest.mark.parametrize(
    "text", ["12", "12 %", "5 usd/kg", "3 EUR/hl", "5 EUR/0kg", "season(13-01: 1%)", ""]
)
def test_a_malformed_form_is_refused(text: str) -> None:
    with pytest.raises(TariffError):
        parse_form(text)


def test_percent_is_an_exact_fraction() -> None:
    assert percent("12.5") == Decimal("0.125")
    assert str(percent("18")) == "0.18"
    assert str(percent("0.0")) == "0"


def goods(
    value: str = "100", quantity: int = 2, kg: str | None = None, day: str = "2026-03-01"
) -> Goods:
    return Goods(
        customs_value=Decimal(value),
        quantity=quantity,
        unit_weight_kg=Decimal(kg) if kg is not None else None,
        day=dt.date.fromisoformat(day),
        currency="EUR",
    )


def amount(text: str, on: Goods) -> Decimal:
    result = evaluate(parse_form(text), on)
    assert isinstance(result, Computed), result
    return result.amount


def test_ad_valorem_specific_and_compound_duties() -> None:
    assert amount("12%", goods()) == Decimal("12.00")
    assert amount("2.5 EUR/u", goods()) == Decimal("5.0")  # 2 units
    assert amount("0.3 EUR/12pair", goods(quantity=24)) == Decimal("0.6")
    assert amount("77 EUR/100kg", goods(kg="0.5")) == Decimal("0.77")  # 2 x 0.5 kg
    assert amount("10% + 2 EUR/kg", goods(kg="0.25")) == Decimal("11.00")
    compound = evaluate(parse_form("10% + 2 EUR/kg"), goods(kg="0.25"))
    assert isinstance(compound, Computed) and compound.ad_valorem == Decimal("0.1")
    assert "2 EUR per kg x 0.5 kg" in compound.formula


def test_the_higher_and_the_lower_of_take_the_branch_for_these_goods() -> None:
    higher = evaluate(parse_form("max(10%; 4 EUR/u)"), goods())
    assert isinstance(higher, Computed) and higher.amount == 10  # 10% of 100 > 8
    assert higher.ad_valorem == Decimal("0.1") and higher.formula.startswith("the higher of")
    assert amount("max(10%; 6 EUR/u)", goods()) == 12
    capped = "min(max(4.5%; 0.3 EUR/u); 0.8 EUR/u)"  # the EU's MIN ... MAX
    assert amount(capped, goods(value="100", quantity=1)) == Decimal("0.8")
    assert amount(capped, goods(value="10", quantity=1)) == Decimal("0.45")
    assert amount(capped, goods(value="1", quantity=1)) == Decimal("0.3")
    specific = evaluate(parse_form("min(10%; 4 EUR/u)"), goods())
    assert isinstance(specific, Computed) and specific.ad_valorem is None


def test_a_season_is_chosen_by_the_assessment_date_and_may_wrap_the_year_end() -> None:
    form = "season(07-01..01-31: 14%; 02-01..06-30: 0%)"
    assert amount(form, goods(day="2026-01-15")) == 14
    assert amount(form, goods(day="2026-12-01")) == 14
    assert amount(form, goods(day="2026-03-01")) == 0
    gap = evaluate(parse_form("season(01-01..01-31: 5%)"), goods(day="2026-03-01"))
    assert isinstance(gap, Uncomputable) and "no season" in gap.why


def test_what_cannot_be_computed_says_why_and_is_never_a_number() -> None:
    quoted = evaluate(parse_form("?3 EUR/hl"), goods())
    assert isinstance(quoted, Uncomputable) and "3 EUR/hl" in quoted.why
    no_weight = evaluate(parse_form("10% + 2 EUR/kg"), goods())
    assert isinstance(no_weight, Uncomputable) and no_weight.missing_weight
    foreign = evaluate(parse_form("2 GBP/u"), goods())
    assert isinstance(foreign, Uncomputable) and "not converted" in foreign.why
    either = evaluate(parse_form("max(10%; ?per litre)"), goods())
    assert isinstance(either, Uncomputable)


def test_forms_in_words_and_their_ad_valorem_part() -> None:
    assert describe_form(parse_form("max(10%; 2.5 EUR/kg)")) == (
        "the higher of (10%) or (2.5 EUR per kg)"
    )
    assert describe_form(parse_form("min(5%; 1 EUR/100kg)")).startswith("the lower of")
    assert describe_form(parse_form("?Entry Price")) == "Entry Price"
    assert ad_valorem_part(parse_form("10% + 2 EUR/kg")) == Decimal("0.1")
    assert ad_valorem_part(parse_form("2 EUR/kg + 3 EUR/u")) is None
    assert ad_valorem_part(parse_form("max(10%; 2 EUR/kg)")) is None
    assert isinstance(parse_form("max(1%; 2%)"), Highest)
    assert isinstance(parse_form("min(1%; 2%)"), Lowest)
    assert isinstance(parse_form("1% + 2%"), Compound)
    assert isinstance(parse_form("season(01-01..12-31: 1%)"), Seasonal)
    assert parse_form("2 EUR/kg") == Specific(Decimal(2), "EUR", Decimal(1), "kg")
    assert parse_form("?x") == NotComputable("x")
    assert parse_form("0%") == AdValorem(Decimal(0))


# --- the tariff file ----------------------------------------------------------------------------

TARIFF = """# tariff: zt
# title: Test tariff
# reference: Test Tariff Act
# vintage: 2020
# source: https://example.org/tariff
# licence: public domain
# lines: 13
hs\tmfn\tFTA\tOTHER\tvat\tnote
22042100\t?3 EUR/hl\t0%\t\t\t
22042900\t?per litre of alcohol\t1%\t\t\t
22042990\t?per hectolitre\t\t\t\t
61091000\t12%\t0%\t0%\tstd\t
61099010\t10%\t\t\tstd\t
61099090\t12%\t\t\tstd\t
62034200\t10% + 2 EUR/kg\t1 EUR/kg\t\tstd\t
64039900\tmax(8%; 2 EUR/pair)\t3%\t\tstd\t
8517\t0%\t\t\tstd\tthe heading
85171300\t0%\t\t\tfree\tsmartphones
95030000\t4.7%\t5%\t\tstd\t
9503000010\t4.7%\t5%\t\tstd\t
9503000090\t4.7%\t5%\t\tstd\t
"""


def test_the_tariff_file_is_read_with_its_provenance() -> None:
    tariff = parse_tariff(TARIFF.encode(), "tariff.tsv")
    assert tariff.info.lines == 13 and tariff.info.vintage == "2020"
    assert tariff.info.title == "Test tariff" and tariff.info.licence == "public domain"
    assert tariff.preference_columns == ("FTA", "OTHER")
    assert tariff.column("OTHER") == 1 and tariff.column("NONE") is None
    line = tariff.lines["64039900"]
    assert line.mfn == Highest(
        (AdValorem(Decimal("0.08")), Specific(Decimal(2), "EUR", Decimal(1), "pair"))
    )
    assert line.preferential == (AdValorem(Decimal("0.03")), None)
    assert tariff.lines["85171300"].note == "smartphones"
    assert tariff.find("8517130000") is tariff.lines["85171300"]
    assert tariff.find("85176200") is tariff.lines["8517"]
    assert tariff.find("01012100") is None
    assert [line.hs for line in tariff.leaves_under("610990")] == ["61099010", "61099090"]
    assert [line.hs for line in tariff.leaves_under("950300")] == ["9503000010", "9503000090"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (TARIFF.replace("# lines: 13", "# lines: 14"), "header says 14 lines"),
        (TARIFF.replace("# title:", "# titel:"), "tariff.tsv:2: not a '# key: value'"),
        (TARIFF.replace("hs\tmfn", "code\tmfn"), "must start with hs, mfn"),
        (TARIFF.replace("61099090\t12%", "61099010\t12%"), "tariff.tsv:14: expected"),
        (TARIFF.replace("\t10% + 2 EUR/kg", "\t10 EUR"), "tariff.tsv:15: not a duty form"),
        (TARIFF.replace("\tthe heading", ""), "tariff.tsv:17: expected 6 cells"),
        ("# tariff: zt\n", "the header row must start with hs, mfn"),
        ("# tariff: zt", "no header row"),
    ],
)
def test_a_bad_tariff_file_is_refused_with_file_and_line(text: str, problem: str) -> None:
    with pytest.raises(TariffError, match=problem):
        parse_tariff(text.encode(), "tariff.tsv")


# --- a pack with a national tariff --------------------------------------------------------------

PACK = """
id: zt
version: "1"
name: test pack with a national tariff
status: in_force
countries: [ZT]
currency: EUR
timezone: Europe/Brussels
valuation: {threshold: cif, customs_value: cif, reference: r, source: s}
requirements: {hs_code: true, hs_code_min_digits: 6}
options:
  tariff_highest_candidate: {default: false, description: d, reference: r, source: s}
  lower_vat: {default: false, description: d, reference: r, source: s}
duty:
  table:
    reference: Test Tariff Act
    source: https://example.org/tariff
    file: tariff.tsv
    lines:
      - {hs: "61091000", rate: "0.07", description: "a case's own rate"}
  preferences:
    FTA:
      parties: [AA]
      documents: [OTHER]
      column: FTA
      reference: Test FTA
      source: https://example.org/fta
tax:
  name: VAT
  base: [customs_value, duty]
  standard_rate: {values: {2020-01-01: "0.2"}, unit: rate, reference: r, source: s}
  tariff_classes:
    std: {description: standard}
    free: {description: "not subject (test)", exempt: true}
  reduced_rate:
    exclusion_groups:
      phones: {description: phones, hs_prefixes: ["8517"], reference: r, source: s}
      toys: {description: toys, hs_prefixes: ["9503"], reference: r, source: s, option: lower_vat}
    periods:
      - start: 2026-01-01
        end: 2026-06-30
        rate: "0.1"
        reference: "Decree A"
        source: s
        excluded: [phones, toys]
      - {start: 2026-07-01, end: 2026-12-31, rate: "0.05", reference: "Decree B", source: s}
"""


def read_tariff(name: str) -> bytes:
    if name != "tariff.tsv":
        raise OSError(f"no file {name}")
    return TARIFF.encode()


CASE_LINE = '      - {hs: "61091000", rate: "0.07", description: "a case\'s own rate"}\n'
ZT = load_pack_text(PACK, "test/zt.yaml", read_tariff)
WITHOUT_CASE_LINE = load_pack_text(
    PACK.replace(CASE_LINE, "").replace("    lines:\n", ""),
    "test/zt.yaml",
    read_tariff,
)


def item(hs: str, price: str = "100.00", quantity: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "description": "goods",
        "quantity": quantity,
        "unit_price": price,
        "origin_country": "AA",
        "hs_code": hs,
        **extra,
    }


def decide(
    *items: dict[str, Any],
    pack: RulePack = WITHOUT_CASE_LINE,
    day: str = "2026-03-01",
    options: dict[str, bool] | None = None,
    **extra: Any,
) -> ClearanceDecision:
    order = ORDER_PLACED_DECODER.decode(
        msgspec.json.encode(
            {
                "type": "order.placed",
                "event_id": "e",
                "platform": "shop",
                "order_id": "o",
                "occurred_at": f"{day}T10:00:00+01:00",
                "destination_country": "ZT",
                "currency": "EUR",
                "seller": {"id": "s", "name": "S", "country": "AA"},
                "consignee": {"id": "c", "name": "C", "country": "ZT"},
                "items": list(items),
                **extra,
            }
        )
    )
    context = AssessmentContext(
        decision_id=uuid.UUID(int=1),
        decided_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
        consignee_ref="ref",
        pack=pack,
        rates=ExchangeRates([]),
        options=options or {},
    )
    return assess(order, context).decision


def reasons(decision: ClearanceDecision, code: str) -> list[str]:
    return [reason.message for reason in decision.reasons if reason.code == code]


def test_the_pack_digest_covers_the_tariff_file() -> None:
    changed = load_pack_text(
        PACK, "test/zt.yaml", lambda name: TARIFF.replace("4.7%\t5%", "4.8%\t5%", 1).encode()
    )
    assert changed.digest != ZT.digest
    same = load_pack_text("# comment\n" + PACK, "test/zt.yaml", read_tariff)
    assert same.digest == ZT.digest
    national = ZT.duty.table.national
    assert national is not None and national.info.sha256 and national.info.file == "tariff.tsv"


def test_a_written_line_at_least_as_specific_wins_over_the_file() -> None:
    found = find_tariff_line(ZT.duty.table, "61091000", "EUR")
    assert (
        isinstance(found, Found)
        and found.written is not None
        and found.mfn == AdValorem(Decimal("0.07"))
    )
    from_file = find_tariff_line(WITHOUT_CASE_LINE.duty.table, "6109100000", "EUR")
    assert isinstance(from_file, Found) and from_file.line is not None
    assert "vintage 2020" in from_file.reference and from_file.mfn_text == "12%"
    assert find_tariff_line(WITHOUT_CASE_LINE.duty.table, "01012100", "EUR") is None


def test_a_short_code_takes_the_common_duty_of_its_lines_or_asks_for_the_full_code() -> None:
    common = decide(item("950300"))  # 9503.00.00.10 and .90: both 4.7%
    assert common.duty == Decimal("4.70") and common.lines[0].duty_rate == Decimal("0.047")
    ambiguous = decide(item("610990"))
    assert ambiguous.status == "needs_information" and ambiguous.duty == 0
    (message,) = reasons(ambiguous, "TARIFF_LINE_AMBIGUOUS")
    assert "61099010 10%, 61099090 12%" in message and "give the full code" in message
    found = find_tariff_line(WITHOUT_CASE_LINE.duty.table, "610990", "EUR")
    assert isinstance(found, Ambiguous) and len(found.candidates) == 2
    highest = decide(item("610990"), options={"tariff_highest_candidate": True})
    assert highest.duty == Decimal("12.00") and highest.status == "release_on_payment"
    # the highest needs every candidate computed: 2204.29 lines are quoted, it stays ambiguous
    quoted = decide(item("220429"), options={"tariff_highest_candidate": True})
    assert reasons(quoted, "TARIFF_LINE_AMBIGUOUS")


def test_specific_duties_need_the_weight_and_quoted_rates_are_held() -> None:
    weighed = decide(item("62034200", quantity=2, unit_weight_kg="0.400"))
    assert weighed.duty == Decimal("21.60")  # 10% x 200 + 2 EUR x 0.8 kg
    assert weighed.charges[0].rate == "10% + 2 EUR per kg"
    no_weight = decide(item("62034200"))
    assert no_weight.status == "needs_information"
    assert "unit_weight_kg" in reasons(no_weight, "MISSING_UNIT_WEIGHT")[0]
    quoted = decide(item("22042100"))
    assert quoted.status == "hold"
    assert "'3 EUR/hl'" in reasons(quoted, "TARIFF_RATE_UNKNOWN")[0]
    pairs = decide(item("64039900", price="10.00", quantity=3))
    assert pairs.duty == Decimal("6.00")  # the higher of 8% x 10 and 2 EUR x 3 pairs
    assert pairs.lines[0].duty_rate is None  # the specific branch applied


def test_preferences_from_the_tariff_column_compare_duties_on_the_line() -> None:
    proof: dict[str, Any] = {"origin_proof": {"agreement": "FTA", "document": "OTHER"}}
    applied = decide(item("64039900", price="10.00", quantity=3), **proof)
    assert applied.duty == Decimal("0.90") and applied.lines[0].preference == "FTA"
    assert reasons(applied, "PREFERENCE_APPLIED")
    not_lower = decide(item("95030000"), **proof)
    assert "not lower than MFN" in reasons(not_lower, "PREFERENCE_NOT_APPLIED")[0]
    absent = decide(item("85171300"), **proof)
    assert "no preferential rate" in reasons(absent, "PREFERENCE_NOT_APPLIED")[0]
    # a free preferential rate needs no comparison with an MFN rate the engine cannot compute
    free = decide(item("22042100"), **proof)
    assert free.status == "release_on_payment" and free.duty == 0
    one_percent = decide(item("22042900"), **proof)
    assert "cannot be compared" in reasons(one_percent, "PREFERENCE_NOT_APPLIED")[0]
    assert one_percent.status == "hold"
    weight = decide(item("62034200", unit_weight_kg="1.000"), **proof)
    assert weight.duty == Decimal("1.00") and weight.lines[0].preference == "FTA"
    no_weight = decide(item("62034200"), **proof)
    assert "unit_weight_kg" in reasons(no_weight, "PREFERENCE_NOT_APPLIED")[0]
    other: dict[str, Any] = {"origin_proof": {"agreement": "NOPE", "document": "OTHER"}}
    assert (
        "not in this pack"
        in reasons(decide(item("95030000"), **other), "PREFERENCE_NOT_APPLIED")[0]
    )


def test_vat_classes_and_reduced_rate_periods_with_exclusion_groups() -> None:
    shirt, phone, toy = item("61091000"), item("85171300"), item("95030000")
    first_half = decide(shirt, item("85176200"), toy)
    rates = [line.tax_rate for line in first_half.lines]
    assert rates == [Decimal("0.1"), Decimal("0.2"), Decimal("0.1")]  # phones excluded
    excluded = [c.reference for c in first_half.charges if c.kind == "tax"][1]
    assert "not reduced: phones excluded from 0.1 by Decree A" in excluded
    with_option = decide(toy, options={"lower_vat": True})
    assert with_option.lines[0].tax_rate == Decimal("0.2")  # the option switches the group on
    exempt = decide(phone)
    assert exempt.lines[0].tax_rate == 0 and exempt.tax == 0
    second_half = decide(shirt, day="2026-08-01")
    assert second_half.lines[0].tax_rate == Decimal("0.05")
    after = decide(shirt, day="2027-02-01")
    assert after.lines[0].tax_rate == Decimal("0.2")


# --- loader checks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (
            ("    file: tariff.tsv\n", "    file: missing.tsv\n"),
            "duty.table.file: no file missing.tsv",
        ),
        (("    file: tariff.tsv\n", "    file: tariff.tsv\n    national: {}\n"), "national"),
        (("      column: FTA\n", "      column: XYZ\n"), "no column 'XYZ'"),
        (("      column: FTA\n", ""), "give a table or a column"),
        (('rate: "0.07"', 'rate: "0.07", duty: "7%"'), "give either rate or duty"),
        (('rate: "0.07"', 'duty: "7 %"'), "lines[0].duty: not a duty form"),
        (("start: 2026-07-01", "start: 2026-06-30"), "periods[1]: periods must be in order"),
        (("excluded: [phones, toys]", "excluded: [tablets]"), "unknown exclusion group"),
        (("option: lower_vat}", "option: nope}"), "exclusion_groups.toys.option: unknown option"),
        (
            ("    free: {", "    cond: {description: c, option: nope}\n    free: {"),
            "tariff_classes.cond.option: unknown option",
        ),
        (
            (
                "    exclusion_groups:\n",
                '    rate: {values: {2026-01-01: "0.1"}, unit: rate, reference: r, source: s}\n'
                "    exclusion_groups:\n",
            ),
            "give either rate or periods",
        ),
    ],
)
def test_the_loader_refuses_inconsistent_tariff_keys(edit: tuple[str, str], problem: str) -> None:
    old, new = edit
    assert old in PACK
    with pytest.raises(PackError, match=re.escape(problem)):
        load_pack_text(PACK.replace(old, new, 1), "test/zt.yaml", read_tariff)


def test_a_tariff_file_needs_a_folder_to_be_read_from() -> None:
    with pytest.raises(PackError, match="no folder"):
        load_pack_text(PACK, "test/zt.yaml")


def test_the_reader_reads_only_files_beside_the_pack(tmp_path: Path) -> None:
    (tmp_path / "zt").mkdir()
    (tmp_path / "zt" / "tariff.tsv").write_bytes(b"x")
    texts = {"zt": b"id: zt", "child": b"id: child\nextends: zt\n"}
    read = _reader(tmp_path, "zt", texts)
    assert read("tariff.tsv") == b"x"
    assert _reader(tmp_path, "child", texts)("tariff.tsv") == b"x", "inherited from its base"
    for name in ("../pack.yaml", ".hidden", "sub/tariff.tsv"):
        with pytest.raises(OSError, match="only a file beside"):
            read(name)
