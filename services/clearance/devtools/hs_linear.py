"""Softmax (multinomial logistic) regression: the HS classifier's linear chapter model, built here.

Plain Python on sparse features (a few thousand documents, under a hundred classes: seconds),
deterministic (a seeded shuffle, fixed passes and step sizes), and written as a ``Linear`` (term
-> class weights) that the domain scores without this module. Training can go on from weights
trained before (``Weights``): the build trains on the tariff texts once and then each variant on
its labelled rows from there, instead of six times from nothing. Each step moves the weights of the
example's terms against the gradient of its log-loss; classes whose gradient is under
``NEGLIGIBLE`` are left alone, which keeps the updates (and the model) sparse.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from clearance.domain.hs.model import Linear

__all__ = ["Example", "Weights", "as_linear", "fit", "train_linear"]

STEP = 5.0
"""The first pass's step size; pass ``n`` (from 0) takes ``STEP / (1 + n)``."""
NEGLIGIBLE = 0.01
"""A class whose predicted probability is within this of its target is not moved."""
SMALLEST_KEPT = 100
"""Weights under 0.1 (x 1000) are not kept: they are nine tenths of the weights and, measured
by cross-validation, change no ranking (the model file stays small)."""


Weights = dict[str, dict[int, float]]
"""Term -> class -> weight, while training."""


@dataclass(frozen=True)
class Example:
    """One training document: its features, its class and how much its loss counts."""

    features: Mapping[str, float]
    label: int
    weight: float = 1.0


def _probabilities(
    weights: Mapping[str, dict[int, float]], features: Mapping[str, float], classes: int
) -> list[float]:
    scores = [0.0] * classes
    for term, value in features.items():
        for label, weight in weights.get(term, {}).items():
            scores[label] += weight * value
    top = max(scores)
    exponents = [math.exp(score - top) for score in scores]
    total = sum(exponents)
    return [value / total for value in exponents]


def train_linear(examples: Sequence[Example], classes: int, epochs: int, seed: int) -> Linear:
    """The regression after ``epochs`` passes over ``examples`` in a seeded order."""
    return as_linear(fit(examples, classes, epochs, seed))


def fit(
    examples: Sequence[Example],
    classes: int,
    epochs: int,
    seed: int,
    start: Mapping[str, Mapping[int, float]] | None = None,
) -> Weights:
    """``epochs`` passes over ``examples`` in a seeded order, from ``start`` (a copy of it:
    ``start`` is left as it was) or from nothing."""
    weights: defaultdict[str, dict[int, float]] = defaultdict(dict)
    for term, row in (start or {}).items():
        weights[term] = dict(row)
    order = list(examples)
    shuffle = random.Random(seed).shuffle
    for epoch in range(epochs):
        shuffle(order)
        step = STEP / (1 + epoch)
        for example in order:
            probabilities = _probabilities(weights, example.features, classes)
            for label, probability in enumerate(probabilities):
                gradient = probability - (1.0 if label == example.label else 0.0)
                if abs(gradient) < NEGLIGIBLE:
                    continue
                change = step * example.weight * gradient
                for term, value in example.features.items():
                    row = weights[term]
                    row[label] = row.get(label, 0.0) - change * value
    return dict(weights)


def as_linear(weights: Mapping[str, dict[int, float]]) -> Linear:
    """Weights x 1000 as integers, in term and class order (the same bytes on every machine),
    without the small ones."""
    flat: dict[str, list[int]] = {}
    for term in sorted(weights):
        pairs: list[int] = []
        for label, weight in sorted(weights[term].items()):
            quantised = round(weight * 1000)
            if abs(quantised) >= SMALLEST_KEPT:
                pairs.extend((label, quantised))
        if pairs:
            flat[term] = pairs
    return Linear(weights=flat)
