"""The ``clearance`` command line: one sub-command per module, imported only when used.

Each command module exposes ``configure(parser)`` to declare its arguments and ``run(args) -> int``
to do the work; keep heavy imports inside ``run`` so ``clearance --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence

__all__ = ["COMMANDS", "DEVELOPMENT_COMMANDS", "build_parser", "main"]

#: The operating commands: name -> (module, one-line help). Shipped in the production image.
COMMANDS: dict[str, tuple[str, str]] = {
    "worker": ("clearance.entrypoints.worker_cmd", "run the streaming worker"),
    "api": ("clearance.entrypoints.api_cmd", "serve the HTTP API and the officer console"),
    "migrate": ("clearance.entrypoints.migrate_cmd", "apply database migrations (and topics)"),
    "keys": ("clearance.entrypoints.keys_cmd", "create, list and revoke API keys"),
    "aeo": ("clearance.entrypoints.aeo_cmd", "load and list the AEO registry (trusted sellers)"),
    "packs": ("clearance.entrypoints.packs_cmd", "list rule packs and show what is in force"),
    "assess": ("clearance.entrypoints.assess_cmd", "assess order events (JSON lines) offline"),
    "replay": ("clearance.entrypoints.replay_cmd", "what-if: stored orders under another pack"),
    "traces": ("clearance.entrypoints.traces_cmd", "draw a trace of a span file as a waterfall"),
}

#: The development commands (``clearance.devtools``), listed only where the tooling is installed:
#: the production image leaves the package out.
DEVELOPMENT_COMMANDS: dict[str, tuple[str, str]] = {
    "dev": ("clearance.devtools.commands.dev_cmd", "run everything locally on embedded servers"),
    "generate": ("clearance.devtools.commands.generate_cmd", "generate a realistic order stream"),
    "import": (
        "clearance.devtools.commands.import_cmd",
        "convert a public order dataset to order events",
    ),
    "hs": ("clearance.devtools.commands.hs_cmd", "build, query and evaluate the HS classifier"),
    "tariff": ("clearance.devtools.commands.tariff_cmd", "import a national tariff into a pack"),
    "bench": ("clearance.devtools.commands.bench_cmd", "measure the engine, the pipeline, the API"),
    "contracts": ("clearance.devtools.commands.contracts_cmd", "generate or check contracts/"),
}


def _devtools_installed() -> bool:
    return importlib.util.find_spec("clearance.devtools") is not None


def _listing(title: str, group: dict[str, tuple[str, str]]) -> str:
    width = max(len(name) for name in group) + 2
    rows = "\n".join(f"  {name:<{width}}{help_text}" for name, (_, help_text) in group.items())
    return f"{title}:\n{rows}"


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser: the operating commands, then the development ones if present."""
    groups = {"operating commands": COMMANDS}
    if _devtools_installed():
        groups["development commands (clearance.devtools, not in the production image)"] = (
            DEVELOPMENT_COMMANDS
        )
    parser = argparse.ArgumentParser(
        prog="clearance",
        description="Customs clearance decisions for low-value e-commerce parcels.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(_listing(title, group) for title, group in groups.items()),
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in groups.values():
        for name, (module_name, help_text) in group.items():
            module = importlib.import_module(module_name)
            sub = commands.add_parser(name, description=help_text)
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
