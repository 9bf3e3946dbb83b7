"""Canonical cosine scoring and exact top-k: the arithmetic every VectorIndex path shares.

Rows are L2-normalised float32 (:func:`normalize`). A search short-lists candidates by their fast
float32 score (:func:`shortlist_rows`), re-scores them canonically (:func:`exact_scores`: float64
products, pairwise sum, rounded to float32, so the bits do not depend on the batch shape) and
orders them by score descending then key ascending (:func:`rank_exact`), widening the shortlist
when a row left out could tie or beat the k-th score given the float32 error bound
(:func:`error_bound`). :func:`exact_search` is the brute-force oracle that every path of
:class:`~matching.search.index.VectorIndex` is tested against.
"""

from __future__ import annotations

import numpy as np

SHORTLIST_MARGIN = 16  # extra shortlist rows so that widening is rare


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Return L2-normalised contiguous float32 rows of ``(n, dim)`` (raise on zero or NaN rows).

    Rows already within 1e-5 of unit norm are kept bit for bit, so normalising is idempotent.
    """
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or not np.issubdtype(vectors.dtype, np.floating):
        raise ValueError(
            f"expected a 2-d float array (n, dim), got {vectors.dtype} {vectors.shape}"
        )
    vectors = vectors.astype(np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    if not np.all(np.isfinite(norms) & (norms > 0)):
        raise ValueError("vectors contain a zero, NaN or infinite row: cosine is undefined")
    return np.ascontiguousarray(vectors / np.where(np.abs(norms - 1) > 1e-5, norms, 1))


def exact_scores(query: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Score ``rows (m, dim)`` against ``query (dim,)`` canonically: float32 ``(m,)``, same bits
    whatever the batch (float32 products are exact in float64; the row sums are pairwise)."""
    # the ufunc casts the float32 rows to float64 on the fly (exact): the same products and
    # row sums as ``rows.astype(np.float64) * query``, without the float64 copy of the rows
    return np.multiply(rows, query.astype(np.float64)).sum(axis=1).astype(np.float32)


def shortlist_rows(fast: np.ndarray, positions: np.ndarray, top_k: int) -> tuple[np.ndarray, float]:
    """Keep the best ``top_k + margin`` rows by float32 score; return them and a score bound
    that every row left out stays under (-inf when none is left out)."""
    fetch = top_k + SHORTLIST_MARGIN
    if fast.size <= fetch:
        return positions, -np.inf
    part = np.argpartition(-fast, fetch - 1)[:fetch]
    return positions[part], float(fast[part].min())


def rank_exact(query, matrix, keys_at, cand, floor, eligible, top_k, tol):
    """Exact top-k of ``query`` among ``eligible`` rows of ``matrix`` (None: all rows), given a
    shortlist ``cand`` whose left-out rows all have a float32 score <= ``floor``."""
    scores = exact_scores(query, matrix[cand])
    order = np.lexsort((keys_at[cand], -scores))[:top_k]
    if order.size == top_k and floor >= scores[order[-1]] - tol:
        # a left-out row may tie or beat the k-th: take every row within the error bound
        rows = np.arange(len(matrix)) if eligible is None else eligible
        fast = matrix @ query if eligible is None else matrix[eligible] @ query
        cand = np.union1d(cand, rows[fast >= scores[order[-1]] - tol])
        scores = exact_scores(query, matrix[cand])
        order = np.lexsort((keys_at[cand], -scores))[:top_k]
    return keys_at[cand[order]], scores[order]


def error_bound(dim: int) -> float:
    # |float32 dot - exact| <= gamma_dim * |q||x| for any summation order; both rows unit norm
    return (dim + 4) * 2.0**-24 * 1.01


def exact_search(queries, vectors, keys, top_k):
    """Return the exact cosine ``(keys (q, top_k) int64, scores (q, top_k) float32)`` of each
    query among ``vectors (n, dim)`` with ``keys (n,)``, ordered like :meth:`VectorIndex.search`
    (score desc, key asc; missing slots -1 and -inf): the oracle for every search path."""
    queries, vectors = normalize(queries), normalize(vectors)
    keys, out = np.asarray(keys, dtype=np.int64), empty_result(len(queries), top_k)
    for i, query in enumerate(queries):
        cand, floor = shortlist_rows(vectors @ query, np.arange(len(keys)), top_k)
        found, scores = rank_exact(
            query, vectors, keys, cand, floor, None, top_k, error_bound(len(query))
        )
        out[0][i, : found.size], out[1][i, : found.size] = found, scores
    return out


def empty_result(n_queries: int, top_k: int) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.full((n_queries, top_k), -1, np.int64),
        np.full((n_queries, top_k), -np.inf, np.float32),
    )
