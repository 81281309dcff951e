"""The ``clearance`` command line: one sub-command per module, imported only when used.

Each command module exposes ``configure(parser)`` to declare its arguments and ``run(args) -> int``
to do the work; keep heavy imports inside ``run`` so ``clearance --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["COMMANDS", "build_parser", "main"]

#: name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "contracts": ("clearance.entrypoints.contracts_cmd", "generate or check contracts/"),
    "assess": ("clearance.entrypoints.assess_cmd", "assess order events (JSON lines) offline"),
    "packs": ("clearance.entrypoints.packs_cmd", "list rule packs and show what is in force"),
    "migrate": ("clearance.entrypoints.migrate_cmd", "apply database migrations"),
    "worker": ("clearance.entrypoints.worker_cmd", "run the streaming worker"),
    "api": ("clearance.entrypoints.api_cmd", "serve the HTTP API"),
    "keys": ("clearance.entrypoints.keys_cmd", "create, list and revoke API keys"),
    "replay": ("clearance.entrypoints.replay_cmd", "what-if: stored orders under another pack"),
    "dev": ("clearance.entrypoints.dev_cmd", "run everything locally on embedded servers"),
    "bench": ("clearance.entrypoints.bench_cmd", "measure the engine and the pipeline"),
    "generate": ("clearance.entrypoints.generate_cmd", "generate a realistic order stream"),
    "import": (
        "clearance.entrypoints.import_cmd",
        "convert a public order dataset to order events",
    ),
    "hs": ("clearance.entrypoints.hs_cmd", "load the HS nomenclature and suggest HS codes"),
    "tariff": ("clearance.entrypoints.tariff_cmd", "import a national tariff into a pack"),
}


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every registered sub-command."""
    parser = argparse.ArgumentParser(
        prog="clearance",
        description="Customs clearance decisions for low-value e-commerce parcels.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        sub = commands.add_parser(name, help=help_text, description=help_text)
        module.configure(sub)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``clearance`` console script."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args._run(args)
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
