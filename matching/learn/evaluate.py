"""Offline evaluation of a learned ranker against the fusion, on a time split of the log.

:func:`evaluate_split` trains its own model on the lists served before ``split`` (never the
active model, which may have seen the later period) and compares, on the lists served from
``split`` on, the fusion's order (the logged rank) with the learned order (``rank_shown`` fixed
to 1, ties by logged rank). Both sides rank the same items of the same lists against the same
graded labels.

- Metrics by ranx: ``ndcg@5``, ``ndcg@10``, ``ndcg@20``, ``recall@10``, ``mrr`` (linear gains).
- Lists without any positive label are left out of every metric, on both sides: their NDCG is
  0/0 and they can't tell the orders apart (ranx would drop them from a run compared with
  ``make_comparable``; counting them as 0 would scale both sides alike). Their number is reported.
- Significance: two-sided paired t-test (``scipy.stats.ttest_rel``) on per-list NDCG@10, the
  test ranx's ``compare`` runs by default (``student``).
- Exposure: share of the top-10 suggestions that go to the 10 % most-shown vacancies (counted
  in each side's own top 10s).
- Mixité (:func:`mixite_of`): share of non-traditional vacancies in the top 10 by gender group,
  after the vacancy mix policy is re-applied to each order.
- Position bias: when the log holds explored lists (RandTop-n, ``propensity`` logged), the
  examination curve is estimated from them (:mod:`matching.learn.propensity`) and the headline
  ratio and p-value compare inverse-propensity DCG@10 (:func:`ips_dcg`), which removes the
  logged order's lean when outcomes depend on the rank shown; the raw-label figures stay in
  ``fusion``, ``learned`` and ``raw``. Without explored lists, ``propensity.curve`` is None with
  a reason and the headline is the raw-label comparison.
- Both also at the top 5 (``at_5``): re-ranking a logged list of 10 items cannot change its top
  10, only the order within it.
- As served (``served``): the service puts the learned order through the exposure policy before
  showing it (:mod:`matching.recommend.learned`). :func:`served_positions` does the same to the
  logged items: the k-th item of the learned order gets the list's k-th best fusion score
  (recomputed from the logged score parts with the engine's weights), lowered by the exposure
  penalty of ``VacancyMix`` with each vacancy's exposure as the service read it at the start of
  the list's day (:func:`exposure_as_served`, from the log). Applied to the fusion's own scores
  it gives back the logged order. Reported beside the headline, which stays the learned order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from matching.learn.propensity import explored_rows, ips_weights
from matching.learn.ranker import LearnedRanker, RankerParams, design_matrix, vacancy_rows
from matching.learn.training import train

RANX_METRICS = ("ndcg@5", "ndcg@10", "ndcg@20", "recall@10", "mrr")
TOP = 10
"""The list length the mixité and exposure figures read."""
SHORT_TOP = 5
"""The shorter cut-off also reported: logged lists of 10 items have the same top 10 in any order."""
EXPOSURE_TOP_SHARE = 0.10
EXPOSURE_DAYS = 14
"""Window of the exposure the service reads (``PASSERELLE_EXPOSURE_DAYS``'s default)."""
RAW_BASIS = ("raw labels (no examination curve: the comparison leans towards the logged order "
             "when outcomes depend on the rank shown)")
IPS_BASIS = "inverse propensity of examination, curve estimated from the explored lists before the split"
SIGNIFICANCE_TEST = "paired two-sided t-test (scipy.stats.ttest_rel) on per-list ndcg@10"
NO_SHORTLIST = ("shortlists keep their ranking in issue #15 (the learned ranker re-ranks vacancy "
                "lists only): shortlist NDKL and InfeasibleIndex are the same on both sides")


def ordered_positions(list_codes: np.ndarray, scores: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """1-based position of every row in its list when ordered by ``scores`` desc, ties by rank."""
    order = np.lexsort((rank, -scores, list_codes))
    sorted_codes = list_codes[order]
    starts = np.searchsorted(sorted_codes, np.arange(int(list_codes.max()) + 1))
    positions = np.empty(list_codes.size, dtype=np.int64)
    positions[order] = np.arange(list_codes.size) - starts[sorted_codes] + 1
    return positions


def ranx_scores(test: pd.DataFrame, positions: np.ndarray) -> tuple[dict[str, float], np.ndarray]:
    """Mean ranx metrics of one order of ``test`` and its per-list NDCG@10 (qrels order)."""
    from ranx import Qrels, Run, evaluate

    def strings(values: pd.Series) -> np.ndarray:
        return np.asarray(values.astype(str).tolist(), dtype=object)  # ranx wants object ids

    relevant = (test["label"] > 0).to_numpy()
    queries, docs = strings(test["list_id"]), strings(test["rank"])
    def table(keep: np.ndarray, values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame({"q": pd.Series(queries[keep], dtype=object), "d": pd.Series(docs[keep], dtype=object),
                             "s": values[keep]})

    qrels = Qrels.from_df(table(relevant, test["label"].to_numpy(np.int64)), "q", "d", "s")
    run = Run.from_df(table(np.ones(len(test), dtype=bool), (1000.0 - positions).astype(np.float64)), "q", "d", "s")
    means = evaluate(qrels, run, list(RANX_METRICS))
    per_list = np.asarray(evaluate(qrels, run, "ndcg@10", return_mean=False), dtype=np.float64)
    return {name: round(float(means[name]), 6) for name in RANX_METRICS}, per_list


def exposure_share(item_ids: pd.Series, positions: np.ndarray, top: int = TOP,
                   top_share: float = EXPOSURE_TOP_SHARE) -> float | None:
    """Share of the top-``top`` suggestions going to the ``top_share`` most-shown vacancies."""
    counts = item_ids[positions <= top].value_counts().to_numpy()
    if counts.size == 0:
        return None
    head = max(1, math.ceil(top_share * counts.size))
    return round(float(counts[:head].sum() / counts.sum()), 6)


def _mixed_top(test: pd.DataFrame, positions: np.ndarray, top: int) -> pd.DataFrame:
    """The top ``top`` of every list once the vacancy mix policy is re-applied to the order."""
    from matching.fairness.exposure import rerank_vacancies

    employer = test["employer_id"] if "employer_id" in test else test["item_id"]
    families = [c for c in test.columns if c.startswith("family_")]
    family = (np.asarray(families)[test[families].to_numpy().argmax(axis=1)] if families
              else np.full(len(test), "other"))
    frame = test.assign(_position=positions, _employer=employer.astype(str).to_numpy(), _family=family)
    kept = []
    for _, rows in frame.sort_values(["list_id", "_position"]).groupby("list_id", sort=False):
        scores = -rows["_position"].to_numpy(np.float32)
        picked = rerank_vacancies(np.arange(len(rows)), scores, rows["_employer"].to_numpy(),
                                  rows["_family"].to_numpy(), top).ids
        kept.append(rows.iloc[np.asarray(picked, dtype=np.int64)])
    return pd.concat(kept) if kept else frame.iloc[:0]


def mixite_of(test: pd.DataFrame, positions: np.ndarray, top: int = TOP) -> dict[str, Any] | None:
    """Share of non-traditional vacancies in the top ``top`` (mix policy re-applied) per youth
    gender: a woman's vacancy is non-traditional when its trade has under 40 % women, a man's
    when over 60 %. Needs columns ``youth_gender`` and ``share_women``; None without them."""
    if "youth_gender" not in test or "share_women" not in test:
        return None
    shown = _mixed_top(test, positions, top)
    share = shown["share_women"].to_numpy(np.float64)
    gender = shown["youth_gender"].astype(str).to_numpy()
    non_traditional = np.where(gender == "F", share < 0.40, np.where(gender == "M", share > 0.60, False))
    result = {}
    for group in ("F", "M"):
        mine = (gender == group) & ~np.isnan(share)
        result[group] = round(float(non_traditional[mine].mean()), 6) if mine.any() else None
    return result


def ips_dcg(list_codes: np.ndarray, labels: np.ndarray, weights: np.ndarray, positions: np.ndarray,
            k: int = TOP) -> np.ndarray:
    """Inverse-propensity DCG@k of every list (Joachims et al., WSDM 2017), ``(n_lists,)``.

    Each label counts ``label * weight`` (``weight = 1 / theta(logged rank)``, the inverse of the
    chance it was examined where it was shown: :func:`matching.learn.propensity.ips_weights`) at
    the DCG weight of its position in the order evaluated. Averaged over lists it estimates,
    without the logging order's lean, the DCG an order would get if it were served; unit
    weights give plain DCG. Un-normalised on purpose: normalising each list by its own ideal
    would give a list with one positive the same value whatever its weight, and bring the lean
    back.
    """
    gains = np.asarray(labels, dtype=np.float64) * np.asarray(weights, dtype=np.float64)
    weight = np.where(positions <= k, 1.0 / np.log2(positions + 1.0), 0.0)
    return np.bincount(list_codes, weights=gains * weight, minlength=int(list_codes.max()) + 1)


def exposure_as_served(rows: pd.DataFrame, test: pd.DataFrame, days: int = EXPOSURE_DAYS) -> np.ndarray:
    """Each ``test`` row's vacancy exposure as the service read it at the start of the list's day:
    the youths shown it in the ``days`` days before, from the log ``rows`` (``item_id``,
    ``youth_id``, ``created_at``), float64 ``(len(test),)``."""
    day = pd.to_datetime(rows["created_at"], utc=True).dt.floor("D").to_numpy()
    pairs = pd.DataFrame({"item": rows["item_id"].astype(str).to_numpy(),
                          "youth": rows["youth_id"].astype(str).to_numpy(), "day": day})
    test_day = pd.to_datetime(test["created_at"], utc=True).dt.floor("D").to_numpy()
    items = test["item_id"].astype(str).to_numpy()
    out = np.zeros(len(test), dtype=np.float64)
    for moment in np.unique(test_day):
        window = pairs[(pairs["day"] >= moment - np.timedelta64(days, "D")) & (pairs["day"] < moment)]
        counts = window.drop_duplicates(["item", "youth"])["item"].value_counts()
        mine = test_day == moment
        out[mine] = counts.reindex(items[mine]).fillna(0).to_numpy(np.float64)
    return out


def served_positions(codes: np.ndarray, rank: np.ndarray, positions: np.ndarray, fusion: np.ndarray,
                     exposure: np.ndarray, weight: float) -> np.ndarray:
    """Positions of an order (``positions``) once put through the exposure policy as served: the
    item at position k gets its list's k-th best ``fusion`` score, divided by the exposure
    penalty (:func:`matching.fairness.exposure.penalise_exposure`); ties keep ``positions``."""
    from matching.fairness.exposure import penalise_exposure

    by_fusion = ordered_positions(codes, fusion, rank)
    kth_best = pd.Series(fusion, index=pd.MultiIndex.from_arrays([codes, by_fusion]))
    relevance = kth_best.reindex(pd.MultiIndex.from_arrays([codes, positions])).to_numpy(np.float64)
    return ordered_positions(codes, penalise_exposure(relevance, exposure, weight), positions.astype(np.float64))


def fusion_scores(test: pd.DataFrame) -> np.ndarray:
    """The fusion score of each row, from its logged score parts and the engine's weights."""
    from matching.recommend.ranking import VACANCY_WEIGHTS, combine

    return combine({name: test[name].to_numpy(np.float64) for name in VACANCY_WEIGHTS},
                   VACANCY_WEIGHTS).astype(np.float64)


def _served(test, codes, rank, labels, weights, fusion_positions, learned_positions, exposure,
            exposure_weight) -> dict[str, Any]:
    positions = served_positions(codes, rank, learned_positions, fusion_scores(test), exposure, exposure_weight)
    fusion, served = ips_dcg(codes, labels, weights, fusion_positions), ips_dcg(codes, labels, weights, positions)
    raw_fusion, raw_fusion_lists = ranx_scores(test, fusion_positions)
    raw, raw_lists = ranx_scores(test, positions)
    return {"ratio_ndcg_at_10": round(float(served.mean() / fusion.mean()), 6) if fusion.mean() > 0 else None,
            "p_value": _p_value(served, fusion), "learned": raw,
            "raw": {"ratio_ndcg_at_10": round(raw["ndcg@10"] / raw_fusion["ndcg@10"], 6) if raw_fusion["ndcg@10"] else None,
                    "p_value": _p_value(raw_lists, raw_fusion_lists)},
            "mixite_at_5": mixite_of(test, positions, SHORT_TOP),
            "exposure_at_5": exposure_share(test["item_id"], positions, SHORT_TOP),
            "how": (f"learned order, then the exposure penalty (weight {exposure_weight}) on the list's fusion scores "
                    f"given in that order, exposure read from the log ({EXPOSURE_DAYS} days before the list's day)"),
            "basis": "IPS-DCG@10 (unit weights without an examination curve)"}


def _ips(codes, rank, labels, weights, fusion_positions, learned_positions) -> dict[str, Any]:
    ideal = ordered_positions(codes, labels * weights, rank)
    sides: dict[str, dict[str, float]] = {"fusion": {}, "learned": {}}
    per_list = {}
    for k in (SHORT_TOP, TOP):
        best = float(ips_dcg(codes, labels, weights, ideal, k).mean())
        for side, positions in (("fusion", fusion_positions), ("learned", learned_positions)):
            values = ips_dcg(codes, labels, weights, positions, k)
            per_list[side, k] = values
            sides[side][f"dcg@{k}"] = round(float(values.mean()), 6)
            sides[side][f"ndcg@{k}"] = round(float(values.mean()) / best, 6) if best > 0 else 0.0
    fusion, learned = per_list["fusion", TOP], per_list["learned", TOP]
    return {**sides, "ratio_ndcg_at_10": round(float(learned.mean() / fusion.mean()), 6) if fusion.mean() > 0 else None,
            "p_value": _p_value(learned, fusion),
            "test": f"paired two-sided t-test on per-list IPS-DCG@{TOP}",
            "normalised": "mean IPS-DCG over the lists / mean ideal IPS-DCG (one constant for both orders)"}


def _p_value(learned: np.ndarray, fusion: np.ndarray) -> float:
    from scipy.stats import ttest_rel

    if learned.size < 2 or np.allclose(learned, fusion):
        return 1.0
    value = float(ttest_rel(learned, fusion).pvalue)
    return 1.0 if math.isnan(value) else value


def evaluate_split(frame: pd.DataFrame, split: datetime, feature_names: Sequence[str], *,
                   params: RankerParams | None = None) -> dict[str, Any]:
    """Train on lists before ``split`` and compare fusion and learned orders after it.

    The examination curve is estimated from the explored lists before ``split``
    (:func:`matching.learn.propensity.estimate_examination`, by :func:`train`, which also uses it
    as training weights); with it the headline ``ratio_ndcg_at_10`` and ``p_value`` are the
    inverse-propensity ones (``ips``), without it the raw-label ones. Explored lists after the
    split are left out of the comparison: the order they were shown in is not the fusion's.

    Returns:
        The document of ``passerelle ranker evaluate --json`` (module docstring).

    Raises:
        ValueError: no list before or after the split, or no positive label after it.
    """
    rows = vacancy_rows(frame)
    served = pd.to_datetime(rows["created_at"], utc=True)
    cut = pd.Timestamp(split)
    cut = cut.tz_localize("UTC") if cut.tzinfo is None else cut
    trained = train(rows[served < cut], feature_names, params=params, holdout_share=0.0)
    later = rows[served >= cut]
    explored = explored_rows(later)
    test = later[~explored].reset_index(drop=True)
    codes = pd.factorize(test["list_id"])[0] if len(test) else np.zeros(0, dtype=np.int64)
    labelled = pd.Series(test["label"].to_numpy() > 0).groupby(codes).transform("any").to_numpy() \
        if len(test) else np.zeros(0, dtype=bool)
    if not labelled.any():
        raise ValueError("no list with a positive label after the split date")
    from matching.fairness.policies import VacancyMix

    compared = test[labelled].reset_index(drop=True)
    return compare(compared, trained.ranker, propensity=trained.manifest["propensity"],
                   exposure=exposure_as_served(rows, compared), exposure_weight=VacancyMix().exposure_weight,
                   lists_without_positive=int(test["list_id"][~labelled].nunique()),
                   explored_lists_left_out=int(later["list_id"][explored].nunique()),
                   trained_on={"rows": trained.manifest["rows"], "lists": trained.manifest["lists"],
                               "weights": trained.manifest["weights"]},
                   split=cut.isoformat())


def compare(test: pd.DataFrame, ranker: LearnedRanker, *, propensity: dict[str, Any] | None = None,
            exposure: np.ndarray | None = None, exposure_weight: float = 0.5, **facts: Any) -> dict[str, Any]:
    """Fusion (logged rank) against ``ranker`` on ``test`` (lists with a positive label, served in
    the fusion's order); ``propensity``: :func:`~matching.learn.propensity.estimate_examination`'s
    document (its ``curve`` None: raw labels only); ``exposure``: each row's exposure as served
    (:func:`exposure_as_served`), for ``served`` (None without)."""
    curve = (propensity or {}).get("curve")
    codes = pd.factorize(test["list_id"])[0]
    rank = test["rank"].to_numpy(np.float64)
    fusion_positions = ordered_positions(codes, -rank, rank)
    learned_scores = ranker.score(design_matrix(test, ranker.feature_names, logged_rank=False))
    learned_positions = ordered_positions(codes, learned_scores, rank)
    fusion, fusion_lists = ranx_scores(test, fusion_positions)
    learned, learned_lists = ranx_scores(test, learned_positions)
    mix_fusion, mix_learned = mixite_of(test, fusion_positions), mixite_of(test, learned_positions)
    mixite: dict[str, Any] = {"fusion": mix_fusion, "learned": mix_learned,
                              "at_5": {"fusion": mixite_of(test, fusion_positions, SHORT_TOP),
                                       "learned": mixite_of(test, learned_positions, SHORT_TOP)},
                              "measure": f"share of non-traditional vacancies in the top {TOP} by youth gender, "
                                         "mix policy re-applied", "shortlist_ndkl": None,
                              "shortlist_infeasible_index": None, "shortlist_reason": NO_SHORTLIST}
    if mix_fusion is None:
        mixite["reason"] = "the log frame has no youth_gender / share_women columns"
    longest = int(test.groupby("list_id").size().max())
    if longest <= TOP:
        mixite["note"] = (f"logged lists hold at most {longest} items: both orders have the same top {TOP}, "
                          "so the top-10 figures are equal by construction; see at_5")
    raw_ratio = round(learned["ndcg@10"] / fusion["ndcg@10"], 6) if fusion["ndcg@10"] else None
    raw_p = _p_value(learned_lists, fusion_lists)
    ips = None
    labels, weights = test["label"].to_numpy(np.float64), ips_weights(test["rank"].to_numpy(), curve)
    if curve:
        ips = _ips(codes, rank, labels, weights, fusion_positions, learned_positions)
    served = None if exposure is None else _served(test, codes, rank, labels, weights, fusion_positions,
                                                   learned_positions, exposure, exposure_weight)
    return {
        "fusion": fusion,
        "learned": learned,
        "ratio_ndcg_at_10": raw_ratio if ips is None else ips["ratio_ndcg_at_10"],
        "p_value": raw_p if ips is None else ips["p_value"],
        "ratio_basis": RAW_BASIS if ips is None else IPS_BASIS,
        "test": SIGNIFICANCE_TEST if ips is None else ips["test"],
        "raw": {"ratio_ndcg_at_10": raw_ratio, "p_value": raw_p, "test": SIGNIFICANCE_TEST},
        "ips": ips,
        "served": served,
        "propensity": propensity,
        "mixite": mixite,
        "exposure": {"fusion": exposure_share(test["item_id"], fusion_positions),
                     "learned": exposure_share(test["item_id"], learned_positions),
                     "at_5": {"fusion": exposure_share(test["item_id"], fusion_positions, SHORT_TOP),
                              "learned": exposure_share(test["item_id"], learned_positions, SHORT_TOP)},
                     "measure": f"share of top-{TOP} suggestions going to the "
                                f"{EXPOSURE_TOP_SHARE:.0%} most-shown vacancies"},
        "lists": int(test["list_id"].nunique()),
        "rows": int(len(test)),
        "model_version": ranker.version,
        **facts,
    }
