"""TradeSearcher: a tiny known-answer fit (hashing), then the real referential (USE)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from matching.errors import UnknownRomeCode
from matching.search import trade_search
from matching.search.embeddings import HashingEmbedder, UseEmbedder
from matching.search.lexical import strip_intent
from matching.search.texts import trade_document, vacancy_texts, youth_query_texts
from matching.search.trade_scores import (
    GroupMax,
    _grouping,
    descending_order,
    max_per_group,
    reciprocal_ranks,
    sparse_product_dense,
    sparse_product_t,
)
from matching.search.trade_search import TradeSearcher, zscore_top

CARDS = {
    "A1506": (
        "Soigneur animalier / Soigneuse animalière",
        "Nourrit et soigne les animaux",
        ["Soigneur / Soigneuse de zoo", "Animalier / Animalière de parc zoologique"],
        ["Nourrir les animaux", "Nettoyer les enclos"],
    ),
    "D1102": (
        "Boulanger / Boulangère",
        "Prépare et cuit le pain et les viennoiseries",
        ["Boulanger / Boulangère en pain bio", "Ouvrier boulanger / Ouvrière boulangère"],
        ["Pétrir la pâte", "Façonner les pâtons"],
    ),
    "D1202": (
        "Coiffeur / Coiffeuse",
        "Coupe et coiffe les cheveux",
        ["Coiffeur / Coiffeuse mixte", "Coiffeur / Coiffeuse à domicile"],
        ["Couper les cheveux", "Réaliser une coloration"],
    ),
    "I1607": (
        "Mécanicien / Mécanicienne motocycles",
        "Répare les motos et les scooters",
        ["Mécanicien / Mécanicienne scooters", "Réparateur / Réparatrice de motos"],
        ["Réparer un moteur deux-roues", "Régler la carburation"],
    ),
}


def tiny_referential():
    codes = sorted(CARDS)
    cards = pd.DataFrame(
        {"label": [CARDS[c][0] for c in codes], "definition": [CARDS[c][1] for c in codes]},
        index=pd.Index(codes, name="code_rome"),
    )
    apps, skills = [], []
    for code in codes:
        label, _, extra, skill_labels = CARDS[code]
        for text in [label, *extra]:
            apps.append({"code_ogr": 1000 + len(apps), "label": text, "code_rome": code})
        for text in skill_labels:
            skills.append(
                {
                    "code_rome": code,
                    "code_ogr": 5000 + len(skills),
                    "label": text,
                    "kind": "savoir_faire",
                    "core": True,
                }
            )
    return SimpleNamespace(
        cards=cards,
        appellations=pd.DataFrame(apps),
        skills=pd.DataFrame(skills),
        codes=np.array(codes),
    )


@pytest.fixture(scope="module")
def tiny():
    ref = tiny_referential()
    return ref, TradeSearcher(n_jobs=1).fit(ref, HashingEmbedder(dim=512))


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("boulangère", "D1102"),
        ("coiffeuse à domicile", "D1202"),
        ("mécanicien scooter", "I1607"),
        ("soigneur de zoo", "A1506"),
    ],
)
def test_known_answers(tiny, query, code):
    ref, searcher = tiny
    positions, scores = searcher.search([query], top_k=2)
    assert ref.codes[positions[0, 0]] == code
    assert scores[0, 0] >= scores[0, 1]


def test_shapes_and_batch_equals_one_by_one(tiny):
    ref, searcher = tiny
    queries = ["boulangère", "coiffure", "réparer des motos"]
    scores = searcher.score(queries)
    assert scores.shape == (3, len(ref.codes)) and scores.dtype == np.float32
    single = np.vstack([searcher.score([q]) for q in queries])
    np.testing.assert_allclose(scores, single, atol=1e-5)
    positions, top = searcher.search(queries, top_k=3)
    assert positions.shape == (3, 3) and positions.dtype == np.int64 and top.dtype == np.float32
    np.testing.assert_allclose(top, np.take_along_axis(scores, positions, 1))
    assert (np.diff(top, axis=1) <= 0).all()


def test_excluded_appellations_leave_every_document(tiny):
    ref, _ = tiny
    held = ref.appellations.loc[ref.appellations["label"] == "Coiffeur / Coiffeuse", "code_ogr"]
    searcher = TradeSearcher(n_jobs=1).fit(ref, HashingEmbedder(dim=512), exclude_appellations=held)
    assert "Coiffeur / Coiffeuse" not in set(searcher.app_labels_)
    assert len(searcher.app_labels_) == len(ref.appellations) - 1


def test_explain_names_the_closest_appellation_and_skill(tiny):
    _, searcher = tiny
    why = searcher.explain("pétrir la pâte à pain", "D1102")
    assert why["skills"][0] == "Pétrir la pâte"
    assert why["appellation"] in {
        "Boulanger / Boulangère",
        "Boulanger / Boulangère en pain bio",
        "Ouvrier boulanger / Ouvrière boulangère",
    }
    assert set(why["components"]) == {"sem_app", "sem_doc", "sem_skill", "lex_app", "svm"}
    with pytest.raises(UnknownRomeCode):
        searcher.explain("pain", "X9999")


def test_save_load_round_trip(tiny, tmp_path):
    _, searcher = tiny
    searcher.save(tmp_path)
    loaded = TradeSearcher.load(tmp_path, embedder=HashingEmbedder(dim=512))
    queries = ["boulangère", "coiffure"]
    np.testing.assert_array_equal(searcher.score(queries), loaded.score(queries))
    with pytest.raises(ValueError, match="built with"):
        TradeSearcher.load(tmp_path, embedder=HashingEmbedder(dim=256))


def test_zscore_top_is_per_row():
    scores = np.array([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]], dtype=np.float32)
    z = zscore_top(scores, top=3)
    np.testing.assert_allclose(z[0], z[1], atol=1e-5)


def test_components_equal_the_direct_computation(tiny, monkeypatch):
    """Items x queries products, GroupMax and the dense lexical product change no value."""
    _, searcher = tiny
    monkeypatch.setattr(trade_search, "_CHUNK", 2)
    texts = ["boulangère en pain bio", "je veux réparer des motos", "zzz", "soigneur de zoo", "?"]
    parts = searcher.components(texts)
    vectors = searcher._embedder.encode_queries(texts)
    rows = searcher.tfidf_.transform([strip_intent(t) for t in texts])
    n = len(searcher.codes_)
    apps, skills = _grouping(searcher.app_cards_), _grouping(searcher.skill_pairs_[:, 1])
    skill_sims = vectors @ searcher._skill_vectors.T
    expected = {
        "sem_app": max_per_group(vectors @ searcher._app_vectors.T, *apps, n),
        "sem_doc": vectors @ searcher.doc_vectors_.T,
        "sem_skill": max_per_group(skill_sims[:, searcher.skill_pairs_[:, 0]], *skills, n),
        "lex_app": max_per_group((rows @ searcher._app_tfidf).toarray(), *apps, n),
        "svm": (rows @ searcher._svm_coef_t).toarray() + searcher.svm_intercept_,
    }
    for name, values in parts.items():
        assert values.dtype == np.float32 and values.shape == (len(texts), n)
        if name.startswith("sem"):  # the BLAS may sum a transposed product in another order
            np.testing.assert_allclose(values, expected[name], rtol=0, atol=1e-6)
        else:
            np.testing.assert_array_equal(values, expected[name])


def test_group_max_equals_reduceat():
    rng = np.random.default_rng(0)
    item_rows = rng.integers(0, 40, size=200)  # rows shared by several groups
    item_groups = rng.integers(0, 30, size=200)
    item_groups[item_groups == 7] = 8  # an absent group
    sims_t = rng.normal(size=(40, 6)).astype(np.float32)
    out = np.empty((6, 31), np.float32)
    GroupMax(item_rows, item_groups, 31).reduce(sims_t, out)
    order, starts, groups = _grouping(item_groups)
    expected = max_per_group(sims_t.T[:, item_rows], order, starts, groups, 31)
    np.testing.assert_array_equal(out, expected)
    assert (out[:, [7, 30]] == -1).all()
    GroupMax(np.zeros(0, np.int64), np.zeros(0, np.int64), 3).reduce(sims_t, out[:, :3])
    assert (out[:, :3] == -1).all()


def test_dense_sparse_products_sum_like_scipy(tiny):
    _, searcher = tiny
    texts = ["boulangère", "réparer un moteur de scooter", "", "soigneur animalier au zoo"]
    rows = searcher.tfidf_.transform(texts)
    product = sparse_product_t(rows, searcher._app_tfidf)
    assert product.flags.c_contiguous
    np.testing.assert_array_equal(product, (rows @ searcher._app_tfidf).toarray().T)
    np.testing.assert_array_equal(
        sparse_product_dense(rows, searcher._svm_coef_t), (rows @ searcher._svm_coef_t).toarray()
    )


def test_descending_order_is_the_stable_argsort():
    rng = np.random.default_rng(1)
    scores = np.round(rng.normal(size=(50, 300)), 1).astype(np.float32)  # many ties
    scores[:, :5] = [0.0, -0.0, np.inf, -np.inf, 0.0]
    expected = np.argsort(-scores, axis=1, kind="stable")
    np.testing.assert_array_equal(descending_order(scores), expected)
    np.testing.assert_array_equal(descending_order(scores.astype(np.float64)), expected)
    ranks = np.empty_like(expected)
    np.put_along_axis(ranks, expected, np.arange(300)[None, :], axis=1)
    np.testing.assert_array_equal(
        reciprocal_ranks(scores, 10.0), (1.0 / (10.0 + ranks)).astype(np.float32)
    )


def test_text_builders():
    assert trade_document("Boulanger / Boulangère", "Prépare le pain.\nCuit le pain") == (
        "Boulanger / Boulangère. Prépare le pain. Cuit le pain"
    )
    assert trade_document("X", "Prépare", include_label=False) == "Prépare"
    youth = SimpleNamespace(
        wished_trades=("D1102", "coiffure"),
        experiences=("stage en garage",),
        interests="les animaux",
    )
    ref = tiny_referential()
    ref.has_card = lambda code: code in ref.cards.index
    assert youth_query_texts(youth, ref) == [
        ("Boulanger / Boulangère", 1.0),
        ("coiffure", 1.0),
        ("stage en garage", 0.8),
        ("les animaux", 0.6),
    ]
    vacancy = SimpleNamespace(title=" Boulanger H/F ", description=None)
    assert vacancy_texts(vacancy) == ("Boulanger H/F", "")


@pytest.fixture(scope="module")
def real_searcher(tmp_path_factory):
    from matching.referential.loader import load_referential

    ref = load_referential(cache_dir=tmp_path_factory.mktemp("ref-cache"))
    return ref, TradeSearcher().fit(ref, UseEmbedder(threads=2))


@pytest.mark.model
@pytest.mark.slow
def test_real_bread_query_puts_d1102_first(real_searcher, tmp_path):
    ref, searcher = real_searcher
    positions, _ = searcher.search(["je veux travailler avec du pain"], top_k=5)
    assert ref.codes[positions[0, 0]] == "D1102"
    searcher.save(tmp_path)
    loaded = TradeSearcher.load(tmp_path, embedder=UseEmbedder(threads=2))
    queries = ["je veux travailler avec du pain", "réparer des scooters"]
    np.testing.assert_array_equal(searcher.score(queries), loaded.score(queries))


def test_held_out_label_leaves_training_in_every_form():
    ref = tiny_referential()
    apps = ref.appellations
    extra = pd.DataFrame(
        [
            {"code_ogr": 9998, "label": "Coiffeur / Coiffeuse mixte", "code_rome": "D1202"},
            {"code_ogr": 9999, "label": "Coiffeur(se) mixte", "code_rome": "D1202"},
        ]
    )
    ref.appellations = pd.concat([apps, extra], ignore_index=True)
    held = apps.loc[apps["label"] == "Coiffeur / Coiffeuse mixte", "code_ogr"]  # not 9998
    searcher = TradeSearcher(n_jobs=1).fit(ref, HashingEmbedder(dim=512), exclude_appellations=held)
    # The same label on another appellation and its other written form go too.
    assert not {"Coiffeur / Coiffeuse mixte", "Coiffeur(se) mixte"} & set(searcher.app_labels_)
    assert len(searcher.app_labels_) == len(ref.appellations) - 3


@pytest.mark.parametrize("fusion", ["rrf", "zscore"])
def test_fusions_rank_the_obvious_card_first(fusion, tmp_path):
    ref = tiny_referential()
    searcher = TradeSearcher(n_jobs=1, fusion=fusion).fit(ref, HashingEmbedder(dim=512))
    positions, _ = searcher.search(["boulangère"], top_k=1)
    assert ref.codes[positions[0, 0]] == "D1102"
    searcher.save(tmp_path)
    assert TradeSearcher.load(tmp_path, embedder=HashingEmbedder(dim=512)).fusion == fusion
    with pytest.raises(ValueError, match="fusion"):
        TradeSearcher(fusion="max")
