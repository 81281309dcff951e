"""``clearance aeo``: the administration's registry of Authorised Economic Operators.

The risk discount of a trusted seller comes from this registry only (the order's ``seller.aeo``
is the platform's claim and is ignored). ``load FILE`` replaces the registry with the file's rows
(CSV: ``certificate,platform,seller_id,valid_from,valid_until[,issued_by]``; see
``clearance.domain.aeo``); a file with one bad row is refused whole. It writes as the database
owner (the role that runs ``clearance migrate``): the worker's and the API's roles only read it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    """``load FILE``, ``list``."""
    actions = parser.add_subparsers(dest="action", required=True)
    load = actions.add_parser("load", help="replace the registry with a CSV file's rows")
    load.add_argument("file", type=Path)
    actions.add_parser("list", help="every certificate: seller, validity, issuer")


async def _run(args: argparse.Namespace) -> int:
    from clearance import bootstrap
    from clearance.domain.aeo import RegistryError, parse_registry
    from clearance.settings import load_settings

    settings = load_settings()
    if args.action == "load":
        try:
            registrations = parse_registry(args.file.read_text(encoding="utf-8"))
        except RegistryError as error:
            print(f"clearance aeo: {args.file}: {error}", file=sys.stderr)
            return 2
    async with bootstrap.database(settings, max_size=1) as db:
        if args.action == "load":
            count = await db.aeo.replace_registry(registrations)
            sellers = len({(r.platform, r.seller_id) for r in registrations})
            print(f"AEO registry replaced: {count} certificates of {sellers} sellers")
            return 0
        for row in await db.aeo.registry():
            until = row.certificate.valid_until.isoformat() if row.certificate.valid_until else "-"
            print(
                f"{row.certificate.number}  {row.platform}  {row.seller_id}"
                f"  {row.certificate.valid_from.isoformat()}..{until}  {row.issued_by or '-'}"
            )
        return 0


def run(args: argparse.Namespace) -> int:
    """Talk to ``DATABASE_URL``; exit 1 when it cannot, 2 when the file is wrong."""
    from clearance.settings import SettingsError

    try:
        return asyncio.run(_run(args))
    except (SettingsError, OSError) as error:
        print(f"clearance aeo: {error}", file=sys.stderr)
        return 1
