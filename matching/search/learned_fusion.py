"""Learned fusion of the trade-search signals: a LightGBM ``lambdarank`` model over candidates.

The five signals of :class:`~matching.search.trade_search.TradeSearcher` are fused by weighted
reciprocal-rank fusion (RRF). This module learns the fusion instead, from the referential's own
appellation -> card pairs: appellations held out of a searcher's fit are queries whose answer is
their card. For each query the candidates are the union of every signal's top ``depth`` cards;
each (query, candidate) pair is described by :func:`pair_features` (each signal's score, rank,
gap to the query's best and z-score, the RRF score and rank, the card's number of appellations,
the query's best appellation scores; the neighbour and word scores of
:mod:`~matching.search.fusion_features` and their gaps; how far the signals agree) and a
``lambdarank`` model orders the candidates.

Serving keeps the RRF score scale: :meth:`LearnedFusion.reorder` hands the row's RRF values, best
first, to the candidates in the learned order, then to the other cards in RRF order. The scores
are a permutation of the RRF scores (same minimum, maximum and spread, which the recommender's
rescaling relies on); only the order of the candidates changes.

Saved as LightGBM's text model (``fusion_model.txt``) and ``fusion.json`` (features, depth, data
hash); never pickle. Pure functions and one small class; no I/O outside ``save``/``load``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from matching.search.fusion_features import EXTRAS
from matching.search.trade_scores import descending_order

SIGNALS = ("sem_app", "sem_doc", "sem_skill", "lex_app", "svm")
MODEL_FILE, MANIFEST_FILE = "fusion_model.txt", "fusion.json"
DEPTH = 20  # candidates: the union of each signal's top DEPTH cards (50: R@1 +0.006 on seed 20, 2.5x the pairs)
# Settings the second fit (the one learning the fusion) copies from the searcher.
OPTIONS = (
    "weights",
    "ngram_range",
    "svm_alpha",
    "svm_epochs",
    "svm_min_df",
    "svm_keep",
    "skill_kinds",
    "fusion",
    "rrf_k",
    "n_jobs",
)
HOLDOUT_SHARE, HOLDOUT_SEED = 0.1, 0  # appellations held out of the second fit as queries
PARAMS: dict = {
    "objective": "lambdarank",
    "metric": "ndcg",
    "eval_at": [1, 10],
    "learning_rate": 0.1,
    "num_leaves": 15,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambdarank_truncation_level": 20,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 2,
    "seed": 0,
    "verbosity": -1,
}
ROUNDS = 60  # with learning_rate 0.1: as good as 150 or 300 rounds at 0.05 on seed 20, and faster to serve


def feature_names() -> list[str]:
    """Column names of :func:`pair_features`, in order."""
    names = []
    for signal in SIGNALS:
        names += [f"{signal}_score", f"{signal}_rank", f"{signal}_gap", f"{signal}_z"]
    names += ["rrf_score", "rrf_rank", "card_appellations", "sem_app_best", "lex_app_best"]
    for extra in EXTRAS:
        names += [extra, f"{extra}_gap"]
    return [*names, *AGREEMENT, "sem_knn_best"]


AGREEMENT = ("signals_first", "signals_top3", "best_rank", "median_rank", "rank_spread")


def ranks_of_scores(scores: np.ndarray) -> np.ndarray:
    """0-based rank of every column of every row (best = 0, ties by column), ``(q, n)`` int32."""
    return ranks_of_order(descending_order(scores))


def ranks_of_order(order: np.ndarray) -> np.ndarray:
    """The ranks :func:`ranks_of_scores` returns, from the rows' order (best first)."""
    ranks = np.empty(order.shape, dtype=np.int32)
    np.put_along_axis(ranks, order, np.arange(order.shape[1], dtype=np.int32)[None, :], axis=1)
    return ranks


def candidates(ranks: dict[str, np.ndarray], depth: int = DEPTH) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, cards)`` int64 pairs: every card in some signal's top ``depth``, row by row."""
    inside = np.zeros(next(iter(ranks.values())).shape, dtype=bool)
    for rank in ranks.values():
        inside |= rank < depth
    rows, cards = np.nonzero(inside)
    return rows.astype(np.int64), cards.astype(np.int64)


def pair_features(
    components: dict[str, np.ndarray],
    ranks: dict[str, np.ndarray],
    rrf: np.ndarray,
    rrf_rank: np.ndarray,
    rows: np.ndarray,
    cards: np.ndarray,
    card_appellations: np.ndarray,
) -> np.ndarray:
    """Features of the (query ``rows``, ``cards``) pairs, ``(n_pairs, n_features)`` float32.

    ``components``/``ranks``: each signal's ``(q, n_cards)`` scores and 0-based ranks; ``rrf``
    the RRF fused scores ``(q, n_cards)`` and their ranks; ``card_appellations`` ``(n_cards,)`` the appellations
    a card has in the fit. The best ``sem_app`` and ``lex_app`` scores of the query say how
    closely it reads as an appellation (which signals to trust).
    """
    columns, bests = [], {}
    depth = min(DEPTH, next(iter(components.values())).shape[1])
    for signal in SIGNALS:
        scores = components[signal]
        best = bests[signal] = scores.max(axis=1)
        top = np.partition(scores, scores.shape[1] - depth, axis=1)[:, -depth:]
        mean, std = top.mean(axis=1), top.std(axis=1) + 1e-6
        picked = scores[rows, cards]
        columns += [
            picked,
            np.log1p(ranks[signal][rows, cards]),
            picked - best[rows],
            (picked - mean[rows]) / std[rows],
        ]
    columns += [
        rrf[rows, cards],
        np.log1p(rrf_rank[rows, cards]),
        np.log1p(card_appellations[cards]),
        bests["sem_app"][rows],
        bests["lex_app"][rows],
    ]
    for extra in EXTRAS:
        picked = components[extra][rows, cards]
        columns += [picked, picked - components[extra].max(axis=1)[rows]]
    signal_rank = np.stack([ranks[signal][rows, cards] for signal in SIGNALS], axis=1)
    log_rank = np.log1p(signal_rank)
    columns += [
        (signal_rank == 0).sum(axis=1),
        (signal_rank < 3).sum(axis=1),
        log_rank.min(axis=1),
        np.log1p(np.median(signal_rank, axis=1)),
        log_rank.std(axis=1),
        components["sem_knn"].max(axis=1)[rows],
    ]
    return np.stack(columns, axis=1).astype(np.float32)


def reorder(rrf, rows, cards, learned, rrf_order=None) -> np.ndarray:
    """The RRF scores permuted: candidates first in ``learned`` order, then the rest by RRF.

    ``rrf`` ``(q, n_cards)`` (``rrf_order``: its rows' order, best first, when known);
    ``rows``/``cards`` the candidate pairs (sorted by row) and ``learned`` their model scores.
    Ties in ``learned`` keep the RRF order. Returns ``(q, n)`` float32 whose every row holds the
    same values as ``rrf``'s.
    """
    rrf = np.asarray(rrf, dtype=np.float32)
    order = descending_order(rrf) if rrf_order is None else rrf_order
    n_rows, n_cards = rrf.shape
    bounds = np.searchsorted(rows, np.arange(n_rows + 1))
    out = np.empty_like(rrf)
    position = np.empty(n_cards, dtype=np.int64)
    is_candidate = np.zeros(n_cards, dtype=bool)
    for row in range(n_rows):
        picked, scores = (
            cards[bounds[row] : bounds[row + 1]],
            learned[bounds[row] : bounds[row + 1]],
        )
        position[order[row]] = np.arange(n_cards)
        first = picked[np.lexsort((position[picked], -scores))]
        is_candidate[picked] = True
        rest = order[row][~is_candidate[order[row]]]
        is_candidate[picked] = False
        out[row, np.concatenate([first, rest])] = rrf[row, order[row]]
    return out


def fusion_holdout(code_ogr, share: float = HOLDOUT_SHARE, seed: int = HOLDOUT_SEED) -> set:
    """A seeded ``share`` of the ``code_ogr`` values: the training queries of the fusion."""
    values = np.sort(np.asarray(code_ogr))
    picked = np.random.default_rng(seed).permutation(len(values))[: int(share * len(values))]
    return set(values[picked].tolist())


def signal_ranks(components: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each signal's 0-based ranks (:func:`ranks_of_scores`), ``(q, n_cards)`` int32."""
    return {name: ranks_of_scores(components[name]) for name in SIGNALS}


def learn_fusion(
    searcher, referential, embedder, kept, excluded, queries, min_queries: int, second=None
):
    """Fit a second searcher like ``searcher`` without the appellations ``queries`` (``code_ogr``;
    None: :func:`fusion_holdout` of the ``kept`` ones) nor ``excluded``, and learn the fusion on
    them; None when fewer than ``min_queries`` are asked. ``second``: that second searcher when
    it is already fitted (a benchmark reusing its saved fits)."""
    queries = fusion_holdout(kept["code_ogr"]) if queries is None else set(queries)
    asked = kept[kept["code_ogr"].isin(queries)]
    if len(asked) < min_queries:
        return None
    if second is None:
        second = type(searcher)(**{name: getattr(searcher, name) for name in OPTIONS}).fit(
            referential,
            embedder,
            exclude_appellations=[*(excluded if excluded is not None else ()), *queries],
        )
    return train_fusion(second, asked["label"].tolist(), asked["code_rome"], searcher.data_hash_)


def train_fusion(searcher, texts: list[str], gold_codes, data_hash: str) -> LearnedFusion:
    """Learn the fusion on ``texts`` (appellations ``searcher`` was fitted without) whose
    answers are ``gold_codes``; the model is tagged with the serving searcher's ``data_hash``.

    Queries whose card is in no signal's top ``DEPTH`` teach no order and are left out.
    """
    components = searcher.components(texts, names=(*SIGNALS, *EXTRAS))
    card_apps = np.bincount(searcher.app_cards_, minlength=len(searcher.codes_)).astype(np.float32)
    ranks = signal_ranks(components)
    rrf = searcher.rank_fusion(components, ranks)
    rows, cards = candidates(ranks, DEPTH)
    features = pair_features(components, ranks, rrf, ranks_of_scores(rrf), rows, cards, card_apps)
    position = {code: i for i, code in enumerate(searcher.codes_)}
    gold = np.array([position[str(code)] for code in gold_codes], dtype=np.int64)
    labels = (cards == gold[rows]).astype(np.float32)
    kept = np.isin(rows, rows[labels > 0])
    _, groups = np.unique(rows[kept], return_counts=True)
    manifest = {
        "data_hash": data_hash,
        "depth": DEPTH,
        "queries": int(len(texts)),
        "queries_with_answer_in_candidates": int(len(groups)),
        "pairs": int(kept.sum()),
    }
    return LearnedFusion.train(features[kept], labels[kept], groups, manifest)


def learned_scores(model: LearnedFusion, components, ranks, rrf: np.ndarray, card_apps):
    """``rrf`` ``(q, n_cards)`` reordered by ``model`` (:func:`reorder`); ``ranks``: the
    signals' ranks (:func:`signal_ranks`)."""
    rrf_order = descending_order(rrf)
    rows, cards = candidates(ranks, model.depth)
    features = pair_features(
        components, ranks, rrf, ranks_of_order(rrf_order), rows, cards, card_apps
    )
    return reorder(rrf, rows, cards, model.predict(features), rrf_order)


class LearnedFusion:
    """A fitted ``lambdarank`` fusion: ``fusion_model.txt`` + ``fusion.json``.

    Args:
        booster: a ``lightgbm.Booster``.
        manifest: ``features``, ``depth``, ``data_hash`` (the searcher's), training figures.
    """

    def __init__(self, booster, manifest: dict):
        if manifest.get("features") != feature_names():
            raise ValueError("learned fusion built with other features: rebuild the trade model")
        self.booster, self.manifest = booster, manifest
        self.depth = int(manifest.get("depth", DEPTH))

    @classmethod
    def train(
        cls,
        features: np.ndarray,
        labels: np.ndarray,
        groups: np.ndarray,
        manifest: dict,
        params: dict | None = None,
        rounds: int = ROUNDS,
    ) -> LearnedFusion:
        """Fit ``lambdarank`` on pairs grouped by query (``groups``: pairs per query, in order)."""
        import lightgbm as lgb

        data = lgb.Dataset(
            features, labels, group=groups, feature_name=feature_names(), free_raw_data=True
        )
        booster = lgb.train({**PARAMS, **(params or {})}, data, num_boost_round=rounds)
        return cls(booster, {**manifest, "features": feature_names(), "rounds": rounds})

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Model score per pair, ``(n_pairs,)`` float64 (one thread: small batches)."""
        if not len(features):
            return np.zeros(0)
        return self.booster.predict(features, num_threads=1)

    @staticmethod
    def write(model: LearnedFusion | None, directory: Path) -> None:
        """Write ``model``'s LightGBM text model and manifest into ``directory``; None removes
        them (a searcher saved without a learned fusion must not find a stale one)."""
        directory = Path(directory)
        if model is None:
            for name in (MODEL_FILE, MANIFEST_FILE):
                (directory / name).unlink(missing_ok=True)
            return
        directory.mkdir(parents=True, exist_ok=True)
        (directory / MODEL_FILE).write_text(model.booster.model_to_string(), encoding="utf-8")
        text = json.dumps(model.manifest, indent=2)
        (directory / MANIFEST_FILE).write_text(text, encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, data_hash: str) -> LearnedFusion | None:
        """The saved model of ``directory``, or None when absent, fitted on other data (another
        data hash) or with other features."""
        directory = Path(directory)
        try:
            manifest = json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8"))
            if (
                manifest.get("data_hash") != data_hash
                or manifest.get("features") != feature_names()
            ):
                return None  # fitted on other data or with other features: rank fusion
            text = (directory / MODEL_FILE).read_text(encoding="utf-8")
        except (FileNotFoundError, ValueError):
            return None
        import lightgbm as lgb  # only where a model is saved: a plain searcher never loads it

        return cls(lgb.Booster(model_str=text), manifest)
