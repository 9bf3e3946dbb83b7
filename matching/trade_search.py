"""Free text -> ROME job cards: a hybrid of semantic, lexical and supervised scores.

Five signals score every card for a query, each normalised per query (z-score against the
query's top-50 cards) and fused by a weighted sum whose weights were chosen on a validation
split of the appellations plus a third of the everyday phrasings (``benchmarks/quality``):

- ``sem_app``: sentence-encoder cosine to the card's best appellation;
- ``sem_doc``: cosine to the card document (label + definition);
- ``sem_skill``: cosine to the card's best skill (savoir-faire, savoirs);
- ``lex_app``: char n-gram TF-IDF cosine to the card's best appellation;
- ``svm``: a linear SVM on char n-grams trained on the appellations labelled with their card.

Everything fitted is arrays: ``save`` writes ``.npy``/``.npz`` + ``manifest.json``, never pickle.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from matching.lexical import CharTfidf, strip_intent
from matching.text import trade_documents
from matching.trade_scores import _grouping, data_hash, max_per_group, zscore_top

DEFAULT_WEIGHTS: dict[str, float] = {
    # Chosen by benchmarks/quality/run.py (seed 20) on validation appellations + everyday
    # "tune" rows; the lexical part adds nothing once the SVM sees the same n-grams.
    "sem_app": 0.2,
    "sem_doc": 0.2,
    "sem_skill": 0.3,
    "lex_app": 0.0,
    "svm": 0.3,
}
COMPONENTS = tuple(DEFAULT_WEIGHTS)
_CHUNK = 256
__all__ = ["COMPONENTS", "DEFAULT_WEIGHTS", "TradeSearcher", "max_per_group", "zscore_top"]


class TradeSearcher:
    """Hybrid free-text search over ROME cards.

    Args:
        weights: fusion weight per component (see :data:`DEFAULT_WEIGHTS`); a zero weight
            skips computing that component.
        ngram_range: char n-grams of the lexical and supervised parts.
        svm_c: inverse regularisation of the linear SVM.
        skill_kinds: skill kinds matched by ``sem_skill``.
        n_jobs: processes training the per-card SVMs.

    Attributes (after ``fit`` or ``load``):
        codes_: array of shape (n_cards,) str, the card order.
        app_vectors_: (n_appellations, dim) float32, encoded appellation labels.
        app_labels_, app_cards_: (n_appellations,) labels (object) and card positions.
        doc_vectors_: (n_cards, dim) float32, encoded card documents.
        skill_vectors_: (n_skills, dim) float16; skill_labels_ (n_skills,);
        skill_pairs_: (n_links, 2) int64 rows (skill row, card position).
        tfidf_: the fitted :class:`CharTfidf`; app_tfidf_ (n_appellations, n_features) sparse;
        svm_coef_ (n_cards, n_columns) float16,
        svm_intercept_ (n_cards,), svm_columns_ (n_columns,) hashed feature ids.
    """

    def __init__(
        self,
        *,
        weights: dict[str, float] | None = None,
        ngram_range: tuple[int, int] = (2, 4),
        svm_c: float = 1.0,
        skill_kinds: tuple[str, ...] = ("savoir_faire", "savoir"),
        n_jobs: int = 2,
    ):
        self.weights = weights
        self.ngram_range = ngram_range
        self.svm_c = svm_c
        self.skill_kinds = skill_kinds
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ fit
    def fit(
        self, referential, embedder, exclude_appellations=None, on_progress=None
    ) -> TradeSearcher:
        """Encode the referential and train the lexical and supervised parts; returns self.

        Args:
            referential: a :class:`~matching.referential.Referential` (cards, appellations,
                skills).
            embedder: an :class:`~matching.embeddings.Embedder` (the default USE).
            exclude_appellations: ``code_ogr`` values kept out of every document and of the
                training set (held-out benchmark queries).
            on_progress: optional ``on_progress(done, total)`` over the encoding steps.
        """
        from sklearn.multiclass import OneVsRestClassifier
        from sklearn.svm import LinearSVC

        cards = referential.cards
        self.codes_ = cards.index.to_numpy(dtype=str)
        position = pd.Series(np.arange(len(self.codes_)), index=self.codes_)
        apps = referential.appellations
        excluded = set() if exclude_appellations is None else set(exclude_appellations)
        held = apps["code_ogr"].isin(excluded).to_numpy()
        excluded_labels = set(apps.loc[held, "label"]) - set(apps.loc[~held, "label"])
        apps = apps.loc[~held]
        self.app_labels_ = apps["label"].to_numpy(dtype=object)
        self.app_cards_ = position.loc[apps["code_rome"]].to_numpy(dtype=np.int64)

        skills = referential.skills
        skills = skills[skills["kind"].isin(self.skill_kinds)]
        skill_labels, skill_rows = np.unique(
            skills["label"].to_numpy(dtype=str), return_inverse=True
        )
        self.skill_labels_ = skill_labels.astype(object)
        self.skill_pairs_ = np.stack(
            [skill_rows, position.loc[skills["code_rome"]].to_numpy()], 1
        ).astype(np.int64)

        documents = trade_documents(cards, excluded_labels)
        steps = [self.app_labels_.tolist(), documents, self.skill_labels_.tolist()]
        total, done, encoded = sum(map(len, steps)), 0, []
        for texts in steps:
            offset = done
            encoded.append(
                embedder.encode_documents(
                    texts,
                    on_progress=None
                    if on_progress is None
                    else lambda d, _t, o=offset: on_progress(o + d, total),
                )
            )
            done += len(texts)
        self.app_vectors_, self.doc_vectors_, skill_vectors = encoded
        self.skill_vectors_ = skill_vectors.astype(np.float16)

        self.tfidf_ = CharTfidf(ngram_range=self.ngram_range).fit(self.app_labels_.tolist())
        train = self.tfidf_.transform(self.app_labels_.tolist())
        self.app_tfidf_ = train
        self.svm_columns_ = np.unique(train.indices).astype(np.int64)
        # One binary SVM per card, spread over n_jobs processes (the slowest step of fit).
        svm = OneVsRestClassifier(LinearSVC(C=self.svm_c), n_jobs=self.n_jobs)
        svm.fit(train[:, self.svm_columns_], self.app_cards_)
        self.svm_coef_ = np.zeros((len(self.codes_), len(self.svm_columns_)), dtype=np.float16)
        self.svm_intercept_ = np.full(len(self.codes_), -10.0, dtype=np.float32)
        self.svm_coef_[svm.classes_] = np.vstack([e.coef_ for e in svm.estimators_])
        self.svm_intercept_[svm.classes_] = np.concatenate([e.intercept_ for e in svm.estimators_])
        self.model_name_ = embedder.name
        self.data_hash_ = data_hash(referential)
        self._embedder = embedder
        self._prepare()
        return self

    def _prepare(self) -> None:
        """Derive the search-time state (groupings, sparse appellation matrix)."""
        n_cards = len(self.codes_)
        self._app_groups = _grouping(self.app_cards_)
        self._skill_groups = _grouping(self.skill_pairs_[:, 1])
        self._app_tfidf = self.app_tfidf_.T.tocsr()
        self._svm_coef_t = np.ascontiguousarray(self.svm_coef_.astype(np.float32).T)
        self._skill_vectors = self.skill_vectors_.astype(np.float32)
        self._n_cards = n_cards

    # ------------------------------------------------------------------ scoring
    def components(self, query_texts, names=COMPONENTS) -> dict[str, np.ndarray]:
        """Score every card per component, each ``(n_queries, n_cards)`` float32, unnormalised.

        ``names`` limits the work to some components (the others are absent from the result).
        """
        embedder = self._embedder
        texts = list(query_texts)
        query_vectors = embedder.encode_queries(texts)
        # The char n-gram parts see the query without words of intent ("je veux travailler");
        # the sentence encoder sees it whole (alone, "pain" reads as English "pain").
        lexical = self.tfidf_.transform([strip_intent(t) for t in texts])
        parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
        n = self._n_cards
        for start in range(0, len(texts), _CHUNK):
            vectors = query_vectors[start : start + _CHUNK]
            rows = lexical[start : start + _CHUNK]
            if "sem_app" in parts:
                parts["sem_app"].append(
                    max_per_group(vectors @ self.app_vectors_.T, *self._app_groups, n)
                )
            if "sem_doc" in parts:
                parts["sem_doc"].append(vectors @ self.doc_vectors_.T)
            if "sem_skill" in parts:
                skill_sims = vectors @ self._skill_vectors.T
                parts["sem_skill"].append(
                    max_per_group(skill_sims[:, self.skill_pairs_[:, 0]], *self._skill_groups, n)
                )
            if "lex_app" in parts:
                lexical_sims = np.asarray((rows @ self._app_tfidf).todense())
                parts["lex_app"].append(max_per_group(lexical_sims, *self._app_groups, n))
            if "svm" in parts:
                parts["svm"].append(
                    np.asarray(rows[:, self.svm_columns_] @ self._svm_coef_t) + self.svm_intercept_
                )
        return {
            name: np.vstack(chunks).astype(np.float32) if chunks else np.zeros((0, n), np.float32)
            for name, chunks in parts.items()
        }

    def fuse(self, components: dict[str, np.ndarray]) -> np.ndarray:
        """Fuse component scores: weighted sum of per-query z-scores, ``(q, n_cards)`` float32."""
        weights = self.weights or DEFAULT_WEIGHTS
        total = None
        for name, weight in weights.items():
            if weight:
                part = weight * zscore_top(components[name])
                total = part if total is None else total + part
        return total.astype(np.float32)

    def score(self, query_texts) -> np.ndarray:
        """Relevance of every card to every query, ``(n_queries, n_cards)`` float32.

        Scores are fused z-scores (about 0 for an average top-50 card, a few units for a clear
        match); rescale them before mixing with other signals.
        """
        if isinstance(query_texts, str):
            raise TypeError("pass a list of query texts, not a single string")
        weights = self.weights or DEFAULT_WEIGHTS
        return self.fuse(self.components(query_texts, names=[k for k, w in weights.items() if w]))

    def search(self, query_texts, top_k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Return the ``top_k`` best cards per query: positions (q, k) int64, scores (q, k) float32."""
        scores = self.score(query_texts)
        top_k = min(top_k, scores.shape[1])
        best = np.argpartition(-scores, top_k - 1, axis=1)[:, :top_k]
        picked = np.take_along_axis(scores, best, 1)
        order = np.argsort(-picked, axis=1, kind="stable")
        positions = np.take_along_axis(best, order, 1).astype(np.int64)
        return positions, np.take_along_axis(picked, order, 1).astype(np.float32)

    def card_vectors(self, positions) -> np.ndarray:
        """Encoded card documents for card ``positions``, ``(n, dim)`` float32 L2-normalised."""
        return self.doc_vectors_[np.asarray(positions, dtype=np.int64)]

    def explain(self, query_text: str, code_rome: str, top_skills: int = 3) -> dict:
        """Say why ``code_rome`` matches ``query_text``.

        Returns a dict with ``appellation`` (the card's closest appellation label),
        ``appellation_similarity``, ``skills`` (the closest skill labels, best first),
        ``skill_similarities`` and ``components`` (each component's raw score).

        Raises:
            UnknownRomeCode: ``code_rome`` is not a card of this searcher.
        """
        from matching.errors import UnknownRomeCode

        matches = np.flatnonzero(self.codes_ == code_rome)
        if not len(matches):
            raise UnknownRomeCode(
                f"unknown ROME code {code_rome!r}: see `passerelle trades search`",
                field="code_rome",
            )
        pos = int(matches[0])
        vector = self._embedder.encode_queries([query_text])[0]
        app_rows = np.flatnonzero(self.app_cards_ == pos)
        app_sims = self.app_vectors_[app_rows] @ vector
        skill_rows = self.skill_pairs_[self.skill_pairs_[:, 1] == pos, 0]
        skill_sims = self.skill_vectors_[skill_rows].astype(np.float32) @ vector
        best_skills = np.argsort(-skill_sims)[:top_skills]
        parts = self.components([query_text])
        best_app = int(np.argmax(app_sims)) if len(app_rows) else None
        return {
            "appellation": None if best_app is None else str(self.app_labels_[app_rows[best_app]]),
            "appellation_similarity": None if best_app is None else float(app_sims[best_app]),
            "skills": [str(self.skill_labels_[skill_rows[i]]) for i in best_skills],
            "skill_similarities": [float(skill_sims[i]) for i in best_skills],
            "components": {name: float(values[0, pos]) for name, values in parts.items()},
        }

    # ------------------------------------------------------------------ persistence
    _ARRAYS = (
        "codes_",
        "app_vectors_",
        "app_cards_",
        "doc_vectors_",
        "skill_vectors_",
        "skill_pairs_",
        "svm_coef_",
        "svm_intercept_",
        "svm_columns_",
    )
    _LABELS = ("app_labels_", "skill_labels_")

    def save(self, directory) -> None:
        """Write one ``.npy`` per array, ``tfidf.npz``, ``labels.json`` and ``manifest.json``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name in self._ARRAYS:
            np.save(directory / f"{name.rstrip('_')}.npy", getattr(self, name))
        labels = {name: getattr(self, name).tolist() for name in self._LABELS}
        (directory / "labels.json").write_text(
            json.dumps(labels, ensure_ascii=False), encoding="utf-8"
        )
        np.savez(
            directory / "tfidf.npz",
            **self.tfidf_.state(),
            app_data=self.app_tfidf_.data,
            app_indices=self.app_tfidf_.indices,
            app_indptr=self.app_tfidf_.indptr,
        )
        manifest = {
            "kind": "trade_searcher",
            "model": self.model_name_,
            "dim": int(self.app_vectors_.shape[1]),
            "n_cards": int(len(self.codes_)),
            "n_appellations": int(len(self.app_labels_)),
            "data_hash": self.data_hash_,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "weights": self.weights or DEFAULT_WEIGHTS,
            "ngram_range": list(self.ngram_range),
            "svm_c": self.svm_c,
            "skill_kinds": list(self.skill_kinds),
        }
        (directory / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, directory, embedder) -> TradeSearcher:
        """Read a searcher written by :meth:`save`; ``embedder`` must be the model it was built with.

        No pickle anywhere: arrays are ``.npy``, labels JSON.

        Raises:
            FileNotFoundError: no saved searcher in ``directory``.
            ValueError: it was built with another embedding model.
        """
        directory = Path(directory)
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        if manifest["model"] != embedder.name:
            raise ValueError(
                f"trade searcher in {directory} was built with {manifest['model']!r}, "
                f"not {embedder.name!r}: rebuild it with `passerelle index build`"
            )
        searcher = cls(
            weights=manifest["weights"],
            ngram_range=tuple(manifest["ngram_range"]),
            svm_c=manifest["svm_c"],
            skill_kinds=tuple(manifest["skill_kinds"]),
        )
        for name in cls._ARRAYS:
            setattr(
                searcher, name, np.load(directory / f"{name.rstrip('_')}.npy", allow_pickle=False)
            )
        labels = json.loads((directory / "labels.json").read_text(encoding="utf-8"))
        for name in cls._LABELS:
            setattr(searcher, name, np.array(labels[name], dtype=object))
        with np.load(directory / "tfidf.npz", allow_pickle=False) as data:
            searcher.tfidf_ = CharTfidf.from_state({key: data[key] for key in data.files})
            shape = (len(searcher.app_labels_), searcher.tfidf_.n_features)
            searcher.app_tfidf_ = sp.csr_matrix(
                (data["app_data"], data["app_indices"], data["app_indptr"]), shape=shape
            )
        searcher.model_name_, searcher.data_hash_ = manifest["model"], manifest["data_hash"]
        searcher._embedder = embedder
        searcher._prepare()
        return searcher
