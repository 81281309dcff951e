"""``clearance hs eval FILE.csv``: how often the classifier is right on a labelled set.

Top-1 and top-3 at six digits, top-1 at the heading (4) and the chapter (2), and a calibration
table: the rows grouped by the confidence of their best suggestion, with the share that was right
in each band (a calibrated classifier is right about as often as it says).

The bundled model keeps the labelled halves of ``../shared/data/hs_labelled`` as examples, so on
those rows the plain score is in-sample; ``cross_validated`` scores each row with the examples of
its fold (one of five) left out, which is what a row the model never saw gets. Rows the model does
not contain (the held-back halves) are scored the same way either way.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from clearance.devtools.hs_build import FOLDS, cross_validated
from clearance.devtools.hs_labelled import LabelledRow
from clearance.domain.hs.classifier import HsClassifier, calibrated

__all__ = ["BANDS", "Report", "evaluate"]

BANDS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0001)


@dataclass
class Report:
    """The scores of one run over one labelled set."""

    rows: int
    mode: str
    top1: float
    top3: float
    heading: float
    chapter: float
    calibration: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """For ``--json``."""
        return {
            "rows": self.rows,
            "mode": self.mode,
            "top1_hs6": round(self.top1, 3),
            "top3_hs6": round(self.top3, 3),
            "top1_heading": round(self.heading, 3),
            "top1_chapter": round(self.chapter, 3),
            "calibration": self.calibration,
        }

    def lines(self) -> list[str]:
        """For people: the scores, then the calibration table."""
        out = [
            f"{self.mode}: {self.rows} rows  HS6 top-1 {self.top1:.1%}  top-3 {self.top3:.1%}  "
            f"heading {self.heading:.1%}  chapter {self.chapter:.1%}",
            "  confidence   rows   mean conf   right",
        ]
        for band in self.calibration:
            out.append(
                f"  {band['band']:<10} {band['rows']:>5}   {band['mean_confidence']:>9.2f}   "
                f"{band['accuracy']:>5.1%}"
            )
        return out


def _report(mode: str, scored: Sequence[tuple[LabelledRow, list[tuple[str, float]]]]) -> Report:
    count = len(scored) or 1

    def share(hit: Any) -> float:
        return sum(1 for row, ranked in scored if ranked and hit(row, ranked)) / count

    return Report(
        rows=len(scored),
        mode=mode,
        top1=share(lambda row, ranked: ranked[0][0] in row.codes),
        top3=share(lambda row, ranked: any(code in row.codes for code, _ in ranked[:3])),
        heading=share(lambda row, ranked: ranked[0][0][:4] in {c[:4] for c in row.codes}),
        chapter=share(lambda row, ranked: ranked[0][0][:2] in {c[:2] for c in row.codes}),
        calibration=_calibration(scored),
    )


def _calibration(
    scored: Sequence[tuple[LabelledRow, list[tuple[str, float]]]],
) -> list[dict[str, Any]]:
    table = []
    for low, high in itertools.pairwise(BANDS):
        band = [
            (ranked[0][1], ranked[0][0] in row.codes)
            for row, ranked in scored
            if ranked and low <= ranked[0][1] < high
        ]
        if not band:
            continue
        table.append(
            {
                "band": f"{low:.1f}-{min(high, 1.0):.1f}",
                "rows": len(band),
                "mean_confidence": round(sum(c for c, _ in band) / len(band), 3),
                "accuracy": round(sum(1 for _, right in band if right) / len(band), 3),
            }
        )
    return table


def evaluate(classifier: HsClassifier, rows: Sequence[LabelledRow]) -> list[Report]:
    """In-sample and cross-validated scores when the model contains rows of this set as
    examples; one plain score when it contains none of them (a held-back set)."""
    known = set(classifier.model.examples.keys)
    plain = []
    for row in rows:
        suggestions = classifier.suggest(row.text, row.category, limit=3)
        plain.append((row, [(s.hs_code, s.confidence) for s in suggestions]))
    if not any(row.id in known for row in rows):
        return [_report("unseen rows (none is an example of the model)", plain)]
    params = classifier.model.params
    folded = [
        (row, [(code, calibrated(top if i == 0 else 0.0, params)) for i, (code, _) in enumerate(r)])
        for row, r, top in cross_validated(classifier, rows, folds=FOLDS)
    ]
    return [
        _report("in-sample (these rows are examples of the model)", plain),
        _report(f"cross-validated ({FOLDS}-fold: each row without its fold's examples)", folded),
    ]


def encode(reports: Sequence[Report]) -> bytes:
    """JSON of the reports (``--json``)."""
    return msgspec.json.encode([report.as_dict() for report in reports])
