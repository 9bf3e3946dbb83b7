"""Vacancy re-ranking: one vacancy per employer, sector-family floors, congestion-aware exposure.

A vacancy already proposed to many young people is down-weighted so that places are spread:
``adjusted = score / (1 + w * log1p(count))`` for a non-negative score (``score * (1 + ...)``
for a negative one, so the penalty always lowers it). Ties in the adjusted score are broken by
a permutation seeded with ``seed``: the same inputs and seed give the same list. A batch is
re-ranked youth by youth, each list adding to the counts the next one sees.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.errors import OutOfRange
from matching.fairness.greedy import (
    Reranked,
    Tokens,
    feasible_floors,
    finalize,
    greedy_fill,
    relevance_rank,
)
from matching.fairness.metrics import floor_share

_VACANCY_TOKENS = Tokens(floor="sector_mix", cap="employer_cap", preference="exposure")


def penalise_exposure(
    scores: npt.ArrayLike, exposure_counts: npt.ArrayLike, weight: float
) -> np.ndarray:
    """Lower each score by how often its vacancy was proposed, float64 ``(n,)``.

    Args:
        scores: relevance, ``(n,)``.
        exposure_counts: times each vacancy was already proposed, ``(n,)``, >= 0.
        weight: w >= 0; with w = 0.5 a vacancy proposed 10 times keeps 45 % of its score.
    """
    factor = 1.0 + weight * np.log1p(np.asarray(exposure_counts, dtype=np.float64))
    values = np.asarray(scores, dtype=np.float64)
    return np.where(values >= 0, values / factor, values * factor)


def _preference(
    scores: np.ndarray, rel_rank: np.ndarray, exposure_counts: npt.ArrayLike | None, weight: float,
    seed: int,
) -> np.ndarray:
    """Rank items by exposure-adjusted score, ties by a seeded permutation, ``(n,)``; without
    exposure counts, the relevance rank ``rel_rank``."""
    if exposure_counts is None:
        return rel_rank
    adjusted = penalise_exposure(scores, exposure_counts, weight)
    tiebreak = _tiebreak(seed, scores.size)
    order = np.lexsort((tiebreak, -adjusted))
    rank = np.empty(scores.size, dtype=np.int64)
    rank[order] = np.arange(scores.size)
    return rank


@functools.lru_cache(maxsize=64)
def _tiebreak(seed: int, size: int) -> np.ndarray:
    """The seeded permutation of ``range(size)`` (read-only: one per seed and size, reused)."""
    permutation = np.random.default_rng(seed).permutation(size)
    permutation.flags.writeable = False
    return permutation


def _labels(values: npt.ArrayLike) -> np.ndarray:
    """Group labels as str, or as int when they are integers (the same groups, no conversion)."""
    values = np.asarray(values)
    return values if values.dtype.kind in "iuU" else values.astype(str)


def _family_floors(family_floors: Mapping[str, float] | None, size: int) -> dict[str, int]:
    shares = dict(family_floors or {})
    if any(share < 0 for share in shares.values()) or sum(shares.values()) > 1 + 1e-9:
        raise OutOfRange(
            "family floor shares must be >= 0 and sum to at most 1", field="family_floors"
        )
    return {family: floor_share(share, size) for family, share in shares.items()}


def rerank_vacancies(
    ids: npt.ArrayLike,
    scores: npt.ArrayLike,
    employer_ids: npt.ArrayLike,
    sector_families: npt.ArrayLike,
    top_k: int,
    *,
    max_per_employer: int = 1,
    family_floors: Mapping[str, float] | None = None,
    exposure_counts: npt.ArrayLike | None = None,
    exposure_weight: float = 0.5,
    seed: int = 0,
) -> Reranked:
    """Re-rank vacancy suggestions for employer mix, sector mix and spread exposure.

    Args:
        ids: vacancy ids, int64 ``(n,)``.
        scores: relevance, float32 ``(n,)``, best first.
        employer_ids: employer of each vacancy, ``(n,)``.
        sector_families: ``artisanat``, ``commerce``, ``liberal`` or ``other``, str ``(n,)``.
        top_k: length of the list shown.
        max_per_employer: at most this many vacancies per employer (0 disables; relaxed, with
            note ``employer_cap_relaxed``, when too few employers).
        family_floors: share floor per family, e.g. ``{"artisanat": 0.2}`` -> floor(0.2 k).
        exposure_counts: times each vacancy was already proposed, ``(n,)``; None disables.
        exposure_weight: w in the penalty (see :func:`penalise_exposure`).
        seed: seeds the tie-break between equal adjusted scores.

    Returns:
        The top-k ordered by adjusted score, reasons ``sector_mix``, ``employer_cap``,
        ``exposure``; ``feasible`` False (note ``floor_unmet:<family>``) when a floor can't hold.
    """
    if max_per_employer < 0 or exposure_weight < 0:
        raise OutOfRange(
            "max_per_employer and exposure_weight must be >= 0", field="max_per_employer"
        )
    scores = np.asarray(scores, dtype=np.float32)
    size = max(0, min(top_k, scores.size))
    rel_rank = relevance_rank(scores)
    preference = _preference(scores, rel_rank, exposure_counts, exposure_weight, seed)
    families = np.asarray(sector_families)
    if families.dtype.kind != "U":
        families = families.astype(str)
    need, short = feasible_floors(families, _family_floors(family_floors, size))
    picks, reasons, notes = greedy_fill(
        preference,
        size,
        floor_labels=families,
        floors=need,
        cap_labels=_labels(employer_ids),
        cap=max_per_employer,
        rel_rank=rel_rank,
        tokens=_VACANCY_TOKENS,
    )
    order = np.argsort(preference[picks], kind="stable")
    return finalize(
        ids, scores, picks[order], reasons[order], rel_rank, feasible=not short, notes=short + notes
    )


def exposure_of(
    catalogue_ids: npt.ArrayLike, counts: npt.ArrayLike, ids: npt.ArrayLike
) -> np.ndarray:
    """Look up the counts of ``ids`` in a catalogue, int64 ``(m,)``; unknown ids count 0."""
    values = np.asarray(counts, dtype=np.int64)
    position = _positions(catalogue_ids)
    wanted = np.asarray(ids, dtype=np.int64).tolist()
    return np.array([values[position[k]] if k in position else 0 for k in wanted], dtype=np.int64)


def _positions(catalogue_ids: npt.ArrayLike) -> dict[int, int]:
    return {key: i for i, key in enumerate(np.asarray(catalogue_ids, dtype=np.int64).tolist())}


def record_exposure(
    catalogue_ids: npt.ArrayLike, counts: npt.ArrayLike, shown_ids: npt.ArrayLike
) -> np.ndarray:
    """Return a copy of ``counts`` ``(n_catalogue,)`` with 1 added per shown id (unknown: ignored)."""
    updated = np.array(counts, dtype=np.int64, copy=True)
    positions = _positions(catalogue_ids)
    for key in np.asarray(shown_ids, dtype=np.int64).ravel().tolist():
        if key in positions:
            updated[positions[key]] += 1
    return updated


def rerank_vacancy_batch(
    requests: Sequence[tuple[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike, npt.ArrayLike]],
    top_k: int,
    *,
    catalogue_ids: npt.ArrayLike,
    exposure_counts: npt.ArrayLike | None = None,
    seed: int = 0,
    **options: Any,
) -> tuple[list[Reranked], np.ndarray]:
    """Re-rank a batch of youths' vacancy lists in order, spreading places between them.

    Args:
        requests: per youth, ``(ids, scores, employer_ids, sector_families)`` as for
            :func:`rerank_vacancies`.
        top_k: length of each list.
        catalogue_ids: every vacancy id, int64 ``(n_catalogue,)``.
        exposure_counts: counts aligned with ``catalogue_ids`` (from the suggestion log), or
            None for zeros.
        seed: youth i uses seed ``seed + i``.
        **options: other keywords of :func:`rerank_vacancies`.

    Returns:
        One :class:`Reranked` per youth and the updated counts ``(n_catalogue,)``.
    """
    catalogue = np.asarray(catalogue_ids, dtype=np.int64)
    counts = (
        np.zeros(catalogue.size, dtype=np.int64)
        if exposure_counts is None
        else np.asarray(exposure_counts, dtype=np.int64)
    )
    results = []
    for i, (ids, scores, employers, families) in enumerate(requests):
        seen = exposure_of(catalogue, counts, ids)
        result = rerank_vacancies(
            ids, scores, employers, families, top_k, exposure_counts=seen, seed=seed + i, **options
        )
        counts = record_exposure(catalogue, counts, result.ids)
        results.append(result)
    return results, counts
