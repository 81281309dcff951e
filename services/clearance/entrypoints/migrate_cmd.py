"""``clearance migrate``: apply the database migrations (safe with several processes at once)."""

from __future__ import annotations

import argparse
import asyncio
import sys


def configure(parser: argparse.ArgumentParser) -> None:
    """``--topics`` also creates the Kafka topics with their partitions."""
    parser.add_argument("--topics", action="store_true", help="also create the Kafka topics")


def run(args: argparse.Namespace) -> int:
    """Apply what is missing, print what was applied; exit 1 with the failing file's name."""
    from clearance import bootstrap
    from clearance.settings import SettingsError, load_settings

    try:
        settings = load_settings()
        applied = asyncio.run(bootstrap.migrate(settings))
        topics = asyncio.run(bootstrap.create_topics(settings)) if args.topics else []
    except (SettingsError, bootstrap.MigrationError, OSError) as error:
        print(f"clearance migrate: {error}", file=sys.stderr)
        return 1
    print(f"migrations applied: {', '.join(applied) if applied else 'none (up to date)'}")
    if args.topics:
        print(f"topics created: {', '.join(topics) if topics else 'none (all exist)'}")
    return 0
