"""``clearance tariff import SOURCE FILE... --pack ID``: write a pack's national tariff file.

The file goes beside the pack's ``pack.yaml`` (``packs/<ID>/tariff.tsv``) unless ``--out`` says
otherwise; the pack's ``duty.table.file`` names it. Importing the same source again writes the
same bytes, so the committed file can be checked against its source.
"""

from __future__ import annotations

import argparse
import importlib.resources
import sys
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    """Sub-command ``import``."""
    from clearance.devtools.tariffs import SOURCES

    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    sources = ", ".join(f"{name} ({files})" for name, (_, files) in SOURCES.items())
    read = actions.add_parser(
        "import",
        help="import a national tariff into a pack",
        description=f"Sources and the files under ../shared/data they read: {sources}.",
    )
    read.add_argument("source", choices=sorted(SOURCES), metavar="SOURCE")
    read.add_argument("files", nargs="+", type=Path, metavar="FILE")
    read.add_argument("--pack", required=True, metavar="ID", help="pack id (folder under packs/)")
    read.add_argument("--out", type=Path, help="write here instead of packs/<ID>/tariff.tsv")


def _default_out(pack_id: str) -> Path:
    from clearance.devtools.tariffs import TARIFF_FILE

    folder = Path(str(importlib.resources.files("clearance.packs") / pack_id))
    if not (folder / "pack.yaml").is_file():
        raise FileNotFoundError(f"no pack {pack_id!r} at {folder}")
    return folder / TARIFF_FILE


def run(args: argparse.Namespace) -> int:
    """Import, write, and say how many lines went where."""
    from clearance.devtools.tariffs import build_tariff
    from clearance.domain.tariff import NotComputable, parse_tariff

    try:
        out = args.out or _default_out(args.pack)
        data = build_tariff(args.source, args.files, args.pack)
    except (OSError, ValueError, KeyError) as error:
        print(f"clearance tariff: {error}", file=sys.stderr)
        return 2
    tariff = parse_tariff(data, out.name)  # the engine must read what was written
    out.write_bytes(data)
    computable = sum(not isinstance(line.mfn, NotComputable) for line in tariff.lines.values())
    print(
        f"{out}: {tariff.info.lines} lines ({computable} with a computable MFN duty), "
        f"{len(data):,} bytes, sha256 {tariff.info.sha256[:16]}"
    )
    return 0
