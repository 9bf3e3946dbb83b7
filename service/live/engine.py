"""The live engine: a :class:`~matching.recommend.recommender.Recommender` kept equal to the store.

The store is the source of truth. :meth:`LiveEngine.open` loads every youth and vacancy row,
reuses the vectors of the last snapshot for rows unchanged since it and encodes the rest;
:meth:`LiveEngine.catch_up` replays the store's change log (``index_changes``) since the
generation of the current state: the API calls it right after each committed write (so the
write is visible at once) and before each read (so writes made by other server workers or by
the command line are seen too). A background thread snapshots the indexes (never on the
request path) and prunes the tombstones the snapshot covers. When youths leave the engine
(an erasure), the thread is woken to write a snapshot without them at once: the older
snapshot files, which still hold their vectors, are deleted with it.

Requests read an immutable :class:`~service.live.apply.EngineState` taken by reference
(:meth:`LiveEngine.read`); the applier builds the next state beside it
(:mod:`service.live.apply`) and swaps the reference. No reader waits for a lock, and no lock is
held while a database session is open.

Example:
    >>> live = LiveEngine.open(workspace, sessions)
    >>> state = live.read()
    >>> state.recommender.suggest_trades([youth])
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from matching.recommend.recommender import Recommender
from matching.search.embeddings import make_embedder
from matching.types import stable_keys
from service.live.apply import EngineState, next_state, read_changes, warm
from service.live.snapshots import read_snapshot, write_snapshot
from service.store.changes import changes_since, log_state, prune_tombstones
from service.store.employers import expire_vacancies
from service.store.loading import load_vacancies, load_youths

log = logging.getLogger("passerelle.live")
Progress = Callable[[str, int, int], None]


def _quiet(task: str, done: int, total: int) -> None:
    return None


def _same(then, now) -> bool:
    """Whether a part written to the last snapshot is still what the engine holds: the very
    object (indexes, copied on write), or an array of equal contents (a youth's radius changes
    the scores' object, not their values nor the keys' order: rows are replaced in place)."""
    return then is now or (isinstance(now, np.ndarray) and then.shape == now.shape and np.array_equal(then, now))


class LiveEngine:
    """The engine state that requests read, and the applier that replaces it.

    Readers take :attr:`state` (one reference: :meth:`read`) and use only it; the applier builds
    the next state beside it and swaps the reference. Appliers run one at a time (the writer
    lock); no reader ever waits for a lock.
    """

    def __init__(self, recommender: Recommender, sessions: sessionmaker[Session],
                 read_sessions: sessionmaker[Session], snapshot_dir, *, generation: int,
                 instance: str, metadata: dict):
        self.state = EngineState(recommender, generation)  # replaced whole, never changed
        self.sessions, self.read_sessions = sessions, read_sessions
        self.snapshot_dir = snapshot_dir
        self.snapshot_generation = -1
        self._written: dict[str, tuple] = {}  # half -> (the objects it was written from, file generation)
        self.kept: list[str] = []  # halves the last snapshot did not write again (unchanged)
        self.instance = instance
        self.metadata = metadata
        self._writer = threading.Lock()  # one applier of the change log at a time
        self._stop = threading.Event()
        self._wake = threading.Event()  # youths left: snapshot now, not at the next interval
        self._thread: threading.Thread | None = None

    @property
    def recommender(self) -> Recommender:
        """The recommender of the current state (take :meth:`read` once per request instead)."""
        return self.state.recommender

    @property
    def generation(self) -> int:
        """The store generation of the current state."""
        return self.state.generation

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
        skills = workspace.skill_vectors(referential, embedder, progress)
        if skills is not None:
            recommender.use_skill_vectors(*skills)
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
        encoded = _fill(recommender, vacancies, youths, snapshot, changed, progress)  # not published yet
        warm(recommender)
        live = cls(recommender, sessions, read_sessions, snapshot_dir, generation=state.generation,
                   instance=state.instance, metadata=metadata)
        live.snapshot_generation = snapshot.generation if snapshot is not None else -1
        if encoded or not usable or (snapshot is not None and _holds_others(snapshot.youths, youths)):
            live.snapshot()  # also when the snapshot still holds youths erased since
        live.expire_vacancies()
        live.catch_up()
        return live

    # ------------------------------------------------------------------ reading
    def read(self, *, sync: bool = True) -> EngineState:
        """The state one request reads, after catching up with the store without waiting (``sync``).

        Take it once and use only it: it stays whole (one generation) however long the request
        runs, while writes build and publish the next ones.
        """
        if sync:
            self.catch_up(wait=False)
        return self.state

    @contextlib.contextmanager
    def reading(self, *, sync: bool = True) -> Iterator[Recommender]:
        """The recommender of :meth:`read`, as a context (nothing is held while it is open)."""
        yield self.read(sync=sync).recommender

    # ------------------------------------------------------------------ syncing
    def catch_up(self, *, wait: bool = True) -> int:
        """Apply the store's changes after the current state's generation; return how many.

        The changed rows are read with no lock held; then, under the writer lock, the next state
        is built beside the current one (encoding, copy-on-write tables and indexes) and the
        reference swapped. Readers never wait. A writer (``wait=True``) waits for the applier
        at work, so its own committed write is in the state before it answers; a reader
        (``wait=False``) leaves the work to an applier already at it and reads the state as it
        stands.
        """
        while True:
            base = self.state
            with self.read_sessions() as session:
                log_now = log_state(session)
                if log_now.generation <= base.generation:
                    return 0
                if not wait and self._writer.locked():
                    return 0
                batch = read_changes(session, base, log_now.generation, log_now.pruned_upto)
            if not self._writer.acquire(blocking=wait):
                return 0
            try:
                if self.state is not base:
                    continue  # another applier published meanwhile: read again from its state
                state, gone_youths = next_state(base, batch)
                self.state = state  # the swap: one reference, under the writer lock
            finally:
                self._writer.release()
            if gone_youths:
                self._wake.set()  # the last snapshot still holds them: replace it now
            return batch.count

    # ------------------------------------------------------------------ snapshots
    def snapshot(self) -> bool:
        """Write a snapshot if the engine moved on since the last one; prune covered tombstones."""
        state = self.state  # one generation, read while requests go on
        generation, engine = state.generation, state.recommender
        if generation == self.snapshot_generation:
            return False
        if engine.vacancy_index is None or engine.youth_index is None:
            raise RuntimeError("the live engine has no index yet: nothing to snapshot")
        parts = {"vacancies": (engine.vacancy_index,),
                 "youths": (engine.youth_index, engine.youth_trade_scores, engine.youths.keys)}
        keep = {half: generation_then for half, (objects, generation_then) in self._written.items()
                if all(map(_same, objects, parts[half]))}
        v_keys, y_keys = engine.vacancies.keys, engine.youths.keys
        files = write_snapshot(self.snapshot_dir, v_keys, lambda: engine.vacancy_index.vectors(v_keys), y_keys,
                               lambda: engine.youth_index.vectors(y_keys), engine.youth_trade_scores,
                               {**self.metadata, "store_generation": generation}, keep=keep)
        self._written = {half: (parts[half], files[half]) for half in parts}
        self.kept = sorted(half for half in keep if files[half] == keep[half])
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
                    started = time.perf_counter()
                    self.expire_vacancies()
                    applied = self.catch_up()
                    caught_up = time.perf_counter()
                    written = self.snapshot()
                    outcome = ("unchanged" if not written else "written" if not self.kept
                               else f"written ({' and '.join(self.kept)} kept)")
                    log.info("index sync: %d changes applied in %.0f ms, snapshot %s in %.0f ms", applied,
                             1000 * (caught_up - started), outcome, 1000 * (time.perf_counter() - caught_up))
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
        state = self.state
        engine = state.recommender
        return {"generation": state.generation, "snapshot_generation": self.snapshot_generation,
                "vacancies": len(engine.vacancies), "youths": len(engine.youths),
                "model": self.metadata["model"], "store_instance": self.instance}


def _fill(engine: Recommender, vacancies, youths, snapshot, changed: set[str], progress: Progress) -> int:
    """Index the loaded rows in ``engine``; return how many had to be encoded."""
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
