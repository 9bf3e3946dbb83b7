"""Shared fixtures. Expensive ones are session-scoped."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from matching.referential.loader import Referential, load_referential

LOG_MARKERS = ("PASSERELLE-MARKER-", "MARQUEUR-PROFIL-")
"""Prefixes of the marker strings that tests plant in profiles: no log line may ever hold one.

Every profile the API fixtures store (``tests/api_fixtures.py``: ``plant_markers``) and every
profile the API and security tests send carries ``MARQUEUR-PROFIL-`` in its dossier reference;
the security tests' served profiles carry ``PASSERELLE-MARKER-`` in their free texts too."""


@pytest.fixture(scope="session", autouse=True)
def session_log(tmp_path_factory: pytest.TempPathFactory):
    """The log of the whole run in one file (the service's records from INFO, others from
    WARNING); at the end no line may hold a planted marker (:data:`LOG_MARKERS`: one is in every
    profile the API tests store) or SQL parameters.

    The apps the tests create put their filter (:mod:`service.logs`) on this handler as they
    would on uvicorn's: what it lets through is what a server's log would hold.
    """
    path = tmp_path_factory.mktemp("log") / "session.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    service_log = logging.getLogger("passerelle")
    level = service_log.level
    logging.getLogger().addHandler(handler)
    service_log.setLevel(logging.INFO)
    yield path
    service_log.setLevel(level)
    logging.getLogger().removeHandler(handler)
    handler.close()
    leaks = [line for line in path.read_text(errors="replace").splitlines()
             if any(marker in line for marker in LOG_MARKERS) or ("[parameters:" in line and "withheld" not in line)]
    assert not leaks, f"{len(leaks)} log line(s) with personal data, e.g. {leaks[:3]}"


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
