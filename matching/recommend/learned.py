"""The learned ranker's hook in the vacancy lists, and the features a served list logs.

A ranker is any object with ``score(features (n, F) float32) -> (n,)`` and ``version: str``
(the models of :mod:`matching.learn.ranker`). Given one, the top :data:`RERANK_TOP` vacancies of
the fusion order are re-ordered by its score, with ``rank_shown`` fixed to 1
(:data:`matching.learn.features.RANK_AT_INFERENCE`), BEFORE the employer, sector and exposure
constraints (:func:`matching.fairness.policies.rerank_vacancy_list`), which still apply after it.
The constraints read as the relevance the candidates' fusion scores sorted from best to worst,
given in the learned order (the k-th item of the learned order gets the k-th best fusion score):
the order is the ranker's, the scale the fusion's, so the exposure penalty weighs as much against
relevance as it does in the fusion's lists. (``sigmoid(learned)`` was read before: lambdarank
scores have no fixed scale, and with inverse-propensity weights they sat near 8 to 9, where the
sigmoid is 0.9997 for every item and the exposure penalty alone decided the list.) The item's
``score`` stays its fusion score and its ``score_parts`` gain ``learned`` (the raw ranker score).

The features of the shown items (:func:`shown_features`) are computed by the same function as
those the ranker scores (:func:`candidate_features`), with their shown rank: what is logged is
what is served.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from matching.learn import features as feats
from matching.learn.tables import FeatureTables
from matching.types import Youth, diploma_rank

RERANK_TOP = 100
"""Vacancies of the fusion order a learned ranker re-orders (the others are dropped)."""


class Ranker(Protocol):
    """What the recommender needs of a learned ranker."""

    version: str

    def score(self, features: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class YouthContext:
    """What the features of one youth's candidates share: the tables, the youth, its close cards."""

    tables: FeatureTables
    youth: Youth
    close: np.ndarray
    """Cards close to the youth (:func:`matching.learn.features.close_cards`), bool ``(n_cards,)``."""

    @classmethod
    def of(cls, tables: FeatureTables, codes: np.ndarray, youth: Youth, trade_row: np.ndarray) -> YouthContext:
        wished = [int(np.searchsorted(codes, code)) for code in youth.wished_trades]
        wished = [p for p, code in zip(wished, youth.wished_trades, strict=True)
                  if p < codes.size and codes[p] == code]
        return cls(tables, youth, feats.close_cards(tables.neighbour_ptr, tables.neighbours, trade_row, wished))


def candidate_features(context: YouthContext, table, rows: np.ndarray, parts: dict[str, np.ndarray],
                       distance_km: np.ndarray, rank_shown: np.ndarray | None = None) -> np.ndarray:
    """Features of vacancies ``rows`` of ``table`` (a :class:`~matching.recommend.catalog.VacancyTable`)
    for the context's youth: float32 ``(len(rows), F)``.

    Args:
        parts: the fusion's score parts aligned with ``rows`` (``semantic``, ``trade``,
            ``distance``, ``contract``).
        distance_km: distances aligned with ``rows``.
        rank_shown: shown ranks (1-based) for the log; None at inference.
    """
    tables = context.tables
    rows = np.asarray(rows, dtype=np.int64)
    vacancies = [table.vacancies[r] for r in rows.tolist()]
    column, hires, beginners = feats.vacancy_facts(vacancies, tables.commune_column, tables.national,
                                                   tables.hires_log)
    rome = table.rome_pos[rows]
    return feats.matrix(
        semantic=parts["semantic"], trade=parts["trade"], distance_km=distance_km, distance=parts["distance"],
        contract=parts["contract"],
        level_gap=table.level_rank[rows].astype(np.float32) - diploma_rank(context.youth.diploma_level),
        family=table.family[rows], tension=tables.tension[rome, column], hires_log=hires, beginners=beginners,
        close_trade=context.close[rome], rank_shown=rank_shown,
    )


def shown_features(context: YouthContext, table, rows: np.ndarray, parts: dict[str, np.ndarray],
                   distance_km: np.ndarray, picked: np.ndarray) -> np.ndarray:
    """The logged features of the shown items (positions ``picked`` of the candidate arrays, in
    the order shown), with their shown rank 1, 2..."""
    return candidate_features(context, table, rows[picked], {n: v[picked] for n, v in parts.items()},
                              distance_km[picked], rank_shown=np.arange(1, picked.size + 1, dtype=np.float32))


def rerank_top(ranker: Ranker, context: YouthContext, table, rows: np.ndarray, order: np.ndarray,
               parts: dict[str, np.ndarray], distance_km: np.ndarray,
               fusion: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Re-order the top :data:`RERANK_TOP` of the fusion ``order`` (positions in the candidate
    arrays) by the ranker.

    Returns:
        ``(order, relevance, {"learned": scores})``: the new order of the kept positions, the
        relevance the mix constraints read (:func:`learned_order`) and the raw scores, in that order.
    """
    top = order[:RERANK_TOP]
    if not top.size:  # nothing within reach: nothing to score
        return top, np.zeros(0, dtype=np.float32), {"learned": np.zeros(0, dtype=np.float32)}
    inference = candidate_features(context, table, rows[top], {n: v[top] for n, v in parts.items()},
                                   distance_km[top])
    by_ranker, relevance, learned = learned_order(ranker, inference, fusion[top])
    return top[by_ranker], relevance, {"learned": learned}


def learned_order(ranker: Ranker, matrix: np.ndarray, fusion: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Re-order candidates (in fusion order, ``matrix`` their inference features) by the ranker.

    Returns:
        ``(order, relevance, learned)``: positions in learned order (ties keep the fusion order),
        the relevance the constraints read (the fusion scores sorted best first, module
        docstring) and the raw scores in that order, float32 ``(n,)`` each.
    """
    learned = np.asarray(ranker.score(matrix), dtype=np.float64).reshape(-1)
    if learned.shape != fusion.shape:
        raise ValueError(f"the ranker gave {learned.size} scores for {fusion.size} vacancies")
    order = np.lexsort((np.arange(learned.size), -learned))
    relevance = -np.sort(-np.asarray(fusion, dtype=np.float64))
    return order, relevance.astype(np.float32), learned[order].astype(np.float32)
