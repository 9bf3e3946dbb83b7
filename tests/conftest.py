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
