"""The outcome simulator's side of the store: the demo youths, the lists logged as the service
logs them, the outcomes; every row flagged ``simulated`` and dated on its simulated day.

One transaction per simulated day and kind of write. The lists go through the suggestion log's
own function (:func:`service.store.crud.add_suggestions`, the service's path), outcomes through
the same check as ``POST /v1/outcomes`` (:func:`service.store.outcome_codes.check_outcome`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select

from matching.learn.features import as_dicts
from matching.recommend.catalog import counts_by_row
from service.api.suggestions import ATYPICAL_BAND, engine_version
from service.store import crud
from service.store.models import Outcome, Youth
from service.store.outcome_codes import check_outcome
from service.store.suggestion_log import exposure_counts

SIMULATED_VERSION_SUFFIX = "; simulated"


class StoreWriter:
    """Writes a simulation's rows into the store of workspace ``ws`` (engine ``live``)."""

    def __init__(self, ws, live) -> None:
        _, self.sessions, self.read_sessions = ws.store()
        self.engine = live.recommender
        self.version = engine_version(live, live.generation) + SIMULATED_VERSION_SUFFIX
        self.exposure_days = ws.settings.exposure_days
        self._bands: dict[str, str] = {}

    def synthetic_youth_ids(self) -> list[str]:
        """Ids of the stored demo youths (``synthetic``)."""
        with self.read_sessions() as session:
            return list(session.scalars(select(Youth.id).where(Youth.synthetic)))

    def exposure(self, day: date) -> np.ndarray:
        """Each vacancy's exposure as the service reads it from the log at the start of ``day``
        (youths shown it in the last ``exposure_days`` days, plus shares), ``(n_vacancies,)``.

        The day's visitors are served in one batch call, so the exposure is the same for all of
        them: unlike a request for one youth, their own earlier lists are not taken out."""
        since = datetime.combine(day, time(0, 0), UTC) - timedelta(days=self.exposure_days)
        with self.read_sessions() as session:
            counts = exposure_counts(session, since)
        return counts_by_row(self.engine.vacancies, counts)

    def _band(self, code_rome: str) -> str:
        if code_rome not in self._bands:
            referential = self.engine.referential
            self._bands[code_rome] = referential.band(referential.cards.at[code_rome, "share_women"])
        return self._bands[code_rome]

    def _items(self, youth: Youth, result) -> list[dict[str, Any]]:
        table = self.engine.vacancies
        atypical = ATYPICAL_BAND.get(youth.gender or "")
        items = []
        for item in result.items:
            vacancy = table.vacancies[table.rows[item.vacancy_id]]
            items.append({"item_kind": "vacancy", "item_id": vacancy.id, "score": item.score,
                          "sector_family": vacancy.employer.sector_family,
                          "employer_siret": vacancy.employer.siret,
                          "non_traditional": None if atypical is None else self._band(vacancy.code_rome) == atypical})
        return items

    def log_lists(self, youth_ids: Sequence[str], lists, moments: Sequence[datetime], seed: int) -> np.ndarray:
        """Log the day's lists (one per youth, in order) at ``moments`` as the service logs a
        served list (features as served, list id, model version, the propensity of an explored
        list's items), flagged simulated; return the
        suggestion ids of every item, int64 ``(n_items,)`` in list then rank order."""
        ids: list[int] = []
        with self.sessions.begin() as session:
            for youth_id, result, moment in zip(youth_ids, lists, moments, strict=True):
                youth = session.get(Youth, youth_id)
                items = self._items(youth, result)
                if result.propensities is not None:  # an explored list (RandTop-n)
                    for item, propensity in zip(items, result.propensities.tolist(), strict=True):
                        item["propensity"] = propensity
                if result.features is not None:
                    for item, features in zip(items, as_dicts(result.features), strict=True):
                        item["features"] = features
                list_id = hashlib.blake2b(f"{seed}:{moment.isoformat()}:{youth_id}".encode(),
                                          digest_size=16).hexdigest()  # the same seed, the same ids
                rows = crud.add_suggestions(session, youth, items, policy=result.policy,
                                            engine_version=self.version, list_id=list_id,
                                            model_version=result.model_version, simulated=True,
                                            created_at=moment)
                ids.extend(row.id for row in rows)
        return np.array(ids, dtype=np.int64)

    def write_outcomes(self, suggestion_ids: np.ndarray, statuses: Sequence[str],
                       reasons: Sequence[str | None], moment: datetime) -> None:
        """Write the day's outcomes, all dated ``moment``."""
        if not len(suggestion_ids):
            return
        with self.sessions.begin() as session:
            session.add_all([Outcome(suggestion_id=int(s), status=status, reason=check_outcome(status, reason),
                                     created_at=moment)
                             for s, status, reason in zip(suggestion_ids.tolist(), statuses, reasons, strict=True)])
