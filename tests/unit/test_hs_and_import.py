"""HS suggestions from descriptions, and the UCI Online Retail import (reads ../shared/data)."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path

import pytest

from clearance.entrypoints.cli import main
from clearance.hs import HsIndex
from clearance.importer import ImportReport, online_retail_events
from clearance.messages import OrderPlaced, decode_order_event

LABELS = Path(__file__).resolve().parent.parent / "data" / "hs_chapter_labels.csv"


@pytest.fixture(scope="module")
def index(shared_data: Path) -> HsIndex:
    return HsIndex.from_nomenclature(shared_data / "hs2022" / "harmonized-system.csv")


def test_suggestions_on_hand_labelled_descriptions_are_mostly_in_the_right_chapter(
    index: HsIndex,
) -> None:
    # 46 descriptions of the UCI sample, labelled by hand at chapter level (tests/data): at the
    # importer's threshold 0.4, measured 14 classified (30%), 11 in the right chapter (79%).
    with LABELS.open() as handle:
        rows = list(csv.DictReader(handle))
    kept = [(row, found) for row in rows if (found := index.best(row["description"]))]
    confident = [(row, found) for row, found in kept if found.confidence >= 0.4]
    right = [row for row, found in confident if found.hs_code[:2] == row["chapter"]]
    assert len(confident) / len(rows) >= 0.25
    assert len(right) / len(confident) >= 0.7


def test_a_clear_description_finds_its_subheading_and_noise_finds_nothing(
    index: HsIndex, tmp_path: Path
) -> None:
    [best, *_] = index.suggest("white ceramic coffee mug")
    assert best.hs_code == "691200"
    assert index.suggest("xq zzv 42") == []
    index.save(tmp_path / "index.json")
    assert HsIndex.load(tmp_path / "index.json").suggest("matches") == index.suggest("matches")


def _events(shared_data: Path, **options: object) -> tuple[list[OrderPlaced], ImportReport]:
    report = ImportReport()
    path = shared_data / "orders" / "online_retail_II_sample_500.csv"
    events = [
        decode_order_event(value)
        for _, value in online_retail_events(path, report=report, **options)  # type: ignore[arg-type]
    ]
    assert all(isinstance(event, OrderPlaced) for event in events)
    return events, report  # type: ignore[return-value]


def test_each_cross_border_invoice_becomes_one_order_in_gbp(shared_data: Path) -> None:
    events, report = _events(shared_data)
    assert report.events == len(events) > 0
    assert {e.destination_country for e in events} <= {"IE", "FR", "AU", "US", "BE"}
    assert "IE" in {e.destination_country for e in events}  # "EIRE" in the data
    assert all(e.currency == "GBP" and e.seller.country == "GB" for e in events)
    assert report.skipped["domestic_gb"] > 0 and report.skipped["cancellation_invoice"] > 0
    assert all(item.hs_code is None for e in events for item in e.items)  # no index: no guess
    assert len({e.order_id for e in events}) == len(events)


def test_confident_suggestions_fill_hs_codes_and_dates_move_to_as_of(
    shared_data: Path, index: HsIndex
) -> None:
    events, report = _events(shared_data, hs_index=index, as_of=date(2026, 11, 20))
    classified = [item for e in events for item in e.items if item.hs_code]
    assert 0 < len(classified) == report.items_classified < report.items
    assert max(e.occurred_at for e in events).date() == date(2026, 11, 20)
    assert min(e.occurred_at for e in events) > datetime.fromisoformat("2026-11-01T00:00+00:00")


def test_the_commands(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index_path = tmp_path / "hs.json"
    assert (
        main(["hs", "build", "--source", str(shared_data / "hs2022"), "--out", str(index_path)])
        == 0
    )
    assert main(["hs", "suggest", "small tube matches", "--index", str(index_path)]) == 0
    assert capsys.readouterr().out.startswith("360500")
    out = tmp_path / "orders.jsonl"
    sample = shared_data / "orders" / "online_retail_II_sample_500.csv"
    code = main(
        ["import", "online-retail", str(sample), "--out", str(out), "--hs-index", str(index_path)]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert report["events"] == len(out.read_text().splitlines())
    assert 0 < report["classified_share"] < 1
    assert main(["hs", "suggest", "mug", "--index", str(tmp_path / "missing.json")]) == 1
