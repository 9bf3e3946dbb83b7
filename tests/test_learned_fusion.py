"""Learned trade-search fusion: known-answer reordering, text model round trip, RRF fallback."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_trade_search import tiny_referential

from matching.search import learned_fusion as lf
from matching.search.embeddings import HashingEmbedder
from matching.search.trade_search import TradeSearcher

QUERIES = ["boulangère", "mécanicien scooter", "soigneur de zoo", "coiffeuse à domicile"]


def test_reorder_puts_candidates_first_in_learned_order_and_keeps_the_values():
    rrf = np.array([[0.5, 0.3, 0.2, 0.1, 0.4]], dtype=np.float32)
    rows, cards = np.array([0, 0]), np.array([1, 2])
    out = lf.reorder(rrf, rows, cards, np.array([0.1, 0.9]))
    # Card 2 (learned best) takes the best value, card 1 the next; the others follow by RRF.
    np.testing.assert_array_equal(out, rrf[:, [1, 4, 0, 3, 2]])
    assert sorted(out[0]) == sorted(rrf[0])


def test_reorder_ties_keep_the_rrf_order():
    rrf = np.array([[0.1, 0.2, 0.3]], dtype=np.float32)
    out = lf.reorder(rrf, np.array([0, 0, 0]), np.array([0, 1, 2]), np.zeros(3))
    np.testing.assert_array_equal(out, rrf)


def test_candidates_are_the_union_of_each_signal_top():
    ranks = {"a": np.array([[0, 1, 2, 3]]), "b": np.array([[3, 2, 0, 1]])}
    rows, cards = lf.candidates(ranks, depth=1)
    assert rows.tolist() == [0, 0] and cards.tolist() == [0, 2]


def test_holdout_is_seeded_and_a_tenth():
    codes = np.arange(1000, 1300)
    first = lf.fusion_holdout(codes)
    assert first == lf.fusion_holdout(codes[::-1]) and len(first) == 30
    assert first != lf.fusion_holdout(codes, seed=1)


@pytest.fixture(scope="module")
def trained():
    ref = tiny_referential()
    searcher = TradeSearcher(n_jobs=1).fit(ref, HashingEmbedder(dim=512))
    apps = ref.appellations
    # The tiny referential's appellations repeated: enough pairs for LightGBM to split.
    texts, codes = apps["label"].tolist() * 30, apps["code_rome"].tolist() * 30
    model = lf.train_fusion(searcher, texts, codes, searcher.data_hash_)
    return searcher, model


def test_learned_fusion_loads_from_its_text_model_with_the_same_scores(trained, tmp_path):
    searcher, model = trained
    rank_fusion = searcher.score(QUERIES)
    searcher.learned_fusion_ = model
    try:
        learned = searcher.score(QUERIES)
        searcher.save(tmp_path)
    finally:
        searcher.learned_fusion_ = None
    text = (tmp_path / lf.MODEL_FILE).read_text(encoding="utf-8")
    assert text.startswith("tree") and "pickle" not in text
    loaded = TradeSearcher.load(tmp_path, embedder=HashingEmbedder(dim=512))
    assert loaded.learned_fusion_ is not None
    np.testing.assert_array_equal(loaded.score(QUERIES), learned)
    np.testing.assert_array_equal(loaded.score(QUERIES), learned)  # deterministic
    # Each row holds the rank-fusion values, in the learned order.
    np.testing.assert_array_equal(np.sort(learned, axis=1), np.sort(rank_fusion, axis=1))
    assert loaded.search(["boulangère"], top_k=1)[0][0, 0] == list(loaded.codes_).index("D1102")


def test_training_is_deterministic(trained):
    searcher, model = trained
    apps = tiny_referential().appellations
    again = lf.train_fusion(
        searcher, apps["label"].tolist() * 30, apps["code_rome"].tolist() * 30, "h"
    )
    assert again.booster.model_to_string() == model.booster.model_to_string()


def test_absent_or_stale_model_falls_back_to_rank_fusion(trained, tmp_path):
    searcher, model = trained
    expected = searcher.rank_fusion(searcher.components(QUERIES))
    searcher.learned_fusion_ = model
    try:
        searcher.save(tmp_path)
    finally:
        searcher.learned_fusion_ = None
    (tmp_path / lf.MODEL_FILE).unlink()
    loaded = TradeSearcher.load(tmp_path, embedder=HashingEmbedder(dim=512))
    assert loaded.learned_fusion_ is None
    np.testing.assert_array_equal(loaded.score(QUERIES), expected)
    # A model fitted for other data (another data hash) is not used either.
    lf.LearnedFusion.write(lf.LearnedFusion(model.booster, {**model.manifest, "data_hash": "x"}),
                           tmp_path)
    assert lf.LearnedFusion.load(tmp_path, searcher.data_hash_) is None
    # Nor one built with other features.
    manifest = {**model.manifest, "features": lf.feature_names()[:-1]}
    (tmp_path / lf.MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    assert lf.LearnedFusion.load(tmp_path, searcher.data_hash_) is None
    # Saving a searcher without a learned fusion removes the stale files.
    searcher.save(tmp_path)
    assert not (tmp_path / lf.MODEL_FILE).exists() and not (tmp_path / lf.MANIFEST_FILE).exists()


def test_fit_learns_no_fusion_from_too_few_held_out_appellations():
    searcher = TradeSearcher(n_jobs=1, learn_fusion=True).fit(
        tiny_referential(), HashingEmbedder(dim=512)
    )
    assert searcher.learned_fusion_ is None


def test_rank_fusion_read_off_the_ranks_equals_the_sorted_one(trained):
    searcher, _ = trained
    components = searcher.components(QUERIES)
    ranks = lf.signal_ranks(components)
    np.testing.assert_array_equal(
        searcher.rank_fusion(components, ranks), searcher.rank_fusion(components)
    )


def _reorder_by_lexsort(rrf, rows, cards, learned):
    """The reordering written as one sort per row over (candidate, learned, RRF rank)."""
    key = np.full(rrf.shape, -np.inf)
    key[rows, cards] = learned
    is_cand = np.isfinite(key)
    rank = lf.ranks_of_scores(rrf)
    order = np.lexsort((rank, -np.where(is_cand, key, 0.0), ~is_cand), axis=-1)
    out = np.empty_like(rrf)
    np.put_along_axis(out, order, -np.sort(-rrf, axis=1), axis=1)
    return out


@pytest.mark.parametrize("seed", range(20))
def test_reorder_equals_one_sort_per_row(seed):
    rng = np.random.default_rng(seed)
    rrf = rng.integers(0, 6, (4, 30)).astype(np.float32) / 10  # many ties
    inside = rng.random((4, 30)) < 0.3
    rows, cards = np.nonzero(inside)
    learned = rng.integers(0, 4, len(rows)).astype(np.float64)  # ties too
    np.testing.assert_array_equal(
        lf.reorder(rrf, rows, cards, learned), _reorder_by_lexsort(rrf, rows, cards, learned)
    )
