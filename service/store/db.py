"""Engines, sessions and migrations.

Example:
    >>> engine = make_engine(get_settings())      # SQLite file in the data home by default
    >>> upgrade(engine)                          # Alembic, programmatically, to head
    >>> sessions = session_factory(engine)
    >>> with sessions.begin() as session:
    ...     crud.create_youth(session, profile, mission_locale="ML-METZ")
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from service.config import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_S = 5.0
"""How long a SQLite writer waits for the write lock (``PRAGMA busy_timeout``, and the process's
own writer lock) before it fails with "database is locked"."""
_HOLDS = "passerelle_write_lock"


def database_url(settings_or_url: Settings | str | URL) -> URL:
    """Return the store URL: the one given, ``settings.database_url``, else the data home's SQLite file."""
    if isinstance(settings_or_url, Settings):
        if settings_or_url.database_url:
            return make_url(settings_or_url.database_url)
        return URL.create("sqlite", database=str(settings_or_url.sqlite_path))
    return make_url(settings_or_url)


def make_engine(
    settings_or_url: Settings | str | URL, *, foreign_keys: bool = True, **kwargs: Any
) -> Engine:
    """Create an engine for the store.

    Every engine hides SQL parameters (``hide_parameters``): neither its log lines nor its
    error messages quote them, since they hold profile content. SQLite files get WAL
    journaling, ``synchronous=FULL`` (a committed write survives a power cut),
    ``secure_delete=ON`` (deleted rows are overwritten with zeros in the file, not just
    unlinked: see :func:`service.store.erasure.reclaim`), a 5 s busy timeout and foreign keys ON. Transactions are begun by SQLAlchemy, not by
    the sqlite3 module, so that SAVEPOINTs and transactional DDL work; a connection with the
    execution option ``sqlite_begin="IMMEDIATE"`` takes the write lock at BEGIN (see
    :func:`session_factory`).

    Args:
        settings_or_url: settings (``database_url``, else ``sqlite_path``) or a SQLAlchemy URL.
        foreign_keys: SQLite only; migrations turn them off while tables are rebuilt.
        kwargs: passed to :func:`sqlalchemy.create_engine`.
    """
    url = database_url(settings_or_url)
    kwargs.setdefault("hide_parameters", True)
    if url.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)
    if url.database and url.database != ":memory:":
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)
    writers = threading.Lock()  # this process's SQLite writers queue here (see _on_begin)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy emit BEGIN (see docstring)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        """``BEGIN IMMEDIATE`` first takes the process's writer lock: SQLite's own busy handler
        retries after sleeps growing to 100 ms, so under a burst of writes a waiting writer
        slept long after the lock was free (8 writers at once, a 7 ms transaction: p99 143 to
        160 ms in 4 runs of 5, 934 in one; queued here, 61 to 94 ms in 6 runs of 7, 698 in the
        first run on a fresh copy of the store). Other processes still meet the busy handler."""
        mode = connection.get_execution_options().get("sqlite_begin", "")
        if mode == "IMMEDIATE" and writers.acquire(timeout=BUSY_TIMEOUT_S):
            connection.info[_HOLDS] = True  # else SQLite's busy timeout decides, as before
        try:
            connection.exec_driver_sql(f"BEGIN {mode}".strip())
        except BaseException:
            _release(connection.info)
            raise

    def _release(info: dict) -> None:
        if info.pop(_HOLDS, False):
            writers.release()

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(connection: Any) -> None:
        _release(connection.info)

    @event.listens_for(engine.pool, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        _release(record.info)  # a connection given back without an ended transaction

    return engine


def session_factory(engine: Engine, *, immediate: bool = True) -> sessionmaker[Session]:
    """Return a session factory.

    On SQLite, ``immediate=True`` (the default) begins every transaction with ``BEGIN
    IMMEDIATE``: writers queue on the write lock (up to the busy timeout) instead of failing with
    "database is locked" when their read snapshot went stale. Almost every service transaction
    writes (an audit line at least), so this is the right default; pass ``immediate=False`` for
    read-only work that must not wait for writers. No effect on PostgreSQL.

    ``expire_on_commit=False`` so that objects returned by a committed transaction stay readable.
    """
    if immediate and engine.dialect.name == "sqlite":
        engine = engine.execution_options(sqlite_begin="IMMEDIATE")
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config(url: str | URL | None = None) -> Any:
    """Return an Alembic ``Config`` for the packaged migrations (no ``alembic.ini`` needed).

    Example (a new revision, from a Python shell):
        >>> from alembic import command
        >>> command.revision(alembic_config("sqlite:///dev.db"), "add shares", autogenerate=True)
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        rendered = make_url(url).render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def upgrade(engine_or_url: Engine | Settings | str | URL, revision: str = "head") -> None:
    """Migrate the store to ``revision`` (default: the latest).

    On SQLite, foreign keys are off while migrating (a table rebuilt by batch mode must not
    cascade deletes to its children) and checked afterwards.

    Raises:
        RuntimeError: SQLite reports foreign-key violations after migrating.
    """
    from alembic import command

    engine = engine_or_url if isinstance(engine_or_url, Engine) else make_engine(engine_or_url)
    migrating = engine
    is_file_sqlite = engine.dialect.name == "sqlite" and engine.url.database not in (
        None,
        "",
        ":memory:",
    )
    if is_file_sqlite:
        migrating = make_engine(engine.url, foreign_keys=False, poolclass=NullPool)
    try:
        with migrating.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            if migrating.dialect.name == "sqlite":
                problems = connection.execute(text("PRAGMA foreign_key_check")).fetchall()
                if problems:
                    raise RuntimeError(f"foreign-key violations after migrating: {problems[:5]}")
    finally:
        if migrating is not engine:
            migrating.dispose()
        if not isinstance(engine_or_url, Engine):
            engine.dispose()


def current_revision(engine: Engine) -> str | None:
    """Return the store's Alembic revision, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
