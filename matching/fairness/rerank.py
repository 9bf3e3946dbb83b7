"""Mixité and mix re-rankers: pure functions over ``(ids, scores, groups)`` arrays.

Inputs are aligned arrays of n items: ``ids`` int64 ``(n,)``, ``scores`` float32 ``(n,)`` (the
relevance, best first; ties keep input order) and str label arrays ``(n,)``. Each re-ranker
returns a :class:`~matching.fairness.greedy.Reranked`: the top-k, a subset of the input without
duplicates (a permutation of it when ``top_k >= n``), and for each item whether a constraint
moved it up and why, as a machine token the recommender words in French:

``"mixite"`` (gender-mix floor), ``"domain_cap"``, ``"diversity"`` (MMR), ``"sector_mix"``,
``"employer_cap"``, ``"exposure"`` (congestion), ``"representation"`` (candidate shortlists).

Vacancy exposure and batches are in :mod:`matching.fairness.exposure`; candidate shortlists
(Geyik et al. 2019) in :mod:`matching.fairness.shortlist`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from matching.errors import OutOfRange, PasserelleError
from matching.fairness.exposure import (
    exposure_of,
    penalise_exposure,
    record_exposure,
    rerank_vacancies,
    rerank_vacancy_batch,
)
from matching.fairness.greedy import (
    Reranked,
    Tokens,
    feasible_floors,
    finalize,
    greedy_fill,
    relevance_rank,
)
from matching.fairness.metrics import floor_share
from matching.fairness.shortlist import (
    joint_groups,
    joint_target,
    parity,
    shortlist,
    target_from_pool,
)

__all__ = [
    "POLICIES",
    "Reranked",
    "exposure_of",
    "gender_band",
    "joint_groups",
    "joint_target",
    "parity",
    "penalise_exposure",
    "record_exposure",
    "rerank_trades",
    "rerank_vacancies",
    "rerank_vacancy_batch",
    "shortlist",
    "target_from_pool",
]

POLICIES: tuple[str, ...] = ("balanced", "counter_stereotype", "off")
FLOOR_BANDS: tuple[str, ...] = ("male", "mixed", "female")
NON_TRADITIONAL = "non_traditional"
_TRADE_TOKENS = Tokens(floor="mixite", cap="domain_cap", preference="reordered")


def gender_band(share_women: npt.ArrayLike, low: float = 0.40, high: float = 0.60) -> np.ndarray:
    """Map shares of women to bands: ``male`` (< low), ``mixed``, ``female`` (> high), ``unknown``.

    Args:
        share_women: share of women among workers, float ``(n,)`` in [0, 1], NaN if unknown.
        low: below this the trade is ``male``; ``low`` itself is ``mixed``.
        high: above this the trade is ``female``; ``high`` itself is ``mixed``.

    Returns:
        Band labels, str ``(n,)``.
    """
    if not 0.0 <= low <= high <= 1.0:
        raise OutOfRange(f"need 0 <= low <= high <= 1, got low={low}, high={high}", field="low")
    shares = np.asarray(share_women, dtype=np.float64)
    bands = np.where(shares < low, "male", np.where(shares > high, "female", "mixed"))
    return np.where(np.isnan(shares), "unknown", bands).astype("<U7")


def _non_traditional(
    youth_gender: str, bands: np.ndarray, share_women: npt.ArrayLike | None
) -> np.ndarray:
    """Flag trades where the youth's gender is under 40 % of workers, bool ``(n,)``."""
    if share_women is None:
        return bands == ("male" if youth_gender == "F" else "female")
    shares = np.asarray(share_women, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return shares < 0.40 if youth_gender == "F" else shares > 0.60


def _trade_floors(
    policy: str,
    bands: np.ndarray,
    size: int,
    *,
    floor: float,
    youth_gender: str | None,
    min_non_traditional: int,
    share_women: npt.ArrayLike | None,
) -> tuple[np.ndarray, dict[str, int], tuple[str, ...]]:
    """Return the floor label of each trade, the floors and the policy notes."""
    if policy == "counter_stereotype" and youth_gender in ("F", "M"):
        flags = _non_traditional(youth_gender, bands, share_women)
        labels = np.where(flags, NON_TRADITIONAL, "")
        return labels, {NON_TRADITIONAL: min(min_non_traditional, size)}, ()
    notes: tuple[str, ...] = ()
    if policy == "counter_stereotype":
        notes, policy = ("counter_stereotype_fallback_balanced",), "balanced"
    if policy == "balanced":
        return bands, {band: floor_share(floor, size) for band in FLOOR_BANDS}, notes
    return bands, {}, notes


def _check_trade_args(
    policy: str,
    floor: float,
    min_non_traditional: int,
    diversity: float,
    embeddings: npt.ArrayLike | None,
    max_per_domain: int,
) -> None:
    if policy not in POLICIES:
        raise PasserelleError(f"unknown policy {policy!r}: use one of {POLICIES}", field="policy")
    if not 0.0 <= floor <= 1.0 / 3.0:
        raise OutOfRange(f"floor must be in [0, 1/3] (3 bands), got {floor}", field="floor")
    if min_non_traditional < 0:
        raise OutOfRange("min_non_traditional must be >= 0", field="min_non_traditional")
    if max_per_domain < 0:
        raise OutOfRange("max_per_domain must be >= 0 (0 disables)", field="max_per_domain")
    if not 0.0 <= diversity <= 1.0:
        raise OutOfRange(f"diversity must be in [0, 1], got {diversity}", field="diversity")
    if diversity > 0 and embeddings is None:
        raise PasserelleError("diversity > 0 needs the trades' embeddings", field="embeddings")


def rerank_trades(
    ids: npt.ArrayLike,
    scores: npt.ArrayLike,
    bands: npt.ArrayLike,
    domains: npt.ArrayLike,
    top_k: int,
    *,
    policy: str = "balanced",
    floor: float = 0.2,
    youth_gender: str | None = None,
    min_non_traditional: int = 2,
    share_women: npt.ArrayLike | None = None,
    max_per_domain: int = 3,
    diversity: float = 0.0,
    embeddings: npt.ArrayLike | None = None,
    pool_size: int = 50,
    eligible: npt.ArrayLike | None = None,
    plausible: npt.ArrayLike | None = None,
) -> Reranked:
    """Re-rank trade suggestions for gender mix, domain mix and diversity.

    The pool is the ``max(pool_size, top_k)`` most relevant trades; the top-k is filled best
    first (by relevance, or by MMR when ``diversity > 0``), with the last slots reserved for
    floors still unmet, so floors displace the least relevant picks only. Without MMR the list
    is then sorted by relevance, which keeps the order within each band.

    Args:
        ids: trade ids, int64 ``(n,)``.
        scores: relevance, float32 ``(n,)``, best first.
        bands: gender band of each trade (see :func:`gender_band`), str ``(n,)``.
        domains: ROME domaine professionnel of each trade, str ``(n,)``.
        top_k: length of the list shown.
        policy: ``balanced`` (at least floor(floor * k) trades of each of ``male``, ``mixed``,
            ``female``, for everyone), ``counter_stereotype`` (at least ``min_non_traditional``
            trades where the youth's gender is under 40 % of workers; falls back to
            ``balanced`` when ``youth_gender`` is not ``F``/``M``) or ``off``.
        floor: band floor share f, in [0, 1/3].
        youth_gender: ``F``, ``M``, ``X`` or None; used only by ``counter_stereotype``.
        min_non_traditional: m for ``counter_stereotype``.
        share_women: float ``(n,)``; defines "non-traditional" (< 0.40 for F, > 0.60 for M);
            when None the bands ``male`` (for F) / ``female`` (for M) are used.
        max_per_domain: at most this many trades per domain (0 disables).
        diversity: MMR lambda in [0, 1] (0 disables).
        embeddings: L2-normalised trade vectors, float32 ``(n, dim)``, needed for MMR.
        pool_size: number of most relevant trades the constraints may draw from.
        eligible: bool ``(n,)``, the trades that may be shown at all (accessible); default all.
        plausible: bool ``(n,)``, the trades a floor, the cap or MMR may move into the list;
            the relevance-only top-k of the eligible trades is kept whatever it says; default all.

    Returns:
        The top-k with reasons ``mixite`` (a floor pick that is non-traditional for the youth's
        gender F/M), ``balance`` (another floor pick), ``domain_cap``, ``diversity``;
        ``feasible`` is False (note ``floor_unmet:<band>``) when the pool lacks trades of a band.
    """
    _check_trade_args(policy, floor, min_non_traditional, diversity, embeddings, max_per_domain)
    scores = np.asarray(scores, dtype=np.float32)
    rel_rank, size, pool = _trade_pool(scores, top_k, pool_size, eligible, plausible)
    labels, floors, notes = _trade_floors(
        policy,
        np.asarray(bands).astype(str),
        size,
        floor=floor,
        youth_gender=youth_gender,
        min_non_traditional=min_non_traditional,
        share_women=share_women,
    )
    need, short = feasible_floors(labels[pool], floors)
    mmr = None
    if diversity > 0:
        vectors = np.asarray(embeddings, dtype=np.float32)[pool]
        mmr = _mmr_inputs(scores[pool], vectors, diversity)
    cap_labels = np.asarray(domains).astype(str)[pool]
    picks, reasons, fill_notes = _pick_trades(
        rel_rank[pool], size, labels[pool], need, cap_labels, max_per_domain, mmr
    )
    notes = notes + short + fill_notes
    reasons = _band_reasons(reasons, youth_gender, share_women, np.asarray(bands).astype(str), pool[picks])
    return finalize(ids, scores, pool[picks], reasons, rel_rank, feasible=not short, notes=notes)


def _band_reasons(reasons: np.ndarray, youth_gender: str | None, share_women, bands: np.ndarray,
                  picked: np.ndarray) -> np.ndarray:
    """Keep ``mixite`` only for floor picks non-traditional for the youth's gender (F: under
    40 % women, M: over 60 %); other floor picks (and every one for X or not stated) say
    ``balance``: the list is balanced, the trade is not "for mixité" for this youth."""
    floor_picks = reasons == _TRADE_TOKENS.floor
    if not floor_picks.any():
        return reasons
    if youth_gender in ("F", "M"):
        shares = None if share_women is None else np.asarray(share_women, dtype=np.float64)[picked]
        flags = _non_traditional(youth_gender, bands[picked], shares)
    else:
        flags = np.zeros(picked.size, dtype=bool)
    return np.where(floor_picks & ~flags, "balance", reasons).astype(object)


def _trade_pool(scores: np.ndarray, top_k: int, pool_size: int, eligible, plausible
                ) -> tuple[np.ndarray, int, np.ndarray]:
    """Relevance rank over the eligible items (the others rank last), list size, and the pool:
    the ``max(pool_size, size)`` most relevant eligible items, less the implausible ones
    outside the relevance-only top ``size``."""
    ok = np.ones(scores.size, dtype=bool) if eligible is None else np.asarray(eligible, dtype=bool)
    rel_rank = relevance_rank(np.where(ok, scores, -np.inf).astype(np.float32))
    size = max(0, min(top_k, int(ok.sum())))
    pool = np.argsort(rel_rank)[: int(ok.sum())][: max(pool_size, size)]
    if plausible is not None:
        pool = pool[np.asarray(plausible, dtype=bool)[pool] | (np.arange(pool.size) < size)]
    return rel_rank, size, pool


def _mmr_inputs(
    pool_scores: np.ndarray, vectors: np.ndarray, diversity: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """The MMR inputs of :func:`greedy_fill` over the pool: relevance rescaled to [0, 1] (all
    ones when the scores are flat), cosine similarities ``(n, n)`` and lambda."""
    pool_scores = pool_scores.astype(np.float64)
    spread = float(np.ptp(pool_scores))
    if spread > 0:
        relevance = (pool_scores - pool_scores.min()) / spread
    else:
        relevance = np.ones(pool_scores.size)
    return relevance, vectors @ vectors.T, diversity


def _pick_trades(
    pool_rank: np.ndarray,
    size: int,
    floor_labels: np.ndarray,
    floors: dict[str, int],
    domains: np.ndarray,
    max_per_domain: int,
    mmr: tuple[np.ndarray, np.ndarray, float] | None,
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Fill the top-k from the pool (relevance rank ``pool_rank``) with the band floors, the
    domain cap and MMR; without MMR the picks are then put back in relevance order."""
    picks, reasons, notes = greedy_fill(
        pool_rank,
        size,
        floor_labels=floor_labels,
        floors=floors,
        cap_labels=domains,
        cap=max_per_domain,
        rel_rank=pool_rank,
        tokens=_TRADE_TOKENS,
        mmr=mmr,
    )
    if mmr is None:
        order = np.argsort(pool_rank[picks], kind="stable")
        picks, reasons = picks[order], reasons[order]
    return picks, reasons, notes
