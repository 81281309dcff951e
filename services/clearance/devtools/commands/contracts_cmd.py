"""``clearance contracts generate|check``: keep ``contracts/`` equal to what the Structs say."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

_DEFAULT_DIR = Path("contracts")


def configure(parser: argparse.ArgumentParser) -> None:
    """``generate`` writes the files; ``check`` fails when they differ from the code."""
    parser.add_argument("action", choices=["generate", "check"])
    parser.add_argument(
        "--dir", type=Path, default=_DEFAULT_DIR, help="contracts directory (default: contracts)"
    )


def stale_files(directory: Path) -> list[str]:
    """Relative paths under ``directory`` whose content differs from the generated one."""
    from clearance.devtools.contracts import generate

    stale = []
    for relative, text in generate().items():
        path = directory / relative
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(relative)
    return stale


def run(args: argparse.Namespace) -> int:
    """Write or check the generated contract files (plus the OpenAPI document once it exists)."""
    from clearance.devtools.contracts import generate

    directory: Path = args.dir
    if args.action == "check":
        stale = stale_files(directory)
        if stale:
            print(
                "contracts/ is out of date with the code: "
                + ", ".join(stale)
                + "\nrun `clearance contracts generate` and commit the result",
                file=sys.stderr,
            )
            return 1
        print(f"contracts/ is up to date ({len(generate())} files)")
        return 0
    for relative, text in generate().items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0
