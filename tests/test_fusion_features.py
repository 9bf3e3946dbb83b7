"""The learned fusion's extra scores: words of a card's appellations, neighbour votes, parity."""

from __future__ import annotations

import numpy as np
from test_trade_search import tiny_referential

from matching.search import fusion_features as ff
from matching.search import learned_fusion as lf
from matching.search.embeddings import HashingEmbedder
from matching.search.trade_search import COMPONENTS, TradeSearcher

LABELS = ["Boulanger / Boulangère", "Boulanger pâtissier", "Soudeur à l'arc", "Soudeur TIG"]


def test_words_drop_intent_glue_and_plural():
    assert ff.words("Soudeur / Soudeuse à l'arc électrique") == ["soudeur", "arc", "electrique"]
    assert ff.words("je veux travailler avec du pain") == ["pain"]
    assert ff.words("Ouvriers des travaux publics") == ["ouvrier", "travau", "public"]


def test_word_features_of_a_known_index():
    index = ff.WordIndex(LABELS, np.array([0, 0, 1, 1]), 3)
    out = index.features(["boulanger de nuit", "soudeur arc", "xyz"])
    # "boulanger" is card 0's head word on both appellations; "nuit" is unknown (counts in
    # the total, matches nothing); "xyz" matches nothing anywhere.
    np.testing.assert_allclose(out["head_word"], [[1, 0, 0], [0, 1, 0], [0, 0, 0]])
    assert 0 < out["word_cover"][0, 0] < 1 and out["word_cover"][0, 1:].sum() == 0
    np.testing.assert_allclose(out["word_cover"][1], [0, 1, 0], rtol=1e-6)
    # "arc" is in one of card 1's two appellations: share below cover.
    assert out["word_share"][1, 1] < out["word_cover"][1, 1]
    np.testing.assert_allclose(out["last_word"], [[0, 0, 0], [0, 1, 0], [0, 0, 0]])
    assert all(v.dtype == np.float32 and v.shape == (3, 3) for v in out.values())


def test_knn_votes_sum_the_nearest_appellations_per_card():
    sims_t = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.7], [0.2, 0.6]], np.float32)
    mass, count = ff.knn_votes(sims_t, np.array([0, 0, 1, 1]), 3, k=2)
    np.testing.assert_allclose(mass, [[1.7, 0, 0], [0, 1.3, 0]], rtol=1e-6)
    np.testing.assert_array_equal(count, [[2, 0, 0], [0, 2, 0]])


def test_extras_are_components_and_leave_the_five_unchanged():
    searcher = TradeSearcher(n_jobs=1).fit(tiny_referential(), HashingEmbedder(dim=512))
    texts = ["boulangère", "mécanicien scooter", "soigneur de zoo"]
    plain = searcher.components(texts)
    assert set(plain) == set(COMPONENTS)  # no learned fusion: the five signals only
    both = searcher.components(texts, names=(*COMPONENTS, *ff.EXTRAS))
    for name in COMPONENTS:
        np.testing.assert_array_equal(both[name], plain[name])
    for name in ff.EXTRAS:
        assert both[name].shape == (3, len(searcher.codes_)) and np.isfinite(both[name]).all()
    # Query by query (other chunks) gives the same extras.
    one = searcher.components(texts[1:2], names=ff.EXTRAS)
    for name in ff.EXTRAS:
        np.testing.assert_allclose(one[name][0], both[name][1], rtol=1e-5, atol=1e-6)
    # The pair features name every extra and its gap to the query's best.
    names = lf.feature_names()
    assert all(name in names and f"{name}_gap" in names for name in ff.EXTRAS)
