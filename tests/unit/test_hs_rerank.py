"""The re-ranker experiment (``clearance hs rerank``): no row's label reaches the ranker that
scores it, the candidates' features are the classifier's own scores and are deterministic, and
the listwise training learns an ordering and is repeatable."""

from __future__ import annotations

import random
from collections.abc import Sequence

from clearance.devtools.hs_build import FOLDS, _query, fold_of
from clearance.devtools.hs_labelled import LabelledRow
from clearance.devtools.hs_rerank import (
    FEATURES,
    Candidate,
    CandidateScorer,
    fold_rankings,
    reranked,
    train_ranker,
    training_plan,
)
from clearance.domain.hs import bundled_classifier
from clearance.domain.hs.text import query_terms

CLASSIFIER = bundled_classifier()
SCORER = CandidateScorer(CLASSIFIER.model)


def _rows(count: int) -> list[LabelledRow]:
    return [LabelledRow(f"row-{i}", f"text {i}", None, ("851830",)) for i in range(count)]


def test_the_ranker_of_a_fold_never_sees_that_folds_labels() -> None:
    rows = _rows(200)
    for evaluated in range(FOLDS):
        plan = training_plan(rows, evaluated)
        trained_on = {row.id for row, _ in plan}
        scored = {row.id for row in rows if fold_of(row.id) == evaluated}
        assert scored and not trained_on & scored  # the fold's rows do not train its ranker
        assert trained_on | scored == {row.id for row in rows}
        for row, without in plan:
            # a training row's features leave out its own fold's examples (else it finds its
            # own label by its nearest neighbour) and the scored fold's (else that fold's labels
            # shape the ranker through them), and so does its chapter model
            assert without == {fold_of(row.id), evaluated}


def test_no_row_is_ranked_by_features_or_a_ranker_that_saw_its_label() -> None:
    rows = _rows(100)
    asked: list[tuple[str, frozenset[int]]] = []
    trained_on: list[set[str]] = []

    def candidates(row: LabelledRow, without: frozenset[int]) -> list[Candidate]:
        asked.append((row.id, without))
        return [Candidate(f"{row.id}:{j}", (float(j), 0.0)) for j in range(3)]

    def train(
        groups: Sequence[Sequence[Candidate]], right: Sequence[frozenset[str]]
    ) -> list[float]:
        trained_on.append({group[0].code.split(":")[0] for group in groups})
        return [1.0, 0.0]

    base, ranked = fold_rankings(rows, candidates, train)
    assert sorted(row.id for row, _ in ranked) == sorted(row.id for row in rows)
    assert all(codes[0].endswith(":2") for _, codes in ranked)  # the toy ranker's choice
    assert all(codes[0].endswith(":0") for _, codes in base)  # the classifier's order
    for row_id, without in asked:
        assert fold_of(row_id) in without  # never with its own fold's examples
    for evaluated, ids in enumerate(trained_on):
        assert ids and all(fold_of(i) != evaluated for i in ids)
        assert {(i, frozenset({fold_of(i), evaluated})) for i in ids} <= set(asked)
    # each row: scored once without its fold, and a training row of the four other rankers
    assert len(asked) == len(rows) * FOLDS


def test_the_candidates_are_the_classifiers_own_ranking_with_repeatable_features() -> None:
    model = CLASSIFIER.model
    for text in ("Tai nghe bluetooth không dây", "stainless steel kitchen knife", "cotton T-shirt"):
        query = query_terms(text)
        found = SCORER.candidates(query, model.chapter_model)
        assert len(found) == 20 and all(len(c.features) == len(FEATURES) for c in found)
        assert [c.code for c in found[:3]] == [code for code, _ in CLASSIFIER.rank(query, 3)]
        assert SCORER.candidates(query, model.chapter_model) == found


def test_left_out_examples_do_not_vote() -> None:
    model = CLASSIFIER.model
    row = LabelledRow(model.examples.keys[0], "V8 Wireless Bluetooth Earphone", None, ())
    everyone = frozenset(model.examples.keys)
    votes = FEATURES.index("examples' votes")
    with_examples = SCORER.candidates(_query(row), model.chapter_model)
    without = SCORER.candidates(_query(row), model.chapter_model, skip=everyone)
    assert any(c.features[votes] > 0 for c in with_examples)
    assert all(c.features[votes] == 0 for c in without)


def _toy_groups(seed: int, count: int) -> tuple[list[list[Candidate]], list[frozenset[str]]]:
    """Lists of five candidates whose first feature is higher, give or take noise, for the
    right one; the second feature is noise."""
    draw = random.Random(seed)
    groups, right = [], []
    for i in range(count):
        target = draw.randrange(5)
        group = [
            Candidate(f"{i}-{j}", (draw.gauss(1.0 if j == target else 0.0, 0.3), draw.gauss(0, 1)))
            for j in range(5)
        ]
        groups.append(group)
        right.append(frozenset({f"{i}-{target}"}))
    return groups, right


def test_the_listwise_ranker_learns_an_ordering_and_is_repeatable() -> None:
    groups, right = _toy_groups(1, 200)
    weights = train_ranker(groups, right)
    assert weights == train_ranker(groups, right)
    assert weights[0] > 10 * abs(weights[1])
    tests, answers = _toy_groups(2, 200)
    hits = sum(
        reranked(weights, group)[0] in codes for group, codes in zip(tests, answers, strict=True)
    )
    assert hits >= 180  # the noise (0.3 around a gap of 1) hides the right one now and then
