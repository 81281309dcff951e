"""``clearance worker``: consume orders and inspections, store and publish decisions."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys


def configure(parser: argparse.ArgumentParser) -> None:
    """Options for local runs; everything else comes from the environment (see settings)."""
    parser.add_argument(
        "--create-topics", action="store_true", help="create the topics when missing"
    )
    parser.add_argument("--migrate", action="store_true", help="apply migrations first")


async def _main(args: argparse.Namespace) -> int:
    from clearance.entrypoints.worker import run_worker
    from clearance.settings import load_settings

    settings = load_settings()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await run_worker(
        settings, stop, create_topics=args.create_topics, apply_migrations=args.migrate
    )
    return 0


def run(args: argparse.Namespace) -> int:
    """Run until SIGTERM or Ctrl-C; exit 0 after a clean drain, 1 when start-up fails."""
    from clearance.bootstrap import MigrationError
    from clearance.settings import SettingsError
    from clearance.telemetry import setup_logging, setup_tracing

    setup_logging("clearance-worker")
    try:
        provider = setup_tracing("clearance-worker")
        code = asyncio.run(_main(args))
    except (SettingsError, MigrationError) as error:
        print(f"clearance worker: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"clearance worker: cannot reach a dependency: {error}", file=sys.stderr)
        return 1
    if provider is not None:
        provider.shutdown()  # flushes the spans still queued
    return code
