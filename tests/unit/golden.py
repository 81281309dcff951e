"""Golden cases: ``packs/<id>/cases/*.yaml`` (input order -> expected decision fields).

The format is documented in ``services/clearance/packs/README.md``.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import uuid
from decimal import Decimal
from typing import Any

import msgspec

from clearance.domain.assess import assess
from clearance.domain.context import Assessment, AssessmentContext
from clearance.domain.fx import ExchangeRates, RateRow
from clearance.domain.packs import DutyLine, PackRegistry, RulePack
from clearance.messages import ORDER_PLACED_DECODER, OrderPlaced

REGISTRY = PackRegistry.bundled()
DECIDED_AT = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


def case_files() -> list[tuple[str, str]]:
    """(pack folder, case file name) for every bundled golden case."""
    root = importlib.resources.files("clearance.packs")
    found = []
    for folder in sorted(root.iterdir(), key=lambda entry: entry.name):
        cases = folder / "cases"
        if cases.is_dir():
            for case in sorted(cases.iterdir(), key=lambda entry: entry.name):
                if case.name.endswith(".yaml"):
                    found.append((folder.name, case.name))
    return found


def load_case(folder: str, name: str) -> dict[str, Any]:
    text = (importlib.resources.files("clearance.packs") / folder / "cases" / name).read_bytes()
    case: dict[str, Any] = msgspec.yaml.decode(text)
    return case


def build_order(raw: dict[str, Any]) -> OrderPlaced:
    destination = raw["destination_country"]
    order = {
        "type": "order.placed",
        "event_id": "golden-event",
        "platform": "golden",
        "order_id": "golden-order",
        "seller": {"id": "seller-1", "name": "Seller", "country": "CN"},
        "consignee": {
            "id": "buyer-1",
            "name": "Buyer",
            "country": destination,
            "identity": {"type": "national_id", "number": "001099012345"},
        },
        **raw,
    }
    return ORDER_PLACED_DECODER.decode(msgspec.json.encode(order))


def with_case_tariff_lines(pack: RulePack, raw_lines: list[dict[str, Any]]) -> RulePack:
    """The pack plus the tariff lines a worked example assumes (for the case, never the pack).

    An official example may state its own duty rate ("a duty rate of 5%") for a pack that has no
    tariff data; the case says so in ``tariff_lines`` and each line must carry the ``reference``
    that states the rate.
    """
    extra = []
    for raw in raw_lines:
        if not raw.get("reference"):
            raise ValueError(f"case tariff line {raw} needs the reference that states its rate")
        line = {key: value for key, value in raw.items() if key != "reference"}
        extra.append(msgspec.convert(line, DutyLine))
    table = msgspec.structs.replace(pack.duty.table, lines=[*pack.duty.table.lines, *extra])
    return msgspec.structs.replace(pack, duty=msgspec.structs.replace(pack.duty, table=table))


def with_case_reduced_rate_lines(pack: RulePack, raw_lines: list[dict[str, Any]]) -> RulePack:
    """The pack whose reduced tax rate covers the HS lines a worked example puts under it (an
    example's "reduced tax rate" item), for the case only; each needs its ``reference``."""
    reduced = pack.tax.reduced_rate
    if reduced is None:
        raise ValueError(f"pack {pack.id} has no reduced rate for the case's reduced_rate_lines")
    prefixes = []
    for raw in raw_lines:
        if not raw.get("reference"):
            raise ValueError(f"case reduced-rate line {raw} needs the reference that states it")
        prefixes.append(str(raw["hs"]))
    covered = [*(reduced.only_hs_prefixes or []), *prefixes]
    tax = msgspec.structs.replace(
        pack.tax, reduced_rate=msgspec.structs.replace(reduced, only_hs_prefixes=covered)
    )
    return msgspec.structs.replace(pack, tax=tax)


def run_case(case: dict[str, Any]) -> Assessment:
    order = build_order(case["order"])
    pack = REGISTRY.for_destination(order.destination_country, case.get("pack"))
    if case.get("tariff_lines"):
        pack = with_case_tariff_lines(pack, case["tariff_lines"])
    if case.get("reduced_rate_lines"):
        pack = with_case_reduced_rate_lines(pack, case["reduced_rate_lines"])
    rows = [
        RateRow(
            day=dt.date.fromisoformat(str(row["date"])),
            from_=row["from"],
            to=row["to"],
            rate=Decimal(str(row["rate"])),
            source=row["source"],
        )
        for row in case.get("rates", [])
    ]
    context = AssessmentContext(
        decision_id=uuid.UUID(int=1),
        decided_at=DECIDED_AT,
        consignee_ref=case.get("consignee_ref", "golden-consignee"),
        totals={key: Decimal(str(value)) for key, value in case.get("totals", {}).items()},
        options=case.get("options", {}),
        pack=pack,
        rates=ExchangeRates(rows),
    )
    return assess(order, context)


def _field_mismatches(label: str, got: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    return [
        f"{label}.{field}: {got.get(field)} != {value}"
        for field, value in wanted.items()
        if str(got.get(field)) != str(value)
    ]


def _line_mismatches(assessment: Assessment, wanted: list[dict[str, Any]]) -> list[str]:
    by_id = {line.line_id: msgspec.to_builtins(line) for line in assessment.decision.lines}
    problems = []
    for line in wanted:
        problems += _field_mismatches(
            f"line {line['line_id']}", by_id.get(line["line_id"], {}), line
        )
    return problems


def mismatches(assessment: Assessment, expect: dict[str, Any]) -> list[str]:
    """Human-readable differences between the decision and the expected fields."""
    decision = assessment.decision
    problems = []
    codes = [reason.code for reason in decision.reasons]
    for key, wanted in expect.items():
        if key == "reasons":
            problems += [
                f"reason {code} missing (got {codes})" for code in wanted if code not in codes
            ]
        elif key == "absent_reasons":
            problems += [f"reason {code} present" for code in wanted if code in codes]
        elif key == "lines":
            problems += _line_mismatches(assessment, wanted)
        elif key == "exchange_rate":
            got_rate = decision.exchange_rate.rate if decision.exchange_rate else None
            if str(got_rate) != str(wanted):
                problems.append(f"exchange_rate: {got_rate} != {wanted}")
        elif isinstance(wanted, dict):
            problems += _field_mismatches(key, msgspec.to_builtins(getattr(decision, key)), wanted)
        elif str(msgspec.to_builtins(getattr(decision, key))) != str(wanted):
            problems.append(f"{key}: {msgspec.to_builtins(getattr(decision, key))} != {wanted}")
    return problems
