"""``clearance hs rerank``: would a learned re-ranker of the classifier's candidates help?

An experiment, measured strictly cross-validated; the model does not ship a re-ranker because
it did not help (README, "HS classification"). For each description the classifier's best
``CANDIDATES`` subheadings by its combined score get ``FEATURES`` (each space's score and
rank, the heading's and chapter's share of the softmax, whether the subheading is a residual
"other" line, ...), and a linear listwise model (a softmax over the candidates, plain Python)
learns which candidate is right.

No row ever sees its own label: the ranker that scores fold ``k`` is trained on the rows of the
other folds only, and the features of such a row (fold ``j``) come from the classifier without
the labelled examples of folds ``j`` and ``k`` and with a chapter model trained without both
(``training_plan``); the rows of fold ``k`` are scored without their fold's examples and with
the chapter model trained without fold ``k``, as ``clearance hs eval`` scores them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from clearance.devtools.hs_build import (
    FOLDS,
    VOCABULARY,
    ChapterTraining,
    _facets,
    _query,
    build_model,
    fold_of,
    labelled_rows,
    tariff_documents,
    tariff_said,
    vocabulary_rows,
)
from clearance.devtools.hs_labelled import LabelledRow
from clearance.devtools.hs_sources import nomenclature
from clearance.domain.hs.model import HsModel, Linear, chapter_terms, linear_features

__all__ = [
    "FEATURES",
    "Candidate",
    "CandidateScorer",
    "fold_rankings",
    "strict_cross_validation",
    "train_ranker",
    "training_plan",
]

CANDIDATES = 20
"""Candidates re-ranked per description (measured: 20 and 40 do the same; 67% of the rows have
their code among the best 40, 46% among the best 3)."""
FEATURES = (
    "combined score - best",
    "log(1 + rank by combined score)",
    "softmax share",
    "subheading texts",
    "retail vocabulary",
    "tariff lines' votes",
    "examples' votes",
    "nearest example's similarity",
    "heading texts",
    "examples' votes for the heading",
    "chapter texts",
    "chapter model probability",
    "log(1 + rank by subheading texts)",
    "log(1 + rank by tariff lines' votes)",
    "log(1 + rank by examples' votes)",
    "heading's softmax share",
    "chapter's softmax share",
    "log(1 + heading's rank)",
    "log(1 + chapter's rank)",
    "residual subheading (ends in 9 or 90)",
    "residual x share of unseen words",
)
L2 = 0.01
ITERATIONS = 150
STEP = 0.5


@dataclass(frozen=True)
class Candidate:
    """A candidate subheading of a description and its features (``FEATURES`` order)."""

    code: str
    features: tuple[float, ...]


class CandidateScorer:
    """The classifier's scores, space by space, for a description's best candidates: the
    arithmetic of ``HsClassifier.rank``'s spaces (its combined score orders the candidates),
    kept apart so that a ranker can weigh each space; without the rules ``rank`` applies after
    them (the facets' agreement, the states, the garment types, the measures) and the votes it
    keeps from a contradicted subheading, which the experiment predates."""

    def __init__(self, model: HsModel) -> None:
        self.model = model
        index = {code: i for i, code in enumerate(model.codes)}
        headings = {key: i for i, key in enumerate(model.heading.keys)}
        chapters = {key: i for i, key in enumerate(model.chapter.keys)}
        self.heading_of = [headings[code[:4]] for code in model.codes]
        self.chapter_of = [chapters[code[:2]] for code in model.codes]
        self.passage_code = [index[code] for code in model.passages.keys]
        self.under_vocabulary = [
            [i for i, code in enumerate(model.codes) if code.startswith(prefix)]
            for prefix in model.vocabulary.keys
        ]
        self.unknown_idf = max(model.subheading.idf.values(), default=1.0)

    def candidates(
        self,
        query: Mapping[str, int],
        chapter_model: Linear,
        skip: frozenset[str] = frozenset(),
        count: int = CANDIDATES,
        facets: frozenset[str] = frozenset(),
    ) -> list[Candidate]:
        """The ``count`` best subheadings by the combined score, best first, with features;
        ``skip``: labelled examples left out (by id)."""
        m, p = self.model, self.model.params
        sub = m.subheading.similarities(query)
        vocabulary: defaultdict[int, float] = defaultdict(float)
        for key, similarity in m.vocabulary.similarities(query).items():
            for code in self.under_vocabulary[key]:
                vocabulary[code] += similarity
        lines: defaultdict[int, float] = defaultdict(float)
        similar = m.passages.similarities(query)
        for key in _largest(similar, p.passage_neighbours):
            lines[self.passage_code[key]] += similar[key] ** p.passage_power
        examples, nearest, heading_votes = self._example_votes(query, skip)
        found = set(sub) | set(vocabulary) | set(lines) | set(examples)
        if not found:
            return []
        heading_sim = m.heading.similarities(query)
        chapter_sim = m.chapter.similarities(query)
        chapter_p = self._chapter_probabilities(query, chapter_model, facets)
        combined = {
            code: sub.get(code, 0.0)
            + p.vocabulary * vocabulary.get(code, 0.0)
            + p.passages * lines.get(code, 0.0)
            + p.examples * examples.get(code, 0.0)
            + p.heading * heading_sim.get(self.heading_of[code], 0.0)
            + p.example_heading * heading_votes.get(self.heading_of[code], 0.0)
            + p.chapter * chapter_sim.get(self.chapter_of[code], 0.0)
            + p.chapter_prior * chapter_p[self.chapter_of[code]]
            for code in found
        }
        best = _largest(combined, count)
        top = combined[best[0]]
        unscored = len(m.codes) - len(combined)
        shares = {c: math.exp((s - top) / p.temperature) for c, s in combined.items()}
        total = sum(shares.values()) + unscored * math.exp(-top / p.temperature)
        heading_share: defaultdict[int, float] = defaultdict(float)
        chapter_share: defaultdict[int, float] = defaultdict(float)
        for code, share in shares.items():
            heading_share[self.heading_of[code]] += share / total
            chapter_share[self.chapter_of[code]] += share / total
        heading_rank = _ranks(heading_share, set(heading_share))
        chapter_rank = _ranks(chapter_share, set(chapter_share))
        kept = set(best)
        sub_rank, line_rank, example_rank = (_ranks(s, kept) for s in (sub, lines, examples))
        words = [term for term in query if "_" not in term]
        unseen = sum(1 for t in words if t not in m.subheading.idf) / max(len(words), 1)
        out = []
        for rank, code in enumerate(best):
            heading, chapter = self.heading_of[code], self.chapter_of[code]
            hs6 = m.codes[code]
            residual = 1.0 if hs6[5] == "9" or hs6[4:] == "90" else 0.0
            features = (
                combined[code] - top,
                math.log1p(rank),
                shares[code] / total,
                sub.get(code, 0.0),
                vocabulary.get(code, 0.0),
                lines.get(code, 0.0),
                examples.get(code, 0.0),
                nearest.get(code, 0.0),
                heading_sim.get(heading, 0.0),
                heading_votes.get(heading, 0.0),
                chapter_sim.get(chapter, 0.0),
                chapter_p[chapter],
                math.log1p(sub_rank[code]),
                math.log1p(line_rank[code]),
                math.log1p(example_rank[code]),
                heading_share[heading],
                chapter_share[chapter],
                math.log1p(heading_rank[heading]),
                math.log1p(chapter_rank[chapter]),
                residual,
                residual * unseen,
            )
            out.append(Candidate(hs6, features))
        return out

    def _example_votes(
        self, query: Mapping[str, int], skip: frozenset[str]
    ) -> tuple[dict[int, float], dict[int, float], dict[int, float]]:
        """The nearest examples' votes by subheading, their best similarity by subheading, and
        their votes by heading (as ``HsClassifier`` counts them)."""
        m, p = self.model, self.model.params
        similar = m.examples.similarities(query)
        keys = m.examples.keys
        nearest = _largest({k: similar[k] for k in similar if keys[k] not in skip}, p.neighbours)
        votes: defaultdict[int, float] = defaultdict(float)
        closest: defaultdict[int, float] = defaultdict(float)
        by_heading: defaultdict[int, float] = defaultdict(float)
        for key in nearest:
            codes = m.example_codes[key]
            for code in codes:
                vote = similar[key] ** p.neighbour_power / len(codes)
                votes[code] += vote
                by_heading[self.heading_of[code]] += vote
                closest[code] = max(closest[code], similar[key])
        return votes, closest, by_heading

    def _chapter_probabilities(
        self, query: Mapping[str, int], linear: Linear, facets: frozenset[str]
    ) -> list[float]:
        m = self.model
        terms = chapter_terms(query, facets, m.params.chapter_facets)
        features = linear_features(terms, m.subheading.idf, self.unknown_idf)
        scores = linear.scores(features, len(m.chapter.keys))
        top = max(scores)
        exponents = [math.exp((s - top) / m.params.chapter_temperature) for s in scores]
        total = sum(exponents)
        return [value / total for value in exponents]


def _largest(values: Mapping[int, float], count: int) -> list[int]:
    return sorted(sorted(values), key=values.__getitem__, reverse=True)[:count]


def _ranks(values: Mapping[int, float], keys: set[int]) -> dict[int, int]:
    """Each key's place (0 = best) by its value, ties by key."""
    order = sorted(keys, key=lambda key: (-values.get(key, 0.0), key))
    return {key: place for place, key in enumerate(order)}


def train_ranker(
    groups: Sequence[Sequence[Candidate]],
    right: Sequence[frozenset[str]],
    l2: float = L2,
    iterations: int = ITERATIONS,
) -> list[float]:
    """A linear listwise ranker: the weights of least softmax cross-entropy of the right
    candidates (full-batch Adagrad on standardised features, L2; deterministic). Groups without
    a right candidate teach nothing and are left out. Returns weights on the raw features."""
    lists = [
        ([c.features for c in group], [1.0 if c.code in codes else 0.0 for c in group])
        for group, codes in zip(groups, right, strict=True)
        if any(c.code in codes for c in group)
    ]
    if not lists:
        return [0.0] * len(FEATURES)
    width = len(lists[0][0][0])
    rows = [row for features, _ in lists for row in features]
    mean = [sum(row[j] for row in rows) / len(rows) for j in range(width)]
    spread = [
        math.sqrt(sum((row[j] - mean[j]) ** 2 for row in rows) / len(rows)) or 1.0
        for j in range(width)
    ]
    data = [
        (
            [[(v - mean[j]) / spread[j] for j, v in enumerate(row)] for row in features],
            [t / sum(targets) for t in targets],
        )
        for features, targets in lists
    ]
    weights = [0.0] * width
    squares = [1e-8] * width
    for _ in range(iterations):
        gradient = [l2 * w for w in weights]
        for features, targets in data:
            scores = [sum(w * x for w, x in zip(weights, row, strict=True)) for row in features]
            top = max(scores)
            exponents = [math.exp(s - top) for s in scores]
            total = sum(exponents)
            for row, exponent, target in zip(features, exponents, targets, strict=True):
                error = (exponent / total - target) / len(data)
                for j, x in enumerate(row):
                    gradient[j] += error * x
        for j in range(width):
            squares[j] += gradient[j] ** 2
            weights[j] -= STEP * gradient[j] / math.sqrt(squares[j])
    return [w / s for w, s in zip(weights, spread, strict=True)]


def reranked(weights: Sequence[float], group: Sequence[Candidate]) -> list[str]:
    """The candidates' codes by the ranker's score, best first (ties: the classifier's order)."""
    scores = [sum(w * x for w, x in zip(weights, c.features, strict=True)) for c in group]
    order = sorted(range(len(group)), key=lambda i: (-scores[i], i))
    return [group[i].code for i in order]


def training_plan(
    rows: Sequence[LabelledRow], evaluated: int, folds: int = FOLDS
) -> list[tuple[LabelledRow, frozenset[int]]]:
    """The rows that train the ranker which scores fold ``evaluated``, each with the folds
    whose labels its features must not use: its own and ``evaluated``."""
    plan = []
    for row in rows:
        fold = fold_of(row.id, folds)
        if fold != evaluated:
            plan.append((row, frozenset({fold, evaluated})))
    return plan


@dataclass(frozen=True)
class Score:
    """Top-1 / top-3 at six digits, heading and chapter of one ranking of one set, and the
    share of rows whose code is among the candidates at all (what re-ranking can reach)."""

    top1: float
    top3: float
    heading: float
    chapter: float
    among: float

    def line(self) -> str:
        return f"{self.top1:.1%} / {self.top3:.1%} / {self.heading:.1%} / {self.chapter:.1%}"


def _score(rankings: Sequence[tuple[LabelledRow, list[str]]]) -> Score:
    count = len(rankings) or 1

    def share(digits: int, depth: int) -> float:
        return (
            sum(
                1
                for row, codes in rankings
                if any(c[:digits] in {r[:digits] for r in row.codes} for c in codes[:depth])
            )
            / count
        )

    return Score(share(6, 1), share(6, 3), share(4, 1), share(2, 1), share(6, CANDIDATES))


Features = Callable[[LabelledRow, frozenset[int]], list[Candidate]]
"""A row's candidates with features computed without the labels of the given folds."""
Trainer = Callable[[Sequence[Sequence[Candidate]], Sequence[frozenset[str]]], list[float]]


def fold_rankings(
    rows: Sequence[LabelledRow], candidates: Features, train: Trainer = train_ranker
) -> tuple[list[tuple[LabelledRow, list[str]]], list[tuple[LabelledRow, list[str]]]]:
    """Each row's candidates as the classifier orders them and as the ranker of its fold
    re-orders them: the ranker of fold ``k`` is trained on the other folds' rows
    (``training_plan``, features without their own fold and ``k``), and scores the rows of
    ``k`` (features without ``k``)."""
    base: list[tuple[LabelledRow, list[str]]] = []
    ranked: list[tuple[LabelledRow, list[str]]] = []
    for evaluated in range(FOLDS):
        plan = training_plan(rows, evaluated)
        weights = train(
            [candidates(row, folds) for row, folds in plan],
            [frozenset(row.codes) for row, _ in plan],
        )
        for row in rows:
            if fold_of(row.id) == evaluated:
                group = candidates(row, frozenset({evaluated}))
                base.append((row, [c.code for c in group]))
                ranked.append((row, reranked(weights, group)))
    return base, ranked


def strict_cross_validation(
    data: Path, count: int = CANDIDATES
) -> dict[str, tuple[int, Score, Score]]:
    """Per labelled set: ``(rows, the classifier's score, the re-ranked score)``, each row
    scored by a ranker that never saw its label (module docstring)."""
    model = build_model(data, calibrate=False)
    scorer = CandidateScorer(model)
    names = nomenclature(data)
    rows = [row for row in labelled_rows(data) if any(c in names for c in row.codes)]
    documents, _ = tariff_documents(data, model.codes)
    chapters = ChapterTraining.prepare(
        documents,
        model.codes,
        model.chapter.keys,
        rows,
        vocabulary_rows(VOCABULARY),
        model.subheading.idf,
        tariff_said(names, model.codes),
        model.params.chapter_facets,
    )
    ids_of: defaultdict[int, set[str]] = defaultdict(set)
    for row in rows:
        ids_of[fold_of(row.id)].add(row.id)
    chapter_without = {frozenset({fold}): model.chapter_folds[fold] for fold in range(FOLDS)}
    chapter_without |= {
        frozenset({a, b}): chapters.without(frozenset({a, b}), FOLDS * (a + 1) + b)
        for a in range(FOLDS)
        for b in range(a + 1, FOLDS)
    }

    def candidates(row: LabelledRow, folds: frozenset[int]) -> list[Candidate]:
        skip = frozenset(i for fold in folds for i in ids_of[fold])
        return scorer.candidates(
            _query(row), chapter_without[folds], skip, count, facets=_facets(row)
        )

    base, ranked = fold_rankings(rows, candidates)
    out = {}
    for name, prefix in (("HSCodeComp", "hscc-"), ("ATLAS", "atlas-"), ("TB-TCHQ", "vn-")):
        before = [item for item in base if item[0].id.startswith(prefix)]
        after = [item for item in ranked if item[0].id.startswith(prefix)]
        out[name] = (len(before), _score(before), _score(after))
    return out
