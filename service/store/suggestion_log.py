"""The suggestion log read as training data, and the exposure counts it feeds back.

:func:`read_log` returns one row per logged item with its graded label (the best of its
outcomes, :mod:`matching.learn.labels`) and one column per feature of
:data:`matching.learn.features.VACANCY_FEATURES` (NaN where not logged: trade rows, rows logged
before migration 0007). Features are read as logged, never recomputed: what is learned is what was
served. :func:`write_parquet` / :func:`read_parquet` keep a log in a file (``--input log.parquet``).

:func:`exposure_counts` counts, per vacancy, the youths it was shown to since a date and the
profiles shared for it (``shares.vacancy_id``: the only stored trace of a shortlist; shortlists
themselves are computed, not stored): the congestion policy's exposure (issue #15).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matching.learn.features import VACANCY_FEATURES, from_dicts
from matching.learn.labels import DEFAULT_GRADES, NO_OUTCOME
from service.store.models import Outcome, Share, Suggestion

LOG_COLUMNS: tuple[str, ...] = (
    "suggestion_id", "list_id", "youth_id", "mission_locale", "created_at", "item_kind", "item_id",
    "rank", "policy", "model_version", "propensity", "simulated", "label",
)
"""The columns of :func:`read_log` before the feature columns (``policy``: JSON text)."""


def read_log(session: Session, *, until: datetime | None = None, since: datetime | None = None,
             mission_locale: str | None = None, include_simulated: bool = True,
             grades: Mapping[str, int] = DEFAULT_GRADES, item_kind: str | None = None) -> pd.DataFrame:
    """The logged suggestions served in ``[since, until)`` as a frame (:data:`LOG_COLUMNS` then
    :data:`~matching.learn.features.VACANCY_FEATURES`), ordered by time, list then rank.

    ``rank`` is the rank shown within the item's list (1-based; a list is one ``list_id``).
    Rows logged before migration 0007 have no ``list_id``: each youth's rows of one kind then
    form one list.

    Args:
        until, since: bounds on ``created_at`` (aware datetimes; None: unbounded).
        mission_locale: only this Mission Locale's rows.
        include_simulated: keep rows written by the outcome simulator.
        grades: outcome status -> label (:data:`matching.learn.labels.DEFAULT_GRADES`).
        item_kind: ``"vacancy"`` or ``"trade"`` only (None: both).
    """
    conditions = []
    if until is not None:
        conditions.append(Suggestion.created_at < until)
    if since is not None:
        conditions.append(Suggestion.created_at >= since)
    if mission_locale is not None:
        conditions.append(Suggestion.mission_locale == mission_locale)
    if not include_simulated:
        conditions.append(Suggestion.simulated.is_(False))
    if item_kind is not None:
        conditions.append(Suggestion.item_kind == item_kind)
    columns = (Suggestion.id, Suggestion.list_id, Suggestion.youth_id, Suggestion.mission_locale,
               Suggestion.created_at, Suggestion.item_kind, Suggestion.item_id, Suggestion.rank,
               Suggestion.policy, Suggestion.model_version, Suggestion.propensity, Suggestion.simulated,
               Suggestion.features)
    rows = session.execute(select(*columns).where(*conditions)
                           .order_by(Suggestion.created_at, Suggestion.list_id, Suggestion.rank, Suggestion.id)).all()
    labels = _labels(session, conditions, grades)
    frame = pd.DataFrame({
        "suggestion_id": np.array([r[0] for r in rows], dtype=np.int64),
        "list_id": pd.Series([r[1] for r in rows], dtype="str"),
        "youth_id": pd.Series([r[2] for r in rows], dtype="str"),
        "mission_locale": pd.Series([r[3] for r in rows], dtype="str"),
        "created_at": pd.to_datetime([r[4] for r in rows], utc=True),
        "item_kind": pd.Series([r[5] for r in rows], dtype="str"),
        "item_id": pd.Series([r[6] for r in rows], dtype="str"),
        "rank": np.array([r[7] for r in rows], dtype=np.int32),
        "policy": pd.Series([json.dumps(r[8], sort_keys=True) for r in rows], dtype="str"),
        "model_version": pd.Series([r[9] for r in rows], dtype="str"),
        "propensity": np.array([np.nan if r[10] is None else r[10] for r in rows], dtype=np.float64),
        "simulated": np.array([bool(r[11]) for r in rows], dtype=bool),
        "label": np.array([labels.get(r[0], NO_OUTCOME) for r in rows], dtype=np.int8),
    })
    if len(frame):  # ``rank`` is stored over the whole document: the rank shown is within its list
        frame["rank"] = (frame.groupby(frame["list_id"].fillna("") + "|" + frame["youth_id"] + "|"
                                       + frame["item_kind"])["rank"].rank(method="first").astype(np.int32))
    matrix = from_dicts([r[12] for r in rows])
    for i, name in enumerate(VACANCY_FEATURES):
        frame[name] = matrix[:, i]
    return frame


def _labels(session: Session, conditions: list, grades: Mapping[str, int]) -> dict[int, int]:
    """Suggestion id -> the best grade of its outcomes (one grouped query per status)."""
    statement = (select(Outcome.suggestion_id, Outcome.status).distinct()
                 .join(Suggestion, Suggestion.id == Outcome.suggestion_id).where(*conditions))
    labels: dict[int, int] = {}
    for suggestion_id, status in session.execute(statement):
        grade = grades.get(status, NO_OUTCOME)
        if grade > labels.get(suggestion_id, NO_OUTCOME):
            labels[suggestion_id] = grade
    return labels


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    """Write a :func:`read_log` frame to ``path`` (Parquet, zstd)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, engine="pyarrow", compression="zstd", index=False)
    return path


def read_parquet(path: Path) -> pd.DataFrame:
    """Read a log written by :func:`write_parquet`; checks it has the log's columns.

    Raises:
        ValueError: a column of :data:`LOG_COLUMNS` or a feature column is missing.
    """
    frame = pd.read_parquet(path, engine="pyarrow")
    missing = [c for c in (*LOG_COLUMNS, *VACANCY_FEATURES) if c not in frame.columns]
    if missing:
        raise ValueError(f"{path} is not a suggestion log: missing columns {', '.join(missing)}")
    return frame


def exposure_counts(session: Session, since: datetime) -> dict[str, int]:
    """Per vacancy id: the youths it was shown to since ``since`` (a youth shown it twice counts
    once: reloading a page is no congestion) plus the profiles shared for it since then."""
    pairs = (select(Suggestion.item_id, Suggestion.youth_id).distinct()
             .where(Suggestion.item_kind == "vacancy", Suggestion.created_at >= since).subquery())
    shown = select(pairs.c.item_id, func.count()).group_by(pairs.c.item_id)
    counts = {str(item): int(n) for item, n in session.execute(shown)}
    shared = (select(Share.vacancy_id, func.count())
              .where(Share.vacancy_id.is_not(None), Share.created_at >= since).group_by(Share.vacancy_id))
    for item, n in session.execute(shared):
        counts[str(item)] = counts.get(str(item), 0) + int(n)
    return counts


def shown_to(session: Session, youth_id: str, since: datetime) -> set[str]:
    """The vacancies shown to one youth since ``since`` (their own part of :func:`exposure_counts`)."""
    # The youth alone in SQL: with the kind and the date there too, SQLite's planner picks the
    # (item_kind, created_at) index and reads every recent row of everybody (84 ms at 161,000).
    statement = select(Suggestion.item_id, Suggestion.item_kind, Suggestion.created_at).where(
        Suggestion.youth_id == youth_id)
    return {str(item) for item, kind, at in session.execute(statement)
            if kind == "vacancy" and at >= since}
