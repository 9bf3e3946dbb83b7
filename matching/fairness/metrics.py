"""Quality and fairness metrics over ranked lists: recall, MRR, NDCG, skew, NDKL, exposure.

Fairness metrics follow Geyik, Ambler and Kenthapadi (KDD 2019, arXiv 1905.01989): a ranked
list is given as the group label of each item in rank order, ``ranked_groups`` of shape
``(n,)``, and a desired distribution ``target`` maps each group to its share (shares sum to 1).
Prefix floors ``floor(p * i)`` use a small tolerance so that ``0.3 * 10`` counts as 3 even when
floating point gives 2.9999999.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

_TOLERANCE = 1e-9
SKEW_EPSILON = 1e-4
"""Added to both shares in Skew@k (the paper's "small value" against log(0) and x/0)."""


def floor_share(share: float, size: int) -> int:
    """Return ``floor(share * size)`` robust to floating-point error."""
    return int(math.floor(share * size + _TOLERANCE))


def ceil_share(share: float, size: int) -> int:
    """Return ``ceil(share * size)`` robust to floating-point error."""
    return int(math.ceil(share * size - _TOLERANCE))


def _prefix_counts(ranked_groups: npt.ArrayLike, labels: Sequence[str]) -> np.ndarray:
    """Count each label in every prefix: shape ``(n, len(labels))``, row i = top-(i+1)."""
    ranked = np.asarray(ranked_groups).astype(str)
    onehot = ranked[:, None] == np.asarray(labels, dtype=str)[None, :]
    return np.cumsum(onehot, axis=0)


def skew_at_k(
    ranked_groups: npt.ArrayLike,
    target: Mapping[str, float],
    group: str,
    k: int,
    *,
    eps: float = SKEW_EPSILON,
) -> float:
    """Compute Skew@k = ln((p_actual + eps) / (p_desired + eps)) for one group.

    Args:
        ranked_groups: group label of each item in rank order, shape ``(n,)``.
        target: desired share of each group.
        group: the group to measure.
        k: prefix size; a list shorter than k is measured as a whole.
        eps: added to both shares so an absent group gives a large finite negative skew.

    Returns:
        0 when the group holds exactly its share, < 0 when under-represented.
    """
    ranked = np.asarray(ranked_groups).astype(str)[:k]
    actual = float(np.mean(ranked == group)) if ranked.size else 0.0
    return math.log((actual + eps) / (target.get(group, 0.0) + eps))


def min_skew_at_k(ranked_groups: npt.ArrayLike, target: Mapping[str, float], k: int) -> float:
    """Return the smallest Skew@k over the target's groups (the worst-off group)."""
    return min(skew_at_k(ranked_groups, target, group, k) for group in target)


def max_skew_at_k(ranked_groups: npt.ArrayLike, target: Mapping[str, float], k: int) -> float:
    """Return the largest Skew@k over the target's groups (the most favoured group)."""
    return max(skew_at_k(ranked_groups, target, group, k) for group in target)


def ndkl(ranked_groups: npt.ArrayLike, target: Mapping[str, float], *, eps: float = 1e-12) -> float:
    """Compute NDKL = (1/Z) sum_i 1/log2(i+1) KL(D_top-i || D_target), Z = sum_i 1/log2(i+1).

    KL uses the natural log with 0 ln 0 = 0; a group absent from ``target`` but present in the
    list gets desired share ``eps`` (a large but finite penalty).

    Args:
        ranked_groups: group label of each item in rank order, shape ``(n,)``; i runs 1..n.
        target: desired share of each group.
        eps: floor on desired shares.

    Returns:
        0 when every prefix matches the target exactly; 0.0 for an empty list.
    """
    ranked = np.asarray(ranked_groups).astype(str)
    if ranked.size == 0:
        return 0.0
    labels = sorted(set(target) | set(ranked.tolist()))
    desired = np.array([max(target.get(label, 0.0), eps) for label in labels])
    sizes = np.arange(1, ranked.size + 1)
    actual = _prefix_counts(ranked, labels) / sizes[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(actual > 0, actual * np.log(actual / desired), 0.0)
    weights = 1.0 / np.log2(sizes + 1)
    return float(np.sum(weights * terms.sum(axis=1)) / weights.sum())


def _below_floor(ranked_groups: npt.ArrayLike, target: Mapping[str, float], k: int) -> np.ndarray:
    """Flag (prefix, group) pairs under their floor: bool ``(min(k, n), n_groups)``."""
    labels = list(target)
    ranked = np.asarray(ranked_groups).astype(str)[:k]
    if ranked.size == 0 or not labels:
        return np.zeros((ranked.size, len(labels)), dtype=bool)
    counts = _prefix_counts(ranked, labels)
    floors = np.array(
        [[floor_share(target[label], i) for label in labels] for i in range(1, ranked.size + 1)]
    )
    return counts < floors


def infeasible_index(ranked_groups: npt.ArrayLike, target: Mapping[str, float], k: int) -> int:
    """Count prefixes i <= k where some group holds fewer than floor(p_group * i) items."""
    return int(_below_floor(ranked_groups, target, k).any(axis=1).sum())


def infeasible_count(ranked_groups: npt.ArrayLike, target: Mapping[str, float], k: int) -> int:
    """Count (prefix i <= k, group) pairs where the group holds fewer than floor(p * i)."""
    return int(_below_floor(ranked_groups, target, k).sum())


def position_weights(size: int) -> np.ndarray:
    """Return the position weights 1/log2(1 + rank) for ranks 1..size, shape ``(size,)``."""
    return 1.0 / np.log2(np.arange(2, size + 2))


def group_exposure(ranked_groups: npt.ArrayLike, k: int) -> dict[str, float]:
    """Sum the position weights 1/log2(1 + rank) of each group's items in the top k."""
    ranked = np.asarray(ranked_groups).astype(str)[:k]
    weights = position_weights(ranked.size)
    return {str(g): float(weights[ranked == g].sum()) for g in np.unique(ranked)}


def catalogue_coverage(lists: Iterable[npt.ArrayLike], catalogue_size: int) -> float:
    """Return the share of the catalogue that appears in at least one list (ids < 0 ignored)."""
    if catalogue_size <= 0:
        raise ValueError("catalogue_size must be positive")
    seen: set[int] = set()
    for ids in lists:
        seen.update(int(i) for i in np.asarray(ids).ravel() if i >= 0)
    return len(seen) / catalogue_size


def intra_list_diversity(embeddings_of_list: npt.ArrayLike) -> float:
    """Return the mean pairwise cosine distance (1 - cos) of a list, ``(m, dim)``; 0 if m < 2."""
    vectors = np.asarray(embeddings_of_list, dtype=np.float64)
    if vectors.shape[0] < 2:
        return 0.0
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms > 0, norms, 1.0)
    upper = np.triu_indices(unit.shape[0], k=1)
    return float(np.mean(1.0 - (unit @ unit.T)[upper]))


def dcg_at_k(gains_in_ranked_order: npt.ArrayLike, k: int) -> float:
    """Return DCG@k = sum_{i<=k} gain_i / log2(i + 1) (linear gains, as ranx's ``ndcg``)."""
    gains = np.asarray(gains_in_ranked_order, dtype=np.float64)[:k]
    return float(np.sum(gains * position_weights(gains.size)))


def ndcg_at_k(
    relevances_in_ranked_order: npt.ArrayLike,
    k: int,
    *,
    ideal_relevances: npt.ArrayLike | None = None,
) -> float:
    """Return NDCG@k with linear gains.

    Args:
        relevances_in_ranked_order: graded relevance of each returned item, shape ``(n,)``.
        k: cut-off.
        ideal_relevances: grades of every relevant item for the query (the ideal list is
            these sorted descending); defaults to the returned list's own grades.

    Returns:
        DCG@k / IDCG@k, 0.0 when IDCG is 0.
    """
    ideal = relevances_in_ranked_order if ideal_relevances is None else ideal_relevances
    ideal_dcg = dcg_at_k(np.sort(np.asarray(ideal, dtype=np.float64))[::-1], k)
    return dcg_at_k(relevances_in_ranked_order, k) / ideal_dcg if ideal_dcg > 0 else 0.0


def ndcg_cost(
    reranked_ids: npt.ArrayLike,
    relevance_only_ids: npt.ArrayLike,
    relevance_scores: npt.ArrayLike,
    k: int,
) -> float:
    """Return the NDCG@k lost by a re-ranking: 1 - NDCG@k of the re-ranked list.

    The gain of an item is its relevance score (negative scores clipped to 0; items absent from
    the relevance-only list gain 0); the ideal list is the relevance-only list's top k gains
    sorted descending. So the relevance-only list costs 0 and the cost lies in [0, 1].

    Args:
        reranked_ids: the re-ranked list, shape ``(m,)``.
        relevance_only_ids: the relevance-only list, shape ``(n,)``.
        relevance_scores: score of each item of ``relevance_only_ids``, shape ``(n,)``.
        k: cut-off.
    """
    gain_of = dict(
        zip(
            np.asarray(relevance_only_ids).tolist(),
            np.clip(np.asarray(relevance_scores, dtype=np.float64), 0.0, None).tolist(),
            strict=True,
        )
    )
    gains = [gain_of.get(i, 0.0) for i in np.asarray(reranked_ids).tolist()[:k]]
    ideal = sorted(gain_of.values(), reverse=True)
    return 1.0 - ndcg_at_k(gains, k, ideal_relevances=ideal)


def _hits(ranked_ids: npt.ArrayLike, relevant: Sequence[set[int]], k: int) -> list[np.ndarray]:
    ranked = np.atleast_2d(np.asarray(ranked_ids))[:, :k]
    if len(relevant) != ranked.shape[0]:
        raise ValueError(f"got {ranked.shape[0]} ranked lists but {len(relevant)} relevant sets")
    return [np.isin(row, list(rel)) for row, rel in zip(ranked, relevant, strict=True)]


def recall_at_k(ranked_ids: npt.ArrayLike, relevant: Sequence[set[int]], k: int) -> float:
    """Return mean Recall@k over queries: |top-k ∩ relevant| / |relevant|.

    Args:
        ranked_ids: shape ``(q, n)``; padding ids (-1) never match.
        relevant: the relevant ids of each query, length q; queries with none are skipped.
        k: cut-off.

    Returns:
        The mean over queries that have relevant ids (NaN if none has).
    """
    values = [
        h.sum() / len(rel)
        for h, rel in zip(_hits(ranked_ids, relevant, k), relevant, strict=True)
        if rel
    ]
    return float(np.mean(values)) if values else float("nan")


def mrr(ranked_ids: npt.ArrayLike, relevant: Sequence[set[int]], k: int | None = None) -> float:
    """Return the mean reciprocal rank of the first relevant id in the top k (0 if none).

    Args:
        ranked_ids: shape ``(q, n)``.
        relevant: the relevant ids of each query, length q; queries with none are skipped.
        k: cut-off; None uses the whole list.
    """
    size = np.atleast_2d(np.asarray(ranked_ids)).shape[1] if k is None else k
    values = [
        1.0 / (int(np.argmax(h)) + 1) if h.any() else 0.0
        for h, rel in zip(_hits(ranked_ids, relevant, size), relevant, strict=True)
        if rel
    ]
    return float(np.mean(values)) if values else float("nan")
