"""``clearance dev``: the whole service on one machine, on an embedded broker and database.

For now it starts and stops the embedded PostgreSQL and Tansu broker cleanly; the worker, the API
and the sample stream join it with issue #6.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading


def configure(parser: argparse.ArgumentParser) -> None:
    """``--exit`` stops as soon as everything has started (for scripts and tests)."""
    parser.add_argument("--exit", action="store_true", help="stop once everything has started")


def run(args: argparse.Namespace) -> int:
    """Start the embedded servers, wait for Ctrl-C (or ``--exit``), stop them."""
    from clearance.devstack import embedded_kafka, embedded_postgres

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with embedded_postgres() as database_url, embedded_kafka() as bootstrap:
        print(f"PostgreSQL  {database_url}")
        print(f"Kafka       {bootstrap}")
        print("The worker, the API and the sample stream come with issue #6.")
        if not args.exit:
            print("Ctrl-C to stop.")
            with contextlib.suppress(KeyboardInterrupt):
                stop.wait()
    print("stopped: embedded broker and database are down")
    return 0
