"""Settings: the one place that reads the environment.

``PASSERELLE_HOME``   data home for everything built at run time (demo data, models, indexes,
                      caches, later the SQLite store); default: the user's data directory.
``PASSERELLE_MODEL``  embedding model: ``use`` (default), ``hashing``, ``tfidf`` or
                      ``st:/path/to/local/sentence-transformers/folder``.
``PASSERELLE_DATABASE_URL``  SQLAlchemy URL of the store (default: SQLite file in the data home).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import platformdirs

DEFAULT_MODEL = "use"


@dataclass(frozen=True)
class Settings:
    home: Path
    model: str = DEFAULT_MODEL
    database_url: str | None = None

    @property
    def sqlite_path(self) -> Path:
        return self.home / "passerelle.sqlite3"


def settings_from_env(environ: dict[str, str] | None = None) -> Settings:
    """Build settings from environment variables (``os.environ`` by default)."""
    env = os.environ if environ is None else environ
    home = Path(env.get("PASSERELLE_HOME") or platformdirs.user_data_dir("passerelle", appauthor=False))
    return Settings(
        home=home.expanduser(),
        model=env.get("PASSERELLE_MODEL") or DEFAULT_MODEL,
        database_url=env.get("PASSERELLE_DATABASE_URL") or None,
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (read once)."""
    return settings_from_env()
