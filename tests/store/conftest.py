"""Store fixtures: every test runs on a fresh SQLite file and, when
``PASSERELLE_TEST_POSTGRES_URL`` is set, on a fresh schema of that PostgreSQL database.

Start a throw-away server with::

    export PASSERELLE_TEST_POSTGRES_URL=$(bash scripts/postgres.sh start | tail -n 1)
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker
from store_factories import employer_fields, vacancy_fields

from service.store import crud
from service.store.db import make_engine, session_factory, upgrade

POSTGRES_ENV = "PASSERELLE_TEST_POSTGRES_URL"
NO_POSTGRES = (
    f"PostgreSQL store tests need {POSTGRES_ENV} "
    "(start a server with: export PASSERELLE_TEST_POSTGRES_URL=$(bash scripts/postgres.sh start | tail -n 1))"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def bare_engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:
    """An engine on an empty database (not migrated)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}")
        yield engine
        engine.dispose()
        return
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(NO_POSTGRES)
    schema = "test_" + secrets.token_hex(6)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def engine(bare_engine: Engine) -> Engine:
    """A migrated store (Alembic head)."""
    upgrade(bare_engine)
    return bare_engine


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def seeded(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """A store with two Missions Locales, one employer and one open vacancy."""
    with sessions.begin() as session:
        crud.create_mission_locale(
            session, "ML-METZ", "Mission Locale de Metz", departements=["57"]
        )
        crud.create_mission_locale(
            session, "ML-NANCY", "Mission Locale de Nancy", communes=["54395"]
        )
        crud.create_employer(session, employer_fields())
        crud.create_vacancy(session, vacancy_fields())
    return sessions
