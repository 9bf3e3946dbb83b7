"""API fixtures: a live app over a fresh store (SQLite file and, when
``PASSERELLE_TEST_POSTGRES_URL`` is set, a fresh PostgreSQL schema) holding a small synthetic
data set, with one API key per role. The trade model comes from the session's ``engine_home``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from pg_schema import fresh_schema

from matching.synthetic import dataset as synthetic
from service.api.app import create_app
from service.config import Settings
from service.store import crud
from service.workspace import Workspace

OTHER_ML = "ML-NANCY-TEST"


@dataclass
class Api:
    client: TestClient
    keys: dict[str, str]
    key_ids: dict[str, int]
    workspace: Workspace
    data: synthetic.SyntheticData
    settings: Settings

    def as_(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


def store_url(kind: str, tmp_path, stack: contextlib.ExitStack) -> str:
    """A fresh store URL (a SQLite file, or a PostgreSQL schema dropped when ``stack`` closes)."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'api.sqlite3'}"
    return stack.enter_context(fresh_schema("api_"))


def make_keys(workspace: Workspace) -> tuple[dict[str, str], dict[str, int]]:
    keys, ids = {}, {}
    _, sessions, _ = workspace.store()
    with sessions.begin() as session:
        crud.create_mission_locale(session, OTHER_ML, "Mission Locale de test (Nancy)", departements=["54"])
        for name, role, ml in [("admin", "admin", None), ("adviser", "adviser", "ML-METZ"),
                               ("adviser_other", "adviser", OTHER_ML), ("er", "employer_relations", "ML-METZ"),
                               ("er_other", "employer_relations", OTHER_ML), ("batch", "batch", None)]:
            row, clear = crud.create_api_key(session, role, ml, label=name)
            keys[name], ids[name] = clear, row.id
    return keys, ids


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api(request, engine_home, tmp_path_factory):
    """A running app (TestClient, lifespan entered) over a small synthetic store."""
    with contextlib.ExitStack() as stack:
        url = store_url(request.param, tmp_path_factory.mktemp("api"), stack)
        settings = Settings(home=engine_home.home, model="use", database_url=url, rate_limit_per_s=0,
                            snapshot_interval_s=3600)
        workspace = Workspace(settings)
        stack.callback(lambda: workspace.store()[0].dispose())
        data = synthetic.generate(workspace.referential(), n_youths=60, n_vacancies=250, seed=5)
        workspace.load_demo_into_store(data)
        keys, ids = make_keys(workspace)
        with TestClient(create_app(settings)) as client:
            yield Api(client, keys, ids, workspace, data, settings)


@dataclass
class LoadedStore:
    """A store with the small synthetic data set and one key per role, and no app open on it."""

    kind: str
    settings: Settings
    workspace: Workspace
    data: synthetic.SyntheticData
    keys: dict[str, str]


@pytest.fixture(params=["sqlite", "postgresql"])
def loaded_store(request, engine_home, tmp_path):
    """A fresh store for tests that run the server in another process (SQLite, PostgreSQL)."""
    with contextlib.ExitStack() as stack:
        url = store_url(request.param, tmp_path, stack)
        settings = Settings(home=engine_home.home, model="use", database_url=url, rate_limit_per_s=0)
        workspace = Workspace(settings)
        stack.callback(lambda: workspace.store()[0].dispose())
        # smaller than the api fixture's: the server encodes every row at its first start
        data = synthetic.generate(workspace.referential(), n_youths=40, n_vacancies=120, seed=5)
        workspace.load_demo_into_store(data)
        keys, _ = make_keys(workspace)
        yield LoadedStore(request.param, settings, workspace, data, keys)
