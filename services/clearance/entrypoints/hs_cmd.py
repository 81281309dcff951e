"""``clearance hs``: build the HS suggestion index from the nomenclature, and suggest codes."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def default_index_path() -> Path:
    """Where ``hs build`` writes and the importer looks: the user's cache directory."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "parcel-clearance" / "hs2022-index.json"


def configure(parser: argparse.ArgumentParser) -> None:
    """``build --source DIR [--out PATH]`` and ``suggest TEXT [--index PATH]``."""
    actions = parser.add_subparsers(dest="action", required=True)
    build = actions.add_parser("build", help="index the HS 2022 nomenclature (not copied here)")
    build.add_argument(
        "--source", type=Path, required=True, help="folder with harmonized-system.csv"
    )
    build.add_argument("--out", type=Path, default=None, help="index file (default: user cache)")
    suggest = actions.add_parser("suggest", help="suggest HS subheadings for a description")
    suggest.add_argument("description")
    suggest.add_argument("--index", type=Path, default=None, help="index file (default: cache)")


def run(args: argparse.Namespace) -> int:
    """Build or query the index; exit 1 with what to do when it is missing."""
    from clearance.hs import HsIndex

    if args.action == "build":
        source = args.source / "harmonized-system.csv"
        if not source.is_file():
            print(f"clearance hs: {source} not found", file=sys.stderr)
            return 1
        index = HsIndex.from_nomenclature(source)
        out = args.out or default_index_path()
        index.save(out)
        print(f"{len(index.descriptions)} subheadings indexed into {out}", file=sys.stderr)
        return 0
    path = args.index or default_index_path()
    if not path.is_file():
        print(
            f"clearance hs: no index at {path}; run clearance hs build --source DIR",
            file=sys.stderr,
        )
        return 1
    for suggestion in HsIndex.load(path).suggest(args.description):
        print(f"{suggestion.hs_code}  {suggestion.confidence:.2f}  {suggestion.description}")
    return 0
