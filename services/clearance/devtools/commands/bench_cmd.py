"""``clearance bench``: measurements. With no flag (or ``--pipeline``): the whole pipeline on the
embedded broker and database against a bare passthrough. ``--engine``: pure assessments per
second on one core.

Each benchmark is one ``run_*_bench(...) -> dict`` function plus one flag in ``configure``; ``run``
dispatches on the flags and prints the results (``--json`` for machines).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from typing import Any

ENGINE_TARGET_PER_SECOND = 20_000


def configure(parser: argparse.ArgumentParser) -> None:
    """Flags: one per benchmark, plus common options."""
    parser.add_argument("--engine", action="store_true", help="pure engine: assessments/second")
    parser.add_argument(
        "--pipeline", action="store_true", help="Kafka -> worker -> PostgreSQL -> Kafka (default)"
    )
    parser.add_argument(
        "--api", action="store_true", help="checkout quotes over HTTP: latency at --rate"
    )
    parser.add_argument(
        "--risk", action="store_true", help="risk signals: precision and recall, labelled set"
    )
    parser.add_argument(
        "--console",
        action="store_true",
        help="the officer console's pages over HTTP with --held parcels in the queue",
    )
    parser.add_argument(
        "--held", type=int, default=100_000, help="console: parcels in the queue to fill"
    )
    parser.add_argument(
        "--without-codes",
        action="store_true",
        help="engine: items carry no HS code (the classifier suggests them)",
    )
    parser.add_argument("--count", type=int, default=20_000, help="orders to time")
    parser.add_argument("--partitions", type=int, default=4, help="partitions (pipeline)")
    parser.add_argument("--rate", type=int, default=1_000, help="orders/s of the latency run")
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="worker processes in one group (pipeline; default 2, one per core of the target)",
    )
    parser.add_argument(
        "--tracing",
        choices=["off", "sampled", "all"],
        default="sampled",
        help="pipeline: no tracing, 5%% of orders traced (production default), or every order",
    )
    parser.add_argument(
        "--engine-ceiling",
        action="store_true",
        help="pipeline: workers that assess one order per destination and reuse its decision "
        "for the rest, so the rate is what all but the engine allows (an upper bound)",
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated order mix")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument(
        "--all",
        action="store_true",
        help="every figure of the README: engine (with and without codes), quotes, the pipeline "
        "with tracing off, sampled and all (and one worker, sampled, and the engine's ceiling), "
        "the console at --held",
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print the README's table (date, machine, commit)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="--all: run each pipeline setting this many times, interleaved; the table shows "
        "each figure's median and range (a shared machine's rate varies by 20-30%% run to run)",
    )


def run_engine_bench(
    count: int = 20_000, seed: int = 7, passes: int = 3, *, without_codes: bool = False
) -> dict[str, Any]:
    """Time ``assess`` alone (orders decoded and contexts built beforehand) on one core.

    ``passes`` timed passes over the same orders; the result is the median pass, so one pass
    slowed by a neighbour on a shared machine does not decide the number. Every item is
    classified (a suggestion where it has no code, a mismatch check where it has one), through
    the classifier's cache; ``without_codes`` also times the classifier on 5,000 distinct
    descriptions without its cache.
    """
    import datetime as dt
    import uuid

    from clearance.devtools.bench_mix import engine_orders
    from clearance.domain.assess import assess
    from clearance.domain.context import AssessmentContext
    from clearance.domain.hs import bundled_classifier
    from clearance.domain.packs import PackRegistry
    from clearance.service.assessing import bundled_rates

    registry, rates, classifier = PackRegistry.bundled(), bundled_rates(), bundled_classifier()
    orders = engine_orders(count, seed, without_codes=without_codes)
    now = dt.datetime.now(dt.UTC)
    contexts = [
        AssessmentContext(
            decision_id=uuid.UUID(int=index),
            decided_at=now,
            consignee_ref=order.consignee.id,
            pack=registry.for_destination(order.destination_country),
            rates=rates,
            classifier=classifier,
        )
        for index, order in enumerate(orders)
    ]
    for order, context in zip(orders[:200], contexts[:200], strict=True):  # warm caches
        assess(order, context)
    timings = []
    for _ in range(max(1, passes)):
        started = time.perf_counter()
        for order, context in zip(orders, contexts, strict=True):
            assess(order, context)
        timings.append(time.perf_counter() - started)
    elapsed = statistics.median(timings)
    per_second = count / elapsed if elapsed else float("inf")
    statuses = Counter(assess(o, c).decision.status for o, c in zip(orders, contexts, strict=True))
    extra = {"classify_uncached_us": _classify_uncached_us()} if without_codes else {}
    return {
        "benchmark": "engine" + (" (items without HS codes)" if without_codes else ""),
        "assessments": count,
        "seconds": round(elapsed, 4),
        "assessments_per_second": round(per_second),
        "passes_per_second": [round(count / t) if t else None for t in timings],
        "target_per_second": ENGINE_TARGET_PER_SECOND,
        "meets_target": per_second >= ENGINE_TARGET_PER_SECOND,
        "mix": "60% VN express (20% ATIGA claims), 40% EU DE/FR/ES/IT; 1-3 lines each",
        "statuses": dict(statuses.most_common()),
        **extra,
    }


def _classify_uncached_us(descriptions: int = 5_000) -> float:
    """Mean microseconds to classify one description the cache has not seen: a fresh classifier
    over the nomenclature's own subheading texts (all distinct)."""
    from clearance.domain.hs import HsClassifier, bundled_classifier

    fresh = HsClassifier(bundled_classifier().model)
    texts = fresh.model.descriptions[:descriptions]
    started = time.perf_counter()
    for text in texts:
        fresh.suggest(text)
    return round((time.perf_counter() - started) / len(texts) * 1e6, 1)


def run(args: argparse.Namespace) -> int:
    """Run the selected benchmarks and print what was measured."""
    results = _each_apart(args) if args.all else _selected(args)
    if args.markdown:
        from clearance.devtools.bench_report import markdown

        command = "clearance bench --all --markdown"
        if args.all and args.repeat > 1:
            command += f" --repeat {args.repeat}"
        print(markdown(results, command=command))
        return 0
    for result in results:
        if args.json:
            print(json.dumps(result))
        else:
            print(", ".join(f"{key}={value}" for key, value in result.items()))
    return 0


def _selected(args: argparse.Namespace) -> list[dict[str, Any]]:
    results = []
    if args.engine:
        results.append(run_engine_bench(args.count, args.seed, without_codes=args.without_codes))
    if args.api:
        from clearance.devtools.bench_api import run_quote_bench

        results.append(run_quote_bench(rate=args.rate if args.rate != 1_000 else 500.0))
    if args.risk:
        from clearance.devtools.risk_eval import evaluate

        results.append(evaluate(seed=args.seed if args.seed != 7 else 20261125))
    if args.console:
        from clearance.devtools.bench_console import run_console_bench

        results.append(run_console_bench(args.held, args.seed))
    if args.pipeline or not (args.engine or args.api or args.risk or args.console):
        from clearance.devtools.bench_pipeline import run_pipeline_bench

        results.append(
            run_pipeline_bench(
                args.count,
                args.seed,
                args.partitions,
                args.rate,
                args.workers,
                args.tracing,
                engine_ceiling=args.engine_ceiling,
            )
        )
    return results


def _each_apart(args: argparse.Namespace) -> list[dict[str, Any]]:
    """``--all``: each benchmark in a process of its own, one after the other, so none inherits
    another's heap, tracing set-up or environment (measured: the pipeline run after the console's
    fill of 100,000 parcels in the same process cost its workers 375 us an order instead of 218).
    With ``--repeat N`` each pipeline setting runs N times and its figures are the runs' medians
    (``bench_report.combine_runs``)."""
    import subprocess
    import sys

    from clearance.devtools.bench_report import combine_runs

    common = ["--count", str(args.count), "--seed", str(args.seed), "--json"]
    pipelines = [
        *(["--pipeline", "--tracing", tracing] for tracing in ("off", "sampled", "all")),
        ["--pipeline", "--tracing", "sampled", "--workers", "1"],  # the scaling from 1 to 2
        ["--pipeline", "--tracing", "sampled", "--engine-ceiling"],  # all but the engine
    ]
    others = [
        ["--engine"],
        ["--engine", "--without-codes"],
        ["--api"],
        ["--console", "--held", str(args.held)],
    ]

    def measured(flags: list[str]) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, "-m", "clearance", "bench", *flags, *common],
            capture_output=True,
            text=True,
            check=True,
        )
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result

    # Interleaved (every setting once, then again): a slow spell falls on all of them alike.
    rounds = [[measured(flags) for flags in pipelines] for _ in range(max(1, args.repeat))]
    results = [combine_runs([each[index] for each in rounds]) for index in range(len(pipelines))]
    return results + [measured(flags) for flags in others]
