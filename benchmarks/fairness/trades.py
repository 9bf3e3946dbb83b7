"""Trade suggestions under mix policies: floors met, NDCG cost, skew, non-traditional trades, ILD.

Every list is compared with the relevance-only pool of the same youth: the 50 most relevant
cards (``TradeMix(policy="off", max_per_domain=0, diversity=0.0)``), whose first k are the relevance-only list
and whose scores are the gains of NDCG. A list is *feasible* for the band floors when that pool
holds floor(f k) cards of each band (the re-ranker draws from that pool only).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from benchmarks.fairness.common import BANDS, UNIFORM_BANDS, card_positions
from matching.fairness import metrics as evaluation
from matching.fairness.policies import TradeMix
from matching.recommend.recommender import ListResult, Recommender
from matching.types import Youth

RELEVANCE_ONLY = TradeMix(policy="off", max_per_domain=0, diversity=0.0)
NON_TRADITIONAL_SHARE = 0.40
"""A trade is non-traditional for a youth when the youth's gender is under 40 % of its workers."""


@dataclass
class Pools:
    """The relevance-only pool of each youth: codes, scores and bands, best first."""

    codes: list[np.ndarray]
    scores: list[np.ndarray]
    bands: list[np.ndarray]


def relevance_pools(engine: Recommender, youths: list[Youth], pool_size: int = 50) -> Pools:
    """The ``pool_size`` most relevant cards of each youth, without any constraint."""
    lists = engine.suggest_trades(youths, pool_size, mix=RELEVANCE_ONLY)
    return Pools(
        codes=[np.array([t.code_rome for t in r.items], dtype=str) for r in lists],
        scores=[np.array([t.score for t in r.items], dtype=np.float64) for r in lists],
        bands=[np.array([t.band for t in r.items], dtype=str) for r in lists],
    )


def non_traditional(gender: str | None, share_women: np.ndarray) -> np.ndarray:
    """Flag trades where a youth of ``gender`` (F or M) is under 40 % of workers, bool ``(n,)``."""
    shares = np.asarray(share_women, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        if gender == "F":
            return shares < NON_TRADITIONAL_SHARE
        if gender == "M":
            return (1.0 - shares) < NON_TRADITIONAL_SHARE
    return np.zeros(shares.shape, dtype=bool)


def _band_counts(bands) -> Counter:
    return Counter(np.asarray(bands).tolist())


def list_metrics(
    engine: Recommender,
    youths: list[Youth],
    lists: list[ListResult],
    pools: Pools,
    top_k: int,
    floor: float = 0.2,
    min_non_traditional: int = 2,
) -> dict[str, np.ndarray]:
    """Per-list figures, each an array ``(n_youths,)``.

    Keys: ``meets_floors`` / ``feasible`` (band floors floor(floor k) on the list / on the pool),
    ``ndcg_cost``, ``min_skew`` (uniform band target; the one card of unknown band counts in the
    list length), ``ndkl`` (uniform band target over the cards of known band), ``share_women``
    (mean over the list), ``non_traditional`` (count for F/M youths, -1 otherwise),
    ``nt_feasible`` (the pool holds ``min_non_traditional`` of them), ``ild`` (intra-list
    diversity on the trade model's card vectors), ``domains`` (distinct ROME domains).
    """
    need = evaluation.floor_share(floor, top_k)
    cards = engine.referential.cards
    share_of = cards["share_women"].to_dict()
    domain_of = cards["code_domaine"].to_dict()
    out: dict[str, list] = {
        name: []
        for name in (
            "meets_floors",
            "feasible",
            "ndcg_cost",
            "min_skew",
            "ndkl",
            "share_women",
            "non_traditional",
            "nt_feasible",
            "ild",
            "domains",
        )
    }
    for youth, result, codes, scores, bands in zip(
        youths, lists, pools.codes, pools.scores, pools.bands, strict=True
    ):
        listed = np.array([t.code_rome for t in result.items], dtype=str)
        listed_bands = np.array([t.band for t in result.items], dtype=str)
        shares = np.array([share_of[c] for c in listed], dtype=np.float64)
        have, available = _band_counts(listed_bands), _band_counts(bands)
        out["meets_floors"].append(all(have[b] >= need for b in BANDS))
        out["feasible"].append(all(available[b] >= need for b in BANDS))
        out["ndcg_cost"].append(evaluation.ndcg_cost(listed, codes, scores, top_k))
        out["min_skew"].append(evaluation.min_skew_at_k(listed_bands, UNIFORM_BANDS, top_k))
        out["ndkl"].append(
            evaluation.ndkl(listed_bands[np.isin(listed_bands, BANDS)], UNIFORM_BANDS)
        )
        out["share_women"].append(float(np.nanmean(shares)) if len(shares) else np.nan)
        if youth.gender in ("F", "M"):
            pool_shares = np.array([share_of[c] for c in codes], dtype=np.float64)
            out["non_traditional"].append(int(non_traditional(youth.gender, shares).sum()))
            out["nt_feasible"].append(
                int(non_traditional(youth.gender, pool_shares).sum()) >= min_non_traditional
            )
        else:
            out["non_traditional"].append(-1)
            out["nt_feasible"].append(False)
        vectors = engine.trade_searcher.card_vectors(card_positions(engine, listed))
        out["ild"].append(evaluation.intra_list_diversity(vectors))
        out["domains"].append(len({domain_of[c] for c in listed}))
    return {name: np.asarray(values) for name, values in out.items()}


def relevance_only_lists(pools: Pools, top_k: int) -> list[ListResult]:
    """The first ``top_k`` of each pool as list results (bands and codes only)."""
    from types import SimpleNamespace

    return [
        ListResult(
            [
                SimpleNamespace(code_rome=c, band=b)
                for c, b in zip(codes[:top_k], bands[:top_k], strict=True)
            ]
        )
        for codes, bands in zip(pools.codes, pools.bands, strict=True)
    ]


def summary(metrics: dict[str, np.ndarray], min_non_traditional: int = 2) -> dict:
    """Aggregate per-list figures into the benchmark's figures."""
    feasible = metrics["feasible"]
    gendered = metrics["non_traditional"] >= 0
    nt_ok = metrics["non_traditional"] >= min_non_traditional
    return {
        "lists": int(feasible.size),
        "share_meeting_floors": float(metrics["meets_floors"].mean()),
        "feasible_lists": int(feasible.sum()),
        "share_feasible_meeting_floors": float(metrics["meets_floors"][feasible].mean())
        if feasible.any()
        else float("nan"),
        "mean_ndcg_cost": float(metrics["ndcg_cost"].mean()),
        "p90_ndcg_cost": float(np.quantile(metrics["ndcg_cost"], 0.9)),
        "mean_min_skew": float(metrics["min_skew"].mean()),
        "median_min_skew": float(np.median(metrics["min_skew"])),
        "mean_ndkl": float(metrics["ndkl"].mean()),
        "mean_share_women": float(np.nanmean(metrics["share_women"])),
        "gendered_lists": int(gendered.sum()),
        "share_with_min_non_traditional": float(nt_ok[gendered].mean())
        if gendered.any()
        else float("nan"),
        "nt_feasible_lists": int(metrics["nt_feasible"].sum()),
        "share_nt_feasible_meeting": float(nt_ok[metrics["nt_feasible"]].mean())
        if metrics["nt_feasible"].any()
        else float("nan"),
        "mean_ild": float(metrics["ild"].mean()),
        "mean_domains": float(metrics["domains"].mean()),
    }


def evaluate(
    engine: Recommender, youths: list[Youth], pools: Pools, mix: TradeMix | None, top_k: int
) -> tuple[dict, dict[str, np.ndarray]]:
    """Suggest under ``mix`` (None: the relevance-only top-k of the pools) and measure."""
    lists = (
        relevance_only_lists(pools, top_k)
        if mix is None
        else engine.suggest_trades(youths, top_k, mix=mix)
    )
    floor = 0.2 if mix is None else mix.floor
    metrics = list_metrics(engine, youths, lists, pools, top_k, floor=floor)
    return summary(metrics), metrics
