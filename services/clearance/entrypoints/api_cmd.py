"""``clearance api``: serve the HTTP API (litestar on uvicorn)."""

from __future__ import annotations

import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    """Host and port default to ``CLEARANCE_API_HOST`` / ``CLEARANCE_API_PORT``."""
    parser.add_argument("--host", help="address to listen on (default: CLEARANCE_API_HOST)")
    parser.add_argument("--port", type=int, help="port to listen on (default: CLEARANCE_API_PORT)")


def run(args: argparse.Namespace) -> int:
    """Build the application from settings (wired in ``clearance.bootstrap``) and serve until
    interrupted."""
    import uvicorn

    from clearance import bootstrap
    from clearance.entrypoints.http.app import create_app
    from clearance.settings import load_settings
    from clearance.telemetry import setup_logging, setup_tracing

    settings = load_settings()
    setup_logging("clearance-api")
    setup_tracing("clearance-api")
    app = create_app(settings)
    bootstrap.settle_memory()
    uvicorn.run(
        app,
        host=args.host or settings.api_host,
        port=args.port if args.port is not None else settings.api_port,
        log_config=None,
        access_log=False,  # the call log (entrypoints/http/auth.py) says what an operator needs
        http="httptools",
    )
    return 0
