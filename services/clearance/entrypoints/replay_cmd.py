"""``clearance replay``: stored orders under another rule pack, compared, nothing published."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys


def configure(parser: argparse.ArgumentParser) -> None:
    """The pack to try and the period of stored orders (``occurred_at`` dates, inclusive)."""
    parser.add_argument("--pack", required=True, help="rule pack id, e.g. vn-draft-2025")
    parser.add_argument("--from", dest="day_from", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--to", dest="day_to", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--destination", help="only parcels to this country")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


async def _run(args: argparse.Namespace) -> dict[str, object]:
    from clearance import bootstrap
    from clearance.domain.views import DecisionFilter
    from clearance.service.assessing import Assessor
    from clearance.service.replay import by_seller, replay
    from clearance.settings import load_settings

    settings = load_settings()
    assessor = Assessor(settings.identity_key, sample_key=settings.sample_key)
    assessor.packs.get(args.pack)  # an unknown pack fails before any work
    filters = DecisionFilter(
        destination=args.destination, day_from=args.day_from, day_to=args.day_to
    )
    async with bootstrap.database(settings, max_size=1) as db:
        registry = by_seller(await db.aeo.registry())
        report = await replay(
            db.views.stored_orders(filters),
            assessor,
            args.pack,
            dt.datetime.now(dt.UTC),
            aeo=registry,
        )
    return report.as_dict()


def _print_table(result: dict[str, object]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"{result['parcels']} stored parcels re-assessed under {result['pack']}")
    revenue = Table(title="duty + tax", title_justify="left")
    for column in ("currency", "now", "what if", "difference"):
        revenue.add_column(column, justify="right")
    for currency, row in result["revenue"].items():  # type: ignore[attr-defined]
        revenue.add_row(currency, row["now"], row["what_if"], row["difference"])
    console.print(revenue)
    for title in ("status_changes", "channel_changes"):
        table = Table(title=title.replace("_", " "), title_justify="left")
        table.add_column("from -> to")
        table.add_column("parcels", justify="right")
        for change, count in result[title].items() or {"(none)": 0}.items():  # type: ignore[attr-defined]
            table.add_row(change, str(count))
        console.print(table)


def run(args: argparse.Namespace) -> int:
    """Print the comparison (table, or JSON with ``--json``)."""
    from clearance.domain.packs import UnknownPack
    from clearance.settings import SettingsError

    try:
        result = asyncio.run(_run(args))
    except (UnknownPack, SettingsError, OSError) as error:
        print(f"clearance replay: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result))
    else:
        _print_table(result)
    return 0
