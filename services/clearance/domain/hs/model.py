"""The HS classifier's data and its pure scoring: description -> ranked six-digit subheadings.

What is scored (all built by ``clearance hs build`` from the tariff texts and the labelled sets,
see ``clearance.devtools.hs_build``): four TF-IDF spaces over the same terms
(``clearance.domain.hs.text``)

- ``subheading``: every tariff line that falls in the subheading, with its parents' text;
- ``heading`` and ``chapter``: the same texts gathered by four and two digits, so a description
  that names the heading's goods but none of its subheading's words still finds the heading;
- ``vocabulary``: the words shoppers use for the goods of a heading ("pendant", "ốp lưng");
- ``examples``: labelled descriptions (expert and customs classifications); their nearest
  neighbours vote for their codes.

A subheading's score is a weighted sum of its cosine similarities in each space (the weights are
tuned by cross-validation at build time). The confidence is the softmax of the scores, mapped to
the measured accuracy by a logistic calibration fitted on held-out folds: "0.7" means that about
70% of suggestions at that confidence were right when measured.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping

from msgspec import Struct

__all__ = ["HsModel", "Params", "Space"]


class Space(Struct, frozen=True, kw_only=True):
    """One TF-IDF space: ``postings[term]`` is a flat list ``[key, weight x 1000, ...]``."""

    keys: list[str]
    idf: dict[str, float]
    postings: dict[str, list[int]]

    def similarities(self, query: Mapping[str, int]) -> defaultdict[int, float]:
        """Cosine similarity of the query's term counts to each key that shares a term."""
        weights = {t: (1.0 + math.log(n)) * self.idf[t] for t, n in query.items() if t in self.idf}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        found: defaultdict[int, float] = defaultdict(float)
        if not norm:
            return found
        for term, weight in weights.items():
            scale = weight / norm / 1000.0
            flat = self.postings[term]
            for position in range(0, len(flat), 2):
                found[flat[position]] += scale * flat[position + 1]
        return found


class Params(Struct, frozen=True, kw_only=True):
    """The weights of the spaces and the calibration, tuned at build time."""

    heading: float = 0.5
    chapter: float = 0.3
    vocabulary: float = 0.3
    examples: float = 1.0
    example_heading: float = 0.5
    neighbours: int = 10
    neighbour_power: float = 2.0
    temperature: float = 0.05
    calibration_slope: float = 1.0
    calibration_intercept: float = 0.0


class HsModel(Struct, frozen=True, kw_only=True):
    """Everything the classifier needs at run time (``hs_model.json.gz`` in this package)."""

    version: int
    built_from: list[str]
    codes: list[str]
    descriptions: list[str]
    subheading: Space
    heading: Space
    chapter: Space
    vocabulary: Space
    examples: Space
    example_codes: list[list[int]]
    params: Params
