"""Focused tests of the domain's pieces: FX, packs loader, valuation, screening, de minimis,
point-of-sale schemes, corrections, and engine features other packs need (beyond VN and EU)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from clearance.domain.aggregation import aggregation_keys, key_for
from clearance.domain.assess import apply_corrections, assess, decide_status
from clearance.domain.context import AssessmentContext
from clearance.domain.fx import ExchangeRates, FxError, MissingExchangeRate, RateRow
from clearance.domain.money import format_amount, quantum, round_money, zero
from clearance.domain.packs import (
    PackError,
    PackRegistry,
    RulePack,
    UnknownPack,
    UnsupportedDestination,
    load_pack_text,
)
from clearance.domain.screening import screen_items, words
from clearance.domain.valuation import allocate
from clearance.messages import (
    ORDER_PLACED_DECODER,
    ClearanceDecision,
    Correction,
    Money,
    OrderPlaced,
)

REGISTRY = PackRegistry.bundled()
NO_RATES = ExchangeRates([])

# A small general pack exercising what VN and EU do not: FOB valuation with transport in the tax
# base (AU-like), per-item relief and scheme, consignee-day aggregation, a fixed ceiling, a default
# tariff rate and a specific duty per unit.
GENERAL_PACK = """
id: zz
version: "1"
name: test pack
status: in_force
countries: [ZZ]
currency: AUD
timezone: Australia/Sydney
valuation: {threshold: fob, customs_value: fob, reference: r, source: s}
requirements: {hs_code: false, consignee_identity: false}
low_value_ceiling: {values: {2020-01-01: "1000"}, unit: AUD, reference: r, source: s}
duty:
  de_minimis:
    per: item
    aggregation: [consignment, consignee_day]
    excluded_excise: [tobacco]
    value_limit: {values: {2020-01-01: "100"}, unit: AUD, reference: r, source: s}
  table:
    reference: r
    source: s
    default: "0.05"
    lines:
      - {hs: "2203", rate: "0", per_unit: "2.00"}
tax:
  name: GST
  base: [customs_value, duty, transport_and_insurance]
  standard_rate: {values: {2020-01-01: "0.10"}, unit: rate, reference: r, source: s}
  point_of_sale:
    scheme: AU_GST
    per: item
    ceiling: {values: {2020-01-01: "1000"}, unit: AUD, reference: r, source: s}
screening:
  restricted:
    - {code: SEEDS, terms: [seeds], hs_prefixes: ["1209"], reference: r, source: s}
"""
ZZ = load_pack_text(GENERAL_PACK, "test/zz.yaml")


def order(**overrides: Any) -> OrderPlaced:
    raw: dict[str, Any] = {
        "type": "order.placed",
        "event_id": "e1",
        "platform": "shop",
        "order_id": "o1",
        "occurred_at": "2026-03-01T10:00:00+07:00",
        "destination_country": "VN",
        "currency": "VND",
        "seller": {"id": "s", "name": "S", "country": "CN"},
        "consignee": {
            "id": "c",
            "name": "C",
            "country": "VN",
            "identity": {"type": "national_id", "number": "1"},
        },
        "items": [
            {
                "description": "Wireless earphones",
                "quantity": 1,
                "unit_price": "800000",
                "origin_country": "CN",
                "hs_code": "85183020",
            }
        ],
        "transport": {"mode": "express"},
    }
    raw.update(overrides)
    return ORDER_PLACED_DECODER.decode(msgspec.json.encode(raw))


def decide(
    parcel: OrderPlaced,
    pack: RulePack | None = None,
    rates: ExchangeRates = NO_RATES,
    totals: dict[str, Decimal] | None = None,
    options: dict[str, bool] | None = None,
) -> ClearanceDecision:
    context = AssessmentContext(
        decision_id=uuid.UUID(int=3),
        decided_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
        consignee_ref="ref",
        totals=totals or {},
        options=options or {},
        pack=pack or REGISTRY.for_destination(parcel.destination_country),
        rates=rates,
    )
    return assess(parcel, context).decision


def codes(decision: ClearanceDecision) -> list[str]:
    return [reason.code for reason in decision.reasons]


# --- money and FX ---------------------------------------------------------------------------


def test_money_rounds_once_to_the_currency_minor_unit() -> None:
    assert round_money(Decimal("2.345"), "EUR") == Decimal("2.35")
    assert round_money(Decimal("2.345"), "EUR", "half_even") == Decimal("2.34")
    assert round_money(Decimal("1234.5"), "VND") == Decimal("1235")
    assert round_money(Decimal("1.2345"), "KWD", "down") == Decimal("1.234")
    for currency, text in (("EUR", "0.00"), ("VND", "0"), ("KWD", "0.000"), ("XYZ", "0.00")):
        assert str(zero(currency)) == text
    assert quantum("JPY") == Decimal(1)
    assert format_amount(Decimal(1250000)) == "1,250,000"


def test_fx_uses_the_latest_rate_on_or_before_the_day_and_says_how_it_was_derived() -> None:
    rates = ExchangeRates.from_csv(
        "# comment\ndate,from,to,rate,source\n"
        "2026-01-02,EUR,USD,1.10,ECB\n2026-02-02,EUR,USD,1.20,ECB\n"
        "2026-01-02,USD,VND,26000,indicative\n\n"
    )
    assert len(rates) == 3
    assert rates.lookup("EUR", "USD", dt.date(2026, 1, 31)).rate == Decimal("1.10")
    assert rates.lookup("EUR", "USD", dt.date(2026, 2, 2)).rate == Decimal("1.20")
    inverse = rates.lookup("USD", "EUR", dt.date(2026, 2, 5))
    assert inverse.rate == Decimal("0.8333333333") and inverse.source.startswith("inverse of")
    cross = rates.lookup("EUR", "VND", dt.date(2026, 2, 5))
    assert cross.rate == Decimal("31200.0000000000") and "cross rate via USD" in cross.source
    assert cross.date == dt.date(2026, 1, 2)
    assert rates.lookup("VND", "VND", dt.date(2026, 1, 1)).rate == 1
    with pytest.raises(MissingExchangeRate):
        rates.lookup("EUR", "USD", dt.date(2025, 12, 31))
    with pytest.raises(MissingExchangeRate):
        rates.lookup("GBP", "VND", dt.date(2026, 2, 5))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("date,from,to\n", "header"),
        ("date,from,to,rate,source\n2026-13-01,EUR,USD,1,x\n", "data row 2"),
        ("date,from,to,rate,source\n2026-01-01,EUR,USD,abc,x\n", "data row 2"),
    ],
)
def test_fx_refuses_a_bad_rates_file(text: str, problem: str) -> None:
    with pytest.raises(FxError, match=problem):
        ExchangeRates.from_csv(text, "rates.csv")


def test_fx_refuses_a_non_positive_rate() -> None:
    with pytest.raises(FxError):
        ExchangeRates(
            [RateRow(day=dt.date(2026, 1, 1), from_="A", to="B", rate=Decimal(0), source="x")]
        )


# --- packs ------------------------------------------------------------------------------------


def test_registry_selects_packs_by_destination_and_never_defaults_to_a_proposed_one() -> None:
    assert REGISTRY.for_destination("VN").id == "vn"
    assert REGISTRY.for_destination("GR").id == "eu"
    assert REGISTRY.for_destination("VN", "vn-draft-2025").status == "proposed"
    with pytest.raises(UnsupportedDestination) as error:
        REGISTRY.for_destination("ZZ")
    assert error.value.code == "UNSUPPORTED_DESTINATION"
    with pytest.raises(UnknownPack):
        REGISTRY.for_destination("DE", "vn")
    with pytest.raises(UnknownPack):
        REGISTRY.get("nope")
    assert [pack.id for pack in REGISTRY.packs] == sorted(pack.id for pack in REGISTRY.packs)


def test_digest_ignores_comments_but_not_facts() -> None:
    commented = load_pack_text("# a comment\n" + GENERAL_PACK, "x.yaml")
    changed = load_pack_text(GENERAL_PACK.replace('"0.10"', '"0.11"'), "x.yaml")
    assert commented.digest == ZZ.digest != changed.digest
    assert len(ZZ.digest) == 64


@pytest.mark.parametrize(
    ("edit", "names"),
    [
        (
            (
                "reference: r, source: s}\nrequirements",
                "reference: r, source: s, extra: 1}\nrequirements",
            ),
            "valuation",
        ),
        (('default: "0.05"', 'default: "-0.05"'), "duty.table"),
        (('per_unit: "2.00"', 'per_unit: "-2"'), "duty.table.lines[0]"),
        (('{2020-01-01: "0.10"}', '{2020-01-01: "-0.10"}'), "tax.standard_rate.values"),
        (('{2020-01-01: "0.10"}', "{}"), "tax.standard_rate.values"),
        (("unit: rate, reference: r", "unit: rate, reference: ' '"), "tax.standard_rate"),
        (
            ("per: item\n    aggregation", "per: item\n    option: nope\n    aggregation"),
            "duty.de_minimis.option",
        ),
        (("  standard_rate:", "  rates_by_country: {}\n  old_rate:"), "tax"),
        (
            (
                "valuation: {threshold: fob, customs_value: fob",
                "valuation: {threshold: fob, customs_value: cif",
            ),
            "tax.base",
        ),
        (("timezone: Australia/Sydney", "timezone: Mars/Olympus"), "timezone"),
        (("id: zz", "id: ZZ!"), "$.id"),
        (("id: zz", "id: [zz"), "not valid YAML"),
    ],
)
def test_loader_refuses_an_invalid_pack_naming_file_and_key(
    edit: tuple[str, str], names: str
) -> None:
    old, new = edit
    assert old in GENERAL_PACK
    with pytest.raises(PackError) as error:
        load_pack_text(GENERAL_PACK.replace(old, new, 1), "packs/zz/pack.yaml")
    assert "packs/zz/pack.yaml" in str(error.value)
    assert names in str(error.value)


def test_standard_rates_missing_for_a_country_is_refused() -> None:
    text = GENERAL_PACK.replace("  standard_rate:", "  rates_by_country:\n    YY:")
    with pytest.raises(PackError, match="no VAT/GST rate for ZZ"):
        load_pack_text(text, "x.yaml")


def test_registry_refuses_duplicate_ids_and_overlapping_countries() -> None:
    with pytest.raises(PackError, match="duplicate pack id"):
        PackRegistry([ZZ, ZZ])
    other = load_pack_text(GENERAL_PACK.replace("id: zz", "id: zz2"), "y.yaml")
    with pytest.raises(PackError, match="already covered"):
        PackRegistry([ZZ, other])


def test_parameters_are_dated_and_null_ends_them() -> None:
    vn = REGISTRY.get("vn")
    reduced = vn.tax.reduced_rate
    assert reduced is not None
    schedule = reduced.schedule  # the decrees' periods as one dated parameter
    assert schedule.at(dt.date(2022, 1, 31)) is None
    assert schedule.at(dt.date(2022, 2, 1)) == Decimal("0.08")  # Decree 15/2022
    assert schedule.at(dt.date(2023, 3, 1)) is None  # no decree in the first half of 2023
    assert schedule.at(dt.date(2025, 6, 30)) == Decimal("0.08")  # Decree 180/2024
    assert schedule.at(dt.date(2025, 7, 1)) == Decimal("0.08")  # Decree 174/2025
    assert schedule.at(dt.date(2027, 1, 1)) is None
    assert vn.option("express_duty_exemption") is True
    assert vn.option("express_duty_exemption", {"express_duty_exemption": False}) is False


# --- valuation, screening, aggregation ----------------------------------------------------------


def test_allocation_is_exact_and_never_negative() -> None:
    assert allocate(Decimal(3), [Decimal(1)] * 6, "VND") == [1, 0, 1, 0, 1, 0]
    assert allocate(Decimal("10.00"), [Decimal(0), Decimal(0)], "EUR") == [0, Decimal("10.00")]
    shares = allocate(Decimal("10.00"), [Decimal(1), Decimal(2)], "EUR")
    assert shares == [Decimal("3.33"), Decimal("6.67")]
    assert allocate(Decimal("4.99"), [Decimal("12.50")], "EUR") == [Decimal("4.99")]
    assert allocate(Decimal("4.99"), [Decimal(0)], "EUR") == [Decimal("4.99")]


def test_screening_matches_whole_words_not_substrings() -> None:
    vn = REGISTRY.get("vn")
    assert words("Ivory-coloured SCARF, size M") == ("ivory-coloured", "scarf", "size", "m")
    ivory = order(
        items=[
            {
                "description": "Carved ivory bracelet",
                "quantity": 1,
                "unit_price": "1",
                "origin_country": "CN",
                "hs_code": "85183020",
            }
        ]
    )
    colour = order(
        items=[
            {
                "description": "Ivory colour silk scarf",
                "quantity": 1,
                "unit_price": "1",
                "origin_country": "CN",
                "hs_code": "85183020",
            }
        ]
    )
    horn = order(
        items=[
            {
                "description": "Rhino horn powder",
                "quantity": 1,
                "unit_price": "1",
                "origin_country": "CN",
                "hs_code": "85183020",
            }
        ]
    )
    horny = order(
        items=[
            {
                "description": "Rhino hornbill toy",
                "quantity": 1,
                "unit_price": "1",
                "origin_country": "CN",
                "hs_code": "85183020",
            }
        ]
    )
    assert [h.code for h in screen_items(ivory.items, vn)] == ["IVORY"]
    assert screen_items(colour.items, vn) == []
    assert [h.kind for h in screen_items(horn.items, vn)] == ["prohibited"]
    assert screen_items(horny.items, vn) == []
    wlan = order(
        items=[
            {
                "description": "Router",
                "quantity": 1,
                "unit_price": "1",
                "origin_country": "CN",
                "hs_code": "85176251",
            }
        ]
    )
    assert [h.matched for h in screen_items(wlan.items, vn)] == ["HS 85176251"]


def test_aggregation_keys_per_unit() -> None:
    parcel = order(transport={"mode": "express", "master_bill": "M9"})
    assert aggregation_keys(parcel, REGISTRY.get("vn"), "ref") == ["VN:master_bill:M9:ref"]
    assert aggregation_keys(order(), REGISTRY.get("vn"), "ref") == []  # no master bill
    draft = REGISTRY.get("vn-draft-2025")
    assert aggregation_keys(parcel, draft, "ref") == [
        "VN-DRAFT-2025:order:shop:o1",
        "VN-DRAFT-2025:consignee_year:ref:2026",
    ]
    assert key_for("consignee_day", parcel, ZZ, "ref") == "ZZ:consignee_day:ref:2026-03-01"
    assert key_for("consignment", parcel, ZZ, "ref") is None


# --- engine features --------------------------------------------------------------------------


def zz_order(**overrides: Any) -> OrderPlaced:
    base: dict[str, Any] = {
        "destination_country": "ZZ",
        "currency": "AUD",
        "consignee": {"id": "c", "name": "C", "country": "ZZ"},
        "items": [
            {
                "description": "Phone case",
                "quantity": 2,
                "unit_price": "40.00",
                "origin_country": "CN",
            }
        ],
        "shipping_cost": "10.00",
        "insurance_cost": "2.00",
    }
    base.update(overrides)
    return order(**base)


def test_fob_value_with_transport_in_the_tax_base_and_per_item_relief() -> None:
    decision = decide(zz_order(), ZZ)
    assert decision.customs_value == Decimal("80.00")  # FOB: goods only
    assert decision.duty == 0 and "DUTY_DE_MINIMIS" in codes(decision)  # each item <= 100
    assert decision.tax == Decimal("9.20")  # 10% x (80 + 0 + 12 transport and insurance)
    assert (
        decision.charges[0].formula
        == "0.10 x (customs value 80.00 + duty 0.00 + transport and insurance 12.00)"
    )


def test_consignee_day_total_ends_the_relief_and_default_rate_applies() -> None:
    decision = decide(zz_order(), ZZ, totals={"ZZ:consignee_day:ref:2026-03-01": Decimal(50)})
    assert "CONSIGNEE_AGGREGATE_EXCEEDS_THRESHOLD" in codes(decision)
    assert decision.duty == Decimal("4.00")  # pack default 5% x 80
    assert decision.lines[0].duty_rate == Decimal("0.05")


def test_specific_duty_per_unit_and_excluded_excise() -> None:
    beer = [
        {
            "description": "Craft beer",
            "quantity": 3,
            "unit_price": "5.00",
            "origin_country": "CN",
            "hs_code": "22030010",
            "excise_category": "tobacco",
        }
    ]
    decision = decide(zz_order(items=beer), ZZ)
    assert "DE_MINIMIS_NOT_ELIGIBLE" in codes(decision)
    assert decision.duty == Decimal("6.00")  # 0% + 2.00 x 3 units
    assert "per unit" in decision.charges[0].rate


def test_point_of_sale_per_item_and_rejections() -> None:
    collected = {"scheme": "AU_GST", "number": "ABN1", "amount": "8.00"}
    decision = decide(zz_order(tax_collected=collected), ZZ)
    assert decision.tax == 0 and decision.collected_at_checkout == Decimal("8.00")
    dear = [
        {"description": "Laptop", "quantity": 1, "unit_price": "1500.00", "origin_country": "CN"}
    ]
    over = decide(zz_order(items=dear, tax_collected=collected), ZZ)
    assert "TAX_COLLECTION_NOT_RECOGNISED" in codes(over) and over.tax > 0
    assert over.status == "formal_entry_required" and over.category == "high_value"
    wrong = decide(zz_order(tax_collected={**collected, "scheme": "UK_VAT"}), ZZ)
    assert "TAX_COLLECTION_NOT_RECOGNISED" in codes(wrong)
    vn = decide(order(tax_collected={"scheme": "VN_TAX", "number": "1", "amount": "1"}))
    assert "TAX_COLLECTION_NOT_RECOGNISED" in codes(vn)


def test_eu_ioss_rejects_bad_numbers_and_excise_goods() -> None:
    base = {
        "destination_country": "DE",
        "currency": "EUR",
        "occurred_at": "2026-09-01T10:00:00+02:00",
        "items": [
            {
                "description": "Scarf",
                "quantity": 1,
                "unit_price": "20.00",
                "origin_country": "CN",
                "hs_code": "610910",
            }
        ],
    }
    bad_number = decide(
        order(**base, tax_collected={"scheme": "EU_IOSS", "number": "X1", "amount": "3.80"})
    )
    assert "not a valid EU_IOSS number" in bad_number.reasons[-1].message or any(
        "not a valid EU_IOSS" in r.message for r in bad_number.reasons
    )
    wine = [
        {
            "description": "Wine",
            "quantity": 1,
            "unit_price": "20.00",
            "origin_country": "CN",
            "hs_code": "610910",
            "excise_category": "alcohol",
        }
    ]
    excise = decide(
        order(
            **{**base, "items": wine},
            tax_collected={"scheme": "EU_IOSS", "number": "IM2760000001", "amount": "3.80"},
        )
    )
    assert any("excludes excise" in r.message for r in excise.reasons)
    assert excise.status == "formal_entry_required"


def test_relief_needs_the_transport_mode_and_data_problems_are_reported() -> None:
    posted = decide(order(transport={"mode": "post"}))
    assert "DE_MINIMIS_NOT_ELIGIBLE" in codes(posted) and posted.duty > 0
    no_hs = decide(
        order(
            items=[
                {"description": "Thing", "quantity": 1, "unit_price": "5", "origin_country": "CN"}
            ]
        )
    )
    assert no_hs.status == "needs_information" and "MISSING_HS_CODE" in codes(no_hs)
    both = decide(order(prices_include_shipping=True, shipping_cost="5"))
    assert "INCONSISTENT_SHIPPING" in codes(both)


def test_preference_conditions_are_explained() -> None:
    def claim(agreement: str, document: str, origin: str, hs: str = "33049930") -> list[str]:
        parcel = order(
            origin_proof={"agreement": agreement, "document": document},
            items=[
                {
                    "description": "Cream",
                    "quantity": 1,
                    "unit_price": "500000",
                    "origin_country": origin,
                    "hs_code": hs,
                }
            ],
        )
        decision = decide(parcel, options={"express_duty_exemption": False})
        return [r.message for r in decision.reasons if r.code == "PREFERENCE_NOT_APPLIED"]

    assert "agreement not in this pack" in claim("RCEP", "FORM_D", "TH")[0]
    assert "not accepted" in claim("ATIGA", "FORM_E", "TH")[0]
    assert "not lower than MFN" in claim("ATIGA", "FORM_D", "TH", "85171300")[0]


def test_missing_exchange_rate_holds_without_amounts() -> None:
    decision = decide(
        order(
            currency="GBP",
            items=[
                {
                    "description": "Phone",
                    "quantity": 1,
                    "unit_price": "10",
                    "origin_country": "CN",
                    "hs_code": "85171300",
                }
            ],
        )
    )
    assert decision.status == "hold" and "EXCHANGE_RATE_UNAVAILABLE" in codes(decision)
    assert decision.total_due == 0 and decision.exchange_rate is None


def test_low_value_ceiling_option() -> None:
    phone = [
        {
            "description": "Phone",
            "quantity": 1,
            "unit_price": "5000000",
            "origin_country": "CN",
            "hs_code": "85171300",
        }
    ]
    assert decide(order(items=phone)).status == "release_on_payment"
    gated = decide(order(items=phone), options={"low_value_ceiling": True})
    assert gated.status == "formal_entry_required" and "LOW_VALUE_CEILING_EXCEEDED" in codes(gated)


def test_status_precedence() -> None:
    assert decide_status(["release", "hold", "needs_information"]) == "needs_information"
    assert decide_status(["release_on_payment", "formal_entry_required"]) == "formal_entry_required"
    assert decide_status(["refuse", "needs_information"]) == "refuse"
    assert decide_status([]) == "release"


def test_contributions_carry_this_parcels_value_for_each_key() -> None:
    parcel = order(transport={"mode": "express", "master_bill": "M1"})
    context = AssessmentContext(
        decision_id=uuid.UUID(int=1),
        decided_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
        consignee_ref="ref",
        pack=REGISTRY.get("vn"),
        rates=NO_RATES,
    )
    assessment = assess(parcel, context)
    assert [(c.key, c.value) for c in assessment.contributions] == [
        ("VN:master_bill:M1:ref", Decimal(800000))
    ]


def test_apply_corrections_replaces_only_the_named_fields() -> None:
    parcel = order()
    corrected = apply_corrections(
        parcel,
        [
            Correction(
                line_id=1,
                hs_code="8517.13.00",
                unit_price=Money("10"),
                quantity=2,
                description="Smartphone",
            )
        ],
    )
    item = corrected.items[0]
    assert (item.hs_code, item.unit_price, item.quantity, item.description) == (
        "85171300",
        Decimal(10),
        2,
        "Smartphone",
    )
    assert apply_corrections(parcel, []) == parcel
    with pytest.raises(ValueError, match="unknown line_id"):
        apply_corrections(parcel, [Correction(line_id=9, quantity=1)])
