"""``clearance bench --all --markdown``: the README's performance table, from one command.

Each benchmark returns a flat ``dict`` (``--json`` prints them whole); this module picks the
figures a reader needs, one row each, and heads the table with when, where and on what commit it
was measured, so a number in the README always says which run made it.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["combine_runs", "machine", "markdown"]

Row = tuple[str, str, str]
"""(what, measured, target or note)"""


def machine() -> str:
    """This machine in a line: CPU model, cores, memory, Python, and the commit measured."""
    model = "unknown CPU"
    with_cpuinfo = Path("/proc/cpuinfo")
    if with_cpuinfo.is_file():
        for line in with_cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    if Path("/proc/meminfo").is_file():
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    return (
        f"{model}, {os.cpu_count()} cores{memory}, Python {platform.python_version()}, "
        f"commit {_commit()}"
    )


def _commit() -> str:
    try:
        found = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return found.stdout.strip()


def _engine(result: dict[str, Any]) -> Iterable[Row]:
    what = "engine, items without HS codes" if "without" in result["benchmark"] else "engine"
    yield (
        f"{what}: assessments per second (one core)",
        f"{result['assessments_per_second']:,}",
        f">= {result['target_per_second']:,}",
    )
    if "classify_uncached_us" in result:
        yield (
            "classifying a description not in the cache",
            f"{result['classify_uncached_us']} us",
            "",
        )


def _api(result: dict[str, Any]) -> Iterable[Row]:
    rate = result["rate_per_second"]
    failed = sum(n for status, n in result["statuses"].items() if status != "200")
    yield (f"checkout quotes at {rate:g}/s: p50", f"{result['p50_ms']} ms", "")
    yield (f"checkout quotes at {rate:g}/s: p99", f"{result['p99_ms']} ms", "< 20 ms")
    yield (
        f"checkout quotes at {rate:g}/s: answers other than 200",
        f"{failed} of {result['requests']:,}",
        "0",
    )


def _pipeline(result: dict[str, Any]) -> Iterable[Row]:
    workers = result["worker_processes"]
    how = f"{workers} worker{'s' if workers != 1 else ''}, tracing {result['tracing']}"
    latency = result["latency"]
    if latency is None:  # the engine's ceiling: one decision per destination, reused
        how += ", decisions reused: the ceiling without the engine's work"

    def figure(*path: str, unit: str = "") -> str:
        return _figure(result, path, unit)

    yield (
        f"pipeline ({how}): orders per second",
        figure("orders_per_second"),
        ">= 8,000" if latency is not None else "an upper bound",
    )
    yield (
        f"pipeline ({how}): CPU per order, workers / PostgreSQL / broker",
        f"{figure('worker_cpu_us_per_order')} / {figure('database_cpu_us_per_order')}"
        f" / {figure('broker_cpu_us_per_order', unit=' us')}",
        "",
    )
    yield (
        f"pipeline ({how}): ratio to the bare passthrough",
        f"{figure('ratio_to_passthrough')} (passthrough {result['passthrough_per_second']:,}/s"
        f"{', the median' if len(result.get('runs', [])) > 1 else ''})",
        "",
    )
    if latency is None:
        return
    quantiles = f"{figure('latency', 'p50_ms')} / {figure('latency', 'p99_ms', unit=' ms')}"
    if latency["decided"] < latency["orders"]:  # the quantiles leave out what never came
        quantiles += f" (only {latency['decided']:,} of {latency['orders']:,} decided)"
    yield (
        f"pipeline ({how}): order to decision at {latency['rate_per_second']:,}/s, p50 / p99",
        quantiles,
        "p99 < 100 ms",
    )


def _figure(result: dict[str, Any], path: tuple[str, ...], unit: str) -> str:
    """A figure of ``result``; of several runs (``combine_runs``), their median and range."""
    median = _format(_at(result, path))
    runs = result.get("runs", [])
    if len(runs) < 2:
        return f"{median}{unit}"
    values = sorted(_at(run, path) for run in runs)
    if values[0] == values[-1]:
        return f"{median}{unit}"
    return f"{median}{unit} ({_format(values[0])}-{_format(values[-1])})"


def _at(result: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        result = result[key]
    return result


def _format(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


#: What ``combine_runs`` takes the median of (the rest is the same in every run of a setting).
MEDIAN_OF = (
    ("orders_per_second",),
    ("worker_cpu_us_per_order",),
    ("database_cpu_us_per_order",),
    ("broker_cpu_us_per_order",),
    ("ratio_to_passthrough",),
    ("passthrough_per_second",),
    ("latency", "p50_ms"),
    ("latency", "p99_ms"),
)


def _decimals(value: float | int) -> int:
    """The decimal places a figure was given with (a median keeps them: 52.2, not 52.25)."""
    return 0 if isinstance(value, int) else len(repr(value).partition(".")[2])


def combine_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Several pipeline runs of one setting as one result: each figure the median of the runs
    (each figure apart: the median rate and the median p99 may come from different runs), the
    fewest decisions of any latency run, and the runs themselves under ``runs``."""
    timed = runs[0]["latency"] is not None  # the engine's ceiling has no latency run
    combined = {**runs[0], "latency": dict(runs[0]["latency"]) if timed else None, "runs": runs}
    for path in MEDIAN_OF:
        if path[0] == "latency" and not timed:
            continue
        values = [_at(run, path) for run in runs]
        middle = statistics.median(values)
        target = combined["latency"] if path[0] == "latency" else combined
        places = max(_decimals(value) for value in values)
        target[path[-1]] = round(middle, places) if places else round(middle)
    if timed:
        combined["latency"]["decided"] = min(run["latency"]["decided"] for run in runs)
    return combined


def _console(result: dict[str, Any]) -> Iterable[Row]:
    queued = f"{result['queued']:,} queued"
    for name, what in (
        ("first_page", "the queue's first page"),
        ("deep_page", "a page in the middle of the queue"),
        ("reason_common", "the queue filtered by a common reason"),
        ("master_bill", f"a master bill of {result['bill_parcels']} parcels"),
        ("dashboard", "the dashboard"),
    ):
        yield (f"console ({queued}): {what}, p50", f"{result[f'{name}_ms_p50']} ms", "")


def _none(result: dict[str, Any]) -> Iterable[Row]:
    return ()


ROWS: dict[str, Callable[[dict[str, Any]], Iterable[Row]]] = {
    "engine": _engine,
    "engine (items without HS codes)": _engine,
    "api_quotes": _api,
    "pipeline": _pipeline,
    "console": _console,
}


def markdown(
    results: list[dict[str, Any]],
    now: datetime | None = None,
    command: str = "clearance bench --all --markdown",
) -> str:
    """The results as the README's table, headed by the date, the machine and the command."""
    when = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Measured {when} on {machine()}, by `{command}`:",
        "",
        "| measurement | result | target |",
        "|---|---|---|",
    ]
    for result in results:
        rows = ROWS.get(result["benchmark"], _none)  # --risk has its own report
        for what, measured, target in rows(result):
            lines.append(f"| {what} | {measured} | {target} |")
    for what, measured in _scaling(results):
        lines.append(f"| {what} | {measured} |  |")
    return "\n".join(lines)


def _scaling(results: list[dict[str, Any]]) -> Iterable[tuple[str, str]]:
    """One worker's rate against two's, with the same tracing, where both were measured."""
    rates = {
        (r["tracing"], r["worker_processes"]): r["orders_per_second"]
        for r in results
        if r["benchmark"] == "pipeline" and r["latency"] is not None  # not the ceiling
    }
    for (tracing, workers), one in rates.items():
        two = rates.get((tracing, 2))
        if workers == 1 and two:
            yield (
                f"pipeline (tracing {tracing}): scaling from 1 to 2 workers on the 2 cores",
                f"x{two / one:.2f} ({one:,}/s -> {two:,}/s)",
            )
