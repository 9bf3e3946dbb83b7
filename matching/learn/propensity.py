"""Exploration (randomised lists) and the examination propensity estimated from it.

**Exploration: RandTop-n** (Wang, Bendersky, Metzler and Najork, "Learning to Rank with
Selection Bias in Personal Search", SIGIR 2016; the intervention Joachims, Swaminathan and
Schnabel use to estimate propensities, "Unbiased Learning-to-Rank with Biased Feedback", WSDM
2017). An explored list has its top ``n`` items (the whole list of 10 by default) shuffled
uniformly after the mix constraints picked them: every item lands at each of the ``n`` ranks
with probability ``1 / n``, which is what ``suggestions.propensity`` logs for it (items past
``n`` keep their place, propensity 1). The shuffle moves items within the list only, so the
employer cap and the sector floors (counts over the list) hold on the list shown.

**Estimation.** On explored lists an item's relevance does not depend on the rank it landed at,
so the share of positive outcomes at rank ``r`` is ``theta(r)`` times a constant, where
``theta`` is the chance an item shown at ``r`` is examined (position-based model). The curve
``theta(r) = rate(r) / rate(1)`` is estimated per rank, made non-increasing by pooling adjacent
violators (weighted by the rows at each rank) and floored (:data:`MIN_THETA`); the power-law
exponent fitted to it is reported too (descriptive only). Nothing here reads a simulator's
parameters: the curve comes from the log alone.

**Use.** :func:`ips_weights` gives each row ``1 / theta(logged rank)``: inverse-propensity
weights of its label in evaluation and training.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

SCHEME = "randtop-n"
"""``policy["exploration"]`` of an explored list."""
MIN_THETA = 0.05
"""Floor of the estimated curve: no label is weighted more than 20 times."""
MIN_LISTS = 100
"""Explored lists needed before a curve is estimated."""
MIN_POSITIVES = 30
"""Positive outcomes on explored lists needed before a curve is estimated."""


def shuffle_top(n_items: int, rng: np.random.Generator, top: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """RandTop-n: a uniform shuffle of the first ``top`` of ``n_items`` (all when None).

    Returns:
        ``(order, propensity)``: ``order[j]`` is the index (in the list before exploration) of
        the item shown at rank ``j + 1``; ``propensity[j]`` the probability it had of landing at
        that rank given the list was explored (``1 / min(top, n_items)``, 1 past ``top``).
    """
    m = n_items if top is None else max(0, min(top, n_items))
    order = np.concatenate([rng.permutation(m), np.arange(m, n_items)]).astype(np.int64)
    propensity = np.concatenate([np.full(m, 1.0 / m if m else 1.0), np.ones(n_items - m)])
    return order, propensity


def explored_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows of a log frame that belong to explored lists (a logged ``propensity``), bool ``(n,)``."""
    if "propensity" not in frame:
        return np.zeros(len(frame), dtype=bool)
    return frame["propensity"].notna().to_numpy()


def _pool_adjacent_violators(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The non-increasing sequence closest to ``values`` in weighted least squares."""
    blocks: list[list[float]] = []  # [mean, weight, count]
    for value, weight in zip(values.tolist(), weights.tolist(), strict=True):
        blocks.append([value, weight, 1])
        while len(blocks) > 1 and blocks[-2][0] < blocks[-1][0]:
            mean2, w2, c2 = blocks.pop()
            mean1, w1, c1 = blocks[-1]
            total = w1 + w2
            blocks[-1] = [(mean1 * w1 + mean2 * w2) / total if total else (mean1 + mean2) / 2, total, c1 + c2]
    return np.concatenate([np.full(c, mean) for mean, _, c in blocks]) if blocks else np.zeros(0)


def estimate_examination(frame: pd.DataFrame, *, min_lists: int = MIN_LISTS,
                         min_positives: int = MIN_POSITIVES) -> dict[str, Any]:
    """The examination curve by rank, from the explored lists of a log frame.

    Args:
        frame: log rows (``list_id``, ``rank`` within the list, ``label``, ``propensity``).

    Returns:
        ``{"curve": {rank: theta}, ...}`` with how it was estimated (``method``, ``lists``,
        ``rows``, ``positives``, ``rate_by_rank``, ``power_law_eta``), or ``{"curve": None,
        "reason": ...}`` when the log holds too few explored lists or positives.
    """
    explored = frame[explored_rows(frame)]
    shuffled = explored[explored["propensity"] < 1.0]  # ranks that were randomised
    lists = int(shuffled["list_id"].nunique()) if len(shuffled) else 0
    positive = (shuffled["label"].to_numpy() > 0) if len(shuffled) else np.zeros(0, dtype=bool)
    if lists < min_lists or int(positive.sum()) < min_positives:
        return {"curve": None, "reason": (
            f"{lists} explored lists with {int(positive.sum())} positive outcomes in the log (need {min_lists} "
            f"and {min_positives}): exploration is off (PASSERELLE_EXPLORATION) or too recent; raw labels used"),
            "lists": lists}
    rank = shuffled["rank"].to_numpy(np.int64)
    top = int(rank.max())
    shown = np.bincount(rank, minlength=top + 1)[1:].astype(np.float64)
    hits = np.bincount(rank, weights=positive.astype(np.float64), minlength=top + 1)[1:]
    rate = np.divide(hits, shown, out=np.zeros(top), where=shown > 0)
    smooth = _pool_adjacent_violators(rate, shown)
    if smooth[0] <= 0:
        return {"curve": None, "reason": "no positive outcome at rank 1 of the explored lists; raw labels used",
                "lists": lists}
    theta = np.maximum(smooth / smooth[0], MIN_THETA)
    ranks = np.arange(1, top + 1, dtype=np.float64)
    fit = rate > 0
    eta = (float(-np.polyfit(np.log(ranks[fit]), np.log(rate[fit] / smooth[0]), 1, w=np.sqrt(shown[fit]))[0])
           if fit.sum() >= 2 else None)
    return {
        "curve": {int(r): round(float(t), 6) for r, t in zip(ranks, theta, strict=True)},
        "method": ("positive-outcome rate by rank on explored (RandTop-n) lists, made non-increasing "
                   f"(pool adjacent violators), normalised to rank 1, floored at {MIN_THETA}"),
        "lists": lists, "rows": int(len(shuffled)), "positives": int(positive.sum()),
        "rate_by_rank": {int(r): round(float(v), 6) for r, v in zip(ranks, rate, strict=True)},
        "power_law_eta": None if eta is None else round(eta, 4),
    }


def ips_weights(rank: np.ndarray, curve: dict[int, float] | None) -> np.ndarray:
    """``1 / theta(rank)`` per row (ranks past the curve read its last value); ones without a curve."""
    rank = np.asarray(rank, dtype=np.int64)
    if not curve:
        return np.ones(rank.size, dtype=np.float64)
    by_rank = {int(r): float(t) for r, t in curve.items()}  # JSON keys are strings
    top = max(by_rank)
    theta = np.array([by_rank[r] for r in range(1, top + 1)], dtype=np.float64)
    return 1.0 / theta[np.clip(rank, 1, top) - 1]
