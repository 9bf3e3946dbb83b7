"""Upsert and remove vacancies and youths in a loaded :class:`~matching.recommend.recommender.Recommender`.

Tables are swapped copy-on-write (:func:`matching.recommend.catalog.drop_ids`, :func:`append_rows`); the
vector indexes are updated in place. Callers serialise writers and readers (the service holds a
lock around the engine).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from matching.recommend.catalog import append_rows, drop_ids, vacancy_table, youth_table
from matching.search.index import VectorIndex
from matching.types import Vacancy, Youth, stable_keys


def upsert_vacancies(engine, vacancies: Sequence[Vacancy], vectors: np.ndarray | None = None) -> None:
    """Add or replace ``vacancies`` (encoded unless ``vectors (n, dim)`` is given)."""
    if not vacancies:
        return
    if vectors is None:
        vectors = engine.encode_vacancies(list(vacancies))
    ids = [v.id for v in vacancies]
    engine.vacancies = append_rows(drop_ids(engine.vacancies, ids), vacancy_table(list(vacancies), engine.codes))
    if engine.vacancy_index is None:
        engine.vacancy_index = VectorIndex(vectors.shape[1])
    engine.vacancy_index.add(stable_keys(ids), vectors)


def remove_vacancies(engine, ids: Sequence[str]) -> int:
    """Remove vacancies by id (unknown ids are ignored); return how many were indexed."""
    engine.vacancies = drop_ids(engine.vacancies, ids)
    return engine.vacancy_index.remove(stable_keys(list(ids))) if engine.vacancy_index else 0


def upsert_youths(engine, youths: Sequence[Youth], vectors: np.ndarray | None = None,
                  trade_scores: np.ndarray | None = None) -> None:
    """Add or replace ``youths`` (encoded and trade-scored unless given)."""
    if not youths:
        return
    youths = list(youths)
    if vectors is None or trade_scores is None:
        vectors, trade_scores = engine.youth_features(youths)
    ids = [y.id for y in youths]
    kept = _kept_rows(engine.youths, ids)
    engine.youths = append_rows(drop_ids(engine.youths, ids), youth_table(youths))
    engine.youth_trade_scores = np.concatenate(
        [engine.youth_trade_scores[kept], np.asarray(trade_scores, dtype=np.float16)])
    if engine.youth_index is None:
        engine.youth_index = VectorIndex(vectors.shape[1])
    engine.youth_index.add(stable_keys(ids), vectors)


def remove_youths(engine, ids: Sequence[str]) -> int:
    """Remove youths by id (unknown ids are ignored); return how many were indexed."""
    kept = _kept_rows(engine.youths, ids)
    engine.youths = drop_ids(engine.youths, ids)
    engine.youth_trade_scores = engine.youth_trade_scores[kept]
    return engine.youth_index.remove(stable_keys(list(ids))) if engine.youth_index else 0


def _kept_rows(table, ids: Sequence[str]) -> np.ndarray:
    keep = np.ones(len(table), dtype=bool)
    keep[[table.rows[i] for i in ids if i in table.rows]] = False
    return keep


def indexed_features(engine, ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """Return the indexed youths' ``(vectors (n, dim), trade_scores (n, n_cards) float32)``.

    The vectors and trade scores computed when the youths were indexed, so a request about a
    stored youth encodes nothing; None when one of them is not indexed. Trade scores are kept
    as float16 in the engine (3 significant digits).
    """
    rows = [engine.youths.rows.get(i) for i in ids]
    if any(row is None for row in rows) or engine.youth_index is None:
        return None
    vectors = engine.youth_index.vectors(stable_keys(list(ids)))
    return vectors, engine.youth_trade_scores[rows].astype(np.float32)
