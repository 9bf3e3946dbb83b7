"""Offline evaluation: the JSON document, a known signal found, label noise not mistaken for one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmarks.learn.synthetic_log import synthetic_log
from matching.learn.evaluate import (
    evaluate_split,
    exposure_share,
    ips_dcg,
    mixite_of,
    ordered_positions,
)
from matching.learn.features import VACANCY_FEATURES
from matching.learn.ranker import RankerParams

pytest.importorskip("ranx")
SPLIT = pd.Timestamp("2026-02-14T00:00Z").to_pydatetime()  # about 2/3 of the 60 days
PARAMS = RankerParams(num_boost_round=40, num_threads=1)
KEYS = {"fusion", "learned", "ratio_ndcg_at_10", "p_value", "mixite", "exposure"}
METRICS = {"ndcg@5", "ndcg@10", "ndcg@20", "recall@10", "mrr"}


@pytest.fixture(scope="module")
def noise():
    return evaluate_split(synthetic_log(1200, signal="noise", seed=11), SPLIT, VACANCY_FEATURES, params=PARAMS)


def test_document_keys(noise):
    assert KEYS <= set(noise)
    assert set(noise["fusion"]) == METRICS == set(noise["learned"])
    assert set(noise["exposure"]) >= {"fusion", "learned"} and set(noise["mixite"]) >= {"fusion", "learned"}
    assert noise["mixite"]["fusion"] is None and noise["mixite"]["reason"]  # no gender in this log
    assert set(noise["exposure"]["at_5"]) == {"fusion", "learned"} and "note" not in noise["mixite"]  # lists of 20
    assert noise["lists"] + noise["lists_without_positive"] > noise["lists"] > 300
    assert noise["trained_on"]["lists"] > 700


def test_label_noise_is_not_a_signal(noise):
    assert 0.9 <= noise["ratio_ndcg_at_10"] <= 1.1
    assert noise["p_value"] > 0.1


def test_a_known_signal_is_found():
    found = evaluate_split(synthetic_log(300, signal="tension", seed=12), SPLIT, VACANCY_FEATURES, params=PARAMS)
    assert found["ratio_ndcg_at_10"] > 1.4 and found["p_value"] < 1e-6
    assert found["learned"]["ndcg@10"] > 0.95


def test_positions_exposure_and_mixite_by_hand():
    codes = np.array([0, 0, 0, 1, 1])
    positions = ordered_positions(codes, np.array([0.1, 0.9, 0.5, 2.0, 2.0]), rank=np.array([1, 2, 3, 2, 1]))
    assert positions.tolist() == [3, 1, 2, 2, 1]  # ties by logged rank
    items = pd.Series(["a", "a", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j"])
    assert exposure_share(items, np.ones(12, dtype=int)) == pytest.approx(3 / 12)  # 1 of 10 vacancies holds 3
    test = pd.DataFrame({"list_id": ["l1"] * 3 + ["l2"] * 2, "item_id": list("vwxyz"), "rank": [1, 2, 3, 1, 2],
                         "youth_gender": ["F"] * 3 + ["M"] * 2, "share_women": [0.2, 0.5, 0.9, 0.7, 0.3],
                         "employer_id": list("ABCDE"), "family_other": 1.0})
    shares = mixite_of(test, np.array([1, 2, 3, 1, 2]), top=2)
    assert shares == {"F": 0.5, "M": 0.5}  # F keeps 0.2 and 0.5; M keeps 0.7 and 0.3
    one_employer = test.assign(employer_id="A")
    assert mixite_of(one_employer, np.array([1, 2, 3, 1, 2]), top=2) == {"F": 0.5, "M": 0.5}


def test_position_bias_alone_favours_the_logged_order_unless_corrected():
    """Labels that depend on the rank shown only (no signal), 30 % of the lists explored: raw
    labels favour the logged order; inverse propensity with the curve estimated from the
    explored lists (never given the true exponent) sees no difference."""
    found = evaluate_split(synthetic_log(1200, signal="position", seed=13, explore=0.3), SPLIT, VACANCY_FEATURES,
                           params=PARAMS)
    assert found["raw"]["ratio_ndcg_at_10"] < 0.9 and found["raw"]["p_value"] < 0.01
    assert found["ratio_basis"].startswith("inverse propensity") and found["ips"] is not None
    assert 0.9 <= found["ratio_ndcg_at_10"] <= 1.1 and found["p_value"] > 0.05
    assert found["ratio_ndcg_at_10"] == found["ips"]["ratio_ndcg_at_10"]
    assert found["explored_lists_left_out"] > 50 and found["propensity"]["curve"][1] == 1.0


def test_without_explored_lists_the_headline_is_raw_and_says_why(noise):
    assert noise["propensity"]["curve"] is None and "explored" in noise["propensity"]["reason"]
    assert noise["ips"] is None and noise["ratio_basis"].startswith("raw labels")
    assert noise["ratio_ndcg_at_10"] == noise["raw"]["ratio_ndcg_at_10"]


def test_ips_dcg_by_hand():
    codes = np.array([0, 0, 1])
    labels, weights = np.array([0.0, 2.0, 1.0]), np.array([1.0, 2.0, 1.0])
    moved = ips_dcg(codes, labels, weights, positions=np.array([2, 1, 1]))
    assert moved.tolist() == pytest.approx([4.0, 1.0])
    plain = ips_dcg(codes, labels, np.ones(3), positions=np.array([1, 4, 1]))
    assert plain.tolist() == pytest.approx([2 / np.log2(5), 1.0])
