"""Candidate shortlists balanced toward the ``pool`` target (Geyik et al., KDD 2019).

For each vacancy the engine's relevance-only ranking of every youth within reach is fetched
once (``top_k`` large, ``Balance(policy="off")``). Its first ``qualified_top`` (100) define the
``pool`` target: the share of each gender group, ``not_stated`` included, among qualified
candidates, exactly as :func:`matching.fairness.policies.rerank_candidate_list` computes it. This oracle
matches the engine's own pool when every candidate within reach is fetched, i.e. when at most
``FETCH_MIN`` (200) youths are within reach: only such vacancies are drawn.

A shortlist is *feasible* when, for every group, the candidates within reach hold at least
floor(p_g k) of it (the prefix floors then have enough candidates; the paper proves DetGreedy
feasible for up to 3 groups, and with 4 it can fail).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matching.fairness import metrics as evaluation
from matching.fairness.policies import Balance
from matching.fairness.shortlist import target_from_pool
from matching.recommend.recommender import FETCH_MIN, Recommender

ALL_WITHIN_REACH = 500
"""``top_k`` of the call that fetches every youth within reach (fetch = 20 x top_k)."""


@dataclass
class Reach:
    """Every youth within reach of each vacancy, in the engine's relevance order."""

    vacancy_ids: list[str]
    rows: list[np.ndarray]  # youth rows, int64 (n_reach,)
    scores: list[np.ndarray]  # float64 (n_reach,)


def within_reach(engine: Recommender, vacancy_ids: list[str], chunk: int = 250) -> Reach:
    """Rank every youth within reach of each vacancy by relevance (no balance)."""
    rows, scores = [], []
    off = Balance(policy="off")
    table = engine.youths
    for start in range(0, len(vacancy_ids), chunk):
        for result in engine.find_candidates(
            vacancy_ids[start : start + chunk], ALL_WITHIN_REACH, balance=off
        ):
            rows.append(np.array([table.rows[c.youth_id] for c in result.items], dtype=np.int64))
            scores.append(np.array([c.score for c in result.items], dtype=np.float64))
    return Reach(list(vacancy_ids), rows, scores)


def choose_vacancies(reach: Reach, count: int, top_k: int, seed: int) -> tuple[list[int], dict]:
    """Draw ``count`` vacancies with at least ``top_k`` and at most FETCH_MIN youths within reach."""
    sizes = np.array([r.size for r in reach.rows])
    enough = sizes >= top_k
    exact = enough & (sizes <= min(FETCH_MIN, ALL_WITHIN_REACH - 1))
    eligible = np.flatnonzero(exact)
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(eligible, size=min(count, eligible.size), replace=False))
    return chosen.tolist(), {
        "vacancies_generated": int(sizes.size),
        "with_at_least_k_within_reach": int(enough.sum()),
        "with_more_than_fetch_min_within_reach": int((sizes > FETCH_MIN).sum()),
        "drawn": int(chosen.size),
        "median_within_reach_drawn": float(np.median(sizes[chosen])) if chosen.size else 0.0,
    }


def evaluate(
    engine: Recommender, reach: Reach, chosen: list[int], top_k: int, balances: dict[str, Balance]
) -> dict:
    """Shortlist the chosen vacancies under each balance and measure against the pool target."""
    groups_of = np.asarray(engine.youths.gender_group).astype(str)
    vacancy_ids = [reach.vacancy_ids[i] for i in chosen]
    targets, feasible = [], []
    qualified_top = Balance().qualified_top
    for i in chosen:
        target = target_from_pool(groups_of[reach.rows[i][:qualified_top]])
        counts = {g: int((groups_of[reach.rows[i]] == g).sum()) for g in target}
        targets.append(target)
        feasible.append(
            all(counts[g] >= evaluation.floor_share(p, top_k) for g, p in target.items())
        )
    feasible_arr = np.array(feasible)
    figures: dict = {"feasible_shortlists": int(feasible_arr.sum())}
    for name, balance in balances.items():
        results = engine.find_candidates(vacancy_ids, top_k, balance=balance)
        ii, ndkl, cost, engine_infeasible, same_as_oracle = [], [], [], [], []
        for i, target, result in zip(chosen, targets, results, strict=True):
            rows = np.array([engine.youths.rows[c.youth_id] for c in result.items], dtype=np.int64)
            groups = groups_of[rows]
            ii.append(evaluation.infeasible_index(groups, target, top_k))
            ndkl.append(evaluation.ndkl(groups, target))
            cost.append(evaluation.ndcg_cost(rows, reach.rows[i], reach.scores[i], top_k))
            engine_infeasible.append("infeasible" in result.notes)
            if balance.policy == "off":
                same_as_oracle.append(bool(np.array_equal(rows, reach.rows[i][:top_k])))
        ii_arr = np.array(ii)
        figures[name] = {
            "mean_infeasible_index": float(ii_arr.mean()),
            "feasible_with_infeasible_index_0": int((ii_arr[feasible_arr] == 0).sum()),
            "share_feasible_with_infeasible_index_0": float((ii_arr[feasible_arr] == 0).mean())
            if feasible_arr.any()
            else float("nan"),
            "mean_ndkl": float(np.mean(ndkl)),
            "mean_ndcg_cost": float(np.mean(cost)),
            "p90_ndcg_cost": float(np.quantile(cost, 0.9)),
            "engine_flagged_infeasible": int(np.sum(engine_infeasible)),
        }
        if same_as_oracle:
            figures[name]["relevance_order_matches_oracle"] = float(np.mean(same_as_oracle))
    groups_total: dict[str, float] = {}
    for target in targets:
        for g, p in target.items():
            groups_total[g] = groups_total.get(g, 0.0) + p / len(targets)
    figures["mean_pool_target"] = {g: round(p, 4) for g, p in sorted(groups_total.items())}
    return figures


def candidate_lists(engine: Recommender, reach: Reach, chosen: list[int], size: int = 100):
    """The first ``size`` candidates of each chosen vacancy: (rows, scores, genders, qpv)."""
    table = engine.youths
    lists = []
    for i in chosen:
        rows = reach.rows[i][:size]
        lists.append(
            (
                rows,
                reach.scores[i][:size].astype(np.float32),
                np.asarray(table.gender_group)[rows],
                np.asarray(table.qpv_group)[rows],
            )
        )
    return lists
