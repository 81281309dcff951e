"""``HsClassifier``: a description (and category) -> the likeliest HS subheadings, with confidence.

Pure and deterministic: the model is data (``hs_model.json.gz``, loaded once like the rule
packs), scoring is arithmetic on it, and results are cached by the normalised text so a stream
that repeats its descriptions pays once per distinct description. See ``model.py`` for what is
scored and ``clearance.devtools.hs_build`` for how the model is made.
"""

from __future__ import annotations

import functools
import gzip
import importlib.resources
import math
from collections import OrderedDict, defaultdict
from collections.abc import Iterator, Mapping

import msgspec
from msgspec import Struct

from clearance.domain.hs.facets import (
    FACETS,
    Facets,
    Stated,
    agreement_of,
    facets_of,
    with_ancestors,
)
from clearance.domain.hs.garments import GARMENT_CHAPTERS, garment_headings
from clearance.domain.hs.model import HsModel, Linear, Params, chapter_terms, linear_features
from clearance.domain.hs.quantities import Bound, Measures, bounds_of, measures_of, out_of_range
from clearance.domain.hs.states import STATES, states_said
from clearance.domain.hs.text import query_terms

__all__ = ["HsClassifier", "HsSuggestion", "bundled_classifier", "listing_text"]

_RESOURCE = "hs_model.json.gz"


class HsSuggestion(Struct, frozen=True, kw_only=True):
    """A six-digit subheading for a description, with the measured chance that it is right."""

    hs_code: str
    confidence: float
    description: str


class HsClassifier:
    """Ranks HS subheadings for descriptions; one instance per process, shared by assessments."""

    __slots__ = (
        "_bounded",
        "_cache",
        "_cache_size",
        "_chapter_of",
        "_facet_deltas",
        "_facets_by_group",
        "_garment_codes",
        "_heading_of",
        "_index",
        "_passage_code",
        "_state_codes",
        "_under_vocabulary",
        "_unknown_idf",
        "model",
    )

    def __init__(self, model: HsModel, cache_size: int = 50_000) -> None:
        self.model = model
        self._index = {code: i for i, code in enumerate(model.codes)}
        headings = {key: i for i, key in enumerate(model.heading.keys)}
        chapters = {key: i for i, key in enumerate(model.chapter.keys)}
        self._heading_of = [headings[code[:4]] for code in model.codes]
        self._chapter_of = [chapters[code[:2]] for code in model.codes]
        self._passage_code = [self._index[code] for code in model.passages.keys]
        self._under_vocabulary = [
            [i for i, code in enumerate(model.codes) if code.startswith(prefix)]
            for prefix in model.vocabulary.keys
        ]
        self._unknown_idf = max(model.subheading.idf.values(), default=1.0)
        self._facets_by_group = _facets_by_group(model)
        self._state_codes = {
            name: tuple(i for i, code in enumerate(model.codes) if code[:4] in state.headings)
            for name, state in STATES.items()
        }
        self._garment_codes = [
            (i, code[:4], code[:5])
            for i, code in enumerate(model.codes)
            if code[:2] in GARMENT_CHAPTERS
        ]
        #: the subheadings whose HS 2022 text bounds a measure ("not exceeding 1000 volts")
        self._bounded: list[tuple[int, tuple[Bound, ...]]] = [
            (i, bounds) for i, text in enumerate(model.descriptions) if (bounds := bounds_of(text))
        ]
        self._facet_deltas: dict[tuple[object, ...], dict[int, float]] = {}
        self._cache: OrderedDict[str, tuple[HsSuggestion, ...]] = OrderedDict()
        self._cache_size = cache_size

    @classmethod
    def from_bytes(cls, data: bytes) -> HsClassifier:
        """From a model file's bytes (gzip-compressed JSON or plain JSON)."""
        raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
        return cls(msgspec.json.decode(raw, type=HsModel))

    def suggest(
        self, description: str, category: str | None = None, limit: int = 3
    ) -> tuple[HsSuggestion, ...]:
        """The best ``limit`` subheadings (at most 5), best first; none for an empty text."""
        text = listing_text(description, category)
        found = self._cache.get(text)  # the same text again: no normalising at all
        if found is None:
            query, facets = query_terms(text), facets_of(text).said
            measures = measures_of(text)
            # differently typed, same terms and facets: scored once. The key is all the ranking
            # reads (the folded words alone would give "vi da bo" the answer of "ví da bò",
            # whose terms differ, whenever that came first)
            key = " ".join(
                [
                    *(f"{term}:{n}" for term, n in sorted(query.items())),
                    "|",
                    *sorted(facets),
                    "|",
                    *(f"{measure}:{value}" for measure, value in sorted(measures)),
                ]
            )
            found = self._cache.get(key)
            if found is None:
                found = self._suggest(query, facets, measures, 5)
                self._remember(key, found)
            self._remember(text, found)
        return found[:limit]

    def _remember(self, key: str, found: tuple[HsSuggestion, ...]) -> None:
        self._cache[key] = found
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _suggest(
        self,
        query: Mapping[str, int],
        facets: frozenset[str],
        measures: Measures,
        limit: int,
    ) -> tuple[HsSuggestion, ...]:
        ranked = self.rank(query, limit, facets=facets, measures=measures)
        return tuple(
            HsSuggestion(hs_code=code, confidence=confidence, description=self.description(code))
            for code, confidence in ranked
        )

    def description(self, hs6: str) -> str:
        """The subheading's short description (HS 2022), or "" for an unknown code."""
        position = self._index.get(hs6[:6])
        return self.model.descriptions[position] if position is not None else ""

    def knows(self, hs_code: str) -> bool:
        """Whether the six-digit subheading of ``hs_code`` is in the nomenclature."""
        return hs_code[:6] in self._index

    def rank(
        self,
        query: Mapping[str, int],
        limit: int = 3,
        *,
        params: Params | None = None,
        skip_examples: frozenset[str] = frozenset(),
        fold: int | None = None,
        facets: frozenset[str] = frozenset(),
        measures: Measures = frozenset(),
    ) -> list[tuple[str, float]]:
        """``(hs6, confidence)`` for the query's term counts, best first.

        ``facets``: what the description says the goods are made of, for whom, how and
        whether powered (``facets_of(text).said``); ``measures``: the measures it gives
        (``measures_of(text)``). ``skip_examples`` leaves labelled
        examples out by id and ``fold`` takes the chapter model trained without that fold
        (cross-validation scores a row without its own example); ``params`` replaces the
        model's (tuning).
        """
        p = params or self.model.params
        scores = self._subheading_scores(query, p)
        heading_votes = self._add_example_votes(scores, query, p, skip_examples, facets)
        if not scores:
            return []
        self._add_group_scores(scores, query, p, heading_votes, fold, facets)
        if facets:
            self._add_facet_agreement(scores, facets, p)
        if p.unstated_state:
            self._lower_unstated_states(scores, query, p)
        if p.other_garment:
            self._lower_other_garments(scores, query, p)
        if measures and p.out_of_range:
            self._lower_out_of_range(scores, measures, p)
        best = _largest(scores, limit)
        top = scores[best[0]]
        # the softmax is over every subheading: those that share nothing with the description
        # score 0, so one weak match alone (one example word in common) is not a certainty
        unscored = len(self.model.codes) - len(scores)
        total = sum(math.exp((score - top) / p.temperature) for score in scores.values())
        total += unscored * math.exp(-top / p.temperature)
        return [
            (
                self.model.codes[code],
                calibrated(math.exp((scores[code] - top) / p.temperature) / total, p),
            )
            for code in best
        ]

    def _subheading_scores(self, query: Mapping[str, int], p: Params) -> dict[int, float]:
        """The candidates: subheadings whose texts, retail words or single lines share terms
        with the query, scored by how much."""
        model = self.model
        scores = model.subheading.similarities(query)
        for key, similarity in model.vocabulary.similarities(query).items():
            for code in self._under_vocabulary[key]:
                scores[code] += p.vocabulary * similarity
        if p.passages:  # the tariff lines nearest the description vote for their subheadings
            similar = model.passages.similarities(query)
            for key in _largest(similar, p.passage_neighbours):
                scores[self._passage_code[key]] += p.passages * similar[key] ** p.passage_power
        return scores

    def _add_example_votes(
        self,
        scores: dict[int, float],
        query: Mapping[str, int],
        p: Params,
        skip: frozenset[str],
        facets: frozenset[str] = frozenset(),
    ) -> dict[int, float]:
        """The nearest labelled examples vote for their codes; their votes by heading."""
        model = self.model
        similar = model.examples.similarities(query)
        keys = model.examples.keys
        nearest = _largest(
            {key: similar[key] for key in similar if keys[key] not in skip}, p.neighbours
        )
        heading_votes: defaultdict[int, float] = defaultdict(float)
        # a neighbour of another fibre, wearer or material votes for the heading it shares
        # with the description, not for its subheading that the description contradicts
        contradicted = (
            self._contradicted(facets, p) if facets and p.contradicted_vote < 1 else frozenset()
        )
        for key in nearest:
            codes = model.example_codes[key]
            for code in codes:
                vote = similar[key] ** p.neighbour_power / len(codes)
                heading_votes[self._heading_of[code]] += vote
                share = p.contradicted_vote if code in contradicted else 1.0
                scores[code] = scores.get(code, 0.0) + p.examples * vote * share
        return heading_votes

    def _add_group_scores(
        self,
        scores: dict[int, float],
        query: Mapping[str, int],
        p: Params,
        heading_votes: Mapping[int, float],
        fold: int | None,
        facets: frozenset[str] = frozenset(),
    ) -> None:
        """Each candidate's heading's and chapter's share: their texts' similarity, the
        examples' votes for the heading, the chapter model's probability of the chapter."""
        model = self.model
        by_heading = [0.0] * len(model.heading.keys)
        for key, similarity in model.heading.similarities(query).items():
            by_heading[key] += p.heading * similarity
        for key, vote in heading_votes.items():
            by_heading[key] += p.example_heading * vote
        by_chapter = [0.0] * len(model.chapter.keys)
        for key, similarity in model.chapter.similarities(query).items():
            by_chapter[key] += p.chapter * similarity
        if p.chapter_prior:
            for key, probability in enumerate(self.chapter_probabilities(query, p, fold, facets)):
                by_chapter[key] += p.chapter_prior * probability
        heading_of, chapter_of = self._heading_of, self._chapter_of
        for code in scores:
            scores[code] += by_heading[heading_of[code]] + by_chapter[chapter_of[code]]

    def _add_facet_agreement(
        self, scores: dict[int, float], facets: frozenset[str], p: Params
    ) -> None:
        """Candidates whose tariff text says what the description says ("of cotton" for
        "100% cotton") gain, those that say something else ("of man-made fibres") lose."""
        for deltas in self._group_deltas(facets, p):
            if len(deltas) < len(scores):
                for code, delta in deltas.items():
                    if code in scores:
                        scores[code] += delta
            else:
                for code in scores:
                    scores[code] += deltas.get(code, 0.0)

    def _lower_unstated_states(
        self, scores: dict[int, float], query: Mapping[str, int], p: Params
    ) -> None:
        """Candidates under a heading of goods in one state only (primary forms, waste,
        unwrought, live) lose when the description does not say that state."""
        said = states_said(query)
        for name, codes in self._state_codes.items():
            if name not in said:
                for code in codes:  # a few dozen subheadings: cheaper than the candidates
                    if code in scores:
                        scores[code] -= p.unstated_state

    def _lower_other_garments(
        self, scores: dict[int, float], query: Mapping[str, int], p: Params
    ) -> None:
        """When the description names a garment type ("jacket", "pullover"), candidates of
        Chapters 61 and 62 under a heading or item that takes none of its types lose."""
        allowed = garment_headings(query)
        if allowed is None:
            return
        for position, heading, item in self._garment_codes:  # 210 subheadings
            if heading not in allowed and item not in allowed and position in scores:
                scores[position] -= p.other_garment

    def _lower_out_of_range(self, scores: dict[int, float], measures: Measures, p: Params) -> None:
        """Candidates whose text bounds a measure the description gives out of range lose
        ("a 1,500 cc engine": "of a cylinder capacity not exceeding 50cc"). One in range does
        not gain: most goods fit a bound such as "for a voltage not exceeding 1000 volts"."""
        for position, bounds in self._bounded:  # about 150 subheadings
            if position in scores and out_of_range(measures, bounds):
                scores[position] -= p.out_of_range

    def _contradicted(self, facets: frozenset[str], p: Params) -> frozenset[int]:
        """The subheadings whose text contradicts the description's facets."""
        return frozenset(
            code
            for deltas in self._group_deltas(facets, p)
            for code, delta in deltas.items()
            if delta < 0
        )

    def _group_deltas(self, facets: frozenset[str], p: Params) -> Iterator[dict[int, float]]:
        """For each group of the description's facets (material, for whom ...), each
        subheading's score change (``_deltas``)."""
        for group in {FACETS[facet][0] for facet in facets}:
            yield self._deltas(group, frozenset(f for f in facets if FACETS[f][0] == group), p)

    def _deltas(self, group: str, wanted: frozenset[str], p: Params) -> dict[int, float]:
        """Each subheading's score change for the description's facets of one group (the same
        few combinations recur: computed once each)."""
        key = (group, wanted, p.facet_subheading, p.facet_heading, p.facet_conflict)
        found = self._facet_deltas.get(key)
        if found is None:
            found = {}
            lines = with_ancestors(wanted)
            for code, (subheading, heading) in self._facets_by_group[group].items():
                delta = 0.0
                for weight, tariff in (
                    (p.facet_subheading, subheading),
                    (p.facet_heading, heading),
                ):
                    said = agreement_of(wanted, lines, tariff)
                    delta += weight * (said if said > 0 else p.facet_conflict * said)
                if delta:
                    found[code] = delta
            if len(self._facet_deltas) > 10_000:  # bounded: a stream cannot grow it forever
                self._facet_deltas.clear()
            self._facet_deltas[key] = found
        return found

    def chapter_probabilities(
        self,
        query: Mapping[str, int],
        p: Params,
        fold: int | None = None,
        facets: frozenset[str] = frozenset(),
    ) -> list[float]:
        """The chapter model's probability of each chapter (``model.chapter.keys`` order)."""
        model = self.model
        linear: Linear = model.chapter_model if fold is None else model.chapter_folds[fold]
        features = linear_features(
            chapter_terms(query, facets, p.chapter_facets), model.subheading.idf, self._unknown_idf
        )
        scores = linear.scores(features, len(model.chapter.keys))
        top = max(scores)
        exponents = [math.exp((score - top) / p.chapter_temperature) for score in scores]
        total = sum(exponents)
        return [value / total for value in exponents]


def listing_text(description: str, category: str | None = None) -> str:
    """What the classifier reads of a listing: its description, then its category path."""
    return f"{description} | {category}" if category else description


def _facets_by_group(model: HsModel) -> dict[str, dict[int, tuple[Stated, Stated]]]:
    """Per facet group, the subheadings whose own or heading's text says something of it:
    ``{group: {code: (subheading's facets, heading's facets)}}``."""
    found: dict[str, dict[int, tuple[Stated, Stated]]] = {group: {} for group, _ in FACETS.values()}
    for code, hs6 in enumerate(model.codes):
        subheading = Facets.decoded(model.subheading_facets.get(hs6, []))
        heading = Facets.decoded(model.heading_facets.get(hs6[:4], []))
        for group, codes in found.items():
            own, parent = Stated.of(subheading, group), Stated.of(heading, group)
            if own.said or own.denied or parent.said or parent.denied:
                codes[code] = (own, parent)
    return found


def _largest(values: Mapping[int, float], count: int) -> list[int]:
    """The keys of the ``count`` largest values, ties by key: two sorts in C (a description has
    hundreds of candidates and thousands of similar tariff lines; ``heapq`` loops in Python)."""
    return sorted(sorted(values), key=values.__getitem__, reverse=True)[:count]


def calibrated(probability: float, p: Params) -> float:
    """The measured accuracy at this softmax probability (logistic calibration on its logit)."""
    clipped = min(max(probability, 1e-6), 1 - 1e-6)
    logit = math.log(clipped / (1 - clipped))
    exponent = min(max(p.calibration_slope * logit + p.calibration_intercept, -30.0), 30.0)
    value = 1.0 / (1.0 + math.exp(-exponent))
    return round(value, 3)


@functools.cache
def bundled_classifier() -> HsClassifier:
    """The classifier shipped in this package (``clearance hs build`` writes it), loaded once
    per process and shared (its only state is the cache of suggestions)."""
    resource = importlib.resources.files("clearance.domain.hs") / _RESOURCE
    return HsClassifier.from_bytes(resource.read_bytes())
