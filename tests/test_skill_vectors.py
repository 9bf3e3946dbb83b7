"""Skills read in their card, encoded once per model and data home: the vectors a list's skill
check reads instead of encoding them (``Workspace.skill_vectors``, ``SkillSense.use_vectors``)."""

from __future__ import annotations

import numpy as np
import pytest

from matching.recommend import ranking
from matching.recommend.skill_sense import SkillSense, in_card_strings
from service import workspace as workspace_module
from service.config import Settings
from service.workspace import Workspace

pytestmark = pytest.mark.model


def test_kept_vectors_are_the_encoders(engine_home, engine):
    """The engine's fixture built them; a second call loads them (memory-mapped) and each row is
    the encoder's vector of its string, to float16 precision."""
    loaded = engine_home.skill_vectors(engine.referential, engine.embedder)
    assert loaded is not None
    strings, vectors = loaded
    assert isinstance(vectors, np.memmap)
    assert strings == in_card_strings(engine.referential) and len(strings) == len(engine.referential.skills)
    rows = np.random.default_rng(3).choice(len(strings), 40, replace=False)
    fresh = engine.embedder.encode_queries([strings[i] for i in rows])
    assert np.abs(vectors[rows].astype(np.float32) - fresh).max() < 5e-3


def test_cited_skills_do_not_depend_on_where_vectors_come_from(engine):
    """Skills cited with the vectors encoded ahead are those cited when each is encoded on
    demand, on varied youths (homonyms of the word-sense set included)."""
    items = engine._items
    on_demand = SkillSense(engine.embedder, items._card_label, items.skill_index)
    texts = ["j'ai travaillé dans la restauration comme commis de cuisine", "serveur dans une brasserie",
             "je veux travailler avec du pain", "j'aime m'occuper des enfants", "restaurer des livres anciens"]
    codes = ["B1804", "B1806", "G1602", "G1603", "A1413", "D1102", "K1303", "B1403", "G1613", "D1106"]
    for text in texts:
        query, known = ranking.stems(text), (text,)
        assert items._sense.cited_many(codes, query, known, 3) == on_demand.cited_many(codes, query, known, 3)
    assert on_demand._skills_in_card and not items._sense._skills_in_card  # only the fresh one encoded


def test_built_once_and_rebuilt_when_the_referential_changes(tmp_path, engine, monkeypatch):
    """A data home keeps them with a manifest; other strings (another referential) rebuild them;
    the model-free embedders keep none."""
    strings = ["Boulanger / Boulangère : Pétrissage", "Cuisinier / Cuisinière : Cuisine du monde"]
    monkeypatch.setattr(workspace_module, "in_card_strings", lambda referential: list(strings))
    workspace = Workspace(Settings(home=tmp_path, model="use"))
    first = workspace.skill_vectors(engine.referential, engine.embedder)
    assert first is not None and not isinstance(first[1], np.memmap) and first[1].shape == (2, 512)
    again = workspace.skill_vectors(engine.referential, engine.embedder)
    assert isinstance(again[1], np.memmap) and np.array_equal(again[1], first[1])
    strings.append("Serveur / Serveuse : Service en salle")
    third = workspace.skill_vectors(engine.referential, engine.embedder)
    assert not isinstance(third[1], np.memmap) and third[1].shape == (3, 512)
    assert Workspace(Settings(home=tmp_path, model="hashing")).skill_vectors(engine.referential, None) is None
