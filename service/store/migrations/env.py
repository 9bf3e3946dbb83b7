"""Alembic environment of the store.

Run through :func:`service.store.db.upgrade` (which passes an open connection in
``config.attributes["connection"]``), or with a URL set as ``sqlalchemy.url``
(:func:`service.store.db.alembic_config`). ``render_as_batch`` lets ALTERs work on SQLite.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from service.store.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from sqlalchemy.pool import NullPool

    from service.store.db import make_engine

    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError(
            "no database: pass a connection or set sqlalchemy.url (see alembic_config)"
        )
    engine = make_engine(url, foreign_keys=False, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
