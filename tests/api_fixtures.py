"""API fixtures, shared by ``tests/api`` and ``tests/security``: a live app over a fresh store (SQLite file and, when
``PASSERELLE_TEST_POSTGRES_URL`` is set, a fresh PostgreSQL schema) holding a small synthetic
data set, with one API key per role. The trade model comes from the session's ``engine_home``.

The app and its store are built once per module (encoding the data set is the slow part), but
``api`` gives each test the store as it was built: after the test, the youths, employers,
vacancies and keys it created are erased, deleted or revoked, and the vacancies it changed get
their fields back, through the store's functions (so the change log carries the undo to the
live engine, as it does any write). A test must not erase or delete rows it did not create.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from pg_schema import fresh_schema
from sqlalchemy import select

from matching.synthetic import dataset as synthetic
from service.api.app import create_app
from service.config import Settings
from service.store import crud
from service.store.employers import VACANCY_FIELDS
from service.store.models import ApiKey, Employer, Vacancy, Youth
from service.workspace import Workspace

OTHER_ML = "ML-NANCY-TEST"
PROFILE_MARKER = "MARQUEUR-PROFIL-"
"""Planted in every profile these fixtures store (tests/conftest.py looks for it in the run's log)."""


def plant_markers(data: synthetic.SyntheticData, label: str) -> synthetic.SyntheticData:
    """Put a marker in each youth's free-text dossier reference (``external_id``), where it
    changes no suggestion: a log line quoting a profile would then fail the run."""
    for number, profile in enumerate(data.youths):
        profile["external_id"] = f"{profile.get('external_id', '')}-{PROFILE_MARKER}{label}-{number}"
    return data


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


@contextlib.contextmanager
def running_api(kind: str, engine_home, tmp_path_factory):
    """A running app (TestClient, lifespan entered) over a small synthetic store of ``kind``."""
    with contextlib.ExitStack() as stack:
        url = store_url(kind, tmp_path_factory.mktemp("api"), stack)
        settings = Settings(home=engine_home.home, model="use", database_url=url, rate_limit_per_s=0,
                            snapshot_interval_s=3600)
        workspace = Workspace(settings)
        stack.callback(lambda: workspace.store()[0].dispose())
        data = plant_markers(synthetic.generate(workspace.referential(), n_youths=60, n_vacancies=250,
                                                seed=5), "api")
        workspace.load_demo_into_store(data)
        keys, ids = make_keys(workspace)
        with TestClient(create_app(settings)) as client:
            yield Api(client, keys, ids, workspace, data, settings)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_api(request, engine_home, tmp_path_factory):
    """A running app (TestClient, lifespan entered) over a small synthetic store, per module."""
    with running_api(request.param, engine_home, tmp_path_factory) as api:
        yield api


@dataclass(frozen=True)
class StoreMark:
    """What the store held before a test: ids, and each vacancy's version and fields."""

    youths: frozenset[str]
    employers: frozenset[str]
    keys: frozenset[int]
    vacancies: dict[str, tuple[int, dict]]


def mark_store(workspace: Workspace) -> StoreMark:
    _, _, read_sessions = workspace.store()
    with read_sessions() as session:
        vacancies = {v.id: (v.version, {name: getattr(v, name) for name in VACANCY_FIELDS})
                     for v in session.scalars(select(Vacancy))}
        return StoreMark(frozenset(session.scalars(select(Youth.id))),
                         frozenset(session.scalars(select(Employer.siret))),
                         frozenset(session.scalars(select(ApiKey.id))), vacancies)


def undo_since(workspace: Workspace, mark: StoreMark) -> None:
    """Erase, delete or revoke what was created since ``mark``; restore the changed vacancies."""
    _, sessions, _ = workspace.store()
    with sessions.begin() as session:
        for youth_id in set(session.scalars(select(Youth.id))) - mark.youths:
            crud.erase_youth(session, youth_id)
        for vacancy in session.scalars(select(Vacancy)).all():
            if vacancy.id not in mark.vacancies:
                crud.delete_vacancy(session, vacancy.id)
            elif vacancy.version != mark.vacancies[vacancy.id][0]:
                before = mark.vacancies[vacancy.id][1]
                changed = {k: v for k, v in before.items() if getattr(vacancy, k) != v}
                crud.update_vacancy(session, vacancy.id, changed, version=None)
        for siret in set(session.scalars(select(Employer.siret))) - mark.employers:
            crud.delete_employer(session, siret)
        for key in session.scalars(select(ApiKey).where(ApiKey.id.not_in(mark.keys))):
            if key.revoked_at is None:
                crud.revoke_api_key(session, key.id)


@contextlib.contextmanager
def undone(running: Api):
    """Give ``running`` to a test, then undo what the test created or changed in its store."""
    mark = mark_store(running.workspace)
    yield running
    undo_since(running.workspace, mark)
    running.client.app.state.live.catch_up()
    after = mark_store(running.workspace)  # the undo is complete (versions aside)
    assert (after.youths, after.employers) == (mark.youths, mark.employers)
    assert {i: f for i, (_, f) in after.vacancies.items()} == {i: f for i, (_, f) in mark.vacancies.items()}


@pytest.fixture()
def api(shared_api):
    """The module's app, with the store as the module built it; undone after the test."""
    with undone(shared_api) as running:
        yield running


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
        data = plant_markers(synthetic.generate(workspace.referential(), n_youths=40, n_vacancies=120,
                                                seed=5), "store")
        workspace.load_demo_into_store(data)
        keys, _ = make_keys(workspace)
        yield LoadedStore(request.param, settings, workspace, data, keys)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def bare_api(request, engine_home, tmp_path_factory):
    """A running app over a store holding Mission Locales and keys only."""
    with contextlib.ExitStack() as stack:
        url = store_url(request.param, tmp_path_factory.mktemp("errors"), stack)
        settings = Settings(home=engine_home.home, model="use", database_url=url, rate_limit_per_s=0,
                            snapshot_interval_s=3600)
        workspace = Workspace(settings)
        stack.callback(lambda: workspace.store()[0].dispose())
        _, sessions, _ = workspace.store()
        with sessions.begin() as session:
            crud.create_mission_locale(session, "ML-METZ", "Mission Locale de Metz", departements=["57"])
        keys, ids = make_keys(workspace)
        with TestClient(create_app(settings)) as client:
            # a second client on the same (started) app that answers 500s instead of raising
            quiet = TestClient(client.app, raise_server_exceptions=False)
            yield Api(quiet, keys, ids, workspace, None, settings)
