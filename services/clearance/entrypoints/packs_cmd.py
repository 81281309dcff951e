"""``clearance packs list`` and ``clearance packs show ID [--as-of DATE]``."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from clearance.domain.packs import RulePack


def configure(parser: argparse.ArgumentParser) -> None:
    """Sub-commands ``list`` and ``show``."""
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="every bundled rule pack")
    show = actions.add_parser("show", help="the parameters and options of one pack on a date")
    show.add_argument("pack_id", metavar="ID")
    show.add_argument("--as-of", type=dt.date.fromisoformat, default=None, help="default: today")


def run(args: argparse.Namespace) -> int:
    """Print what was asked."""
    from clearance.domain.packs import PackRegistry, UnknownPack, parameters_of

    registry = PackRegistry.bundled()
    if args.action == "list":
        for pack in registry.packs:
            countries = ",".join(pack.countries)
            print(
                f"{pack.id:<16} {pack.version:<10} {pack.status:<9} {pack.currency} "
                f"{pack.digest[:16]}  {countries}"
            )
        return 0
    try:
        pack = registry.get(args.pack_id)
    except UnknownPack as error:
        print(f"clearance packs: {error}", file=sys.stderr)
        return 2
    day = args.as_of or dt.datetime.now(pack.zone).date()
    print(f"{pack.id} {pack.version} ({pack.status}) - {pack.name}")
    print(f"digest {pack.digest}")
    print(f"as of {day}:")
    for key, parameter in parameters_of(pack):
        value = parameter.at(day)
        shown = "not in force" if value is None else f"{value} {parameter.unit}"
        flag = (
            "  [UNVERIFIED/NOTE]"
            if "UNVERIFIED" in parameter.note or "DISPUTED" in parameter.note
            else ""
        )
        print(f"  {key} = {shown}{flag}\n      {parameter.reference_at(day)[0]}")
    for name, option in pack.options.items():
        print(f"  option {name} = {option.default}: {option.description.strip()}")
        if option.note:
            print(f"      note: {option.note.strip()}")
    _print_tariff(pack)
    return 0


def _print_tariff(pack: RulePack) -> None:
    """The tariff: its file (size, vintage, source) and the lines written in the pack."""
    table = pack.duty.table
    national = table.national
    if national is None:
        default = "none (an unlisted line is held)" if table.default is None else table.default
        print(
            f"  tariff: no national tariff file; written lines: {len(table.lines)}; "
            f"default rate: {default}"
        )
    else:
        info = national.info
        print(
            f"  tariff: {info.file}, {info.lines:,} lines ({national.computable_lines:,} with a "
            f"computable MFN duty), vintage {info.vintage}"
        )
        print(f"      source: {info.source} (commit {info.source_commit})")
        print(f"      reference: {info.reference}")
        print(f"      licence: {info.licence}")
        print(f"      not modelled: {info.not_modelled}")
        print(f"      sha256 {info.sha256}; written lines: {len(table.lines)}")
    print(f"  preferences: {', '.join(pack.duty.preferences) or 'none'}")
