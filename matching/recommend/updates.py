"""Copy-on-write changes of a loaded :class:`~matching.recommend.recommender.Recommender`.

:func:`changed` returns a new recommender holding the changes and leaves the one it is given as
it was: tables are rebuilt (:func:`matching.recommend.catalog.drop_ids`, :func:`upsert_rows`),
a vector index is copied before it changes (:meth:`~matching.search.index.VectorIndex.copy`),
everything else (referential, embedder, trade searcher, unchanged tables and indexes) is shared.
Requests may go on reading the old recommender while the next one is built; the service swaps
one reference to publish it (:mod:`service.live.engine`).

A row whose texts did not change keeps its indexed vector (and a youth its trade scores):
:func:`reusable_vacancy_vectors` and :func:`reusable_youth_features` find them, so a change of
places, status or radius encodes nothing and leaves the vector index alone.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Sequence

import numpy as np

from matching.recommend.catalog import drop_ids, upsert_rows, vacancy_table, youth_table
from matching.search.index import VectorIndex
from matching.search.texts import vacancy_texts
from matching.types import Vacancy, Youth, stable_keys


def changed(engine, *, gone_vacancies: Sequence[str] = (), vacancies: Sequence[Vacancy] = (),
            vacancy_vectors: np.ndarray | None = None, gone_youths: Sequence[str] = (),
            youths: Sequence[Youth] = (), youth_vectors: np.ndarray | None = None,
            youth_scores: np.ndarray | None = None, same_vacancies: Collection[str] = frozenset(),
            same_youths: Collection[str] = frozenset()):
    """Return a copy of ``engine`` with rows removed, then added or replaced; ``engine`` is unchanged.

    Args:
        engine: a loaded recommender (only read).
        gone_vacancies, gone_youths: ids to remove (unknown ids are ignored).
        vacancies, youths: rows to add or replace.
        vacancy_vectors: ``(len(vacancies), dim)``; youth_vectors ``(len(youths), dim)`` and
            youth_scores ``(len(youths), n_cards)``: encoded unless given.
        same_vacancies, same_youths: ids among ``vacancies``, ``youths`` whose indexed vector
            is still right (their texts did not change): their index rows are kept as they are.
    """
    result = copy.copy(engine)  # the same objects, until a part is replaced below
    vacancies, youths = list(vacancies), list(youths)
    if gone_vacancies or vacancies:
        if vacancies and vacancy_vectors is None:
            vacancy_vectors = engine.encode_vacancies(vacancies)
        kept = drop_ids(engine.vacancies, gone_vacancies)
        result.vacancies = upsert_rows(kept, vacancy_table(vacancies, engine.codes)) if vacancies else kept
        result.vacancy_index = _changed_index(engine.vacancy_index, gone_vacancies, [v.id for v in vacancies],
                                              vacancy_vectors, same_vacancies)
    if gone_youths or youths:
        if youths and (youth_vectors is None or youth_scores is None):
            youth_vectors, youth_scores = engine.youth_features(youths)
        kept = drop_ids(engine.youths, gone_youths)
        result.youths = upsert_rows(kept, youth_table(youths)) if youths else kept
        result.youth_trade_scores = _upserted_scores(
            engine.youth_trade_scores[_kept_rows(engine.youths, gone_youths)], kept, youths, youth_scores)
        result.youth_index = _changed_index(engine.youth_index, gone_youths, [y.id for y in youths],
                                            youth_vectors, same_youths)
    return result


def _upserted_scores(scores: np.ndarray, table, youths: list[Youth], new_scores) -> np.ndarray:
    """The trade scores ``(n, n_cards)`` float16 in the row order of :func:`upsert_rows`."""
    if not youths:
        return scores
    new_scores = np.asarray(new_scores, dtype=np.float16)
    present = [row for row, y in enumerate(youths) if y.id in table.rows]
    added = [row for row, y in enumerate(youths) if y.id not in table.rows]
    if present:
        scores = scores.copy()  # (the one read by requests stays as it is)
        scores[[table.rows[youths[row].id] for row in present]] = new_scores[present]
    return np.concatenate([scores, new_scores[added]]) if added else scores


def _changed_index(index: VectorIndex | None, gone: Sequence[str], ids: list[str],
                   vectors: np.ndarray | None, same: Collection[str]) -> VectorIndex | None:
    """A copy of ``index`` without ``gone`` and with ``vectors`` under ``ids`` (except ``same``);
    ``index`` itself when nothing changes in it."""
    moved = [row for row, i in enumerate(ids) if i not in same]
    gone_keys = stable_keys(list(gone))
    if not moved and (index is None or not any(key in index for key in gone_keys)):
        return index
    if index is None:
        assert vectors is not None  # moved rows come with vectors (see changed)
        result = VectorIndex(vectors.shape[1])
    else:
        result = index.copy()
        result.remove(gone_keys)
    if moved and vectors is not None:
        result.add(stable_keys([ids[row] for row in moved]), vectors[moved])
    return result


def _kept_rows(table, ids: Sequence[str]) -> np.ndarray:
    keep = np.ones(len(table), dtype=bool)
    keep[[table.rows[i] for i in ids if i in table.rows]] = False
    return keep


def reusable_vacancy_vectors(engine, vacancies: Sequence[Vacancy]) -> dict[str, np.ndarray]:
    """The indexed vectors of those ``vacancies`` whose title and description did not change:
    ``{id: vector (dim,)}`` (their encoding would give the same vector)."""
    table = engine.vacancies
    same = [v for v in vacancies if v.id in table.rows
            and vacancy_texts(table.vacancies[table.rows[v.id]]) == vacancy_texts(v)]
    if not same or engine.vacancy_index is None:
        return {}
    vectors = engine.vacancy_index.vectors(stable_keys([v.id for v in same]))
    return {v.id: vector for v, vector in zip(same, vectors, strict=True)}


def reusable_youth_features(engine, youths: Sequence[Youth]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The indexed ``(vector (dim,), trade scores (n_cards,) float16)`` of those ``youths`` whose
    query texts, weights and wished trades did not change (what :meth:`youth_features` reads)."""
    table = engine.youths
    same = [y for y in youths if y.id in table.rows
            and _feature_inputs(engine, table.youths[table.rows[y.id]]) == _feature_inputs(engine, y)]
    if not same or engine.youth_index is None:
        return {}
    vectors = engine.youth_index.vectors(stable_keys([y.id for y in same]))
    scores = engine.youth_trade_scores[[table.rows[y.id] for y in same]]
    return {y.id: (vector, score) for y, vector, score in zip(same, vectors, scores, strict=True)}


def _feature_inputs(engine, youth: Youth) -> tuple:
    texts, weights, _owners = engine._query_texts([youth])
    return tuple(texts), tuple(weights.tolist()), tuple(youth.wished_trades)


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
