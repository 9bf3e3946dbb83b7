"""Batch scoring: every youth (top-k trades and vacancies) or every vacancy (top-k candidates)
into one Parquet file, chunked, resumable, on this machine or on Ray.

The engine knows no database: a provider (the CLI's, the store's) hands over a
:class:`BatchSource` (the queries and a loaded :class:`~matching.recommend.recommender.Recommender`);
:func:`run_batch` cuts the queries into chunks (:mod:`matching.batch.plan`), scores each chunk
with the service's own methods (:mod:`matching.batch.score`) on an engine
(:mod:`matching.batch.engines`), writes each finished chunk as a part and assembles the parts.
A youth run of several chunks first encodes and scores each distinct text of all its youths
once (:mod:`matching.batch.texts`), so texts shared across chunks are not encoded again.

Example:
    >>> source = BatchSource(queries=youths, recommender=engine)
    >>> summary = run_batch(source, BatchRequest("youths", top_k=20), Path("results.parquet"))
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matching.batch import plan as batch_plan
from matching.batch import texts as batch_texts
from matching.batch.engines import open_engine, usable_cores
from matching.batch.score import (
    OUTPUT_COLUMNS,
    OUTPUT_SCHEMA,
    BatchRequest,
    key_fingerprint,
    merge_stats,
    text_rows,
)
from matching.batch.texts import TextRequest, TextStore, run_texts
from matching.errors import OutOfRange

if TYPE_CHECKING:
    from matching.recommend.recommender import Recommender

__all__ = ["OUTPUT_COLUMNS", "BatchRequest", "BatchSource", "BatchSummary", "run_batch"]
ENGINES = ("local", "ray")
RUN_OPTIONS = ("engine", "workers", "chunk_size", "ray_address", "restart", "progress")
"""Arguments that change how a run is computed, not what: left out of the plan's hash."""
Progress = Callable[..., None]
"""``progress(done_queries, total_queries)`` as chunks finish; during the text phase of a youth
run, ``progress(done_texts, total_texts, "texts")``."""


@dataclass
class BatchSource:
    """What a provider hands to :func:`run_batch`.

    Args:
        queries: :class:`~matching.types.Youth` objects (what=youths) or vacancy ids.
        recommender: the loaded engine (vacancies indexed; for what=vacancies, the candidate
            youths loaded).
        encoded: what the provider encoded for this run, e.g. ``{"candidate_youths": 1200}``.
        description: where the queries come from (recorded in the output metadata).
        indexed: the youths are those of the recommender's youth index (a store source):
            their indexed vectors and trade scores are reused, as the service does for a
            stored youth, and nothing is encoded.
    """

    queries: list
    recommender: Recommender
    encoded: dict = field(default_factory=dict)
    description: dict = field(default_factory=dict)
    indexed: bool = False


@dataclass
class BatchSummary:
    """What a run did: counts, timing and simple indicators (JSON-able with :meth:`to_dict`)."""

    out: str
    what: str
    engine: str
    workers: int
    queries: int
    chunk_size: int
    chunks: int
    chunks_computed: int
    chunks_skipped: int
    rows: int
    seconds: float
    queries_per_second: float
    encoded: dict
    totals: dict

    def to_dict(self) -> dict:
        return asdict(self)


def _engine_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("passerelle")
    except PackageNotFoundError:
        return "unknown"


def _generation(index) -> int | None:
    return None if index is None else int(index.generation)


def _query_ids(source: BatchSource, what: str) -> list[str]:
    return [y.id for y in source.queries] if what == "youths" else [str(v) for v in source.queries]


SMALL_RUN = 1000
"""Below this many queries to compute, the local engine stays in this process (starting worker
processes, each loading the engine, would cost more than it saves)."""


def default_workers(engine: str, n_queries: int) -> int:
    """One worker per usable core (Ray: per core of this machine; give ``workers`` for a
    cluster); this process alone for a small local run."""
    if engine == "local" and n_queries < SMALL_RUN:
        return 1
    return usable_cores()


def run_batch(source: BatchSource, request: BatchRequest, out: Path, *, args: dict | None = None,
              engine: str = "local", workers: int | None = None, chunk_size: int | None = None,
              ray_address: str | None = None, restart: bool = False,
              progress: Progress | None = None) -> BatchSummary:
    """Score every query of ``source`` into the Parquet file ``out``; resume an unfinished run.

    Args:
        source: queries and engine (see :class:`BatchSource`).
        request: what to compute and the policies.
        out: the Parquet file to write; the lock, plan and parts live beside it.
        args: the run's arguments as the user gave them (recorded in the metadata and, with
            the request, the engine and the queries, hashed into the plan).
        engine: ``"local"`` (this machine) or ``"ray"`` (Ray Data actors).
        workers: processes (local) or actors (Ray); default: one per usable core (see
            :func:`default_workers`); local with 1: this process only.
        chunk_size: queries per chunk; default from the available memory. A resumed run keeps
            the chunk size of its plan.
        ray_address: a Ray cluster to join (default: the running one, or a local one).
        restart: drop the parts of an unfinished run with other arguments and start over.
        progress: ``progress(done, total)`` callback, in queries (and ``progress(done, total,
            "texts")`` during the text phase).

    Raises:
        BatchLocked: another live run writes ``out``.
        PlanMismatch: an unfinished run of ``out`` had other arguments (see ``restart``).
    """
    _check_options(engine, chunk_size)
    out = Path(out)
    what = request.what
    ids = _query_ids(source, what)
    workers = max(1, workers or default_workers(engine, len(ids)))
    metadata, args_hash = _run_metadata(source, request, args)
    with batch_plan.RunLock(out):
        size = chunk_size or batch_plan.auto_chunk_size(what, len(ids), workers)
        plan, finished = batch_plan.prepare(out, args_hash, batch_plan.ids_digest(ids), len(ids), size,
                                            chunk_size, metadata, restart)
        pending = [(c, source.queries[slice(*plan.bounds(c))]) for c in range(plan.n_chunks) if c not in finished]
        done = sum(plan.bounds(c)[1] - plan.bounds(c)[0] for c in finished)
        if progress:
            progress(done, plan.n_queries)
        started = time.perf_counter()
        if source.indexed:
            request = dataclasses.replace(request, indexed=True)
        used, computed, totals = _compute(source, request, out, plan, pending, done, engine=engine,
                                          workers=workers, ray_address=ray_address, progress=progress)
        seconds = time.perf_counter() - started
        rows = _assemble(out, plan, pending, totals, metadata)
    return BatchSummary(
        out=str(out), what=what, engine=engine, workers=used,
        queries=plan.n_queries, chunk_size=plan.chunk_size, chunks=plan.n_chunks,
        chunks_computed=len(pending), chunks_skipped=plan.n_chunks - len(pending), rows=rows,
        seconds=round(seconds, 3), queries_per_second=round(computed / seconds, 2) if computed and seconds else 0.0,
        encoded=_encoded_counts(source, what, totals, computed),
        totals=totals.get("all", {}),
    )


def _check_options(engine: str, chunk_size: int | None) -> None:
    """Raise OutOfRange on an unknown engine or a chunk size under 1."""
    if engine not in ENGINES:
        raise OutOfRange(f"unknown engine {engine!r}: use local or ray", field="engine",
                         message_fr=f"moteur « {engine} » inconnu : utilisez local ou ray")
    if chunk_size is not None and chunk_size < 1:
        raise OutOfRange("chunk size must be at least 1", field="chunk_size",
                         message_fr="la taille des morceaux doit être d'au moins 1")


def _run_metadata(source: BatchSource, request: BatchRequest, args: dict | None) -> tuple[dict[str, Any], str]:
    """The output's metadata, and the hash of what the run computes (the key of its plan)."""
    recommender = source.recommender
    metadata: dict[str, Any] = {
        "engine_version": _engine_version(),
        "model": getattr(recommender.embedder, "name", None),
        "index_generation": {"vacancies": _generation(recommender.vacancy_index),
                             "youths": _generation(recommender.youth_index)},
        "policy": request.policy(),
        "what": request.what,
        "top_k": request.top_k,
        "pseudonymised": request.pseudonym_key is not None,
        "pseudonym_key_id": key_fingerprint(request.pseudonym_key),
        "source": source.description,
        "args": dict(args or {}),
    }
    # how a run is computed may change between a run and its resumption; what it computes may not
    # (nor does the store's generation: a killed night run resumes on a store that took writes)
    hashed = {**metadata, "args": {k: v for k, v in metadata["args"].items() if k not in RUN_OPTIONS},
              "source": {k: v for k, v in source.description.items() if k != "store_generation"}}
    return metadata, batch_plan.digest({k: v for k, v in hashed.items() if k != "engine_version"})


def _compute(source: BatchSource, request: BatchRequest, out: Path, plan, pending: list, done: int, *,
             engine: str, workers: int, ray_address: str | None,
             progress: Progress | None) -> tuple[int, int, dict[str, Any]]:
    """Run the text phase (when it pays) and the pending chunks, each written as a part as it
    finishes; return the workers used, the queries computed and the run's counts."""
    recommender, computed, totals = source.recommender, 0, dict[str, Any]()
    texts = _shared_texts(source, request.what, plan, pending, engine, ray_address)
    used = _used_workers(engine, workers, max(len(pending), -(-len(texts) // batch_texts.TEXT_CHUNK)))
    with open_engine(engine, recommender, used, ray_address) if pending else nullcontext() as runner:
        if texts:
            request, totals["texts"] = _text_phase(runner, out, recommender, request, texts, progress)
        for chunk, table, stats in runner.run(request, pending) if runner is not None else ():
            batch_plan.write_part(out, chunk, table, stats)
            merge_stats(totals, {"computed": stats})
            computed += stats["queries"]
            done += stats["queries"]
            if progress:
                progress(done, plan.n_queries)
    return used, computed, totals


def _assemble(out: Path, plan, pending: list, totals: dict[str, Any], metadata: dict[str, Any]) -> int:
    """Assemble the parts into ``out`` and return its rows; a finished run with nothing left to
    compute is read back instead. Sets ``totals["all"]``."""
    if plan.done and not pending:
        import pyarrow.parquet as pq

        existing = pq.read_metadata(out)
        rows, totals["all"] = existing.num_rows, _file_totals(existing)
        return rows
    for chunk in range(plan.n_chunks):
        merge_stats(totals.setdefault("all", {}), batch_plan.part_stats(out, chunk))
    metadata["totals"] = totals.get("all", {})
    return batch_plan.assemble(out, plan, OUTPUT_SCHEMA, metadata, metadata)


def _encoded_counts(source: BatchSource, what: str, totals: dict[str, Any], computed: int) -> dict:
    """What was encoded for this run: the provider's counts, the texts, the youths."""
    return {**source.encoded, "texts_this_run": totals.get("texts", {}).get("encoded", 0)
            + totals.get("computed", {}).get("texts_encoded", 0),
            **({"text_phase": totals["texts"]} if "texts" in totals else {}),
            **(_youth_counts(totals.get("computed", {}), computed) if what == "youths" else {})}


def _youth_counts(stats: dict, computed: int) -> dict:
    reused = stats.get("youths_reused", 0)
    return {"youths_this_run": computed - reused, **({"youths_reused": reused} if reused else {})}


def _file_totals(metadata) -> dict:
    import json

    document = json.loads((metadata.schema.to_arrow_schema().metadata or {}).get(b"passerelle", b"{}"))
    return document.get("totals", {})


def _used_workers(engine: str, workers: int, n_pending: int) -> int:
    """Processes (local, this one included) or actors (Ray) that compute the pending chunks."""
    return workers if engine == "ray" else min(workers, n_pending)


def _shared_texts(source, what, plan, pending, engine, ray_address) -> list[str]:
    """The distinct texts of all the run's youths when a text phase pays: several chunks, and
    workers that can read the run's folder (not a Ray cluster joined at an address, whose
    machines may not share this disk: there each chunk encodes its own texts)."""
    if what != "youths" or source.indexed or not pending or plan.n_chunks < 2 or (engine == "ray" and ray_address):
        return []
    return run_texts(source.recommender, source.queries)


def _text_phase(runner, out: Path, recommender, request: BatchRequest, texts: list[str],
                progress: Progress | None) -> tuple[BatchRequest, dict]:
    """Encode and score the run's distinct texts once (resuming a killed phase); return the
    youth request that reads them, and the phase's counts."""
    started = time.perf_counter()
    store = TextStore.prepare(batch_plan.parts_dir(out) / "texts", texts, recommender.embedder.dim,
                              len(recommender.codes))
    todo = store.pending()
    done, encoded = len(texts) - sum(len(store.chunk_texts(c)) for c in todo), 0
    if progress:
        progress(done, len(texts), "texts")
    for chunk, table, _stats in runner.run(TextRequest(), [(c, store.chunk_texts(c)) for c in todo]):
        rows = text_rows(table)
        store.write(chunk, rows)
        done, encoded = done + len(rows), encoded + len(rows)
        if progress:
            progress(done, len(texts), "texts")
    counts = {"distinct": len(texts), "encoded": encoded, "seconds": round(time.perf_counter() - started, 3)}
    return dataclasses.replace(request, texts_dir=str(store.folder)), counts

