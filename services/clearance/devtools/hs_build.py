"""``clearance hs build``: the HS classifier's model from the tariff texts and labelled sets.

Inputs (all under ``../shared/data``, README sections 1.1-1.8 and 7): the HS 2022 nomenclature,
the US HTS 2026, Viet Nam's AHTN 2026 (English and Vietnamese), the EU CN 2026, the UK/EU tariff
descriptions, and the labelled halves in ``hs_labelled/``; plus this package's own retail
vocabulary (``devtools/data/hs_retail_vocabulary.csv``, written for this project). Japan's
schedule is not used: its text is Japanese, which no listing here is written in.

Output: ``clearance/domain/hs/hs_model.json.gz`` (gzip JSON, deterministic: the same inputs
give the same bytes; a test rebuilds it and compares). The weights of the spaces are the
``TUNED`` parameters below (``clearance hs build --tune`` searches them again by 5-fold
cross-validation on the labelled rows); the confidence calibration is fitted at every build on
cross-validated predictions, so it measures rows the examples space did not contain.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import msgspec

from clearance.devtools.hs_labelled import LabelledRow, read_labelled
from clearance.devtools.hs_linear import Example, Weights, as_linear, fit
from clearance.devtools.hs_sources import nomenclature, passages
from clearance.domain.hs.classifier import HsClassifier, listing_text
from clearance.domain.hs.facets import FACETS, Facets, facets_of, lineage
from clearance.domain.hs.model import (
    HsModel,
    Linear,
    Params,
    Space,
    chapter_terms,
    linear_features,
)
from clearance.domain.hs.quantities import Measures, measures_of
from clearance.domain.hs.text import query_terms, terms

__all__ = [
    "LABELLED_SETS",
    "TUNED",
    "accuracy",
    "build_model",
    "cross_validated",
    "labelled_rows",
    "vocabulary_rows",
    "write_model",
]

MODEL_VERSION = 4
FOLDS = 5
CONTEXT_WEIGHT = 0.3
"""A heading's or chapter's text counts this much in each of its subheadings' documents."""
PRUNE_BELOW = 3
"""Weights under 0.003 of a unit vector are dropped (they never change a ranking)."""
LINE_PRUNE_BELOW = 100
"""In the space of single tariff lines, weights under 0.1 are dropped: a common word in a long
line costs time at every query and changes no cross-validated result (measured; at 0.15 three
ATLAS rows were lost)."""
LINE_MOST_KEYS = 1000
"""A term of more than 1,000 of the ~50,000 single lines is left out of their space: it tells
little about which line (the subheading space keeps it) and its long list costs time at every
query (measured: about a tenth of the time of a description; one row of 776 changed)."""

MOST_TERMS = (100, 200, 400)
"""The heaviest terms kept per subheading, heading and chapter (the model stays small)."""

CHAPTER_EPOCHS = 2
LABELLED_EPOCHS = 2
"""Passes over the tariff texts, then over the labelled rows from there."""
EVERY_FOLD = -1
"""The fold of a chapter-model example that no fold holds out (the retail vocabulary's rows)."""
LABELLED_WEIGHT = 1.0
"""A labelled description's loss counts as much as a tariff text's (twice overfitted the
listings' attributes: "Material: Plastic" pulled earphones into chapter 39)."""

VOCABULARY = Path(__file__).resolve().parent / "data" / "hs_retail_vocabulary.csv"
MODEL_PATH = Path(__file__).resolve().parent.parent / "domain" / "hs" / "hs_model.json.gz"
LABELLED_SETS = (
    "hs_labelled/hscodecomp/hscodecomp_eval.csv",
    "hs_labelled/atlas-cross/atlas_eval.csv",
    "hs_labelled/vn-tbtchq/vn_tbtchq_eval.csv",
)

#: Found by ``clearance hs build --tune`` (5-fold cross-validation over the three labelled halves:
#: a coordinate search, see ``tune``; run again from these values it keeps them). The chapter
#: model's probabilities are a softmax regression's, so their temperature stays 1.
TUNED = Params(
    heading=0.15,
    chapter=0.5,
    vocabulary=0.6,
    examples=3.0,
    example_heading=0.5,  # 1.0 until the retune of 3 December (after the measures)
    neighbours=20,
    neighbour_power=2.0,
    passages=0.45,
    passage_neighbours=40,
    passage_power=2.0,
    temperature=0.05,
    chapter_prior=3.0,
    chapter_temperature=1.0,
    facet_subheading=0.1,
    facet_heading=0.05,
    facet_conflict=2.0,
    chapter_facets=0.5,
    unstated_state=0.5,  # not in TUNING_GRID: 0.1, 0.3 and 1.0 scored alike (a row or two)
    other_garment=0.5,  # not in TUNING_GRID: 0.25 and 1.0 scored alike (a row)
    out_of_range=0.5,  # not in TUNING_GRID: 0.4 and 1.0 scored alike
    contradicted_vote=0.0,
)


def _unit_vectors(
    documents: Sequence[Counter[str]],
) -> tuple[dict[str, float], list[dict[str, float]]]:
    """Sublinear TF-IDF, each document scaled to unit length."""
    frequency: Counter[str] = Counter()
    for document in documents:
        frequency.update(term for term, count in document.items() if count > 0)
    count = len(documents)
    idf = {term: round(math.log(count / n) + 1.0, 4) for term, n in sorted(frequency.items())}
    vectors = []
    for document in documents:
        weights = {t: (1.0 + math.log1p(c)) * idf[t] for t, c in document.items() if c > 0}
        vectors.append(_normalised(weights))
    return idf, vectors


def _normalised(weights: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
    return {term: weight / norm for term, weight in weights.items()}


def _space(
    keys: list[str],
    idf: dict[str, float],
    vectors: list[dict[str, float]],
    most: int = 0,
    prune_below: int = PRUNE_BELOW,
    most_keys: int = 0,
) -> Space:
    """Postings of the space; ``most`` keeps only each key's heaviest terms (0: all), weights
    under ``prune_below`` thousandths are dropped, and so are terms of more than ``most_keys``
    keys (0: none)."""
    postings: defaultdict[str, list[int]] = defaultdict(list)
    for key, vector in enumerate(vectors):
        heaviest = sorted(vector.items(), key=lambda item: (-item[1], item[0]))
        for term, weight in sorted(heaviest[:most] if most else heaviest):
            quantised = round(weight * 1000)
            if quantised >= prune_below:
                postings[term].extend((key, quantised))
    kept = {
        term: postings[term]
        for term in sorted(postings)
        if not most_keys or len(postings[term]) <= 2 * most_keys
    }
    kept_idf = {t: idf[t] for t in kept}
    return Space(
        keys=keys, idf=kept_idf, postings=kept, unseen_idf=max(kept_idf.values(), default=0.0)
    )


def _grouped(
    codes: list[str], vectors: list[dict[str, float]], digits: int
) -> tuple[list[str], list[dict[str, float]]]:
    """Headings (4) or chapters (2): the sum of their subheadings' vectors, rescaled."""
    sums: defaultdict[str, defaultdict[str, float]] = defaultdict(lambda: defaultdict(float))
    for code, vector in zip(codes, vectors, strict=True):
        total = sums[code[:digits]]
        for term, weight in vector.items():
            total[term] += weight
    keys = sorted(sums)
    return keys, [_normalised(dict(sums[key])) for key in keys]


def tariff_documents(
    data: Path, codes: list[str]
) -> tuple[list[Counter[str]], list[tuple[str, Counter[str]]]]:
    """Per subheading, a document of all its lines: each line's own terms count 1, its
    heading's and chapter's 0.3. And each line alone (its own terms; a line whose terms another
    line of the same subheading already has once is not repeated): ``(hs6, terms)``."""
    position = {code: i for i, code in enumerate(codes)}
    documents: list[Counter[str]] = [Counter() for _ in codes]  # float counts
    lines: list[tuple[str, Counter[str]]] = []
    seen: set[tuple[str, frozenset[str]]] = set()
    for passage in passages(data):
        index = position.get(passage.hs6)
        if index is None:
            continue  # a code of an older HS edition that HS 2022 no longer has
        document = documents[index]
        own = terms(passage.own)
        for term in set(own):
            document[term] += 1
        for term in set(terms(passage.context)):
            document[term] += CONTEXT_WEIGHT  # type: ignore[assignment]
        key = (passage.hs6, frozenset(own))
        if own and key not in seen:
            seen.add(key)
            lines.append((passage.hs6, Counter(own)))
    return documents, lines


def vocabulary_rows(path: Path) -> list[tuple[str, str]]:
    """The retail vocabulary's rows: ``(heading or subheading, its words)``."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [(row["code"], row["words"]) for row in csv.DictReader(handle)]


def vocabulary_documents(path: Path) -> tuple[list[str], list[Counter[str]]]:
    """The retail vocabulary: one document per heading (or subheading) it names."""
    documents: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for code, words in vocabulary_rows(path):
        documents[code].update(terms(words))
    keys = sorted(documents)
    return keys, [documents[key] for key in keys]


def tariff_facets(
    names: dict[str, tuple[str, str]], codes: Sequence[str]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The facets of each subheading's and heading's HS 2022 text (``facets_of``), stored as
    ``Facets.encoded`` lists; a subheading keeps only the groups where it says more than its
    heading ("of cotton" in 6109.10, not 6109's "knitted"). A residual line denies what its
    siblings name more precisely: 6205.90 "of textile materials n.e.c." is not "of cotton"
    (6205.20) nor "of man-made fibres" (6205.30), as the HS says by "n.e.c." or "other"."""
    groups = sorted({group for group, _ in FACETS.values()})
    headings = {code[:4]: facets_of(names[code[:4]][0]) for code in codes if code[:4] in names}
    own: dict[str, Facets] = {}
    for code in codes:
        said = facets_of(names[code][0])
        parent = headings.get(code[:4], Facets(frozenset(), frozenset()))
        differs = [g for g in groups if said.in_group(g) != parent.in_group(g)]
        own[code] = Facets(
            frozenset(f for f in said.said if FACETS[f][0] in differs),
            frozenset(f for f in said.denied if FACETS[f][0] in differs),
        )
    siblings: defaultdict[str, list[str]] = defaultdict(list)
    for code in codes:
        siblings[code[:4]].append(code)
    subheadings = {}
    for code in codes:
        facets = own[code]
        narrower = {
            precise
            for other in siblings[code[:4]]
            if other != code
            for precise in own[other].said
            for broad in facets.said
            if precise != broad and broad in lineage(precise) and precise not in facets.said
        }
        denied = (facets.denied | narrower) - facets.said
        if facets.said or denied:
            subheadings[code] = Facets(facets.said, frozenset(denied)).encoded()
    by_heading = {
        heading: Facets(facets.said, facets.denied - facets.said).encoded()
        for heading, facets in sorted(headings.items())
        if facets.said or facets.denied
    }
    return subheadings, by_heading


def tariff_said(
    names: dict[str, tuple[str, str]], codes: Sequence[str]
) -> dict[str, frozenset[str]]:
    """What each subheading's and its heading's HS 2022 texts say of the goods' facets."""
    headings = {code[:4]: facets_of(names[code[:4]][0]).said for code in codes if code[:4] in names}
    return {
        code: facets_of(names[code][0]).said | headings.get(code[:4], frozenset()) for code in codes
    }


def labelled_rows(data: Path) -> list[LabelledRow]:
    """The rows of the three labelled halves, in file order."""
    return [row for name in LABELLED_SETS for row in read_labelled(data / name)]


def _query(row: LabelledRow) -> dict[str, int]:
    """What the classifier reads of a row (as ``HsClassifier.suggest`` does)."""
    return query_terms(listing_text(row.text, row.category))


def _facets(row: LabelledRow) -> frozenset[str]:
    """The facets the classifier reads in a row (as ``HsClassifier.suggest`` does)."""
    return facets_of(listing_text(row.text, row.category)).said


def _measures(row: LabelledRow) -> Measures:
    """The measures the classifier reads in a row (as ``HsClassifier.suggest`` does)."""
    return measures_of(listing_text(row.text, row.category))


def _example(row: LabelledRow) -> Counter[str]:
    return Counter(terms(listing_text(row.text, row.category)))


def build_model(data: Path, params: Params = TUNED, *, calibrate: bool = True) -> HsModel:
    """The whole model from ``data`` (``../shared/data``)."""
    names = nomenclature(data)
    codes = sorted(code for code in names if len(code) == 6 and code.isdigit())
    documents, lines = tariff_documents(data, codes)
    idf, vectors = _unit_vectors(documents)
    line_idf, line_vectors = _unit_vectors([line for _, line in lines])
    heading_keys, heading_vectors = _grouped(codes, vectors, 4)
    chapter_keys, chapter_vectors = _grouped(codes, vectors, 2)
    vocabulary_keys, vocabulary_docs = vocabulary_documents(VOCABULARY)
    vocabulary_idf, vocabulary_vectors = _unit_vectors(vocabulary_docs)
    rows = [row for row in labelled_rows(data) if any(c in names for c in row.codes)]
    example_idf, example_vectors = _unit_vectors([_example(row) for row in rows])
    position = {code: i for i, code in enumerate(codes)}
    subheading = _space(codes, idf, vectors, MOST_TERMS[0])
    subheading_facets, heading_facets = tariff_facets(names, codes)
    chapter_model, chapter_folds = chapter_models(
        documents,
        codes,
        chapter_keys,
        rows,
        vocabulary_rows(VOCABULARY),
        subheading.idf,
        tariff_said(names, codes),
        params.chapter_facets,
    )
    model = HsModel(
        version=MODEL_VERSION,
        built_from=_provenance(data),
        codes=codes,
        descriptions=[names[code][0] for code in codes],
        subheading=subheading,
        heading=_space(heading_keys, idf, heading_vectors, MOST_TERMS[1]),
        chapter=_space(chapter_keys, idf, chapter_vectors, MOST_TERMS[2]),
        passages=_space(
            [code for code, _ in lines],
            line_idf,
            line_vectors,
            prune_below=LINE_PRUNE_BELOW,
            most_keys=LINE_MOST_KEYS,
        ),
        vocabulary=_space(vocabulary_keys, vocabulary_idf, vocabulary_vectors),
        examples=_space([row.id for row in rows], example_idf, example_vectors),
        example_codes=[[position[c] for c in row.codes if c in position] for row in rows],
        chapter_model=chapter_model,
        chapter_folds=chapter_folds,
        params=params,
        subheading_facets=subheading_facets,
        heading_facets=heading_facets,
    )
    if not calibrate:
        return model
    slope, intercept = fit_calibration(cross_validated(HsClassifier(model), rows, params))
    calibrated = msgspec.structs.replace(
        params, calibration_slope=slope, calibration_intercept=intercept
    )
    return msgspec.structs.replace(model, params=calibrated)


def chapter_models(
    documents: Sequence[Counter[str]],
    codes: Sequence[str],
    chapter_keys: Sequence[str],
    rows: Sequence[LabelledRow],
    retail: Sequence[tuple[str, str]],
    idf: dict[str, float],
    facets: Mapping[str, frozenset[str]],
    facet_weight: float,
) -> tuple[Linear, list[Linear]]:
    """The chapter model on the tariff texts, every labelled row and the retail vocabulary's
    rows, and one per fold trained without that fold's rows (what cross-validation scores the
    fold's rows with; the vocabulary, written for this project, is in every one). Each text's
    facets (a subheading's from ``facets``, a row's read in its text) are terms of their own
    counting ``facet_weight`` (``chapter_terms``).

    All six start from one model trained on the tariff texts alone and go on with their
    labelled rows: the same cross-validated accuracy as training each on everything from
    nothing (measured: within a row or two a set), in a fifth of the time."""
    training = ChapterTraining.prepare(
        documents, codes, chapter_keys, rows, retail, idf, facets, facet_weight
    )
    return training.without(frozenset(), FOLDS), [
        training.without(frozenset({fold}), fold) for fold in range(FOLDS)
    ]


class ChapterTraining:
    """The chapter model's training: its examples and the model on the tariff texts alone,
    from which a model without any folds' labelled rows is trained (``without``)."""

    def __init__(
        self, on_tariff: Weights, labelled: list[tuple[int, Example]], classes: int
    ) -> None:
        self.on_tariff = on_tariff
        self.labelled = labelled
        self.classes = classes

    @classmethod
    def prepare(
        cls,
        documents: Sequence[Counter[str]],
        codes: Sequence[str],
        chapter_keys: Sequence[str],
        rows: Sequence[LabelledRow],
        retail: Sequence[tuple[str, str]],
        idf: dict[str, float],
        facets: Mapping[str, frozenset[str]],
        facet_weight: float,
    ) -> ChapterTraining:
        """The examples (tariff documents; labelled rows with their folds and the retail
        vocabulary's rows, in every fold) and the model trained on the tariff texts.

        The vocabulary's rows are trained with the labelled rows, the descriptions they are
        most like: a shopper's words for goods ("hoodie", "ốp lưng") that the tariff's texts
        never use. Measured (cross-validated top-1 / chapter): HSCodeComp +2.2 / +2.6 points,
        ATLAS +0.5 / +1.0, TB-TCHQ +0.8 / +0.3; trained with the tariff texts instead, +2.9 /
        +3.2 on HSCodeComp and nothing on the others; counting two or four times each, no
        better."""
        chapter = {key: i for i, key in enumerate(chapter_keys)}
        unknown = max(idf.values(), default=1.0)
        # every term of a subheading's document: its 60 heaviest alone left out the words of
        # the lines a large subheading gathers (measured: top-3 0.4-2.0 points lower)
        tariff = [
            Example(
                linear_features(
                    chapter_terms(document, facets.get(code, frozenset()), facet_weight),
                    idf,
                    unknown,
                ),
                chapter[code[:2]],
            )
            for code, document in zip(codes, documents, strict=True)
            if document
        ]

        def described(text: str) -> dict[str, float]:
            """A description's features, as the classifier reads it (``suggest``)."""
            terms = chapter_terms(query_terms(text), facets_of(text).said, facet_weight)
            return linear_features(terms, idf, unknown)

        labelled = [
            (
                fold_of(row.id),
                Example(
                    described(listing_text(row.text, row.category)),
                    chapter[next(c for c in row.codes if c[:2] in chapter)[:2]],
                    LABELLED_WEIGHT,
                ),
            )
            for row in rows
        ]
        labelled += [
            (EVERY_FOLD, Example(described(words), chapter[code[:2]], LABELLED_WEIGHT))
            for code, words in retail
            if code[:2] in chapter
        ]
        on_tariff = fit(tariff, len(chapter_keys), CHAPTER_EPOCHS, FOLDS)
        return cls(on_tariff, labelled, len(chapter_keys))

    def without(self, folds: frozenset[int], seed: int) -> Linear:
        """The model trained on the tariff texts and the labelled rows of the other folds."""
        examples = [example for fold, example in self.labelled if fold not in folds]
        return as_linear(fit(examples, self.classes, LABELLED_EPOCHS, seed, self.on_tariff))


def _provenance(data: Path) -> list[str]:
    """Each input file with its SHA-256 prefix: what this model was built from."""
    files = [
        "hs2022/harmonized-system.csv",
        "us_hts/hts_2026_rev_10_flat.csv",
        "vn/hs_tariff_2026.json",
        "eu/cnCodes_2026.json",
        "uk/ukgt_2021_vs_eu_cet.csv",
        *LABELLED_SETS,
    ]
    found = [f"{name} sha256:{_digest(data / name)}" for name in files]
    return [*found, f"devtools/data/hs_retail_vocabulary.csv sha256:{_digest(VOCABULARY)}"]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def fold_of(row_id: str, folds: int = FOLDS) -> int:
    """A stable fold for a row (by its id), the same on every machine."""
    return int(hashlib.sha256(row_id.encode()).hexdigest()[:8], 16) % folds


def cross_validated(
    classifier: HsClassifier,
    rows: Sequence[LabelledRow],
    params: Params | None = None,
    folds: int = FOLDS,
    limit: int = 3,
) -> list[tuple[LabelledRow, list[tuple[str, float]], float]]:
    """Each row ranked without the labelled examples of its fold, and with the chapter model
    trained without them: ``(row, ranked, top_p)`` (``folds`` must be the model's ``FOLDS``).

    ``top_p`` is the uncalibrated softmax probability of the best candidate (what the
    calibration maps to an accuracy).
    """
    if folds != len(classifier.model.chapter_folds):
        raise ValueError(f"the model's chapter models are for {FOLDS} folds, not {folds}")
    p = params or classifier.model.params
    raw = msgspec.structs.replace(p, calibration_slope=1.0, calibration_intercept=0.0)
    held_out: defaultdict[int, set[str]] = defaultdict(set)
    for row in rows:
        held_out[fold_of(row.id, folds)].add(row.id)
    out = []
    for row in rows:
        fold = fold_of(row.id, folds)
        ranked = classifier.rank(
            _query(row),
            limit,
            params=raw,
            skip_examples=frozenset(held_out[fold]),
            fold=fold,
            facets=_facets(row),
            measures=_measures(row),
        )
        top = ranked[0][1] if ranked else 0.0
        out.append((row, ranked, top))
    return out


def fit_calibration(
    predictions: Iterable[tuple[LabelledRow, list[tuple[str, float]], float]],
) -> tuple[float, float]:
    """Logistic calibration: "the top candidate is right" against the logit of its softmax
    probability, the (slope, intercept) of least log-loss on a grid (two parameters fitted on
    cross-validated predictions of ~800 rows: nothing to overfit, and a grid cannot diverge)."""
    points = []
    for row, ranked, top in predictions:
        if ranked:
            clipped = min(max(top, 1e-6), 1 - 1e-6)
            right = 1.0 if ranked[0][0] in row.codes else 0.0
            points.append((math.log(clipped / (1 - clipped)), right))
    # the log-loss is convex in (slope, intercept): a coarse grid (0.1 x 0.2) finds the basin,
    # a fine one around its best (0.025 x 0.05) the minimum, for a tenth of a full fine grid
    coarse = _least_loss(points, range(4, 61, 4), range(-60, 61, 4))
    _, slope_step, intercept_step = coarse
    fine = _least_loss(
        points,
        range(max(1, slope_step - 3), min(60, slope_step + 3) + 1),
        range(max(-60, intercept_step - 3), min(60, intercept_step + 3) + 1),
    )
    return round(fine[1] * 0.025, 4), round(fine[2] * 0.05, 4)


def _least_loss(
    points: Sequence[tuple[float, float]], slope_steps: range, intercept_steps: range
) -> tuple[float, int, int]:
    """``(log-loss, slope step, intercept step)`` of the grid point of least log-loss (slope
    ``step x 0.025``, intercept ``step x 0.05``)."""
    best = (math.inf, 40, 0)
    for slope_step in slope_steps:
        slope = slope_step * 0.025
        for intercept_step in intercept_steps:
            intercept = intercept_step * 0.05
            loss = 0.0
            for x, y in points:
                p = min(max(_sigmoid(slope * x + intercept), 1e-9), 1 - 1e-9)
                loss -= y * math.log(p) + (1 - y) * math.log(1 - p)
            if loss < best[0]:
                best = (loss, slope_step, intercept_step)
    return best


def _sigmoid(value: float) -> float:
    if value < -30:
        return 0.0
    return 1.0 / (1.0 + math.exp(-min(value, 30.0)))


def accuracy(predictions: Iterable[tuple[LabelledRow, list[tuple[str, float]], float]]) -> float:
    """Share of rows whose best candidate is one of their codes."""
    results = [bool(ranked) and ranked[0][0] in row.codes for row, ranked, _ in predictions]
    return sum(results) / len(results) if results else 0.0


TUNING_GRID: dict[str, tuple[float, ...]] = {
    "heading": (0.15, 0.3, 0.6),
    "chapter": (0.25, 0.5, 1.0),
    "vocabulary": (0.15, 0.3, 0.6),
    "examples": (2.0, 3.0, 4.0),
    "example_heading": (0.5, 1.0, 2.0),
    "neighbours": (10, 20, 40),
    "neighbour_power": (1.5, 2.0, 3.0),
    "passages": (0.2, 0.3, 0.45),
    "passage_neighbours": (10, 20, 40),
    "passage_power": (1.5, 2.0, 3.0),
    "chapter_prior": (2.0, 3.0, 4.0),
    "facet_subheading": (0.05, 0.1, 0.15),
    "facet_heading": (0.0, 0.05, 0.1),
    "facet_conflict": (1.0, 2.0, 3.0),
}
TUNING_GAIN = 0.15
"""A weight moves only when the objective rises by more than this (points): a row is 0.3-0.5
points of a set, so smaller gains are noise."""


def tune(data: Path, rounds: int = 2) -> tuple[Params, float]:
    """Coordinate search from ``TUNED`` by 5-fold cross-validation: each weight in turn over
    its ``TUNING_GRID`` values, ``rounds`` times; the objective is the mean top-1 of the three
    sets plus a quarter of their mean chapter accuracy (in points)."""
    classifier = HsClassifier(build_model(data, calibrate=False))
    rows = labelled_rows(data)
    sets = [[r for r in rows if r.id.startswith(prefix)] for _, prefix in _PREFIXES]

    def objective(params: Params) -> float:
        top1 = chapter = 0.0
        for subset in sets:
            predictions = cross_validated(classifier, subset, params, limit=1)
            top1 += accuracy(predictions)
            chapter += chapter_accuracy(predictions)
        return 100 * (top1 + chapter / 4) / len(sets)

    best, best_score = TUNED, objective(TUNED)
    for _ in range(rounds):
        for name, values in TUNING_GRID.items():
            for value in values:
                if getattr(best, name) == value:
                    continue
                candidate = msgspec.structs.replace(best, **{name: value})
                score = objective(candidate)
                if score > best_score + TUNING_GAIN:
                    best, best_score = candidate, score
    return best, best_score


def chapter_accuracy(
    predictions: Iterable[tuple[LabelledRow, list[tuple[str, float]], float]],
) -> float:
    """Share of rows whose best candidate is in the chapter of one of their codes."""
    results = [
        bool(ranked) and ranked[0][0][:2] in {code[:2] for code in row.codes}
        for row, ranked, _ in predictions
    ]
    return sum(results) / len(results) if results else 0.0


_PREFIXES = (("hscodecomp", "hscc-"), ("atlas", "atlas-"), ("vn-tbtchq", "vn-"))


def write_model(model: HsModel, path: Path = MODEL_PATH) -> int:
    """Write the model as gzip JSON with no timestamp (reproducible bytes); returns the size."""
    payload = gzip.compress(msgspec.json.encode(model), compresslevel=9, mtime=0)
    path.write_bytes(payload)
    return len(payload)
