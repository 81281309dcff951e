"""The HS classifier's data and its pure scoring: description -> ranked six-digit subheadings.

What is scored (all built by ``clearance hs build`` from the tariff texts and the labelled sets,
see ``clearance.devtools.hs_build``): four TF-IDF spaces over the same terms
(``clearance.domain.hs.text``)

- ``subheading``: every tariff line that falls in the subheading, with its parents' text;
- ``heading`` and ``chapter``: the same texts gathered by four and two digits, so a description
  that names the heading's goods but none of its subheading's words still finds the heading;
- ``passages``: every tariff line alone (with its parents within the heading), keyed by its
  subheading: the lines nearest the description vote for their subheadings, so one line that
  names the goods exactly ("Tweeter loudspeakers") counts even when its subheading's other lines
  (which the ``subheading`` document averages in) are about something else;
- ``vocabulary``: the words shoppers use for the goods of a heading ("pendant", "ốp lưng");
- ``examples``: labelled descriptions (expert and customs classifications); their nearest
  neighbours vote for their codes;
- ``subheading_facets`` and ``heading_facets``: the material, gender, construction and power
  that the nomenclature's texts give a subheading (where it says more than its heading: "of
  cotton" in 6109.10) and a heading ("knitted or crocheted" in 6109), read by
  ``clearance.domain.hs.facets``; a candidate whose facets agree with the description's gains,
  one that contradicts them loses;
- ``chapter_model``: a linear classifier of the chapter (a softmax regression trained on the
  tariff texts and the labelled descriptions, reading their terms and facets); its probability
  of a subheading's chapter is added to the subheading's score (``chapter_folds``: the same
  trained without one fold of the labelled rows each, so that cross-validation scores a row
  with a model that never saw it).

A subheading's score is a weighted sum of its cosine similarities in each space and of its
facets' agreement with the description, less what the classifier's rules take from it (a state,
a garment type or a measure the description does not fit: ``clearance.domain.hs.states``,
``garments`` and ``quantities``) (the weights are tuned by cross-validation at build
time). The confidence is the softmax of the scores, mapped to the measured accuracy by a
logistic calibration fitted on held-out folds: "0.7" means that about 70% of suggestions at
that confidence were right when measured.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping

from msgspec import Struct, field

__all__ = ["HsModel", "Linear", "Params", "Space", "chapter_terms", "linear_features"]


class Space(Struct, frozen=True, kw_only=True):
    """One TF-IDF space: ``postings[term]`` is a flat list ``[key, weight x 1000, ...]``;
    ``unseen_idf`` is the weight of a query word the space has no posting for (its rarest
    term's IDF)."""

    keys: list[str]
    idf: dict[str, float]
    postings: dict[str, list[int]]
    unseen_idf: float = 0.0

    def similarities(self, query: Mapping[str, int]) -> defaultdict[int, float]:
        """Cosine similarity of the query's term counts to each key that shares a term.

        The query's length counts its words the space has not seen: "ass colour glowing
        tiaras" is not "asses" because "ass" is the one word the tariff knows (word pairs are
        left out: they repeat their words)."""
        weights = {t: (1.0 + math.log(n)) * self.idf[t] for t, n in query.items() if t in self.idf}
        found: defaultdict[int, float] = defaultdict(float)
        if not weights:
            return found
        unseen = sum(
            (1.0 + math.log(n)) ** 2 for t, n in query.items() if t not in self.idf and "_" not in t
        )
        norm = math.sqrt(sum(w * w for w in weights.values()) + unseen * self.unseen_idf**2)
        for term, weight in weights.items():
            scale = weight / norm / 1000.0
            flat = self.postings[term]
            for key, quantised in zip(flat[0::2], flat[1::2], strict=True):
                found[key] += scale * quantised
        return found


class Linear(Struct, frozen=True, kw_only=True):
    """A linear classifier: ``weights[term]`` is a flat list ``[class, weight x 1000, ...]``."""

    weights: dict[str, list[int]]

    def scores(self, features: Mapping[str, float], classes: int) -> list[float]:
        """Each class's score for the features (``linear_features``)."""
        found = [0.0] * classes
        for term, value in features.items():
            flat = self.weights.get(term)
            if flat is None:
                continue
            scale = value / 1000.0
            for label, quantised in zip(flat[0::2], flat[1::2], strict=True):
                found[label] += scale * quantised
        return found


def linear_features(
    counts: Mapping[str, float], idf: Mapping[str, float], unknown: float
) -> dict[str, float]:
    """Sublinear TF-IDF of term counts, unit length; a term without an IDF gets ``unknown``
    (the rarest term's: a word only listings use is telling)."""
    weighted = {
        term: (1.0 + math.log(count) if count >= 1 else count) * idf.get(term, unknown)
        for term, count in counts.items()
        if count > 0
    }
    norm = math.sqrt(sum(weight * weight for weight in weighted.values())) or 1.0
    return {term: weight / norm for term, weight in sorted(weighted.items())}


def chapter_terms(
    query: Mapping[str, int], facets: frozenset[str], weight: float
) -> dict[str, float]:
    """What the chapter model reads: the description's terms and, each as a term of its own
    counting ``weight``, its facets (``facet:plastics``). A facet is one term for many words
    ("PU leather", "ABS", "nhựa" are all ``plastics``) and the tariff's texts say it in the
    nomenclature's own words ("of plastics"), so the model learns it from both."""
    found: dict[str, float] = dict(query)
    if weight:
        for facet in sorted(facets):
            found[f"facet:{facet}"] = weight
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
    passages: float = 0.0
    passage_neighbours: int = 20
    passage_power: float = 2.0
    temperature: float = 0.05
    chapter_prior: float = 0.0
    chapter_temperature: float = 0.1
    facet_subheading: float = 0.0
    facet_heading: float = 0.0
    facet_conflict: float = 1.0
    chapter_facets: float = 0.0
    """The weight of the description's facets among the chapter model's terms (a build-time
    weight: the chapter models are trained with it, so a new value needs a new build)."""
    unstated_state: float = 0.0
    """What a candidate loses when its heading takes goods in one state only (primary forms,
    waste, unwrought, live: ``clearance.domain.hs.states``) and the description does not say it."""
    other_garment: float = 0.0
    """What a candidate of Chapters 61 and 62 loses when its heading or item takes none of the
    garment types the description names (``clearance.domain.hs.garments``)."""
    out_of_range: float = 0.0
    """What a candidate loses when its text bounds a measure that the description gives out of
    range ("scooter 49cc" and "exceeding 50cc but not exceeding 250cc":
    ``clearance.domain.hs.quantities``)."""
    contradicted_vote: float = 1.0
    """The share of a labelled example's vote that goes to its subheading when that
    subheading's text contradicts the description's facets (a neighbour "of cotton" for a
    pullover of acrylic); its heading's vote is whole."""
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
    passages: Space
    vocabulary: Space
    examples: Space
    example_codes: list[list[int]]
    chapter_model: Linear
    chapter_folds: list[Linear]
    params: Params
    subheading_facets: dict[str, list[str]] = field(default_factory=dict)
    """Subheading -> the facets its text says beyond its heading's (``"-cotton"``: denies it)."""
    heading_facets: dict[str, list[str]] = field(default_factory=dict)
    """Heading -> the facets its text says and denies."""
