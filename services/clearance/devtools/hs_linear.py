"""An averaged multiclass perceptron: the HS classifier's linear chapter model (built, not run).

Plain Python on sparse features (a few thousand documents, under a hundred classes: seconds),
deterministic (a seeded shuffle, fixed epochs), and written as a ``Linear`` (term -> class
weights) that the domain scores without this module. The perceptron moves the weights only when
it ranks a wrong class at least as high as the right one; the average of the weights over all
steps is what is kept (it generalises like a large-margin classifier, without its solver).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from clearance.domain.hs.model import Linear

__all__ = ["Example", "train_linear"]


@dataclass(frozen=True)
class Example:
    """One training document: its features, its class and how much a mistake on it counts."""

    features: Mapping[str, float]
    label: int
    weight: float = 1.0


class _Perceptron:
    def __init__(self) -> None:
        self.weights: defaultdict[str, dict[int, float]] = defaultdict(dict)
        self.totals: defaultdict[str, dict[int, float]] = defaultdict(dict)  # step x update
        self.step = 1

    def scores(self, features: Mapping[str, float]) -> dict[int, float]:
        found: defaultdict[int, float] = defaultdict(float)
        for term, value in features.items():
            for label, weight in self.weights.get(term, {}).items():
                found[label] += weight * value
        return found

    def learn(self, example: Example) -> None:
        scores = self.scores(example.features)
        rival = max(
            (label for label in scores if label != example.label),
            key=lambda label: (scores[label], -label),
            default=None,
        )
        right = scores.get(example.label, 0.0)
        if rival is None or right <= scores[rival]:
            self._move(example, example.label, 1.0)
            if rival is not None:
                self._move(example, rival, -1.0)
        self.step += 1

    def _move(self, example: Example, label: int, sign: float) -> None:
        for term, value in example.features.items():
            change = sign * example.weight * value
            weights, totals = self.weights[term], self.totals[term]
            weights[label] = weights.get(label, 0.0) + change
            totals[label] = totals.get(label, 0.0) + self.step * change

    def averaged(self) -> Linear:
        flat: dict[str, list[int]] = {}
        for term in sorted(self.weights):
            totals = self.totals[term]
            pairs: list[int] = []
            for label, weight in sorted(self.weights[term].items()):
                quantised = round((weight - totals[label] / self.step) * 1000)
                if quantised:
                    pairs.extend((label, quantised))
            if pairs:
                flat[term] = pairs
        return Linear(weights=flat)


def train_linear(examples: Sequence[Example], epochs: int, seed: int) -> Linear:
    """The averaged perceptron after ``epochs`` passes over ``examples`` in a seeded order."""
    perceptron = _Perceptron()
    order = list(examples)
    shuffle = random.Random(seed).shuffle
    for _ in range(epochs):
        shuffle(order)
        for example in order:
            perceptron.learn(example)
    return perceptron.averaged()
