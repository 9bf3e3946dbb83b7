"""Train a learned ranker on a log frame and describe it in a manifest.

:func:`train` keeps the vacancy rows logged before ``until``, holds out the most recent
``holdout_share`` of the lists (by the time each list was served), fits
:func:`~matching.learn.ranker.fit_booster` on the others and measures the fitted model against
the fusion's logged order on the held-out tail (:func:`ndcg_by_list`). The model saved is the
one measured: trained on the head only, so the manifest's metrics describe it exactly.

Position bias: the examination curve is estimated from the head's explored lists
(:func:`matching.learn.propensity.estimate_examination`); with one, each positive label's row is
weighted ``1 / theta(rank shown)`` in the fit (LightGBM multiplies the item's lambdarank
gradient by it, the pairwise weighting of Wang et al., WSDM 2018, per item) and the manifest
gives the curve (``propensity``); without, ``propensity.curve`` is None with a reason and the fit
is unweighted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from matching.learn.propensity import estimate_examination, explored_rows, ips_weights
from matching.learn.ranker import (
    POSITION_FEATURE,
    RANK_AT_INFERENCE,
    LearnedRanker,
    RankerParams,
    design_matrix,
    fit_booster,
    frame_hash,
    vacancy_rows,
)

MANIFEST_FORMAT = "passerelle-ranker/1"
HOLDOUT_SHARE = 0.2
"""Share of the most recent lists held out to measure a trained model."""
CUTOFFS = (5, 10, 20)
WEIGHTS_IPS = ("positive labels weighted 1 / theta(rank shown), theta estimated from the explored lists; "
               "rank_shown fixed to 1 in the fit (the weights alone correct the position bias)")


def ndcg_by_list(list_codes: np.ndarray, scores: np.ndarray, labels: np.ndarray, k: int,
                 tiebreak: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """NDCG@k of every list when its items are ordered by ``scores`` (descending), linear gains.

    Args:
        list_codes: list index of each row, int ``(n,)`` in ``0..n_lists-1``.
        scores: higher first, ``(n,)``; ties by ``tiebreak`` ascending (default: row order).
        labels: graded relevance, ``(n,)``.
        k: cut-off.

    Returns:
        ``(ndcg, has_positive)``, each ``(n_lists,)``; ndcg is 0 for a list without positives.
    """
    codes = np.asarray(list_codes, dtype=np.int64)
    gains = np.asarray(labels, dtype=np.float64)
    n_lists = int(codes.max()) + 1 if codes.size else 0
    second = np.arange(codes.size) if tiebreak is None else np.asarray(tiebreak)

    def dcg(order: np.ndarray) -> np.ndarray:
        sorted_codes = codes[order]
        starts = np.searchsorted(sorted_codes, np.arange(n_lists))
        position = np.arange(codes.size) - starts[sorted_codes]
        weight = np.where(position < k, 1.0 / np.log2(position + 2.0), 0.0)
        return np.bincount(sorted_codes, weights=gains[order] * weight, minlength=n_lists)

    actual = dcg(np.lexsort((second, -np.asarray(scores, dtype=np.float64), codes)))
    ideal = dcg(np.lexsort((-gains, codes)))
    has_positive = ideal > 0
    return np.where(has_positive, actual / np.where(has_positive, ideal, 1.0), 0.0), has_positive


@dataclass(frozen=True)
class Trained:
    """A trained ranker and its manifest (not yet in any registry)."""

    ranker: LearnedRanker
    manifest: dict[str, Any]


def _iso(moment: Any) -> str | None:
    if moment is None or pd.isna(moment):
        return None
    return pd.Timestamp(moment).isoformat()


def split_lists(rows: pd.DataFrame, holdout_share: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cut grouped ``rows`` (:func:`vacancy_rows`) into head and tail by list, tail the most
    recent ``holdout_share`` of the lists (at least one list in the head)."""
    list_order = pd.unique(rows["list_id"])
    n_tail = min(int(round(len(list_order) * holdout_share)), max(len(list_order) - 1, 0))
    tail_ids = set(list_order[len(list_order) - n_tail:].tolist()) if n_tail else set()
    in_tail = rows["list_id"].isin(tail_ids).to_numpy()
    return rows[~in_tail].reset_index(drop=True), rows[in_tail].reset_index(drop=True)


def holdout_metrics(ranker: LearnedRanker, tail: pd.DataFrame,
                    curve: dict[int, float] | None = None) -> dict[str, Any]:
    """NDCG@5/10/20 of the fusion (logged rank) and of ``ranker`` on ``tail``, over the lists
    with at least one positive label, served in the fusion's order (explored lists left out);
    with an examination ``curve``, also the inverse-propensity DCG@10 of both (``ips_dcg@10``)."""
    tail = tail[~explored_rows(tail)]
    if tail.empty:
        return {"lists_with_positive": 0}
    codes = pd.factorize(tail["list_id"])[0]
    labels = tail["label"].to_numpy(np.float64)
    rank = tail["rank"].to_numpy(np.float64)
    learned = ranker.score(design_matrix(tail, ranker.feature_names, logged_rank=False))
    metrics: dict[str, Any] = {}
    for k in CUTOFFS:
        fusion, positive = ndcg_by_list(codes, -rank, labels, k)
        mine, _ = ndcg_by_list(codes, learned, labels, k, tiebreak=rank)
        metrics[f"ndcg@{k}"] = {"fusion": round(float(fusion[positive].mean()), 6) if positive.any() else None,
                                "learned": round(float(mine[positive].mean()), 6) if positive.any() else None}
        metrics["lists_with_positive"] = int(positive.sum())
    if curve:
        gains = labels * ips_weights(rank, curve)
        positive = np.bincount(codes, weights=gains, minlength=int(codes.max()) + 1) > 0
        values = {"fusion": _dcg(codes, -rank, gains, rank), "learned": _dcg(codes, learned, gains, rank)}
        metrics["ips_dcg@10"] = {name: round(float(v[positive].mean()), 6) if positive.any() else None
                                 for name, v in values.items()}
    return metrics


def _dcg(codes: np.ndarray, scores: np.ndarray, gains: np.ndarray, rank: np.ndarray, k: int = 10) -> np.ndarray:
    """Un-normalised DCG@k of every list ordered by ``scores`` (ties by ``rank``)."""
    order = np.lexsort((rank, -scores, codes))
    sorted_codes = codes[order]
    starts = np.searchsorted(sorted_codes, np.arange(int(codes.max()) + 1))
    position = np.arange(codes.size) - starts[sorted_codes]
    weight = np.where(position < k, 1.0 / np.log2(position + 2.0), 0.0)
    return np.bincount(sorted_codes, weights=gains[order] * weight, minlength=int(codes.max()) + 1)


def train(frame: pd.DataFrame, feature_names: Sequence[str], *, params: RankerParams | None = None,
          until: datetime | None = None, holdout_share: float = HOLDOUT_SHARE,
          now: datetime | None = None) -> Trained:
    """Fit a ranker on the vacancy lists of ``frame`` served before ``until``.

    Args:
        frame: the suggestion log (columns ``list_id``, ``item_kind``, ``rank``, ``created_at``,
            ``label`` and ``feature_names`` except ``rank_shown``, which comes from ``rank``).
        feature_names: model columns, in order.
        params: hyperparameters (defaults: :class:`RankerParams`).
        until: keep rows with ``created_at < until`` (None: every row).
        holdout_share: share of the most recent lists held out for the manifest's metrics.
        now: creation time (default: the clock), names the version.

    Raises:
        ValueError: no vacancy row in the window, or a head without any positive label.
    """
    params = params or RankerParams()
    created = (now or datetime.now(UTC)).astimezone(UTC)
    if until is not None:
        frame = frame[pd.to_datetime(frame["created_at"], utc=True) < pd.Timestamp(until)]
    rows = vacancy_rows(frame)
    if rows.empty:
        raise ValueError("no logged vacancy list in the training window")
    hashed = ["list_id", "rank", "label", *[n for n in feature_names if n != POSITION_FEATURE]]
    data_hash = frame_hash(rows, hashed)
    head, tail = split_lists(rows, holdout_share)
    if not (head["label"] > 0).any():
        raise ValueError("no positive label in the training lists: record outcomes first")
    version = f"{created:%Y%m%dT%H%M%SZ}-{data_hash[:8]}"
    propensity = estimate_examination(head)
    curve = propensity["curve"]
    weights = (np.where(head["label"].to_numpy() > 0, ips_weights(head["rank"].to_numpy(), curve), 1.0)
               if curve else None)
    ranker = LearnedRanker(fit_booster(head, feature_names, params, weights), version=version,
                           feature_names=feature_names)
    import lightgbm

    manifest = {
        "format": MANIFEST_FORMAT,
        "version": version,
        "created_at": created.isoformat(),
        "training_window": {"from": _iso(rows["created_at"].min()), "until": _iso(until),
                            "last_row": _iso(head["created_at"].max()),
                            "holdout_from": _iso(tail["created_at"].min()) if len(tail) else None},
        "rows": int(len(head)),
        "simulated_rows": int(head["simulated"].astype(bool).sum()) if "simulated" in head else 0,
        "lists": int(head["list_id"].nunique()),
        "holdout": {"rows": int(len(tail)), "lists": int(tail["list_id"].nunique()),
                    "share": holdout_share},
        "metrics": holdout_metrics(ranker, tail, curve),
        "propensity": propensity,
        "weights": (WEIGHTS_IPS if curve else "none (no examination curve: see propensity.reason)"),
        "features": list(feature_names),
        "position_feature": POSITION_FEATURE,
        "rank_at_inference": RANK_AT_INFERENCE,
        "data_sha256": data_hash,
        "parameters": params.describe(),
        "library": {"lightgbm": lightgbm.__version__},
    }
    return Trained(ranker, manifest)
