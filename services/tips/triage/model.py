"""The learned part of triage: a linear model over the word uni- and bigrams of a tip.

Trained by ``python -m services.tips.train`` (scikit-learn, LinearSVC) and saved as
plain arrays (``model/triage-model.npz``: vocabulary, idf, weights; no pickle), so
reading it back needs numpy only and cannot run code. Features are word uni- and
bigrams of the folded text (``fold``), so "lừa đảo", "lua dao" and "lửa đảo" meet,
tf-idf weighted (sublinear tf) and L2-normalised, as scikit-learn's TfidfVectorizer
does. Character n-grams were tried and dropped: in cross-validation they lowered
macro-F1 on the tips in other writing styles (0.84 with words alone, 0.76 with
character 2–5-grams added), the small data lets them fit the authors' spelling.

Two heads share the features: ``category`` (one weight row per category) and
``emergency`` (one row: emergency or not). Decision values become probabilities
through a softmax with a temperature fitted on out-of-fold predictions.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from services.tips.triage.text import CLAUSE_BREAK, fold_tokens

MODEL_FILE = Path(__file__).resolve().parent / "model" / "triage-model.npz"
WORD_NGRAMS = (1, 2)


def model_words(text: str) -> list[str]:
    """The folded words the model sees (punctuation dropped)."""
    return [t for t in fold_tokens(text) if t not in CLAUSE_BREAK]


def word_features(words: list[str]) -> list[str]:
    lo, hi = WORD_NGRAMS
    out = []
    for n in range(lo, hi + 1):
        out.extend(" ".join(words[i:i + n]) for i in range(len(words) - n + 1))
    return out


def _tfidf(features: list[str], vocabulary: dict[str, int], idf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(column indices, L2-normalised sublinear tf-idf values) of one text."""
    counts: dict[int, int] = {}
    for f in features:
        j = vocabulary.get(f)
        if j is not None:
            counts[j] = counts.get(j, 0) + 1
    if not counts:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    cols = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
    tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
    values = (1.0 + np.log(tf)) * idf[cols]
    return cols, values / np.linalg.norm(values)


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


@dataclass
class ModelOpinion:
    """What the model says about one tip."""
    category_probabilities: dict[str, float]
    emergency_score: float  # decision value of the emergency head; > threshold: emergency


class TriageModel:
    """A trained model read from its ``.npz`` file (see ``services.tips.train``)."""

    def __init__(self, arrays: dict):
        self.arrays = arrays
        self.meta = json.loads(str(arrays["meta"]))
        self.version: str = self.meta["version"]
        self.categories: list[str] = self.meta["categories"]
        self.word_vocabulary = {f: i for i, f in enumerate(arrays["word_vocabulary"].tolist())}
        self.word_idf = arrays["word_idf"].astype(np.float64)
        self.category_weights = arrays["category_weights"].astype(np.float64)  # (n_features, n_categories)
        self.category_bias = arrays["category_bias"].astype(np.float64)
        self.emergency_weights = arrays["emergency_weights"].astype(np.float64)  # (n_features,)
        self.emergency_bias = float(arrays["emergency_bias"])
        self.temperature = float(self.meta["temperature"])
        # How the opinion is combined with the lexicons (chosen at training time on
        # tips the lexicons were not written from): see decision.py.
        self.model_weight = float(self.meta["model_weight"])
        self.lexicon_temperature = float(self.meta["lexicon_temperature"])
        self.emergency_threshold = float(self.meta["emergency_threshold"])
        # Categories in which the emergency head may raise a tip (all in older files).
        self.emergency_categories = frozenset(self.meta.get("emergency_categories", self.categories))

    @classmethod
    def load(cls, path: Path | str = MODEL_FILE) -> "TriageModel":
        with np.load(path, allow_pickle=False) as f:
            return cls({k: f[k] for k in f.files})

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        return _tfidf(word_features(model_words(text)), self.word_vocabulary, self.word_idf)

    def opinion(self, text: str) -> ModelOpinion:
        cols, vals = self.features(text)
        decision = vals @ self.category_weights[cols] + self.category_bias
        probabilities = softmax(decision / self.temperature)
        emergency = float(vals @ self.emergency_weights[cols] + self.emergency_bias)
        return ModelOpinion(dict(zip(self.categories, (float(p) for p in probabilities))), emergency)


def lexicon_probabilities(scores: dict[str, float], spam: bool, categories: list[str],
                          temperature: float) -> np.ndarray:
    """The lexicon's category scores as a distribution (a spam verdict counts as a strong score)."""
    z = np.array([10.0 if (c == "spam" and spam) else scores.get(c, 0.0) for c in categories])
    return softmax(z / temperature)


def combine(model_p: np.ndarray, lexicon_p: np.ndarray, model_weight: float) -> np.ndarray:
    """Weighted geometric mean of the two opinions, renormalised."""
    log_p = model_weight * np.log(model_p + 1e-9) + (1 - model_weight) * np.log(lexicon_p + 1e-9)
    return softmax(log_p)


_DEFAULT: TriageModel | None = None


def default_model() -> TriageModel | None:
    """The model file shipped in the repository, read once; None when it is absent."""
    global _DEFAULT
    if _DEFAULT is None and MODEL_FILE.exists():
        _DEFAULT = TriageModel.load(MODEL_FILE)
    return _DEFAULT
