"""The suggestion model, pure (no database): features, training, scores, the similar-ticket index.

Features: TF-IDF over character 1–3-grams of the text, joined with TF-IDF over jieba words.
Characters carry short colloquial appeals (停水, 暖气 whatever the segmenter makes of them),
words add the longer terms; both are sublinear and L2-normalised. The classifier is a
multinomial logistic regression (categories weighted equally: a county's history is dominated
by a few; see _weights), whose ``predict_proba`` gives the scores. The owner units come from where
tickets of each category ended up (the final owner), weighted by the category scores.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import jieba
import joblib
import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import normalize

jieba.setLogLevel(60)  # its "Building prefix dict" lines are not our log
# Phone numbers, ID numbers, dates and amounts say nothing of the category.
_DIGITS = re.compile(r"[0-9０-９]+")
_SPACE = re.compile(r"\s+")
# Openings every call record shares (12345 records start "市民来电反映：").
_OPENINGS = re.compile(r"^(市民|群众|来电人|来电|您好|你好|反映|称|：|:|，|,)+")

SIMILAR_CAP = 20_000
WORD_WEIGHT = 0.3
BLOB_FORMAT = 1


def clean(text: str) -> str:
    """The text as the features see it: NFKC (full-width to half), lower case, digits as 0,
    the usual opening dropped."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _DIGITS.sub("0", text)
    text = _SPACE.sub(" ", text).strip()
    return _OPENINGS.sub("", text)


def words(text: str) -> list[str]:
    """jieba's words of a cleaned text, without spaces and single punctuation."""
    return [w for w in jieba.lcut(text) if w.strip() and not unicodedata.category(w[0])[0] == "P"]


def features(size: int) -> FeatureUnion:
    """The vectoriser for a training set of ``size`` texts: rare n-grams are dropped only when
    there is enough text for "rare" to mean noise."""
    min_df = 2 if size >= 2_000 else 1
    return FeatureUnion(
        [
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char",
                    ngram_range=(1, 3),
                    sublinear_tf=True,
                    min_df=min_df,
                    max_features=300_000,
                    dtype=np.float32,
                ),
            ),
            (
                "words",
                TfidfVectorizer(
                    tokenizer=words,
                    token_pattern=None,
                    lowercase=False,
                    sublinear_tf=True,
                    min_df=min_df,
                    max_features=100_000,
                    dtype=np.float32,
                ),
            ),
        ],
        # Words at a third of the characters' weight: on short colloquial appeals the segmenter
        # splits the same complaint many ways, and at equal weight top-1 fell from 0.74 to 0.67
        # on the benchmark corpus (docs/routing.md).
        transformer_weights={"chars": 1.0, "words": WORD_WEIGHT},
    )


@dataclass(frozen=True)
class Example:
    """A closed ticket as training sees it: text, final category, final owner (None when it
    was answered on the phone or closed from triage)."""

    ticket_id: int | None
    text: str
    category: str
    unit: str | None = None


@dataclass
class Model:
    """What is stored (pickled) in ``suggestion_model.blob``."""

    vectoriser: FeatureUnion
    classifier: LogisticRegression | None
    # With a single class there is nothing to classify: that class scores 1.
    classes: list[str]
    # category → [(unit, share of that category's tickets that ended there)], best first.
    units: dict[str, list[tuple[str, float]]]
    similar_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    similar_matrix: Any = None
    format: int = BLOB_FORMAT

    def vector(self, text: str) -> Any:
        return normalize(self.vectoriser.transform([clean(text)]))

    def scores(self, vector: Any) -> list[tuple[str, float]]:
        """Every class with its probability, best first (they sum to 1)."""
        return self._ranked(self.probabilities(vector)[0])

    def probabilities(self, vectors: Any) -> np.ndarray:
        """One row of class probabilities per row of ``vectors`` (columns: ``classes``)."""
        if self.classifier is None:
            return np.ones((vectors.shape[0], 1))
        return np.asarray(self.classifier.predict_proba(vectors))

    def ranked_many(self, texts: Sequence[str]) -> list[list[tuple[str, float]]]:
        """``scores`` of many texts at once (one transform, one product: evaluation)."""
        vectors = normalize(self.vectoriser.transform([clean(t) for t in texts]))
        return [self._ranked(row) for row in self.probabilities(vectors)]

    def _ranked(self, probs: np.ndarray) -> list[tuple[str, float]]:
        order = np.argsort(-probs, kind="stable")
        return [(self.classes[i], float(probs[i])) for i in order]

    def owner_units(
        self, scores: Sequence[tuple[str, float]], limit: int
    ) -> list[tuple[str, float]]:
        """P(unit) = Σ P(category) · P(unit | category), best first: a mixture, so the scores
        sum to at most 1."""
        mixed: dict[str, float] = defaultdict(float)
        for code, p in scores:
            for unit, share in self.units.get(code, ()):
                mixed[unit] += p * share
        return sorted(mixed.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]

    def nearest(self, vector: Any, limit: int) -> list[tuple[int, float]]:
        """The closed tickets of the index most like ``vector`` (cosine), best first."""
        if self.similar_matrix is None or self.similar_matrix.shape[0] == 0:
            return []
        # The index is stored by column (CSC): only the columns of the query's n-grams are read.
        query = vector.tocsr()
        sims = self.similar_matrix[:, query.indices] @ query.data
        sims = np.asarray(sims).ravel()
        if sims.size > limit:
            top = np.argpartition(-sims, limit)[:limit]
        else:
            top = np.arange(sims.size)
        top = top[np.argsort(-sims[top], kind="stable")]
        return [(int(self.similar_ids[i]), float(sims[i])) for i in top if sims[i] > 0]


def seed_examples(catalogue: Iterable[tuple[str, str, str, Sequence[str]]]) -> list[Example]:
    """Texts made of the catalogue alone, (code, name, description, keywords) → the name, each
    keyword, and all of them together: the starting model before any history exists, and a
    floor under every trained one (a category nobody has closed a ticket of yet)."""
    out: list[Example] = []
    for code, name, description, keywords in catalogue:
        texts = [name, *keywords, " ".join([name, *keywords])]
        if description:
            texts.append(description)
        out.extend(Example(None, t, code) for t in texts if t.strip())
    return out


def train(
    examples: Sequence[Example],
    seed: Sequence[Example] = (),
    *,
    similar: Sequence[Example] = (),
    progress: Callable[[str], None] = lambda _: None,
    c: float = 10.0,
) -> Model:
    """Fit the model on ``examples`` plus the catalogue's ``seed`` texts; index ``similar``
    (closed tickets, newest first, at most SIMILAR_CAP of them) for the nearest-ticket search."""
    everything = [*examples, *seed]
    if not everything:
        raise ValueError("nothing to train on: no closed tickets and an empty catalogue")
    texts = [clean(e.text) for e in everything]
    labels = [e.category for e in everything]
    progress("features")
    vectoriser = features(len(texts))
    x = normalize(vectoriser.fit_transform(texts))
    classes = sorted(set(labels))
    classifier = None
    if len(classes) > 1:
        progress("classifier")
        classifier = LogisticRegression(C=c, max_iter=300, solver="lbfgs", tol=1e-3)
        classifier.fit(x, labels, sample_weight=_weights(examples, len(seed)))
        classes = [str(k) for k in classifier.classes_]
    progress("owners")
    model = Model(vectoriser, classifier, classes, owner_shares(examples))
    kept = [e for e in similar if e.ticket_id is not None][:SIMILAR_CAP]
    if kept:
        progress("similar")
        matrix = normalize(vectoriser.transform([clean(e.text) for e in kept]))
        model.similar_matrix = sparse.csc_matrix(matrix, dtype=np.float32)
        model.similar_ids = np.array([e.ticket_id for e in kept], dtype=np.int64)
    return model


def _weights(examples: Sequence[Example], seeds: int) -> np.ndarray:
    """Balanced weights over the categories with history (each weighs as much in all), and 1
    for each seed text. sklearn's class_weight="balanced" would give a category known only
    from its four catalogue texts the mass of one with a thousand tickets: with 7 categories of
    history in a catalogue of 36, most of the prior would go to the 29 nobody called about."""
    counts = Counter(e.category for e in examples)
    n, k = len(examples), len(counts)
    history = [n / (k * counts[e.category]) for e in examples]
    return np.array([*history, *([1.0] * seeds)], dtype=np.float64)


def owner_shares(examples: Iterable[Example]) -> dict[str, list[tuple[str, float]]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for e in examples:
        if e.unit is not None:
            counts[e.category][e.unit] += 1
    shares: dict[str, list[tuple[str, float]]] = {}
    for code, units in counts.items():
        total = sum(units.values())
        shares[code] = [(u, n / total) for u, n in sorted(units.items(), key=lambda kv: -kv[1])]
    return shares


def dumps(model: Model) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    return buffer.getvalue()


def loads(blob: bytes) -> Model:
    """The model stored by ``dumps``. The blob comes from our own table, written only by
    ``hotline suggest train``: unpickling it is as trusted as the database."""
    model = joblib.load(io.BytesIO(blob))
    if not isinstance(model, Model) or model.format != BLOB_FORMAT:
        raise ValueError("not a suggestion model of this version of hotline")
    return model


def stratified_split(
    examples: Sequence[Example], share: float = 0.2, seed: int = 16
) -> tuple[list[Example], list[Example]]:
    """Hold out ``share`` of each category (at least one when it has two or more), the same
    split for the same examples: (train, held out)."""
    rng = np.random.default_rng(seed)
    by: dict[str, list[Example]] = defaultdict(list)
    for e in examples:
        by[e.category].append(e)
    train_part: list[Example] = []
    held: list[Example] = []
    for code in sorted(by):
        group = by[code]
        order = rng.permutation(len(group))
        n = round(len(group) * share)
        if len(group) >= 2:
            n = max(1, n)
        held.extend(group[i] for i in order[:n])
        train_part.extend(group[i] for i in order[n:])
    return train_part, held


@dataclass(frozen=True)
class Accuracy:
    """Top-1 and top-3 on a held-out set, overall and per category, with counts."""

    total: int
    top1: int
    top3: int
    per_category: dict[str, tuple[int, int, int]]  # code → (total, top1, top3)
    # Threshold → (covered: top score ≥ threshold, of which right): the validation curve.
    curve: dict[float, tuple[int, int]]

    def as_json(self) -> dict[str, Any]:
        return {
            "held_out": self.total,
            "top1": {"numerator": self.top1, "denominator": self.total},
            "top3": {"numerator": self.top3, "denominator": self.total},
            "per_category": {
                code: {"held_out": t, "top1": a, "top3": b}
                for code, (t, a, b) in sorted(self.per_category.items())
            },
            "curve": [
                {"threshold": th, "covered": cov, "right": right}
                for th, (cov, right) in sorted(self.curve.items())
            ],
        }


CURVE = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def evaluate(model: Model, held: Sequence[Example]) -> Accuracy:
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    curve = {th: [0, 0] for th in CURVE}
    top1 = top3 = 0
    for e, ranked in zip(held, model.ranked_many([e.text for e in held]), strict=True):
        codes = [c for c, _ in ranked[:3]]
        row = per[e.category]
        row[0] += 1
        right = bool(codes) and codes[0] == e.category
        if right:
            top1 += 1
            row[1] += 1
        if e.category in codes:
            top3 += 1
            row[2] += 1
        for th in CURVE:
            if ranked and ranked[0][1] >= th:
                curve[th][0] += 1
                curve[th][1] += int(right)
    return Accuracy(
        len(held),
        top1,
        top3,
        {k: (v[0], v[1], v[2]) for k, v in per.items()},
        {k: (v[0], v[1]) for k, v in curve.items()},
    )
