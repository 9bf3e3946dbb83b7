"""Shared fixtures. Expensive ones are session-scoped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from matching.referential.loader import Referential, load_referential


@pytest.fixture(scope="session")
def referential_cache_dir(tmp_path_factory: pytest.TempPathFactory):
    """A cache folder private to this test session."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def referential(referential_cache_dir) -> Referential:
    """The real referential from ``data/``, built once per session through a fresh cache."""
    return load_referential(cache_dir=referential_cache_dir)


@pytest.fixture(scope="session")
def engine_home(tmp_path_factory: pytest.TempPathFactory):
    """A data home with small synthetic demo data, the real default model fitted once."""
    from service.config import Settings
    from service.workspace import Workspace

    # PASSERELLE_TEST_HOME keeps the fitted model between local runs; CI starts from nothing.
    kept = os.environ.get("PASSERELLE_TEST_HOME")
    home = Path(kept) if kept else tmp_path_factory.mktemp("home")
    workspace = Workspace(Settings(home=home, model="use"))
    if not workspace.has_demo():
        workspace.generate_demo(workspace.referential(), n_youths=400, n_vacancies=1500, seed=11)
    workspace.loaded_engine = workspace.engine()
    return workspace


@pytest.fixture(scope="session")
def engine(engine_home):
    """The recommender of :func:`engine_home` (USE model, synthetic youths and vacancies)."""
    return engine_home.loaded_engine


@pytest.fixture(scope="session")
def hashing_trades(referential, tmp_path_factory) -> Path:
    """The hashing model's trade searcher fitted with one SVM epoch (seconds, not minutes), once.

    Copy it into a data home's ``models/hashing/trades`` to start a server quickly (see
    ``tests/security/served.py``); kept under ``PASSERELLE_TEST_HOME`` when set.
    """
    from matching.search.embeddings import make_embedder
    from matching.search.trade_search import TradeSearcher

    kept = os.environ.get("PASSERELLE_TEST_HOME")
    directory = (Path(kept) / "security" if kept else tmp_path_factory.mktemp("security")) / "hashing-trades"
    if not (directory / "manifest.json").exists():
        TradeSearcher(svm_epochs=1).fit(referential, make_embedder("hashing")).save(directory)
    return directory
