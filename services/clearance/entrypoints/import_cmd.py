"""``clearance import online-retail FILE``: the UCI Online Retail (II) invoices as order events."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    """The dataset (only ``online-retail`` for now), the file, and what to do with HS codes."""
    parser.add_argument("dataset", choices=["online-retail"])
    parser.add_argument("file", type=Path, help="CSV (or .csv.gz) of the UCI dataset")
    parser.add_argument("--out", type=Path, help="JSON-lines file to write (default: stdout)")
    parser.add_argument("--limit", type=int, help="stop after this many orders")
    parser.add_argument(
        "--hs-index", type=Path, help="HS index (clearance hs build); default: the user cache"
    )
    parser.add_argument(
        "--min-confidence",
        type=float,
        default=0.4,
        help="give an item the suggested HS code only from this confidence on",
    )
    parser.add_argument(
        "--as-of",
        type=dt.date.fromisoformat,
        help="move the invoices in time so the last one falls on DATE (today's law applies)",
    )


def run(args: argparse.Namespace) -> int:
    """Write one ``order.placed`` per cross-border invoice; print what was done on stderr."""
    from clearance.entrypoints.hs_cmd import default_index_path
    from clearance.hs import HsIndex
    from clearance.importer import ImportReport, online_retail_events

    if not args.file.is_file():
        print(f"clearance import: {args.file} not found", file=sys.stderr)
        return 1
    index_path = args.hs_index or default_index_path()
    index = HsIndex.load(index_path) if index_path.is_file() else None
    if index is None:
        print(
            f"clearance import: no HS index at {index_path}: items get no HS code "
            "(run clearance hs build --source ../shared/data/hs2022 first)",
            file=sys.stderr,
        )
    report = ImportReport()
    events = online_retail_events(
        args.file,
        hs_index=index,
        min_confidence=args.min_confidence,
        as_of=args.as_of,
        limit=args.limit,
        report=report,
    )
    lines = b"".join(value + b"\n" for _, value in events)
    if args.out is None:
        sys.stdout.buffer.write(lines)
    else:
        args.out.write_bytes(lines)
    print(json.dumps(report.as_dict()), file=sys.stderr)
    return 0
