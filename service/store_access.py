"""Open the store named by the settings, migrated to the latest revision.

Every command line module that reads or writes the store goes through :func:`store_sessions`:
the store is migrated on first use, so nobody has to remember ``passerelle db upgrade`` after an
update.

Example:
    >>> engine, sessions = store_sessions()
    >>> try:
    ...     with sessions.begin() as session:
    ...         crud.list_api_keys(session)
    ... finally:
    ...     engine.dispose()
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from service.config import Settings, get_settings
from service.store.db import database_url, make_engine, session_factory, upgrade


def store_sessions(settings: Settings | None = None) -> tuple[Engine, sessionmaker[Session]]:
    """Return ``(engine, sessions)`` for the store of ``settings`` after migrating it to head.

    Args:
        settings: defaults to :func:`service.config.get_settings` (``PASSERELLE_DATABASE_URL``,
            else the SQLite file of ``PASSERELLE_HOME``).

    Returns:
        The engine (the caller disposes it) and a session factory (``BEGIN IMMEDIATE`` on
        SQLite, see :func:`service.store.db.session_factory`).

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the store cannot be reached or migrated.
    """
    engine = make_engine(settings or get_settings())
    try:
        upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine, session_factory(engine)


def display_url(settings_or_url: Settings | str | URL | None = None) -> str:
    """Return the store URL for messages, password masked (``***``)."""
    url = database_url(settings_or_url or get_settings())
    return url.render_as_string(hide_password=True)
