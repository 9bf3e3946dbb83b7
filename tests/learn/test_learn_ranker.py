"""The learned ranker: known answers, text round trip, no pickle, determinism, manifest."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks.learn.synthetic_log import synthetic_log
from matching.learn.features import VACANCY_FEATURES
from matching.learn.ranker import (
    LearnedRanker,
    RankerParams,
    design_matrix,
    group_sizes,
    vacancy_rows,
)
from matching.learn.training import ndcg_by_list, train

SMALL = RankerParams(num_boost_round=30, learning_rate=0.08, num_leaves=31, min_data_in_leaf=10, num_threads=1)


@pytest.fixture(scope="module")
def tension_model():
    """Labels are the quartile of ``tension`` within each list: the right order is known."""
    frame = synthetic_log(300, signal="tension", seed=1)
    return frame, train(frame, VACANCY_FEATURES, params=SMALL, now=pd.Timestamp("2026-03-01T00:00Z"))


def test_known_answer_the_label_feature_orders_the_list(tension_model):
    frame, trained = tension_model
    one = frame[frame["list_id"] == frame["list_id"].iloc[-1]]
    scores = trained.ranker.score(design_matrix(one, VACANCY_FEATURES, logged_rank=False))
    by_score = one["tension"].to_numpy()[np.argsort(-scores, kind="stable")]
    # top 5 by score are the 5 highest tensions (quartile 3), bottom 5 the 5 lowest
    assert set(by_score[:5]) == set(np.sort(one["tension"].to_numpy())[-5:])
    assert set(by_score[-5:]) == set(np.sort(one["tension"].to_numpy())[:5])
    metrics = trained.manifest["metrics"]
    assert metrics["ndcg@10"]["learned"] > 0.97 > metrics["ndcg@10"]["fusion"]


def test_rank_shown_is_fixed_at_inference(tension_model):
    frame, trained = tension_model
    features = frame[list(VACANCY_FEATURES)].to_numpy(np.float32)[:20]
    moved = features.copy()
    moved[:, list(VACANCY_FEATURES).index("rank_shown")] = 17.0
    np.testing.assert_array_equal(trained.ranker.score(features), trained.ranker.score(moved))


def test_text_round_trip_gives_identical_scores(tension_model, tmp_path: Path):
    frame, trained = tension_model
    features = frame[list(VACANCY_FEATURES)].to_numpy(np.float32)
    (tmp_path / "model.txt").write_text(trained.ranker.to_text(), encoding="utf-8")
    import json
    (tmp_path / "manifest.json").write_text(json.dumps(trained.manifest), encoding="utf-8")
    loaded = LearnedRanker.load(tmp_path)
    assert loaded.version == trained.manifest["version"]
    np.testing.assert_array_equal(loaded.score(features), trained.ranker.score(features))
    assert (tmp_path / "model.txt").read_text().startswith("tree")


def test_training_is_deterministic_and_the_manifest_describes_the_data(tension_model):
    frame, trained = tension_model
    again = train(frame, VACANCY_FEATURES, params=SMALL, now=pd.Timestamp("2026-03-01T00:00Z"))
    assert again.ranker.to_text() == trained.ranker.to_text()
    manifest = trained.manifest
    assert manifest["version"] == again.manifest["version"]
    assert manifest["features"] == list(VACANCY_FEATURES)
    assert manifest["rows"] + manifest["holdout"]["rows"] == len(frame)
    assert manifest["lists"] == 240 and manifest["holdout"]["lists"] == 60
    assert len(manifest["data_sha256"]) == 64
    changed = frame.assign(label=frame["label"].to_numpy()[::-1])
    assert train(changed, VACANCY_FEATURES, params=SMALL).manifest["data_sha256"] != manifest["data_sha256"]
    assert manifest["parameters"]["num_threads"] == 1 and manifest["library"]["lightgbm"]


def test_until_keeps_earlier_rows_only():
    frame = synthetic_log(100, signal="tension", seed=2, days=10)
    until = pd.Timestamp("2026-01-10T00:00Z")
    trained = train(frame, VACANCY_FEATURES, params=SMALL, until=until.to_pydatetime())
    kept = frame[frame["created_at"] < until]
    assert trained.manifest["rows"] + trained.manifest["holdout"]["rows"] == len(kept)
    assert trained.manifest["training_window"]["until"].startswith("2026-01-10")


def test_trade_rows_are_left_out_and_lists_grouped():
    frame = synthetic_log(4, list_size=3, signal="noise", seed=3)
    frame.loc[frame.index[:3], "item_kind"] = "trade"
    rows = vacancy_rows(frame.sample(frac=1.0, random_state=0))
    assert (rows["item_kind"] == "vacancy").all() and len(rows) == 9
    np.testing.assert_array_equal(group_sizes(rows["list_id"].to_numpy()), [3, 3, 3])
    assert rows.groupby("list_id")["rank"].apply(lambda r: r.is_monotonic_increasing).all()


def test_ndcg_by_list_hand_computed():
    codes = np.array([0, 0, 0, 1, 1])
    labels = np.array([0, 2, 1, 0, 0])
    ndcg, positive = ndcg_by_list(codes, np.array([3.0, 2.0, 1.0, 1.0, 0.0]), labels, k=10)
    ideal = 2 + 1 / np.log2(3)
    assert ndcg[0] == pytest.approx((2 / np.log2(3) + 1 / 2) / ideal)
    assert positive.tolist() == [True, False] and ndcg[1] == 0.0


def test_no_pickle_in_the_learning_code():
    for path in Path("matching/learn").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)
                 for alias in node.names} | {getattr(node, "module", None) for node in ast.walk(tree)
                                               if isinstance(node, ast.ImportFrom)}
        assert not names & {"pickle", "joblib", "cloudpickle", "dill"}, path


def test_rows_without_a_list_id_or_logged_features_are_left_out():
    frame = synthetic_log(3, list_size=4, signal="noise", seed=4)
    frame.loc[frame.index[:4], "list_id"] = None  # logged before migration 0007
    frame.loc[frame.index[4:8], ["semantic", "trade", "distance"]] = np.nan  # no features logged
    rows = vacancy_rows(frame)
    assert len(rows) == 4 and rows["list_id"].nunique() == 1
