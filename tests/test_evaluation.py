"""Metrics: hand-computed values, and ranx as an independent oracle for NDCG, recall, MRR."""

from __future__ import annotations

import math

import numpy as np
import pytest

from matching.fairness.metrics import (
    catalogue_coverage,
    ceil_share,
    floor_share,
    group_exposure,
    infeasible_count,
    infeasible_index,
    intra_list_diversity,
    max_skew_at_k,
    min_skew_at_k,
    mrr,
    ndcg_at_k,
    ndcg_cost,
    ndkl,
    recall_at_k,
    skew_at_k,
)

HALF = {"A": 0.5, "B": 0.5}


def test_floor_and_ceil_tolerate_rounding() -> None:
    # 0.1 * 3 = 0.30000000000000004 and (1 - 0.9) * 10 = 0.9999999999999998 in floating point
    assert floor_share(1 - 0.9, 10) == 1
    assert ceil_share(0.1, 30) == 3
    assert floor_share(0.45, 5) == 2 and ceil_share(0.45, 5) == 3


def test_skew() -> None:
    ranked = ["A", "A", "B", "A"]
    # A: 3/4 vs 1/2 -> ln 1.5 = 0.405465; B: 1/4 vs 1/2 -> ln 0.5 = -0.693147
    assert skew_at_k(ranked, HALF, "A", 4, eps=0.0) == pytest.approx(math.log(1.5))
    assert skew_at_k(ranked, HALF, "B", 4, eps=0.0) == pytest.approx(math.log(0.5))
    assert min_skew_at_k(ranked, HALF, 4) == pytest.approx(math.log(0.5), abs=1e-3)
    assert max_skew_at_k(ranked, HALF, 4) == pytest.approx(math.log(1.5), abs=1e-3)
    # top 2 = A A: B absent -> ln(eps / (0.5 + eps)), finite
    assert skew_at_k(ranked, HALF, "B", 2, eps=1e-4) == pytest.approx(math.log(1e-4 / 0.5001))


def test_ndkl() -> None:
    # i=1: D=(1, 0), KL = 1 ln(1/0.5) = ln 2, weight 1/log2(2) = 1
    # i=2: D=(.5, .5), KL = 0, weight 1/log2(3) = 0.63093
    # NDKL = ln 2 / (1 + 0.63093) = 0.693147 / 1.63093 = 0.425000
    assert ndkl(["A", "B"], HALF) == pytest.approx(math.log(2) / (1 + 1 / math.log2(3)))
    assert ndkl(["A", "B", "B", "A"], HALF) > 0
    assert ndkl([], HALF) == 0.0
    assert ndkl(["A"], {"A": 1.0}) == pytest.approx(0.0)


def test_infeasible_index_and_count() -> None:
    # A A A B with halves: B's floor floor(i/2) is 1 at i=2, 1 at i=3, 2 at i=4 while B has
    # 0, 0, 1 -> prefixes 2, 3, 4 infeasible; A is never short.
    assert infeasible_index(["A", "A", "A", "B"], HALF, 4) == 3
    assert infeasible_count(["A", "A", "A", "B"], HALF, 4) == 3
    thirds = {"A": 1 / 3, "B": 1 / 3, "C": 1 / 3}
    # A A A: floors 0, 0, 1 -> at i=3 both B and C short: index 1, count 2
    assert infeasible_index(["A", "A", "A"], thirds, 3) == 1
    assert infeasible_count(["A", "A", "A"], thirds, 3) == 2
    assert infeasible_index(["A", "B", "C"], thirds, 3) == 0
    assert infeasible_index(["A", "A", "A", "B"], HALF, 1) == 0


def test_group_exposure() -> None:
    # A at ranks 1 and 3: 1/log2(2) + 1/log2(4) = 1 + 0.5; B at rank 2: 1/log2(3) = 0.63093
    exposure = group_exposure(["A", "B", "A", "B"], 3)
    assert exposure == pytest.approx({"A": 1.5, "B": 1 / math.log2(3)})


def test_coverage_and_intra_list_diversity() -> None:
    # ids {1, 2, 3} out of 10; the padding id -1 is ignored
    assert catalogue_coverage([[1, 2], [2, 3, -1]], 10) == pytest.approx(0.3)
    s = 1 / math.sqrt(2)
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [s, s]])
    # pairs: 1 - 0 = 1, 1 - s, 1 - s -> (1 + 2 (1 - 0.70711)) / 3 = 0.528595
    assert intra_list_diversity(vectors) == pytest.approx((1 + 2 * (1 - s)) / 3)
    assert intra_list_diversity(vectors[:1]) == 0.0


def test_ndcg_known_answer() -> None:
    # grades 3 2 3 0 1 2: DCG = 3 + 2/log2 3 + 3/2 + 0 + 1/log2 6 + 2/log2 7 = 6.86112
    # ideal 3 3 2 2 1 0: IDCG = 3 + 3/log2 3 + 2/2 + 2/log2 5 + 1/log2 6 = 7.14100
    assert ndcg_at_k([3, 2, 3, 0, 1, 2], 6) == pytest.approx(6.86112 / 7.14100, abs=1e-5)
    assert ndcg_at_k([0, 0], 2) == 0.0
    # with all the query's grades, the unretrieved 3 lowers NDCG@2: DCG 1, IDCG 3 + 1/log2 3
    assert ndcg_at_k([1, 0], 2, ideal_relevances=[3, 1]) == pytest.approx(
        1 / (3 + 1 / math.log2(3))
    )


def test_ndcg_cost() -> None:
    ids, scores = [10, 11, 12], [1.0, 0.5, 0.25]
    # reranked 12 10 11: DCG = 0.25 + 1/log2 3 + 0.5/2 = 1.13093
    # ideal 10 11 12: IDCG = 1 + 0.5/log2 3 + 0.25/2 = 1.44046 -> cost 1 - 0.78512 = 0.21488
    assert ndcg_cost([12, 10, 11], ids, scores, 3) == pytest.approx(0.21488, abs=1e-5)
    assert ndcg_cost(ids, ids, scores, 3) == pytest.approx(0.0)
    # an item outside the relevance-only list gains 0: 1 - 1/(1 + 0.5/log2 3) = 0.23981
    assert ndcg_cost([10, 99], ids, scores, 2) == pytest.approx(1 - 1 / (1 + 0.5 / math.log2(3)))


def test_recall_and_mrr_known_answers() -> None:
    ranked = np.array([[1, 2, 3], [4, 5, 6], [7, 8, -1]])
    relevant = [{1, 3, 9}, {7}, {8}]
    # recall@2: q1 {1} of 3 -> 1/3, q2 0, q3 {8} of 1 -> 1: mean 4/9
    assert recall_at_k(ranked, relevant, 2) == pytest.approx(4 / 9)
    # mrr: q1 rank 1 -> 1, q2 none -> 0, q3 rank 2 -> 1/2: mean 1/2
    assert mrr(ranked, relevant) == pytest.approx(0.5)
    assert mrr(ranked, relevant, k=1) == pytest.approx(1 / 3)
    # a query without relevant ids is skipped
    assert recall_at_k(ranked, [{1}, set(), {8}], 3) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        recall_at_k(ranked, [{1}], 3)


@pytest.mark.filterwarnings("ignore:unsafe cast")
def test_against_ranx() -> None:
    ranx = pytest.importorskip("ranx")
    rng = np.random.default_rng(7)
    n_queries, n_docs, depth = 20, 40, 15
    ranked = np.stack([rng.permutation(n_docs)[:depth] for _ in range(n_queries)])
    grades = [
        {int(d): int(rng.integers(1, 4)) for d in rng.choice(n_docs, rng.integers(1, 8), False)}
        for _ in range(n_queries)
    ]
    qrels = ranx.Qrels(
        {f"q{q}": {f"d{d}": g for d, g in grades[q].items()} for q in range(n_queries)}
    )
    run = ranx.Run(
        {
            f"q{q}": {f"d{d}": float(depth - r) for r, d in enumerate(ranked[q])}
            for q in range(n_queries)
        }
    )
    expected = ranx.evaluate(qrels, run, ["ndcg@10", "recall@10", "mrr@10"])
    relevant = [set(g) for g in grades]
    ndcgs = [
        ndcg_at_k(
            [grades[q].get(int(d), 0) for d in ranked[q]],
            10,
            ideal_relevances=list(grades[q].values()),
        )
        for q in range(n_queries)
    ]
    assert float(np.mean(ndcgs)) == pytest.approx(expected["ndcg@10"], abs=1e-6)
    assert recall_at_k(ranked, relevant, 10) == pytest.approx(expected["recall@10"], abs=1e-6)
    assert mrr(ranked, relevant, k=10) == pytest.approx(expected["mrr@10"], abs=1e-6)
