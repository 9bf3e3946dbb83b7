"""French text normalisation and a stateless-vocabulary char n-gram TF-IDF.

The char n-gram models (hashing, TF-IDF, the lexical and supervised parts of the trade search)
see normalised text: lowercase, no accents, ROME gender pairs collapsed to one form
("Boulanger / Boulangère" -> "boulanger"). The sentence encoder sees the raw text.

:class:`CharTfidf` hashes n-grams (``HashingVectorizer``), so its only learned state is one idf
weight per hashed feature: it saves as two small arrays, no vocabulary and no pickle.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize

_GENDER_SUFFIX = re.compile(r"\((?:e|se|euse|rice|trice|ère|ere|ienne|enne|ne|ve|le|sse|esse)s?\)")
_PAIR = re.compile(r"\s*/\s*")
_SPACES = re.compile(r"\s+")


def _same_stem(masculine: str, feminine: str) -> bool:
    """Tell whether two words are the gender forms of one word (``chef``/``cheffe``)."""
    left, right = masculine.split("-"), feminine.split("-")
    if len(left) != len(right):
        return False
    for a, b in zip(left, right, strict=True):
        common = 0
        for ca, cb in zip(a, b, strict=False):
            if ca != cb:
                break
            common += 1
        if common < 2 or common < min(len(a), len(b)) - 4:
            return False
    return True


def collapse_gender(text: str) -> str:
    """Collapse ROME gender pairs to the first form.

    "Chef pâtissier / Cheffe pâtissière de restaurant" -> "Chef pâtissier de restaurant";
    "Vendeur(se)" -> "Vendeur"; "électricité / électronique" is left alone.
    """
    text = _GENDER_SUFFIX.sub("", text)
    parts = _PAIR.split(text)
    if len(parts) == 1:
        return text
    out = parts[0]
    for right in parts[1:]:
        left_tokens, right_tokens = out.split(" "), right.split(" ")
        merged = None
        for k in range(min(len(left_tokens), len(right_tokens)), 0, -1):
            pairs = zip(left_tokens[-k:], right_tokens[:k], strict=True)
            if all(_same_stem(a.lower(), b.lower()) for a, b in pairs):
                merged = " ".join(left_tokens + right_tokens[k:])
                break
        out = merged if merged is not None else f"{out} / {right}"
    return out


_INTENT_WORDS = frozenset(
    "je j moi me m veux voudrais voudrai aimerais aime adore souhaite souhaiterais envie reve "
    "travailler travail bosser faire etre devenir exercer metier emploi job boulot "
    "dans avec du de des d la le les l un une en au aux pour et a sur chez".split()
)


def strip_intent(text: str) -> str:
    """Drop the words of intent and glue of a free query, for the char n-gram models.

    "je veux travailler avec du pain" -> "pain": otherwise "travailler" matches "Médecin du
    travail" better than "pain" matches "Boulanger". Returns the normalised text, or the whole
    normalised text when nothing else is left ("travail").
    """
    words = normalize_fr(text).split(" ")
    kept = [w for w in words if w not in _INTENT_WORDS]
    return " ".join(kept) if kept else " ".join(words)


def strip_accents(text: str) -> str:
    """Remove diacritics ("Boulangère" -> "Boulangere")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalize_fr(text: str, *, gender: bool = True) -> str:
    """Normalise French text for char n-gram models: gender pairs, lowercase, no accents."""
    if gender:
        text = collapse_gender(text)
    text = strip_accents(text.lower()).replace("'", " ").replace("’", " ")
    return _SPACES.sub(" ", text).strip()


class CharTfidf:
    """Char n-gram TF-IDF over hashed features; the idf is the only fitted state.

    Args:
        ngram_range: char_wb n-gram lengths.
        n_features: hashing space (collisions are negligible at 2**20 for our vocabulary).
        sublinear_tf: use ``1 + log(tf)``.

    Attributes:
        idf_: array of shape (n_features,) float32; 0 for n-grams never seen in fit (ignored).
    """

    def __init__(
        self,
        *,
        ngram_range: tuple[int, int] = (2, 5),
        n_features: int = 2**20,
        sublinear_tf: bool = True,
    ):
        self.ngram_range = ngram_range
        self.n_features = n_features
        self.sublinear_tf = sublinear_tf

    def _counts(self, texts: Sequence[str]) -> sp.csr_matrix:
        vectorizer = HashingVectorizer(
            analyzer="char_wb",
            ngram_range=self.ngram_range,
            n_features=self.n_features,
            alternate_sign=False,
            norm=None,
            lowercase=False,
            dtype=np.float32,
        )
        counts = vectorizer.transform([normalize_fr(t) for t in texts]).tocsr()
        if self.sublinear_tf:
            counts.data = 1.0 + np.log(counts.data)
        return counts

    def fit(self, texts: Sequence[str]) -> CharTfidf:
        """Learn smoothed idf weights from ``texts``; returns self."""
        counts = self._counts(texts)
        df = np.bincount(counts.indices, minlength=self.n_features)
        idf = np.log((1 + len(texts)) / (1 + df)) + 1.0
        self.idf_ = np.where(df > 0, idf, 0.0).astype(np.float32)
        return self

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Return L2-normalised TF-IDF rows, sparse of shape (n_texts, n_features) float32."""
        counts = self._counts(texts)
        weighted = counts @ sp.diags(self.idf_)
        return normalize(weighted.tocsr(), norm="l2", copy=False).astype(np.float32)

    def state(self) -> dict[str, np.ndarray]:
        """Arrays to save with ``np.savez`` (idf stored sparsely)."""
        used = np.flatnonzero(self.idf_).astype(np.int64)
        return {
            "idf_index": used,
            "idf_value": self.idf_[used],
            "config": np.array(
                [self.ngram_range[0], self.ngram_range[1], self.n_features, int(self.sublinear_tf)],
                dtype=np.int64,
            ),
        }

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> CharTfidf:
        """Rebuild from :meth:`state` arrays."""
        low, high, n_features, sublinear = (int(v) for v in state["config"])
        model = cls(ngram_range=(low, high), n_features=n_features, sublinear_tf=bool(sublinear))
        idf = np.zeros(n_features, dtype=np.float32)
        idf[state["idf_index"]] = state["idf_value"]
        model.idf_ = idf
        return model
