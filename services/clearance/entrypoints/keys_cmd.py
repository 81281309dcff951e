"""``clearance keys``: API keys for platforms, officers and admins (only hashes are stored)."""

from __future__ import annotations

import argparse
import asyncio
import sys


def configure(parser: argparse.ArgumentParser) -> None:
    """``create --role R [--platform P]``, ``list``, ``revoke KEY_ID``."""
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="make a key and print its token once")
    create.add_argument("--role", required=True, choices=["platform", "officer", "admin"])
    create.add_argument("--platform", help="the platform a platform key acts for")
    actions.add_parser("list", help="every key: id, role, platform, created, revoked")
    revoke = actions.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")


async def _run(args: argparse.Namespace) -> int:
    from clearance import bootstrap
    from clearance.service.access import create_key, list_keys, revoke_key
    from clearance.settings import load_settings

    settings = load_settings()
    async with bootstrap.database(settings, max_size=1) as db:
        if args.action == "create":
            try:
                made = await create_key(db.keys, args.role, args.platform)
            except ValueError as error:
                print(f"clearance keys: {error}", file=sys.stderr)
                return 2
            print(f"key id: {made.key.key_id}  role: {made.key.role}", file=sys.stderr)
            print("the token is shown once; store it as a secret:", file=sys.stderr)
            print(made.token)
            return 0
        if args.action == "list":
            for row in await list_keys(db.keys):
                revoked = row["revoked_at"].isoformat() if row["revoked_at"] else "live"
                print(f"{row['key_id']}  {row['role']:8}  {row['platform'] or '-':20}  {revoked}")
            return 0
        if not await revoke_key(db.keys, args.key_id):
            print(f"clearance keys: no live key {args.key_id}", file=sys.stderr)
            return 1
        print(f"revoked {args.key_id} (stops working within seconds)", file=sys.stderr)
        return 0


def run(args: argparse.Namespace) -> int:
    """Talk to ``DATABASE_URL``; exit 1 with a message when it cannot."""
    from clearance.settings import SettingsError

    try:
        return asyncio.run(_run(args))
    except (SettingsError, OSError) as error:
        print(f"clearance keys: {error}", file=sys.stderr)
        return 1
