"""``clearance bench --all --markdown``: the README's table names its run and reads real figures."""

from __future__ import annotations

from datetime import UTC, datetime

from clearance.devtools.bench_report import combine_runs, markdown
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


def _pipeline(workers: int, rate: int) -> dict[str, object]:
    return {
        "benchmark": "pipeline",
        "worker_processes": workers,
        "tracing": "sampled",
        "orders_per_second": rate,
        "worker_cpu_us_per_order": 250.0,
        "database_cpu_us_per_order": 60.0,
        "broker_cpu_us_per_order": 30.0,
        "ratio_to_passthrough": 0.12,
        "passthrough_per_second": 45_000,
        "latency": {
            "rate_per_second": 1000,
            "orders": 5000,
            "decided": 5000,
            "p50_ms": 40.0,
            "p99_ms": 90.0,
        },
    }


def test_one_and_two_workers_give_the_scaling_row() -> None:
    table = markdown([_pipeline(2, 5_400), _pipeline(1, 3_000)]).splitlines()
    assert "| pipeline (1 worker, tracing sampled): orders per second | 3,000 | >= 8,000 |" in table
    assert table[-1] == (
        "| pipeline (tracing sampled): scaling from 1 to 2 workers on the 2 cores"
        " | x1.80 (3,000/s -> 5,400/s) |  |"
    )
    assert not any("scaling" in row for row in markdown([_pipeline(2, 5_400)]).splitlines())


def test_a_latency_run_that_missed_decisions_says_so() -> None:
    complete = _pipeline(2, 5_400)
    partial = {**complete, "latency": {**complete["latency"], "decided": 0}}  # type: ignore[dict-item]
    row = "| pipeline (2 workers, tracing sampled): order to decision at 1,000/s, p50 / p99 | "
    assert f"{row}40.0 / 90.0 ms | p99 < 100 ms |" in markdown([complete]).splitlines()
    assert (
        f"{row}40.0 / 90.0 ms (only 0 of 5,000 decided) | p99 < 100 ms |"
        in markdown([partial]).splitlines()
    )


def _run(rate: int, p99: float, cpu: float) -> dict[str, object]:
    run = _pipeline(2, rate)
    run["worker_cpu_us_per_order"] = cpu
    run["latency"] = {**run["latency"], "p99_ms": p99}  # type: ignore[dict-item]
    return run


def test_several_runs_give_each_figure_its_median_and_range() -> None:
    runs = [_run(6_000, 140.0, 230.5), _run(4_500, 80.0, 210.0), _run(7_200, 95.0, 250.0)]
    combined = combine_runs(runs)
    assert combined["orders_per_second"] == 6_000 and combined["runs"] == runs
    assert combined["latency"]["p99_ms"] == 95.0  # the median p99 is not the median rate's run
    table = markdown([combined], command="clearance bench --all --markdown --repeat 3")
    assert table.splitlines()[0].endswith("by `clearance bench --all --markdown --repeat 3`:")
    rows = table.splitlines()
    assert (
        "| pipeline (2 workers, tracing sampled): orders per second | 6,000 (4,500-7,200) "
        "| >= 8,000 |" in rows
    )
    assert (
        "| pipeline (2 workers, tracing sampled): CPU per order, workers / PostgreSQL / broker"
        " | 230.5 (210.0-250.0) / 60.0 / 30.0 us |  |" in rows
    )
    assert (
        "| pipeline (2 workers, tracing sampled): order to decision at 1,000/s, p50 / p99"
        " | 40.0 / 95.0 ms (80.0-140.0) | p99 < 100 ms |" in rows
    )


def test_an_even_number_of_runs_gives_whole_rates() -> None:
    combined = combine_runs([_run(6_001, 90.0, 200.0), _run(6_000, 90.0, 200.0)])
    assert combined["orders_per_second"] == 6_000  # 6,000.5 rounded half to even
    assert isinstance(combined["orders_per_second"], int)
    combined = combine_runs([_run(6_000, 90.0, 200.0), _run(6_000, 90.4, 200.0)])
    assert combined["latency"]["p99_ms"] == 90.2  # kept to the runs' one decimal place


def test_the_engines_ceiling_is_an_upper_bound_without_latency_or_scaling() -> None:
    ceiling = {**_pipeline(2, 9_500), "latency": None, "engine": "reused decisions (ceiling)"}
    rows = markdown([_pipeline(2, 5_400), _pipeline(1, 3_000), ceiling]).splitlines()
    how = "2 workers, tracing sampled, decisions reused: the ceiling without the engine's work"
    assert f"| pipeline ({how}): orders per second | 9,500 | an upper bound |" in rows
    assert not any(how in row and "p50 / p99" in row for row in rows)
    # the scaling compares the real pipelines only (x1.80, not 9,500 / 3,000)
    assert [row for row in rows if "scaling" in row] == [
        "| pipeline (tracing sampled): scaling from 1 to 2 workers on the 2 cores"
        " | x1.80 (3,000/s -> 5,400/s) |  |"
    ]
    combined = combine_runs([ceiling, {**ceiling, "orders_per_second": 9_700}])
    assert combined["latency"] is None and combined["orders_per_second"] == 9_600
