"""Exploration (RandTop-n) and the examination curve estimated from it: known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from matching.learn.features import COLUMN, VACANCY_FEATURES
from matching.learn.propensity import estimate_examination, ips_weights, shuffle_top
from matching.recommend.exploration import explore, maybe_explore
from matching.recommend.lists import ListResult


def test_shuffle_top_logs_uniform_propensities():
    order, propensity = shuffle_top(5, np.random.default_rng(0), top=3)
    assert sorted(order[:3].tolist()) == [0, 1, 2] and order[3:].tolist() == [3, 4]
    assert propensity.tolist() == pytest.approx([1 / 3] * 3 + [1.0, 1.0])
    # every item lands at every shuffled rank with probability 1/3 (the logged propensity)
    rng = np.random.default_rng(1)
    counts = np.zeros((3, 3))
    for _ in range(6000):
        order, _ = shuffle_top(3, rng)
        counts[order, np.arange(3)] += 1
    assert counts / 6000 == pytest.approx(np.full((3, 3), 1 / 3), abs=0.03)


def test_explore_moves_items_features_and_rank_together():
    features = np.zeros((4, len(VACANCY_FEATURES)), dtype=np.float32)
    features[:, COLUMN["semantic"]] = [0.4, 0.3, 0.2, 0.1]
    features[:, COLUMN["rank_shown"]] = [1, 2, 3, 4]
    result = ListResult(["a", "b", "c", "d"], {"max_per_employer": 1}, features=features)
    shown = explore(result, np.random.default_rng(3))
    moved = {item: semantic for item, semantic in zip(shown.items, shown.features[:, COLUMN["semantic"]], strict=True)}
    assert moved == pytest.approx({"a": 0.4, "b": 0.3, "c": 0.2, "d": 0.1})  # features follow their item
    assert shown.features[:, COLUMN["rank_shown"]].tolist() == [1, 2, 3, 4]  # rank shown is the new one
    assert sorted(shown.items) == ["a", "b", "c", "d"] and shown.items != ["a", "b", "c", "d"]
    assert shown.propensities.tolist() == pytest.approx([0.25] * 4)
    assert shown.policy == {"max_per_employer": 1, "exploration": "randtop-n", "explored_top": 4}
    assert maybe_explore(result, 0.0, np.random.default_rng(3)) is result  # off by default
    assert maybe_explore(result, 1.0, np.random.default_rng(3)).propensities is not None


def _randomised_log(theta: np.ndarray, n_lists: int, seed: int) -> pd.DataFrame:
    """Lists of len(theta) items at random ranks; an item is positive with theta(rank) x 0.3."""
    rng = np.random.default_rng(seed)
    size = len(theta)
    rank = np.concatenate([rng.permutation(size) + 1 for _ in range(n_lists)])
    positive = rng.random(rank.size) < theta[rank - 1] * 0.3
    return pd.DataFrame({"list_id": np.repeat(np.arange(n_lists), size), "rank": rank,
                         "label": positive.astype(int), "propensity": 1.0 / size})


def test_the_estimator_recovers_a_known_examination_curve():
    truth = np.array([1.0, 0.8, 0.5, 0.45, 0.3, 0.28, 0.2, 0.15])  # not a power law
    found = estimate_examination(_randomised_log(truth, 6000, seed=4))
    curve = np.array([found["curve"][r] for r in range(1, 9)])
    assert curve == pytest.approx(truth, abs=0.05)
    assert np.all(np.diff(curve) <= 0) and found["lists"] == 6000
    assert ips_weights(np.array([1, 3, 20]), found["curve"]) == pytest.approx(1 / curve[[0, 2, 7]])


def test_no_explored_lists_no_curve():
    log = _randomised_log(np.ones(5), 500, seed=5).assign(propensity=np.nan)
    found = estimate_examination(log)
    assert found["curve"] is None and "explored lists" in found["reason"]
    assert ips_weights(np.array([1, 2]), None).tolist() == [1.0, 1.0]
