"""Engine states and how the next one is built from the store's change log.

An :class:`EngineState` is one generation of the engine: a recommender and the store generation
it reflects, never changed once published, so a request that took it reads one whole generation
however long it runs. The applier reads a :class:`Batch` of changed rows from the store
(:func:`read_changes`, database work only), then builds the next state beside the current one
(:func:`next_state`: encoding and copy-on-write tables and indexes, no database);
:class:`~service.live.engine.LiveEngine` swaps the reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.recommend import updates
from matching.recommend.recommender import Recommender
from matching.types import Vacancy as VacancyRow
from matching.types import Youth as YouthRow
from service.store.changes import changes_since
from service.store.loading import load_vacancies, load_youths
from service.store.models import Vacancy, Youth


@dataclass(frozen=True)
class EngineState:
    """One generation of the live engine: read it, never change it.

    Attributes:
        recommender: the recommender of this generation (its tables and indexes are not
            changed after the state is published; the next generation gets copies).
        generation: the store's change-log generation it reflects.
    """

    recommender: Recommender
    generation: int


@dataclass
class Batch:
    """The store's changes after a state's generation, read at ``generation``."""

    generation: int
    count: int = 0
    vacancies: list[VacancyRow] = field(default_factory=list)  # added or changed rows
    youths: list[YouthRow] = field(default_factory=list)
    gone_vacancies: list[str] = field(default_factory=list)  # ids that left the store
    gone_youths: list[str] = field(default_factory=list)
    deleted_vacancy_keys: list[int] = field(default_factory=list)  # tombstones of the log
    deleted_youth_keys: list[int] = field(default_factory=list)


def read_changes(session: Session, base: EngineState, log_generation: int, pruned_upto: int) -> Batch:
    """Read the rows changed in the store after ``base.generation`` (the store's log is at
    ``log_generation``; deletes up to ``pruned_upto`` were pruned from it)."""
    engine, referential = base.recommender, base.recommender.referential
    changes = changes_since(session, base.generation)
    if not changes:
        return Batch(max(base.generation, log_generation))
    upserts: dict[str, list[str]] = {"vacancy": [], "youth": []}
    deletes: dict[str, list[int]] = {"vacancy": [], "youth": []}
    for change in changes:
        if change.op == "upsert" and change.object_id:
            upserts[change.kind].append(change.object_id)
        else:
            deletes[change.kind].append(change.object_key)
    batch = Batch(max(change.generation for change in changes), len(changes),
                  load_vacancies(session, referential, upserts["vacancy"]),
                  load_youths(session, referential, upserts["youth"]),
                  deleted_vacancy_keys=deletes["vacancy"], deleted_youth_keys=deletes["youth"])
    found_v, found_y = {v.id for v in batch.vacancies}, {y.id for y in batch.youths}
    batch.gone_vacancies = [i for i in upserts["vacancy"] if i not in found_v]  # deleted since
    batch.gone_youths = [i for i in upserts["youth"] if i not in found_y]
    if base.generation < pruned_upto:  # deletes below it were pruned from the log
        batch.gone_vacancies += _missing_from_store(session, Vacancy, engine.vacancies)
        batch.gone_youths += _missing_from_store(session, Youth, engine.youths)
    return batch


def next_state(base: EngineState, batch: Batch) -> tuple[EngineState, list[str]]:
    """Build the state after ``batch`` beside ``base`` (left as it is); return it with the ids
    of the youths that left the engine. Rows whose texts did not change are not encoded."""
    engine = base.recommender
    if not batch.count:
        return EngineState(engine, batch.generation), []
    gone_v = batch.gone_vacancies + _ids_of(engine.vacancies, batch.deleted_vacancy_keys)
    gone_y = batch.gone_youths + _ids_of(engine.youths, batch.deleted_youth_keys)
    v_vectors, v_same = _vacancy_vectors(engine, batch.vacancies)
    y_vectors, y_scores, y_same = _youth_features(engine, batch.youths)
    recommender = updates.changed(
        engine, gone_vacancies=gone_v, vacancies=batch.vacancies, vacancy_vectors=v_vectors,
        gone_youths=gone_y, youths=batch.youths, youth_vectors=y_vectors, youth_scores=y_scores,
        same_vacancies=v_same, same_youths=y_same)
    warm(recommender)
    return EngineState(recommender, batch.generation), gone_y


def warm(engine: Recommender) -> None:
    """Build now the lookups that reads build on first need (vacancy places, key orders, index
    positions), so that no request pays for them after a change or waits for another building
    them. Parts shared with the previous state are built already: nothing to do for them."""
    _ = engine.vacancies.places
    for table in (engine.vacancies, engine.youths):
        table.rows_of(table.keys[:1])
    for index in (engine.vacancy_index, engine.youth_index):
        if index is not None and len(index):
            index.vectors(index.keys()[:1])


def _vacancy_vectors(engine, vacancies: list[VacancyRow]) -> tuple[np.ndarray | None, set[str]]:
    if not vacancies:
        return None, set()
    reused = updates.reusable_vacancy_vectors(engine, vacancies)
    vectors = np.zeros((len(vacancies), engine.embedder.dim), np.float32)
    todo = [row for row, v in enumerate(vacancies) if v.id not in reused]
    if todo:
        vectors[todo] = engine.encode_vacancies([vacancies[row] for row in todo])
    for row, vacancy in enumerate(vacancies):
        if vacancy.id in reused:
            vectors[row] = reused[vacancy.id]
    return vectors, set(reused)


def _youth_features(engine, youths: list[YouthRow]) -> tuple[np.ndarray | None, np.ndarray | None, set[str]]:
    if not youths:
        return None, None, set()
    reused = updates.reusable_youth_features(engine, youths)
    vectors = np.zeros((len(youths), engine.embedder.dim), np.float32)
    scores = np.zeros((len(youths), len(engine.codes)), np.float32)
    todo = [row for row, y in enumerate(youths) if y.id not in reused]
    if todo:
        vectors[todo], scores[todo] = engine.youth_features([youths[row] for row in todo])
    for row, youth in enumerate(youths):
        if youth.id in reused:
            vectors[row], scores[row] = reused[youth.id]
    return vectors, scores, set(reused)


def _ids_of(table, keys: list[int]) -> list[str]:
    if not keys:  # most batches delete nothing: no search of 50,000 keys for none
        return []
    wanted = np.asarray(keys, dtype=np.int64)
    wanted = wanted[np.isin(wanted, table.keys)]
    items = table.vacancies if hasattr(table, "vacancies") else table.youths
    return [items[row].id for row in table.rows_of(wanted)]


def _missing_from_store(session: Session, model, table) -> list[str]:
    stored = set(session.scalars(select(model.id)))
    return [i for i in table.rows if i not in stored]
