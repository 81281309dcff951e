"""``clearance generate``: a realistic order stream as JSON lines (deterministic by seed)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    """Size, seed, destination mix and where to write."""
    from clearance.devtools.generator import DESTINATIONS

    parser.add_argument("--orders", type=int, default=1_000, help="events to generate")
    parser.add_argument("--seed", type=int, default=7, help="same seed, same stream")
    parser.add_argument(
        "--destination",
        default="mixed",
        choices=["mixed", *DESTINATIONS],
        help="one destination, or the default mix (mostly VN)",
    )
    parser.add_argument(
        "--malformed-share", type=float, default=0.01, help="share of malformed events"
    )
    parser.add_argument("--out", type=Path, help="file to write (default: standard output)")


def run(args: argparse.Namespace) -> int:
    """Write one event per line; ``clearance dev --stream FILE`` replays it."""
    from clearance.devtools.generator import generate_events

    if args.orders < 1 or not 0 <= args.malformed_share < 1:
        print("clearance generate: --orders >= 1 and 0 <= --malformed-share < 1", file=sys.stderr)
        return 2
    events = generate_events(args.orders, args.seed, args.destination, args.malformed_share)
    lines = b"".join(value + b"\n" for _, value in events)
    if args.out is None:
        sys.stdout.buffer.write(lines)
    else:
        args.out.write_bytes(lines)
        print(f"{len(events)} events written to {args.out}", file=sys.stderr)
    return 0
