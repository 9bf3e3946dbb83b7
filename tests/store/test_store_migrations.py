"""Migrations: empty -> head on SQLite and PostgreSQL, and they match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from service.config import Settings
from service.store.db import (
    alembic_config,
    current_revision,
    database_url,
    make_engine,
    upgrade,
)
from service.store.models import Base


def head() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_upgrade_from_empty_to_head(bare_engine):
    assert current_revision(bare_engine) is None
    upgrade(bare_engine)
    assert current_revision(bare_engine) == head()
    tables = set(inspect(bare_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    upgrade(bare_engine)  # a second run is a no-op
    assert current_revision(bare_engine) == head()


def test_migrations_match_the_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_generation_counter_starts_at_zero(engine):
    with engine.connect() as connection:
        assert connection.execute(text("SELECT id, value FROM index_generation")).all() == [(1, 0)]


def test_default_store_is_the_sqlite_file_of_the_data_home(tmp_path):
    settings = Settings(home=tmp_path / "home")
    assert database_url(settings).database == str(settings.sqlite_path)
    upgrade(settings)
    assert settings.sqlite_path.exists()
    other = Settings(home=tmp_path, database_url="sqlite:///" + str(tmp_path / "other.db"))
    assert database_url(other).database == str(tmp_path / "other.db")


def test_sqlite_runs_wal_with_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_downgrade_to_base_and_back(engine):
    from alembic import command

    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert current_revision(engine) == head()
