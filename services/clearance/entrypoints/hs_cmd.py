"""Not built yet: HS suggestions arrive with issue #6."""

from __future__ import annotations

import argparse
import sys


def configure(parser: argparse.ArgumentParser) -> None:
    """No arguments yet."""
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    """Say honestly that this command is not built yet."""
    print("clearance: HS suggestions arrive with issue #6; not built yet", file=sys.stderr)
    return 2
