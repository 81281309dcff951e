"""``clearance bench --all --markdown``: the README's table names its run and reads real figures."""

from __future__ import annotations

from datetime import UTC, datetime

from clearance.devtools.bench_report import markdown
from clearance.devtools.commands.bench_cmd import run_engine_bench


def test_the_table_says_when_where_and_what_it_measured() -> None:
    engine = run_engine_bench(count=300, passes=1)
    table = markdown([engine], now=datetime(2026, 12, 1, 23, 0, tzinfo=UTC))
    heading, _, columns, rule, row = table.splitlines()
    assert heading.startswith("Measured 2026-12-01 23:00 UTC on ")
    assert "cores" in heading and "commit " in heading
    assert heading.endswith("by `clearance bench --all --markdown`:")
    assert columns == "| measurement | result | target |" and rule == "|---|---|---|"
    assert row == (
        f"| engine: assessments per second (one core) | {engine['assessments_per_second']:,} "
        f"| >= {engine['target_per_second']:,} |"
    )
