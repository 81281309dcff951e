"""``clearance dev``: the whole service on one machine, on an embedded broker and database."""

from __future__ import annotations

import argparse
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    """Size and source of the stream, and whether to stay up afterwards."""
    parser.add_argument("--exit", action="store_true", help="stop once the stream is processed")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--orders", type=int, default=2_000, help="generated orders to replay")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated stream")
    parser.add_argument(
        "--stream", type=Path, help="replay this JSON-lines file instead (e.g. clearance import)"
    )
    parser.add_argument(
        "--what-if", metavar="PACK", help="then re-assess the stream under PACK (vn-draft-2025)"
    )


def run(args: argparse.Namespace) -> int:
    """Start everything, replay the stream, summarise; stop cleanly on ``--exit`` or Ctrl-C."""
    from clearance.devtools.demo import DemoOptions, run_demo

    return run_demo(
        DemoOptions(
            orders=args.orders,
            seed=args.seed,
            stream=args.stream,
            exit_when_done=args.exit,
            json=args.json,
            what_if=args.what_if,
        )
    )
