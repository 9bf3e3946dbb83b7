"""The learned order as served: the relevance the constraints read, and the evaluation's replay."""

from __future__ import annotations

import numpy as np
import pandas as pd

from matching.fairness.exposure import penalise_exposure
from matching.learn.evaluate import exposure_as_served, ordered_positions, served_positions
from matching.recommend.learned import learned_order


class _Fixed:
    version = "test"

    def __init__(self, scores):
        self._scores = np.asarray(scores, dtype=np.float64)

    def score(self, features):
        return self._scores


def test_the_constraints_read_the_fusion_scale_in_the_learned_order():
    fusion = np.array([0.9, 0.8, 0.7, 0.6], dtype=np.float32)
    # raw scores near 9, as IPS-weighted lambdarank gives: sigmoid would read 0.9999 for all
    order, relevance, learned = learned_order(_Fixed([8.1, 9.3, 8.7, 8.0]), np.zeros((4, 3)), fusion)
    assert order.tolist() == [1, 2, 0, 3]
    np.testing.assert_allclose(relevance, [0.9, 0.8, 0.7, 0.6])
    np.testing.assert_allclose(learned, [9.3, 8.7, 8.1, 8.0], rtol=1e-6)


def test_served_replay_gives_back_the_fusion_order_and_lowers_exposed_items():
    codes = np.zeros(4, dtype=np.int64)
    fusion = np.array([0.9, 0.8, 0.7, 0.6])
    exposure = np.array([10.0, 0.0, 0.0, 0.0])
    rank = np.arange(1.0, 5.0)
    fusion_order = ordered_positions(codes, fusion, rank)
    # the fusion through the policy is the fusion's exposure-penalised order (what was logged)
    expected = ordered_positions(codes, penalise_exposure(fusion, exposure, 0.5), rank)
    assert served_positions(codes, rank, fusion_order, fusion, exposure, 0.5).tolist() == expected.tolist()
    assert expected.tolist() == [4, 1, 2, 3]
    # a learned order that already puts the exposed item last keeps its order
    reverse = np.array([4, 3, 2, 1])
    assert served_positions(codes, rank, reverse, fusion, exposure, 0.5).tolist() == [4, 3, 2, 1]


def test_exposure_counts_distinct_youths_in_the_window_before_the_day():
    rows = pd.DataFrame({"item_id": ["a", "a", "a", "b", "a"], "youth_id": ["y1", "y1", "y2", "y1", "y3"],
                         "created_at": pd.to_datetime(["2026-01-01T09:00Z", "2026-01-01T10:00Z", "2026-01-03T09:00Z",
                                                       "2026-01-03T09:00Z", "2026-01-05T08:00Z"])})
    test = pd.DataFrame({"item_id": ["a", "b", "a", "a"],
                         "created_at": pd.to_datetime(["2026-01-05T12:00Z", "2026-01-05T12:00Z", "2026-01-01T12:00Z",
                                                       "2026-01-18T12:00Z"])})
    # day 5: y1 (twice) and y2 before the day, y3 the same day (not counted); day 1: nothing
    # before; day 18: only y3 (day 5) within the 14 days before
    assert exposure_as_served(rows, test).tolist() == [2.0, 1.0, 0.0, 1.0]
