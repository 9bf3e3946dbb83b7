"""One contract suite for every embedder backend (hashing, tfidf, use)."""

from __future__ import annotations

import numpy as np
import pytest

from matching.search.embeddings import Embedder, TfidfEmbedder, make_embedder
from matching.search.lexical import collapse_gender, normalize_fr

TEXTS = [
    "Boulanger / Boulangère",
    "je veux travailler avec du pain",
    "Mécanicien / Mécanicienne motocycles",
    "réparer des scooters",
    "Coiffeur / Coiffeuse",
    "m'occuper de personnes âgées",
    "",
]
CORPUS = [
    "Boulanger / Boulangère. Prépare et réalise des produits de boulangerie et de viennoiserie",
    "Coiffeur / Coiffeuse. Réalise des soins capillaires, coupe et coiffe les cheveux",
    "Mécanicien / Mécanicienne motocycles. Entretient et répare les motos et scooters",
    "Aide-soignant / Aide-soignante. Réalise des soins d'hygiène et de confort aux patients",
    "Conducteur / Conductrice de poids lourd. Conduit un camion pour transporter des marchandises",
]


def _tfidf() -> TfidfEmbedder:
    return TfidfEmbedder(dim=4).fit(CORPUS)


@pytest.fixture(
    scope="module",
    params=[
        "hashing",
        "tfidf",
        pytest.param("use", marks=pytest.mark.model),
    ],
)
def embedder(request) -> Embedder:
    if request.param == "tfidf":
        return _tfidf()
    return make_embedder(request.param)


@pytest.mark.parametrize("side", ["encode_queries", "encode_documents"])
def test_shape_dtype_and_unit_norm(embedder, side):
    vectors = getattr(embedder, side)(TEXTS)
    assert isinstance(embedder, Embedder)
    assert vectors.shape == (len(TEXTS), embedder.dim)
    assert vectors.dtype == np.float32
    norms = np.linalg.norm(vectors[:-1], axis=1)  # the empty text may legitimately be zero
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)


def test_deterministic(embedder):
    np.testing.assert_array_equal(embedder.encode_queries(TEXTS), embedder.encode_queries(TEXTS))


def test_batch_equals_one_by_one(embedder):
    batch = embedder.encode_documents(TEXTS)
    single = np.vstack([embedder.encode_documents([t]) for t in TEXTS])
    np.testing.assert_allclose(batch, single, atol=1e-5)


def test_empty_batch(embedder):
    assert embedder.encode_queries([]).shape == (0, embedder.dim)


def test_progress_callback(embedder):
    calls = []
    embedder.encode_documents(TEXTS, on_progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (len(TEXTS), len(TEXTS))


def test_single_string_is_refused(embedder):
    with pytest.raises(TypeError):
        embedder.encode_queries("boulanger")


def test_related_texts_are_closer(embedder):
    vectors = embedder.encode_queries(
        ["Boulanger / Boulangère", "Boulanger", "Coiffeur / Coiffeuse"]
    )
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_tfidf_save_load_round_trip(tmp_path):
    model = _tfidf()
    model.save(tmp_path / "tfidf.npz")
    loaded = make_embedder("tfidf", path=tmp_path / "tfidf.npz")
    np.testing.assert_array_equal(model.encode_queries(TEXTS), loaded.encode_queries(TEXTS))


def test_unfitted_tfidf_says_what_to_do():
    with pytest.raises(RuntimeError, match="fit"):
        TfidfEmbedder().encode_queries(["boulanger"])


def test_unknown_embedder_name():
    with pytest.raises(ValueError, match="unknown embedder"):
        make_embedder("word2vec")


def test_st_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="folder not found"):
        make_embedder(f"st:{tmp_path / 'nope'}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Boulanger / Boulangère", "Boulanger"),
        ("Chef pâtissier / Cheffe pâtissière de restaurant", "Chef pâtissier de restaurant"),
        ("Accastilleur(se)-monteur(se) électronique", "Accastilleur-monteur électronique"),
        (
            "Technicien / Technicienne en électricité / électronique",
            "Technicien en électricité / électronique",
        ),
        ("coiffure", "coiffure"),
    ],
)
def test_collapse_gender(text, expected):
    assert collapse_gender(text) == expected


def test_normalize_fr():
    assert normalize_fr("Boulanger / Boulangère à l'Étape") == "boulanger a l etape"
