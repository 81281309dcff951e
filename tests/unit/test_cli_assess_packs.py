"""``clearance assess`` and ``clearance packs`` as a user drives them (pure: no broker, no DB)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from clearance.entrypoints import assess_cmd
from clearance.entrypoints.cli import build_parser, main

ORDER: dict[str, Any] = {
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
        "identity": {"type": "national_id", "number": "0123"},
    },
    "items": [
        {
            "description": "Wireless earphones",
            "quantity": 1,
            "unit_price": "600000",
            "origin_country": "CN",
            "hs_code": "85183020",
        }
    ],
    "transport": {"mode": "express", "master_bill": "M1"},
}


def run_assess(tmp_path: Path, lines: list[str], *extra: str) -> tuple[int, list[dict[str, Any]]]:
    source = tmp_path / "orders.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = build_parser().parse_args(["assess", str(source), *extra])
    out = io.BytesIO()
    code = assess_cmd.run(args, out)
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def test_one_output_line_per_input_line_with_running_totals(tmp_path: Path) -> None:
    second = {**ORDER, "event_id": "e2", "order_id": "o2"}
    amended = {**ORDER, "type": "order.amended", "event_id": "e3", "revision": 2}
    code, out = run_assess(
        tmp_path,
        [
            json.dumps(ORDER),
            "not json",
            json.dumps(second),
            json.dumps(amended),
            json.dumps({**ORDER, "destination_country": "ZZ"}),
            json.dumps({**ORDER, "items": [{**ORDER["items"][0], "unit_price": 12}]}),
        ],
    )
    assert code == 0  # every line answered
    assert [line["type"] for line in out] == [
        "clearance.decision",
        "dead-letter",
        "clearance.decision",
        "clearance.decision",
        "dead-letter",
        "dead-letter",
    ]
    assert out[0]["duty"] == "0"  # 600,000 alone: relieved
    reasons = [r["code"] for r in out[2]["reasons"]]  # 600,000 + 600,000 under M1
    assert "CONSIGNEE_AGGREGATE_EXCEEDS_THRESHOLD" in reasons
    # the amendment of o1 replaces its own contribution: o2's 600,000 + 600,000 still exceeds
    assert "CONSIGNEE_AGGREGATE_EXCEEDS_THRESHOLD" in [r["code"] for r in out[3]["reasons"]]
    assert out[1]["error"]["code"] == "MALFORMED_JSON"
    assert out[4]["error"]["code"] == "UNSUPPORTED_DESTINATION"
    assert out[5]["error"] == {
        "code": "SCHEMA_VIOLATION",
        "message": 'must be a JSON string holding a decimal number (e.g. "12.50"), not 12',
        "path": "$.items[0].unit_price",
    }


def test_what_if_pack_and_as_of_date(tmp_path: Path) -> None:
    dear = {**ORDER, "items": [{**ORDER["items"][0], "unit_price": "1500000"}]}
    code, out = run_assess(
        tmp_path, [json.dumps(dear)], "--pack", "vn-draft-2025", "--as-of", "2027-02-01"
    )
    assert code == 0
    assert out[0]["rule_pack"]["id"] == "vn-draft-2025"
    assert out[0]["assessment_date"] == "2027-02-01"
    assert out[0]["duty"] == "0" and out[0]["lines"][0]["tax_rate"] == "0.10"


def test_rates_file_is_used(tmp_path: Path) -> None:
    rates = tmp_path / "rates.csv"
    rates.write_text("date,from,to,rate,source\n2026-02-01,USD,VND,25000,customs\n")
    usd = {**ORDER, "currency": "USD", "items": [{**ORDER["items"][0], "unit_price": "20.00"}]}
    _, out = run_assess(tmp_path, [json.dumps(usd)], "--rates", str(rates))
    assert out[0]["exchange_rate"]["source"] == "customs"
    assert out[0]["customs_value"] == "500000"


def test_packs_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["packs", "list"]) == 0
    listing = capsys.readouterr().out
    assert "vn-draft-2025" in listing and "proposed" in listing
    assert main(["packs", "show", "eu", "--as-of", "2026-07-01"]) == 0
    shown = capsys.readouterr().out
    assert "duty.flat_per_subheading.amount = 3 EUR per distinct subheading" in shown
    assert "duty.de_minimis.value_limit = not in force" in shown
    assert "tariff: tariff.tsv, 9,791 lines" in shown and "vintage CN 2026 codes" in shown
    assert "source: https://github.com/xterr/php-cncodes" in shown
    assert main(["packs", "show", "au"]) == 0
    assert "tariff: no national tariff file" in capsys.readouterr().out
    assert main(["packs", "show", "nope"]) == 2


def test_bench_engine_reports_a_measurement(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--engine", "--count", "300", "--json"]) == 0
    [line] = capsys.readouterr().out.splitlines()  # --engine alone: not the pipeline too
    result = json.loads(line)
    assert result["assessments"] == 300 and result["assessments_per_second"] > 0
    passes = result["passes_per_second"]  # the median of three timed passes is the result
    assert len(passes) == 3 and sorted(passes)[1] == result["assessments_per_second"]


def test_every_line_is_answered_whatever_its_dates_and_values(tmp_path: Path) -> None:
    """The lines that once stopped the command (a date before the pack's first rate, year 1, a
    NUL character, a revision beyond the stored range) each get their own answer."""
    singapore_1990 = {
        **ORDER,
        "destination_country": "SG",
        "currency": "SGD",
        "occurred_at": "1990-06-03T10:00:00+08:00",
        "transport": {"mode": "post"},
        "consignee": {"id": "c", "name": "C", "country": "SG"},
        "items": [{**ORDER["items"][0], "unit_price": "500.00"}],
    }
    lines = [
        json.dumps(singapore_1990),
        json.dumps({**ORDER, "event_id": "y1", "occurred_at": "0001-01-01T00:00:00Z"}),
        json.dumps({**ORDER, "event_id": "nul", "order_id": "o\u0000"}),
        json.dumps({**ORDER, "event_id": "big", "revision": 2147483648}),
        json.dumps({**ORDER, "event_id": "last", "order_id": "o-last"}),
    ]
    code, out = run_assess(tmp_path, lines)
    assert code == 0
    assert len(out) == len(lines)
    gap = [r["code"] for r in out[0]["reasons"]]
    assert out[0]["status"] == "hold" and "RULE_NOT_IN_FORCE" in gap
    assert out[1]["type"] == "clearance.decision"
    assert out[2]["error"]["code"] == "UNSTORABLE_VALUE"
    assert out[2]["error"]["path"] == "$.order_id"
    assert out[3]["error"]["path"] == "$.revision"
    assert out[4]["type"] == "clearance.decision" and out[4]["order_id"] == "o-last"


def test_without_the_devtools_only_the_operating_commands_are_listed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The production image leaves clearance.devtools out (deploy/Dockerfile)."""
    import importlib.util

    from clearance.entrypoints import cli

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "clearance.devtools" else real(name, *a),
    )
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    listed = capsys.readouterr().out
    assert all(name in listed for name in cli.COMMANDS)
    assert "development" not in listed
    assert not any(f"\n  {name} " in listed for name in cli.DEVELOPMENT_COMMANDS)
    with pytest.raises(SystemExit):
        cli.main(["dev", "--exit"])  # not a command of this installation


def test_the_image_leaves_the_devtools_out() -> None:
    dockerfile = (Path(__file__).resolve().parents[2] / "deploy" / "Dockerfile").read_text()
    assert "/ 'devtools')" in dockerfile and "shutil.rmtree" in dockerfile
