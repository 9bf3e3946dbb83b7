"""Settings: the one place that reads the environment.

``PASSERELLE_HOME``   data home for everything built at run time (demo data, models, indexes,
                      caches, later the SQLite store); default: the user's data directory.
``PASSERELLE_MODEL``  embedding model: ``use`` (default), ``hashing``, ``tfidf`` or
                      ``st:/path/to/local/sentence-transformers/folder``.
``PASSERELLE_DATABASE_URL``  SQLAlchemy URL of the store (default: SQLite file in the data home).
``PASSERELLE_RATE_LIMIT``      API requests a second per key (default 20; 0: no limit).
``PASSERELLE_RATE_BURST``      API burst per key (default 40).
``PASSERELLE_AUTH_FAILURES_PER_MIN``  wrong API keys a minute per client address before 429
                               (default 10; 0: no limit).
``PASSERELLE_WORKERS``         server worker processes; each gets 1/N of the limits above
                               (set by ``passerelle serve --workers N``; default 1).
``PASSERELLE_LOG_LEVEL``       level of the service's log on standard error (default INFO).
``PASSERELLE_MAX_BODY_BYTES``  largest API request body (default 1 MiB).
``PASSERELLE_CORS_ORIGINS``    comma-separated origins allowed by CORS (default: none, closed).
``PASSERELLE_SNAPSHOT_INTERVAL_S``  seconds between background index snapshots (default 300).
``PASSERELLE_PSEUDONYM_KEY``   key of the pseudonyms in batch exports (default: generated once
                               and kept in the data home).
``PASSERELLE_COMPUTE_THREADS`` BLAS and faiss threads of one server process (default 1: requests
                               run side by side; on a busy 2-core machine two threads per encoder
                               call spin and measured 5x slower).
``PASSERELLE_EXPOSURE_DAYS``   window of the exposure fed back to the congestion policy: a
                               vacancy's exposure is the youths it was shown to in the last N days
                               (default 14) plus the profiles shared for it then.
``PASSERELLE_LABEL_GRADES``    training labels of outcomes, ``status=grade,...`` over the defaults
                               of ``matching.learn.labels.DEFAULT_GRADES`` (e.g. ``hired=4``).
``PASSERELLE_RANKER_MIN_LISTS`` labelled vacancy lists a Mission Locale needs before the active
                               learned ranker serves it (default 200; below, the fusion).
``PASSERELLE_EXPLORATION``     share of the vacancy lists served to stored youths that are explored
                               (default 0: off): the list's items are shuffled uniformly after the
                               mix constraints (RandTop-n) and each item's probability of its rank
                               is logged (``suggestions.propensity``), from which ``passerelle
                               ranker`` estimates the position bias (``docs/LEARNING.md``).
``PASSERELLE_WEB_SECRET``      key signing the web page's session cookies (default: generated
                               once and kept in the data home, ``secrets/web_session.key``).
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
    rate_limit_per_s: float = 20.0
    rate_limit_burst: int = 40
    auth_failures_per_min: int = 10
    workers: int = 1
    log_level: str | None = None
    max_body_bytes: int = 1 << 20
    cors_origins: tuple[str, ...] = ()
    snapshot_interval_s: float = 300.0
    pseudonym_key: str | None = None
    web_secret: str | None = None
    exposure_days: int = 14
    label_grades: str | None = None
    compute_threads: int = 1
    ranker_min_lists: int = 200
    exploration: float = 0.0

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
        rate_limit_per_s=float(env.get("PASSERELLE_RATE_LIMIT") or 20.0),
        rate_limit_burst=int(env.get("PASSERELLE_RATE_BURST") or 40),
        auth_failures_per_min=int(env.get("PASSERELLE_AUTH_FAILURES_PER_MIN") or 10),
        workers=max(1, int(env.get("PASSERELLE_WORKERS") or 1)),
        log_level=(env.get("PASSERELLE_LOG_LEVEL") or "").upper() or None,
        max_body_bytes=int(env.get("PASSERELLE_MAX_BODY_BYTES") or (1 << 20)),
        cors_origins=tuple(o.strip() for o in (env.get("PASSERELLE_CORS_ORIGINS") or "").split(",") if o.strip()),
        snapshot_interval_s=float(env.get("PASSERELLE_SNAPSHOT_INTERVAL_S") or 300.0),
        pseudonym_key=env.get("PASSERELLE_PSEUDONYM_KEY") or None,
        web_secret=env.get("PASSERELLE_WEB_SECRET") or None,
        exposure_days=max(1, int(env.get("PASSERELLE_EXPOSURE_DAYS") or 14)),
        label_grades=env.get("PASSERELLE_LABEL_GRADES") or None,
        compute_threads=max(1, int(env.get("PASSERELLE_COMPUTE_THREADS") or 1)),
        ranker_min_lists=max(0, int(env.get("PASSERELLE_RANKER_MIN_LISTS") or 200)),
        exploration=min(1.0, max(0.0, float(env.get("PASSERELLE_EXPLORATION") or 0.0))),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (read once)."""
    return settings_from_env()
