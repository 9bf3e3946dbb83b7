"""Free text -> ROME job cards: a hybrid of semantic, lexical and supervised scores.

Five signals score every card for a query and are fused by weighted reciprocal-rank fusion
(``sum_c w_c / (rrf_k + rank_c)``; ``fusion="zscore"`` instead sums z-scores against each
query's top-50 cards), with weights chosen on a validation split of the appellations plus a
third of the everyday phrasings (``benchmarks/quality``):

- ``sem_app``: sentence-encoder cosine to the card's best appellation;
- ``sem_doc``: cosine to the card document (label + definition);
- ``sem_skill``: cosine to the card's best skill (savoir-faire, savoirs);
- ``lex_app``: char n-gram TF-IDF cosine to the card's best appellation;
- ``svm``: a linear SVM (hinge loss, one stochastic-gradient solve for all cards) on char
  n-grams, trained on every short text of the referential labelled with its card: appellation
  labels and short labels, the card label, its core skills and its definition sentences
  (:data:`~matching.search.trade_scores.CORPUS_WEIGHTS`). Only its non-negligible weights are kept
  (sparse), which makes the saved model small.

With ``learn_fusion=True`` the fit also learns the fusion (LightGBM ``lambdarank`` over the five
signals' candidates, with neighbour and word scores, trained on appellations held out of a
second fit: :mod:`~matching.search.learned_fusion`); off by default (RESULTS, #15 item 6).

Everything fitted is arrays: ``save`` writes ``.npy``/``.npz`` + ``manifest.json``, never pickle
(:mod:`~matching.search.trade_files`); the fitting steps are pure functions of
:mod:`~matching.search.trade_fit`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from matching.search.fusion_features import EXTRAS, extra_components
from matching.search.learned_fusion import (
    LearnedFusion,
    learn_fusion,
    learned_scores,
    signal_ranks,
)
from matching.search.lexical import CharTfidf, normalize_fr, strip_intent
from matching.search.texts import trade_documents
from matching.search.trade_files import read_searcher, save_searcher
from matching.search.trade_fit import (
    encode_in_steps,
    fit_svm,
    held_out_appellations,
    skill_links,
)
from matching.search.trade_scores import (
    GroupMax,
    data_hash,
    max_per_group,
    reciprocal_ranks,
    sparse_product_dense,
    sparse_product_t,
    supervised_corpus,
    zscore_top,
)

DEFAULT_WEIGHTS: dict[str, float] = {
    # Chosen by benchmarks/quality/run.py (seed 20) on validation appellations + everyday
    # "tune" rows, for reciprocal-rank fusion with rrf_k=5; rrf_k=10 (validation MRR 0.01
    # lower, R@10 equal) keeps two char n-gram components from overruling three semantic ones
    # on a one-word remainder ("... du pain": "pain" ~ "paie" for char n-grams).
    "sem_app": 0.2,
    "sem_doc": 0.2,
    "sem_skill": 0.2,
    "lex_app": 0.1,
    "svm": 0.3,
}
COMPONENTS = tuple(DEFAULT_WEIGHTS)
MIN_FUSION_QUERIES = 200  # fewer held-out appellations: no fusion is learned (RRF stays)
_CHUNK = 128  # queries per block: 128 to 384 time the same; 128 keeps the blocks small
__all__ = ["COMPONENTS", "DEFAULT_WEIGHTS", "TradeSearcher", "max_per_group", "reciprocal_ranks",
           "zscore_top"]


class TradeSearcher:
    """Hybrid free-text search over ROME cards.

    Args:
        weights: fusion weight per component (see :data:`DEFAULT_WEIGHTS`); a zero weight
            skips computing that component.
        ngram_range: char n-grams of the lexical and supervised parts.
        svm_alpha: L2 regularisation of the linear SVM (``SGDClassifier(alpha=...)``).
        svm_epochs: passes of the stochastic-gradient solver over the training text.
        svm_min_df: n-grams seen in fewer training texts are not features of the SVM.
        svm_keep: SVM weights below this fraction of a card's largest weight are dropped.
        skill_kinds: skill kinds matched by ``sem_skill``.
        fusion: ``"rrf"`` (weighted reciprocal-rank fusion) or ``"zscore"``.
        rrf_k: rank offset of the reciprocal-rank fusion (small: the top ranks dominate).
        n_jobs: threads training the one-vs-rest SVM.
        learn_fusion: also learn the fusion (:mod:`~matching.search.learned_fusion`): ``fit``
            then fits a second searcher without a tenth of the appellations and trains a
            ``lambdarank`` model on them; ``score`` uses it instead of the weighted RRF.

    Attributes (after ``fit`` or ``load``):
        codes_: array of shape (n_cards,) str, the card order.
        app_vectors_: (n_appellations, dim) float16, encoded appellation labels.
        app_labels_, app_cards_: (n_appellations,) labels (object) and card positions.
        doc_vectors_: (n_cards, dim) float32, encoded card documents.
        skill_vectors_: (n_skills, dim) float16; skill_labels_ (n_skills,);
        skill_pairs_: (n_links, 2) int64 rows (skill row, card position).
        tfidf_: the fitted :class:`CharTfidf`; app_tfidf_ (n_appellations, n_features) sparse;
        svm_coef_ (n_cards, n_columns) sparse CSR float32,
        svm_intercept_ (n_cards,), svm_columns_ (n_columns,) hashed feature ids.
    """

    def __init__(
        self,
        *,
        weights: dict[str, float] | None = None,
        ngram_range: tuple[int, int] = (2, 4),
        svm_alpha: float = 1e-5,
        svm_epochs: int = 6,
        svm_min_df: int = 2,
        svm_keep: float = 0.02,
        skill_kinds: tuple[str, ...] = ("savoir_faire", "savoir"),
        fusion: str = "rrf",
        rrf_k: float = 10.0,
        n_jobs: int = 2,
        learn_fusion: bool = False,
    ):
        if fusion not in ("rrf", "zscore"):
            raise ValueError(f"fusion must be 'rrf' or 'zscore', not {fusion!r}")
        self.weights = weights
        self.ngram_range = ngram_range
        self.svm_alpha = svm_alpha
        self.svm_epochs = svm_epochs
        self.svm_min_df = svm_min_df
        self.svm_keep = svm_keep
        self.skill_kinds = skill_kinds
        self.fusion = fusion
        self.rrf_k = rrf_k
        self.n_jobs = n_jobs
        self.learn_fusion = learn_fusion
        self.learned_fusion_: LearnedFusion | None = None

    # ------------------------------------------------------------------ fit
    def fit(
        self, referential, embedder, exclude_appellations=None, on_progress=None,
        fusion_queries=None,
    ) -> TradeSearcher:
        """Encode the referential and train the lexical and supervised parts; returns self.

        Args:
            referential: a :class:`~matching.referential.loader.Referential` (cards, appellations,
                skills).
            embedder: an :class:`~matching.search.embeddings.Embedder` (the default USE).
            exclude_appellations: ``code_ogr`` values kept out of every document and of the
                training set (held-out benchmark queries); so is every other text of the
                referential whose normalised form equals a held-out label (the same label on
                another appellation, its other gender form, a short or card label).
            on_progress: optional ``on_progress(done, total)`` over the encoding steps.
            fusion_queries: with ``learn_fusion``, the ``code_ogr`` values held out of the
                second fit as training queries (default: a seeded tenth of the kept ones).
        """
        cards = referential.cards
        self.codes_ = cards.index.to_numpy(dtype=str)
        position = pd.Series(np.arange(len(self.codes_)), index=self.codes_)
        apps, held_forms, excluded_labels = held_out_appellations(
            referential.appellations, exclude_appellations
        )
        self.app_labels_ = apps["label"].to_numpy(dtype=object)
        self.app_cards_ = position.loc[apps["code_rome"]].to_numpy(dtype=np.int64)
        self.skill_labels_, self.skill_pairs_ = skill_links(
            referential.skills, self.skill_kinds, position
        )
        documents = trade_documents(cards, excluded_labels)
        steps = [self.app_labels_.tolist(), documents, self.skill_labels_.tolist()]
        app_vectors, self.doc_vectors_, skill_vectors = encode_in_steps(
            embedder, steps, on_progress
        )
        self.app_vectors_ = app_vectors.astype(np.float16)
        self.skill_vectors_ = skill_vectors.astype(np.float16)
        self._fit_supervised(referential, apps, held_forms, position)
        self.model_name_ = embedder.name
        self.data_hash_ = data_hash(referential)
        self._embedder = embedder
        self._prepare()
        if self.learn_fusion:
            self.learned_fusion_ = learn_fusion(
                self, referential, embedder, apps, exclude_appellations, fusion_queries,
                MIN_FUSION_QUERIES,
            )
        return self

    def _fit_supervised(self, referential, apps, held_forms, position: pd.Series) -> None:
        """Fit the char n-gram TF-IDF and the SVM on the referential's labelled short texts."""
        texts, text_codes, sample_weight = supervised_corpus(
            referential, apps, held_forms, normalize_fr
        )
        self.tfidf_ = CharTfidf(ngram_range=self.ngram_range).fit(texts)
        self.app_tfidf_ = self.tfidf_.transform(self.app_labels_.tolist())
        self.svm_columns_, self.svm_coef_, self.svm_intercept_ = fit_svm(
            self.tfidf_.transform(texts),
            position.loc[text_codes].to_numpy(),
            sample_weight,
            len(self.codes_),
            alpha=self.svm_alpha,
            epochs=self.svm_epochs,
            min_df=self.svm_min_df,
            keep=self.svm_keep,
            n_jobs=self.n_jobs,
        )

    def _prepare(self) -> None:
        """Derive the search-time state (per-card max layouts, sparse matrices by feature)."""
        n_cards = len(self.codes_)
        self._app_max = GroupMax(np.arange(len(self.app_cards_)), self.app_cards_, n_cards)
        self._skill_max = GroupMax(self.skill_pairs_[:, 0], self.skill_pairs_[:, 1], n_cards)
        self._app_tfidf = self.app_tfidf_.T.tocsr()
        # The SVM weights laid out over the whole hashed space: a query row multiplies directly.
        coef = self.svm_coef_.tocoo()
        self._svm_coef_t = sp.csr_matrix(
            (coef.data, (self.svm_columns_[coef.col], coef.row)),
            shape=(self.tfidf_.n_features, n_cards),
            dtype=np.float32,
        )
        self._app_vectors = self.app_vectors_.astype(np.float32)
        self._skill_vectors = self.skill_vectors_.astype(np.float32)
        self._n_cards = n_cards
        self._rrf_table = (1.0 / (self.rrf_k + np.arange(n_cards))).astype(np.float32)
        self._card_appellations = np.bincount(self.app_cards_, minlength=n_cards).astype(np.float32)
        self._word_index = None  # the learned fusion's word and neighbour state, built on first use

    # ------------------------------------------------------------------ scoring
    def components(self, query_texts, names=None, query_vectors=None) -> dict[str, np.ndarray]:
        """Score every card per component, each ``(n_queries, n_cards)`` float32, unnormalised.

        ``names`` limits the work to some components (the others are absent from the result;
        None: the five, and the learned fusion's extra scores when it needs them,
        :data:`~matching.search.fusion_features.EXTRAS`); ``query_vectors``
        ``(n_queries, dim)``: the texts' embeddings when the caller has them.
        """
        texts = list(query_texts)
        if names is None:
            names = COMPONENTS if self.learned_fusion_ is None else (*COMPONENTS, *EXTRAS)
        if query_vectors is None:
            query_vectors = self._embedder.encode_queries(texts)
        # The char n-gram parts see the query without words of intent ("je veux travailler");
        # the sentence encoder sees it whole (alone, "pain" reads as English "pain").
        lexical = self.tfidf_.transform([strip_intent(t) for t in texts])
        extras = [name for name in names if name in EXTRAS]
        parts = {name: np.empty((len(texts), self._n_cards), np.float32) for name in names}
        for start in range(0, len(texts), _CHUNK):
            chunk = slice(start, start + _CHUNK)
            vectors, rows = query_vectors[chunk], lexical[chunk]
            # The extras read the appellation similarities that sem_app and lex_app reduce:
            # computed once here (the same products, so the same values).
            sims = {"sem_app": self._app_vectors @ vectors.T,
                    "lex_app": sparse_product_t(rows, self._app_tfidf)} if extras else {}
            for name in (name for name in names if name not in EXTRAS):
                if name in sims:
                    self._app_max.reduce(sims[name], parts[name][chunk])
                else:
                    getattr(self, f"_{name}")(vectors, rows, parts[name][chunk])
            if extras:
                computed = extra_components(self, texts[chunk], vectors, *sims.values())
                for name in extras:
                    parts[name][chunk] = computed[name]
        return parts

    # Each scorer writes one component for a chunk of queries (embeddings, TF-IDF rows) into
    # ``out`` (chunk x cards). Similarities to items are computed items x queries, the layout
    # GroupMax reduces fastest (OpenBLAS gives the transposed product the same float32 sums).
    def _sem_app(self, vectors, rows, out) -> None:
        self._app_max.reduce(self._app_vectors @ vectors.T, out)

    def _sem_doc(self, vectors, rows, out) -> None:
        out[:] = vectors @ self.doc_vectors_.T

    def _sem_skill(self, vectors, rows, out) -> None:
        self._skill_max.reduce(self._skill_vectors @ vectors.T, out)

    def _lex_app(self, vectors, rows, out) -> None:
        self._app_max.reduce(sparse_product_t(rows, self._app_tfidf), out)

    def _svm(self, vectors, rows, out) -> None:
        out[:] = sparse_product_dense(rows, self._svm_coef_t) + self.svm_intercept_

    def normalise(self, scores: np.ndarray) -> np.ndarray:
        """One component's scores as the fusion sums them (reciprocal ranks or z-scores)."""
        if self.fusion == "rrf":
            return reciprocal_ranks(scores, self.rrf_k)
        return zscore_top(scores)

    def fuse(self, components: dict[str, np.ndarray]) -> np.ndarray:
        """Fuse component scores, ``(q, n_cards)``: the weighted sum of :meth:`normalise`d
        scores, reordered by the learned fusion when there is one (same values per row)."""
        if self.learned_fusion_ is None:
            return self.rank_fusion(components)
        ranks = signal_ranks(components)  # sorted once for both fusions
        total = self.rank_fusion(components, ranks)
        return learned_scores(self.learned_fusion_, components, ranks, total,
                              self._card_appellations)

    def rank_fusion(self, components: dict[str, np.ndarray], ranks=None) -> np.ndarray:
        """The weighted sum of :meth:`normalise`d component scores, ``(q, n_cards)``;
        ``ranks``: the components' ranks when known (the same reciprocal ranks, read off)."""
        weights = self.weights or DEFAULT_WEIGHTS
        total: np.ndarray | None = None
        for name, weight in weights.items():
            if weight:
                if ranks is not None and self.fusion == "rrf":
                    part = weight * self._rrf_table[ranks[name]]
                else:
                    part = weight * self.normalise(components[name])
                total = part if total is None else total + part
        if total is None:
            raise ValueError("every fusion weight is 0: give at least one signal a weight")
        return total.astype(np.float32)

    def score(self, query_texts, query_vectors=None) -> np.ndarray:
        """Relevance of every card to every query, ``(n_queries, n_cards)`` float32.

        Scores are weighted reciprocal ranks (at most ``sum(weights) / rrf_k`` for a card every
        component puts first, near 0 far down the list; with ``fusion="zscore"``, fused z-scores);
        rescale them before mixing with other signals. ``query_vectors``: the texts' embeddings
        ``(n_queries, dim)`` when the caller already has them (encoded once for several uses).
        """
        if isinstance(query_texts, str):
            raise TypeError("pass a list of query texts, not a single string")
        weights = self.weights or DEFAULT_WEIGHTS  # a learned fusion reads every score (None)
        names = None if self.learned_fusion_ is not None else [k for k, w in weights.items() if w]
        return self.fuse(self.components(query_texts, names=names, query_vectors=query_vectors))

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
        app_sims = self._app_vectors[app_rows] @ vector
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
    def save(self, directory) -> None:
        """Write one ``.npy`` per array, ``tfidf.npz``, ``labels.json`` and ``manifest.json``
        (:mod:`~matching.search.trade_files`)."""
        save_searcher(self, Path(directory), self.weights or DEFAULT_WEIGHTS)
        LearnedFusion.write(self.learned_fusion_, Path(directory))

    @classmethod
    def load(cls, directory, embedder) -> TradeSearcher:
        """Read a searcher written by :meth:`save`; ``embedder`` must be the model it was built with.

        No pickle anywhere: arrays are ``.npy``, labels JSON.

        Raises:
            FileNotFoundError: no saved searcher in ``directory``.
            ValueError: it was built with another embedding model.
        """
        searcher = read_searcher(cls, Path(directory), embedder.name)
        searcher._embedder = embedder
        searcher.learned_fusion_ = LearnedFusion.load(Path(directory), searcher.data_hash_)
        searcher._prepare()
        return searcher
