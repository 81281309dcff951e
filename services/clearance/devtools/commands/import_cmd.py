"""``clearance import online-retail FILE``: the UCI Online Retail (II) invoices as order events."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    """The dataset (only ``online-retail`` for now), the file, the limit and the date shift.

    Items get no HS code (the data has none): the engine classifies them and says so."""
    parser.add_argument("dataset", choices=["online-retail"])
    parser.add_argument("file", type=Path, help="CSV (or .csv.gz) of the UCI dataset")
    parser.add_argument("--out", type=Path, help="JSON-lines file to write (default: stdout)")
    parser.add_argument("--limit", type=int, help="stop after this many orders")
    parser.add_argument(
        "--as-of",
        type=dt.date.fromisoformat,
        help="move the invoices in time so the last one falls on DATE (today's law applies)",
    )


def run(args: argparse.Namespace) -> int:
    """Write one ``order.placed`` per cross-border invoice; print what was done on stderr."""
    from clearance.devtools.importer import ImportReport, online_retail_events

    if not args.file.is_file():
        print(f"clearance import: {args.file} not found", file=sys.stderr)
        return 1
    report = ImportReport()
    events = online_retail_events(
        args.file,
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
