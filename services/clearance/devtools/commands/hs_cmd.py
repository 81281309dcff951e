"""``clearance hs``: build the HS classifier's model, suggest codes, and measure it.

- ``build [--source DIR] [--out PATH] [--tune]``: the model from ``../shared/data`` (written into
  the package, where the engine loads it);
- ``suggest TEXT [--category C]`` or ``suggest --json --file FILE``: JSON lines
  ``{"id", "text"[, "category"]}`` in, one ``{"id", "suggestions": [...]}`` line out per input;
- ``eval FILE.csv [--json] [--title-words N]``: top-1/top-3 at six digits, heading and chapter,
  calibration table (``--title-words``: each row cut to its title's first N words);
- ``rerank [--source DIR]``: the experiment of a learned re-ranker of the candidates, strictly
  cross-validated against the classifier as it is (``clearance.devtools.hs_rerank``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

DEFAULT_SOURCE = Path("../shared/data")


def configure(parser: argparse.ArgumentParser) -> None:
    """The four actions and their options."""
    actions = parser.add_subparsers(dest="action", required=True)
    build = actions.add_parser("build", help="build the classifier's model from ../shared/data")
    build.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="the shared data folder")
    build.add_argument("--out", type=Path, default=None, help="model file (default: the package)")
    build.add_argument(
        "--tune", action="store_true", help="search the space weights by cross-validation first"
    )
    suggest = actions.add_parser("suggest", help="suggest HS subheadings for descriptions")
    suggest.add_argument("description", nargs="?", help="one description (or --file)")
    suggest.add_argument("--category", help="the listing's category path")
    suggest.add_argument("--file", type=Path, help='JSON lines {"id", "text"[, "category"]}')
    suggest.add_argument("--json", action="store_true", help="JSON lines out")
    suggest.add_argument("--limit", type=int, default=3, help="suggestions per description (<=5)")
    suggest.add_argument("--model", type=Path, help="a model file (default: the bundled one)")
    evaluate = actions.add_parser("eval", help="score the classifier on a labelled CSV")
    evaluate.add_argument("file", type=Path, help="a labelled CSV (../shared/data/hs_labelled)")
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")
    evaluate.add_argument("--model", type=Path, help="a model file (default: the bundled one)")
    evaluate.add_argument(
        "--title-words",
        type=int,
        default=0,
        help="score only the first N words of each row's title, no category (a short listing)",
    )
    rerank = actions.add_parser(
        "rerank", help="measure a learned re-ranker of the candidates (strict cross-validation)"
    )
    rerank.add_argument(
        "--source", type=Path, default=DEFAULT_SOURCE, help="the shared data folder"
    )


def run(args: argparse.Namespace) -> int:
    """Dispatch to the action."""
    if args.action == "build":
        return _build(args)
    if args.action == "suggest":
        return _suggest(args)
    if args.action == "rerank":
        return _rerank(args)
    return _eval(args)


def _classifier(path: Path | None) -> Any:
    from clearance.domain.hs import HsClassifier, bundled_classifier

    return bundled_classifier() if path is None else HsClassifier.from_bytes(path.read_bytes())


def _build(args: argparse.Namespace) -> int:
    from clearance.devtools import hs_build

    if not (args.source / "hs2022" / "harmonized-system.csv").is_file():
        print(f"clearance hs build: no tariff data under {args.source}", file=sys.stderr)
        return 1
    params = hs_build.TUNED
    if args.tune:
        params, score = hs_build.tune(args.source)
        print(
            f"tuned (cross-validated mean top-1 + chapter / 4: {score:.2f} points): {params}",
            file=sys.stderr,
        )
    model = hs_build.build_model(args.source, params)
    out = args.out or hs_build.MODEL_PATH
    size = hs_build.write_model(model, out)
    print(
        f"{len(model.codes)} subheadings, {len(model.examples.keys)} labelled examples, "
        f"calibration {model.params.calibration_slope}/{model.params.calibration_intercept}: "
        f"{out} ({size:,} bytes)",
        file=sys.stderr,
    )
    return 0


def _suggest(args: argparse.Namespace) -> int:
    classifier = _classifier(args.model)
    limit = max(1, min(args.limit, 5))
    if args.file is None:
        if not args.description:
            print("clearance hs suggest: give a description or --file", file=sys.stderr)
            return 2
        inputs: list[dict[str, Any]] = [
            {"id": None, "text": args.description, "category": args.category}
        ]
    else:
        lines = args.file.read_text(encoding="utf-8").splitlines()
        inputs = [json.loads(line) for line in lines if line.strip()]
    for entry in inputs:
        found = classifier.suggest(
            str(entry.get("text") or ""), entry.get("category") or None, limit
        )
        if args.json:
            suggestions = [
                {"hs": s.hs_code, "confidence": s.confidence, "description": s.description}
                for s in found
            ]
            print(json.dumps({"id": entry.get("id"), "suggestions": suggestions}))
        else:
            for s in found:
                print(f"{s.hs_code}  {s.confidence:.2f}  {s.description}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from clearance.devtools.hs_eval import encode, evaluate
    from clearance.devtools.hs_labelled import read_labelled

    if not args.file.is_file():
        print(f"clearance hs eval: {args.file} not found", file=sys.stderr)
        return 1
    rows = read_labelled(args.file)
    if not rows:
        print(f"clearance hs eval: no labelled rows in {args.file}", file=sys.stderr)
        return 1
    if args.title_words:
        from clearance.devtools.hs_labelled import short_titles

        rows = short_titles(rows, args.title_words)
    reports = evaluate(_classifier(args.model), rows)
    if args.json:
        sys.stdout.buffer.write(encode(reports) + b"\n")
    else:
        print(args.file.name)
        for report in reports:
            print("\n".join(report.lines()))
    return 0


def _rerank(args: argparse.Namespace) -> int:
    from clearance.devtools.hs_rerank import strict_cross_validation

    if not (args.source / "hs2022" / "harmonized-system.csv").is_file():
        print(f"clearance hs rerank: no tariff data under {args.source}", file=sys.stderr)
        return 1
    print("set (rows): HS6 top-1 / top-3 / heading / chapter, cross-validated")
    for name, (rows, before, after) in strict_cross_validation(args.source).items():
        print(
            f"{name} ({rows}): classifier {before.line()}  re-ranked {after.line()}  "
            f"(code among the candidates: {before.among:.1%})"
        )
    return 0
