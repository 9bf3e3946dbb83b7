"""The index change log: what to replay into the vector indexes after a snapshot.

Every write to a youth or a vacancy calls :func:`record_changes` in the same transaction, so
the log commits with the change or not at all. ``index_changes`` keeps one row per object (its
latest op) with a fresh ``generation``; a service that loaded a snapshot taken at generation
``g`` replays :func:`changes_since` ``(g)`` in order: ``upsert`` -> read the row and (re)add it,
``delete`` -> remove ``object_key``.

Generations are handed out by a one-row counter that writers UPDATE first, which holds its row
lock until commit: transactions that record changes commit in generation order, so a reader never
sees generation ``n + 1`` before ``n`` (a plain sequence would allow that on PostgreSQL). Take
this lock before touching the changed rows: always call :func:`record_changes` first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.orm import Session

from matching.types import stable_key
from service.store.models import INDEX_KINDS, INDEX_OPS, IndexChange, IndexGeneration
from service.store.rows import rowcount, table_of

_CHUNK = 500


@dataclass(frozen=True)
class Change:
    """One entry of the change log. ``object_id`` is None for deletes (erased ids are not kept)."""

    generation: int
    kind: str
    object_key: int
    object_id: str | None
    op: str


def bump_generation(session: Session, count: int = 1) -> int:
    """Reserve ``count`` generations and return the last one; locks the counter until commit."""
    counter = table_of(IndexGeneration)
    statement = (
        update(counter)
        .where(counter.c.id == 1)
        .values(value=counter.c.value + count)
        .returning(counter.c.value)
    )
    return int(session.execute(statement).scalar_one())


def current_generation(session: Session) -> int:
    """Return the last generation handed out (0 for an empty store)."""
    return int(session.scalar(select(IndexGeneration.value).where(IndexGeneration.id == 1)) or 0)


def record_changes(session: Session, kind: str, object_ids: Sequence[str], op: str) -> int:
    """Log that ``object_ids`` of ``kind`` were upserted or deleted; return the last generation.

    Args:
        kind: ``"youth"`` or ``"vacancy"``.
        object_ids: ids in the order the changes happened; shape ``(n,)``.
        op: ``"upsert"`` or ``"delete"``.
    """
    if kind not in INDEX_KINDS or op not in INDEX_OPS:
        raise ValueError(f"kind must be one of {INDEX_KINDS} and op one of {INDEX_OPS}")
    if not object_ids:
        return current_generation(session)
    last = bump_generation(session, len(object_ids))
    first = last - len(object_ids) + 1
    latest = {stable_key(object_id): object_id for object_id in object_ids}
    keys = list(latest)
    table = table_of(IndexChange)
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        session.execute(
            delete(table).where(
                tuple_(table.c.kind, table.c.object_key).in_([(kind, k) for k in chunk])
            )
        )
    generations = {stable_key(object_id): first + i for i, object_id in enumerate(object_ids)}
    rows = [
        {
            "kind": kind,
            "object_key": key,
            "object_id": latest[key] if op == "upsert" else None,
            "op": op,
            "generation": generations[key],
        }
        for key in keys
    ]
    session.execute(table.insert(), rows)
    return last


def changes_since(session: Session, generation: int, *, limit: int | None = None) -> list[Change]:
    """Return the log entries after ``generation``, oldest first (at most ``limit``)."""
    statement = (
        select(IndexChange)
        .where(IndexChange.generation > generation)
        .order_by(IndexChange.generation)
        .limit(limit)
    )
    return [
        Change(row.generation, row.kind, row.object_key, row.object_id, row.op)
        for row in session.scalars(statement)
    ]


def prune_tombstones(session: Session, upto_generation: int) -> int:
    """Delete ``delete`` entries at or below ``upto_generation`` (a snapshot covers them).

    Call it once a snapshot at ``upto_generation`` is safely on disk: it also drops the last
    trace (the int64 index key) of erased youths. Returns the number of rows removed.
    """
    counter = table_of(IndexGeneration)
    session.execute(
        update(counter)
        .where(counter.c.id == 1, counter.c.pruned_upto < upto_generation)
        .values(pruned_upto=upto_generation)
    )
    result = session.execute(
        delete(IndexChange)
        .where(IndexChange.op == "delete", IndexChange.generation <= upto_generation)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)


@dataclass(frozen=True)
class LogState:
    """Where the change log stands: last generation, pruning horizon and store instance id."""

    generation: int
    pruned_upto: int
    instance: str


def log_state(session: Session) -> LogState:
    """Return the change log's state in one cheap read (the row of ``index_generation``)."""
    row = session.execute(
        select(IndexGeneration.value, IndexGeneration.pruned_upto, IndexGeneration.instance).where(
            IndexGeneration.id == 1
        )
    ).one_or_none()
    return LogState(0, 0, "") if row is None else LogState(int(row[0]), int(row[1]), str(row[2]))
