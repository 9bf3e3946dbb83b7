"""What the served lists learn from: the learned ranker that applies, the exposure fed back.

**Ranker provider.** No learned ranker applies by default (the untrained fusion). The model
registry (``passerelle ranker activate``) installs a provider with :func:`set_ranker_provider`: a
callable ``provider(mission_locale) -> ranker | None``, called once per served list; a ranker has
``score(features) -> scores`` and ``version`` (:class:`matching.recommend.learned.Ranker`). A
Mission Locale the provider answers None for keeps the fusion.

**Exposure.** Each vacancy's exposure is the number of youths it was shown to in the last
``exposure_days`` days (setting ``PASSERELLE_EXPOSURE_DAYS``, default 14) plus the profiles shared
for it in that window (:func:`service.store.suggestion_log.exposure_counts`; the store keeps no
shortlist object, shares for a vacancy are its only trace), read in one grouped query and kept
:data:`EXPOSURE_TTL_S` seconds, then read again in a background thread, so a request does not
pay the scan (about 1 s for 300,000 logged vacancy rows on this machine, benchmarks/RESULTS.md);
in between, each list this process serves adds its vacancies not shown to that youth before
(:meth:`ExposureCache.shown`); the counts aligned with a vacancy table are kept per table (one
per engine generation) and raised with them. A youth's own earlier lists are
taken out of their exposure (:meth:`ExposureCache.for_youth`): their list does not rotate each
time they reload it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np

from matching.recommend.catalog import counts_by_row
from service.store.columns import utcnow

RankerProvider = Callable[[str | None], object | None]
log = logging.getLogger("passerelle.exposure")

EXPOSURE_TTL_S = 600.0
"""Seconds a read of the exposure counts is kept; this process's own lists are counted in the
meantime (:meth:`ExposureCache.shown`). The grouped query scans the window's whole log (1.1 to 2.4 s for
224,000 logged vacancy rows, under the load test on 2 cores): read every minute, it held up the
lists served meanwhile (benchmarks/RESULTS.md, issue #13)."""

_provider: RankerProvider | None = None


def set_ranker_provider(provider: RankerProvider | None) -> None:
    """Install the function choosing each Mission Locale's learned ranker (None: none applies)."""
    global _provider
    _provider = provider


def ranker_for(mission_locale: str | None):
    """The learned ranker for a list served to a youth of ``mission_locale``, or None."""
    provider = _provider
    return None if provider is None else provider(mission_locale)


class ExposureCache:
    """Exposure counts: read from the suggestion log at most every ``ttl_s`` seconds, and raised
    between two reads by the lists this process serves (:meth:`shown`).

    Args:
        read_sessions: a session factory of the store.
        days: the window of times shown (``Settings.exposure_days``).
        ttl_s: how long a read of the log is kept (this process's own lists are counted at once;
            other workers', batch write-backs, shares and the window's end at the next read).
        clock: seconds (monotonic), for tests.
    """

    def __init__(self, read_sessions, days: int = 14, ttl_s: float = EXPOSURE_TTL_S,
                 clock: Callable[[], float] = time.monotonic, background: bool = True):
        self.read_sessions, self.days, self.ttl_s, self.clock = read_sessions, days, ttl_s, clock
        self.background = background
        self._lock = threading.Lock()
        self._counts: dict[str, int] | None = None  # changed in place under the lock only
        self._version = 0  # bumped by every change of the counts
        self._read_at = -float("inf")
        self._refreshing = False
        self._aligned: tuple[Any, np.ndarray] | None = None  # (vacancy table, its counts by row)

    def _read(self) -> dict[str, int]:
        from service.store.suggestion_log import exposure_counts

        with self.read_sessions() as session:
            return exposure_counts(session, utcnow() - timedelta(days=self.days))

    def _store(self, counts: dict[str, int], read_at: float, last=None) -> None:
        aligned = None if last is None else (last, counts_by_row(last, counts))  # off the lock
        with self._lock:
            self._counts, self._read_at, self._aligned, self._refreshing = counts, read_at, aligned, False
            self._version += 1

    def _refresh(self) -> None:
        read_at = self.clock()
        try:
            counts = self._read()
        except Exception:  # the store is away: keep the old counts, try again at the next list
            with self._lock:
                self._refreshing = False
            raise
        last = self._aligned  # aligned again here, off the request path
        self._store(counts, read_at, None if last is None else last[0])
        log.info("exposure: %d vacancies shown, read in %.0f ms", len(counts), 1000 * (self.clock() - read_at))

    def _fresh(self) -> None:
        """Read the log on first use; once ``ttl_s`` has passed, read it again in a background
        thread (``background``; else at once) while the lists go on with the counts they had:
        no request waits for the grouped query."""
        with self._lock:
            known, stale = self._counts is not None, self.clock() - self._read_at >= self.ttl_s
            start = known and stale and not self._refreshing
            if start:
                self._refreshing = True
        if not known:
            read_at = self.clock()
            self._store(self._read(), read_at)
        elif start:
            if self.background:
                threading.Thread(target=self._refresh, name="exposure-refresh", daemon=True).start()
            else:
                self._refresh()

    def counts(self) -> dict[str, int]:
        """Vacancy id -> exposure (a copy)."""
        self._fresh()
        with self._lock:
            return dict(self._counts or {})

    def shown(self, vacancy_ids, own: set[str]) -> None:
        """Count a list just served: +1 for each vacancy of ``vacancy_ids`` the youth had not
        been shown in the window (``own``), as the next read of the log will."""
        new = [v for v in dict.fromkeys(vacancy_ids) if v not in own]
        with self._lock:
            if not new or self._counts is None:
                return  # nothing new, or not read yet (the first read will see the list)
            for vacancy_id in new:
                self._counts[vacancy_id] = self._counts.get(vacancy_id, 0) + 1
            self._version += 1
            if self._aligned is not None:
                table, counts = self._aligned
                rows = [table.rows[v] for v in new if v in table.rows]
                if rows:
                    counts = counts.copy()  # readers keep the array they hold
                    counts[rows] += 1
                self._aligned = (table, counts)

    def for_table(self, table) -> np.ndarray:
        """Exposure aligned with a vacancy table's rows, int64 ``(n_vacancies,)``."""
        self._fresh()
        with self._lock:
            kept, version = self._aligned, self._version
            if kept is not None and kept[0] is table:
                return kept[1]
            counts = dict(self._counts or {})
        aligned = counts_by_row(table, counts)  # outside the lock: other lists go on meanwhile
        with self._lock:
            if self._version == version:
                self._aligned = (table, aligned)
        return aligned

    def for_youth(self, table, own: set[str]) -> np.ndarray:
        """:meth:`for_table` less the youth's own shows (``own``: vacancy ids shown to them)."""
        aligned = self.for_table(table)
        rows = [table.rows[v] for v in own if v in table.rows]
        if not rows:
            return aligned
        mine = aligned.copy()
        mine[rows] = np.maximum(mine[rows] - 1, 0)
        return mine

    def invalidate(self) -> None:
        """Read the log again at the next request (tests, or after a bulk write)."""
        with self._lock:
            self._counts, self._aligned = None, None
            self._version += 1


def exposure_cache(app_state) -> ExposureCache:
    """The application's :class:`ExposureCache` (made on first use, with the settings' window)."""
    cache = getattr(app_state, "exposure", None)
    if cache is None:
        cache = ExposureCache(app_state.read_sessions, days=app_state.workspace.settings.exposure_days)
        app_state.exposure = cache
    return cache
