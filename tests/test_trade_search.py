"""TradeSearcher: a tiny known-answer fit (hashing), then the real referential (USE)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from matching.embeddings import HashingEmbedder, UseEmbedder
from matching.errors import UnknownRomeCode
from matching.text import trade_document, vacancy_texts, youth_query_texts
from matching.trade_search import TradeSearcher, zscore_top

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
    from matching.referential import load_referential

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
