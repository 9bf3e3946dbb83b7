"""The live engine: a :class:`~matching.recommend.recommender.Recommender` kept equal to the store.

The store is the source of truth. :meth:`LiveEngine.open` loads every youth and vacancy row,
reuses the vectors of the last snapshot for rows unchanged since it and encodes the rest;
:meth:`LiveEngine.catch_up` replays the store's change log (``index_changes``) since the
generation the engine has applied: the API calls it right after each committed write (so the
write is visible at once) and before each read (so writes made by other server workers or by
the command line are seen too). A background thread snapshots the indexes (never on the
request path) and prunes the tombstones the snapshot covers. When youths leave the engine
(an erasure), the thread is woken to write a snapshot without them at once: the older
snapshot files, which still hold their vectors, are deleted with it.

Example:
    >>> live = LiveEngine.open(workspace, sessions)
    >>> with live.reading() as engine:
    ...     engine.suggest_trades([youth])
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import date

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from matching.recommend import updates
from matching.recommend.recommender import Recommender
from matching.search.embeddings import make_embedder
from matching.types import stable_keys
from service.live.snapshots import read_snapshot, write_snapshot
from service.store.changes import changes_since, log_state, prune_tombstones
from service.store.employers import expire_vacancies
from service.store.loading import load_vacancies, load_youths
from service.store.models import Vacancy, Youth

log = logging.getLogger("passerelle.live")
Progress = Callable[[str, int, int], None]


def _quiet(task: str, done: int, total: int) -> None:
    return None


class LiveEngine:
    """A recommender, the store generation it reflects, and the lock that guards both."""

    def __init__(self, recommender: Recommender, sessions: sessionmaker[Session],
                 read_sessions: sessionmaker[Session], snapshot_dir, *, generation: int,
                 instance: str, metadata: dict):
        self.recommender = recommender
        self.sessions, self.read_sessions = sessions, read_sessions
        self.snapshot_dir = snapshot_dir
        self.generation = generation
        self.snapshot_generation = -1
        self.instance = instance
        self.metadata = metadata
        self.lock = threading.RLock()  # guards the recommender: readers and the swap-in
        self._apply_lock = threading.Lock()  # one applier of the change log at a time
        self._stop = threading.Event()
        self._wake = threading.Event()  # youths left: snapshot now, not at the next interval
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, workspace, sessions: sessionmaker[Session], read_sessions: sessionmaker[Session] | None = None,
             *, progress: Progress = _quiet) -> LiveEngine:
        """Load the store's rows into a fresh recommender, reusing the last snapshot's vectors."""
        read_sessions = read_sessions or sessions
        referential = workspace.referential()
        embedder = make_embedder(workspace.settings.model)
        searcher = workspace.trade_searcher(referential, embedder, progress)
        recommender = Recommender(referential, embedder, searcher)
        with read_sessions() as session:
            state = log_state(session)  # first: rows read after it are at least this new
            snapshot_dir = workspace.store_index_dir(state.instance)
            snapshot = read_snapshot(snapshot_dir)
            metadata = {"store_instance": state.instance, "model": workspace.settings.model,
                        "trades_data_hash": searcher.data_hash_}
            if snapshot is not None and not (snapshot.generation <= state.generation and {
                    k: snapshot.metadata.get(k) for k in metadata} == metadata):
                snapshot = None  # another store, a newer one, or other model settings
            usable = snapshot is not None
            changed: set[str] = set()
            if snapshot is not None:
                changed = {c.object_id for c in changes_since(session, snapshot.generation)
                           if c.op == "upsert" and c.object_id}
            vacancies = load_vacancies(session, referential)
            youths = load_youths(session, referential)
        live = cls(recommender, sessions, read_sessions, snapshot_dir, generation=state.generation,
                   instance=state.instance, metadata=metadata)
        encoded = live._fill(vacancies, youths, snapshot, changed, progress)
        live.snapshot_generation = snapshot.generation if snapshot is not None else -1
        if encoded or not usable or (snapshot is not None and _holds_others(snapshot.youths, youths)):
            live.snapshot()  # also when the snapshot still holds youths erased since
        live.expire_vacancies()
        live.catch_up()
        return live

    def _fill(self, vacancies, youths, snapshot, changed: set[str], progress: Progress) -> int:
        """Index the loaded rows; return how many had to be encoded."""
        engine = self.recommender
        dim = engine.embedder.dim
        v_vectors = np.zeros((len(vacancies), dim), np.float32)
        y_vectors = np.zeros((len(youths), dim), np.float32)
        y_scores = np.zeros((len(youths), len(engine.codes)), np.float16)
        v_todo = _reuse(vacancies, snapshot.vacancies if snapshot else None, changed, v_vectors)
        y_todo = _reuse(youths, snapshot.youths if snapshot else None, changed, y_vectors)
        if snapshot is not None:
            reused = np.setdiff1d(np.arange(len(youths)), y_todo)
            if reused.size:
                at = _positions(snapshot.youths.keys(), stable_keys([youths[i].id for i in reused]))
                y_scores[reused] = snapshot.youth_scores[at]
        if v_todo.size:
            task = "Indexation des offres"
            v_vectors[v_todo] = engine.encode_vacancies(
                [vacancies[i] for i in v_todo], on_progress=lambda d, t: progress(task, d, t))
            progress(task, v_todo.size, v_todo.size)
        if y_todo.size:
            task = "Indexation des jeunes"
            step = 256
            for start in range(0, y_todo.size, step):
                part = y_todo[start:start + step]
                chunk = [youths[i] for i in part]
                y_vectors[part], y_scores[part] = engine.youth_features(chunk)
                progress(task, min(start + step, y_todo.size), y_todo.size)
        engine.load_vacancies(vacancies, vectors=v_vectors)
        engine.load_youths(youths, vectors=y_vectors, trade_scores=y_scores)
        return int(v_todo.size + y_todo.size)

    # ------------------------------------------------------------------ reading
    @contextlib.contextmanager
    def reading(self, *, sync: bool = True) -> Iterator[Recommender]:
        """Hold the engine for one request, after catching up with the store (``sync``)."""
        if sync:
            self.catch_up(wait=False)
        with self.lock:
            yield self.recommender

    # ------------------------------------------------------------------ syncing
    def catch_up(self, *, wait: bool = True) -> int:
        """Apply the store's changes since :attr:`generation`; return how many were applied.

        Changed rows are read and encoded without the engine lock (readers go on), then swapped
        in under it; ``_apply_lock`` keeps appliers in generation order. A writer waits
        (``wait=True``: its own write is applied before it answers); a reader does not wait for
        an applier already at work (``wait=False``) and reads the engine as it stands.
        """
        with self.read_sessions() as session:
            if log_state(session).generation <= self.generation:
                return 0
        if not self._apply_lock.acquire(blocking=wait):
            return 0
        try:
            with self.read_sessions() as session:
                state = log_state(session)
                if state.generation <= self.generation:
                    return 0
                return self._apply(session, state)
        finally:
            self._apply_lock.release()

    def _apply(self, session: Session, state) -> int:
        engine, referential = self.recommender, self.recommender.referential
        lagging = self.generation < state.pruned_upto  # deletes below it were pruned from the log
        changes = changes_since(session, self.generation)
        if not changes:
            self.generation = max(self.generation, state.generation)
            return 0
        upserts: dict[str, list[str]] = {"vacancy": [], "youth": []}
        deletes: dict[str, list[int]] = {"vacancy": [], "youth": []}
        for change in changes:
            if change.op == "upsert" and change.object_id:
                upserts[change.kind].append(change.object_id)
            else:
                deletes[change.kind].append(change.object_key)
        vacancies = load_vacancies(session, referential, upserts["vacancy"])
        youths = load_youths(session, referential, upserts["youth"])
        found_v, found_y = {v.id for v in vacancies}, {y.id for y in youths}
        gone_v = [i for i in upserts["vacancy"] if i not in found_v]  # deleted since: newer state wins
        gone_y = [i for i in upserts["youth"] if i not in found_y]
        if lagging:
            gone_v += _missing_from_store(session, Vacancy, engine.vacancies)
            gone_y += _missing_from_store(session, Youth, engine.youths)
        # encoding reads only the model: done outside the engine lock, readers are not held up
        v_vectors = engine.encode_vacancies(vacancies) if vacancies else None
        y_vectors, y_scores = engine.youth_features(youths) if youths else (None, None)
        with self.lock:
            gone_v += _ids_of(engine.vacancies, deletes["vacancy"])
            gone_y += _ids_of(engine.youths, deletes["youth"])
            updates.remove_vacancies(engine, gone_v)
            updates.remove_youths(engine, gone_y)
            updates.upsert_vacancies(engine, vacancies, v_vectors)
            updates.upsert_youths(engine, youths, y_vectors, y_scores)
            self.generation = max(change.generation for change in changes)
        if gone_y:
            self._wake.set()  # the last snapshot still holds them: replace it now
        return len(changes)

    # ------------------------------------------------------------------ snapshots
    def snapshot(self) -> bool:
        """Write a snapshot if the engine moved on since the last one; prune covered tombstones."""
        with self.lock:
            generation = self.generation
            if generation == self.snapshot_generation:
                return False
            engine = self.recommender
            v_keys = engine.vacancies.keys.copy()
            y_keys = engine.youths.keys.copy()
            if engine.vacancy_index is None or engine.youth_index is None:
                raise RuntimeError("the live engine has no index yet: nothing to snapshot")
            v_vectors = engine.vacancy_index.vectors(v_keys)
            y_vectors = engine.youth_index.vectors(y_keys)
            y_scores = engine.youth_trade_scores.copy()
        write_snapshot(self.snapshot_dir, v_keys, v_vectors, y_keys, y_vectors, y_scores,
                       {**self.metadata, "store_generation": generation})
        with self.sessions.begin() as session:
            prune_tombstones(session, generation)
        self.snapshot_generation = generation
        return True

    def expire_vacancies(self, today: date | None = None) -> list[str]:
        """Mark open vacancies past their end date ``expired`` in the store; return their ids.

        The change log carries them to every engine (this one at its next catch-up).
        """
        with self.sessions.begin() as session:
            return expire_vacancies(session, today or date.today())

    def start_background(self, interval_s: float = 30.0) -> None:
        """Catch up and snapshot every ``interval_s`` seconds in a daemon thread, and at once
        when youths were removed (erased: their vectors must leave the data home)."""
        def loop() -> None:
            while not self._stop.is_set():
                self._wake.wait(interval_s)
                self._wake.clear()
                if self._stop.is_set():
                    break
                try:
                    self.expire_vacancies()
                    self.catch_up()
                    self.snapshot()
                except Exception as error:  # keep serving; the next round retries
                    # the type only: database errors quote row values, which may be personal
                    log.error("background index sync failed: %s", type(error).__name__)
        self._thread = threading.Thread(target=loop, name="passerelle-snapshots", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the background thread (the last snapshot stays on disk)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def status(self) -> dict:
        """Counts and generations, for ``/ready``."""
        engine = self.recommender
        return {"generation": self.generation, "snapshot_generation": self.snapshot_generation,
                "vacancies": len(engine.vacancies), "youths": len(engine.youths),
                "model": self.metadata["model"], "store_instance": self.instance}


def _positions(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    order = np.argsort(keys)
    return order[np.searchsorted(keys[order], wanted)]


def _reuse(items, index, changed: set[str], out: np.ndarray) -> np.ndarray:
    """Copy the snapshot vectors of unchanged items into ``out``; return the rows to encode."""
    if index is None or not len(items):
        return np.arange(len(items))
    keys = stable_keys([item.id for item in items])
    present = np.isin(keys, index.keys()) & np.array([item.id not in changed for item in items])
    rows = np.flatnonzero(present)
    if rows.size:
        out[rows] = index.vectors(keys[rows])
    return np.flatnonzero(~present)


def _holds_others(index, youths) -> bool:
    """Whether the snapshot ``index`` holds youths that the store no longer has (erased)."""
    return bool(np.isin(index.keys(), stable_keys([y.id for y in youths]), invert=True).any())


def _ids_of(table, keys: list[int]) -> list[str]:
    wanted = np.asarray(keys, dtype=np.int64)
    wanted = wanted[np.isin(wanted, table.keys)]
    items = table.vacancies if hasattr(table, "vacancies") else table.youths
    return [items[row].id for row in table.rows_of(wanted)]


def _missing_from_store(session: Session, model, table) -> list[str]:
    stored = set(session.scalars(select(model.id)))
    return [i for i in table.rows if i not in stored]
