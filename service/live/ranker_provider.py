"""Which learned ranker serves a Mission Locale's lists: the registry's active one, if earned.

A Mission Locale gets the active ranker (``passerelle ranker activate``) only once it has
:data:`MIN_LABELLED_LISTS` labelled vacancy lists in the store: lists with at least one
outcome recorded for one of their items (any status, a refusal included; simulated rows never
count). Below that, too few
of its young people's outcomes stand behind the model and its lists keep the untrained fusion.
The counts come from one grouped query kept :data:`COUNTS_TTL_S` seconds; the active pointer
is re-read when its file changes (an activation or a rollback applies to the next list, in
every worker), and each version's model is loaded once.

The evaluation context (:func:`evaluation_context`) adds to a log frame what the mixité and
mix figures of ``passerelle ranker evaluate`` read: the youth's gender, the share of women of
the vacancy's trade and its employer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matching.learn import registry
from matching.learn.ranker import LearnedRanker
from service.store.models import Outcome, Suggestion, Vacancy, Youth

log = logging.getLogger("passerelle.ranker")

MIN_LABELLED_LISTS = 200
"""Labelled vacancy lists a Mission Locale needs before the learned ranker serves it."""
COUNTS_TTL_S = 300.0
"""Seconds the per-Mission-Locale counts are reused."""


def ranker_root(home: Path) -> Path:
    """The registry folder of a data home: ``<home>/models/ranker``."""
    return home / "models" / "ranker"


def labelled_lists(session: Session) -> dict[str, int]:
    """Per Mission Locale: vacancy lists with at least one outcome on one of their items (the
    outcome simulator's rows never count)."""
    statement = (select(Suggestion.mission_locale, func.count(func.distinct(Suggestion.list_id)))
                 .join(Outcome, Outcome.suggestion_id == Suggestion.id)
                 .where(Suggestion.item_kind == "vacancy", Suggestion.list_id.is_not(None),
                        Suggestion.simulated.is_(False))
                 .group_by(Suggestion.mission_locale))
    return {str(ml): int(n) for ml, n in session.execute(statement)}


class ActiveRankerProvider:
    """``provider(mission_locale) -> LearnedRanker | None`` for
    :func:`service.live.learning.set_ranker_provider`.

    Args:
        root: the registry folder (:func:`ranker_root`).
        read_sessions: a session factory of the store (for the counts).
        min_lists: :data:`MIN_LABELLED_LISTS` unless a test says otherwise.
        ttl_s: how long the counts are reused.
        clock: seconds (monotonic), for tests.
    """

    def __init__(self, root: Path, read_sessions, *, min_lists: int = MIN_LABELLED_LISTS,
                 ttl_s: float = COUNTS_TTL_S, clock: Callable[[], float] = time.monotonic):
        self.root = root
        self._sessions = read_sessions
        self.min_lists = min_lists
        self._ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._counted_at: float | None = None
        self._pointer_stamp: tuple[int, int, int] | None = None
        self._active: LearnedRanker | None = None
        self._loaded: dict[str, LearnedRanker] = {}

    def __call__(self, mission_locale: str | None) -> LearnedRanker | None:
        """The active ranker if ``mission_locale`` has enough labelled lists, else None; a
        registry or store that cannot be read gives None (the fusion) and a logged error."""
        from lightgbm.basic import LightGBMError
        from sqlalchemy.exc import SQLAlchemyError

        try:
            ranker = self.active()
            if ranker is None or mission_locale is None:
                return None
            return ranker if self.count(mission_locale) >= self.min_lists else None
        except (OSError, ValueError, KeyError, LightGBMError, SQLAlchemyError) as error:
            log.error("learned ranker unavailable, serving the fusion: %s", type(error).__name__)
            return None

    def active(self) -> LearnedRanker | None:
        """The registry's active ranker (re-read when ``active.json`` changes)."""
        path = self.root / registry.POINTER
        try:
            stat = path.stat()
            stamp: tuple[int, int, int] | None = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if stamp != self._pointer_stamp:
                version = registry.active_version(self.root) if stamp else None
                if version is not None and version not in self._loaded:
                    self._loaded[version] = registry.load(self.root, version)
                self._active = None if version is None else self._loaded[version]
                self._pointer_stamp = stamp
            return self._active

    def count(self, mission_locale: str) -> int:
        """Labelled vacancy lists of ``mission_locale`` (cached :data:`COUNTS_TTL_S`)."""
        now = self._clock()
        with self._lock:
            if self._counted_at is None or now - self._counted_at >= self._ttl_s:
                with self._sessions() as session:
                    self._counts = labelled_lists(session)
                self._counted_at = now
            return self._counts.get(mission_locale, 0)


def evaluation_context(session: Session, frame: pd.DataFrame, share_women: pd.Series) -> pd.DataFrame:
    """``frame`` with ``youth_gender``, ``share_women`` (of the vacancy's ROME card, NaN when
    unknown) and ``employer_id`` (SIRET) columns, read from the store.

    Args:
        share_women: the referential's share of women per ROME code (``cards["share_women"]``).
    """
    def lookup(key_column, value_column, keys) -> dict:
        keys = [k for k in dict.fromkeys(keys) if k is not None]
        found: dict = {}
        for start in range(0, len(keys), 5000):  # SQLite's bound-parameter limit
            chunk = keys[start:start + 5000]
            found.update(session.execute(select(key_column, value_column).where(key_column.in_(chunk))).all())
        return found

    youths = lookup(Youth.id, Youth.gender, frame["youth_id"].tolist())
    romes = lookup(Vacancy.id, Vacancy.code_rome, frame["item_id"].tolist())
    employers = lookup(Suggestion.id, Suggestion.employer_siret, frame["suggestion_id"].astype(int).tolist())
    shares = share_women.to_dict()
    return frame.assign(
        youth_gender=frame["youth_id"].map(youths).fillna("X").to_numpy(),
        share_women=np.array([shares.get(romes.get(item), np.nan) for item in frame["item_id"]], dtype=np.float64),
        employer_id=frame["suggestion_id"].map(employers).fillna("").astype(str).to_numpy(),
    )
