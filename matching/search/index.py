"""VectorIndex: a faiss index with external int64 keys, eligibility filters and safe snapshots.

Vectors are L2-normalised on the way in, so scores are cosines. Every path (unfiltered, faiss
``IDSelector``, exact subset, batch) returns the same answer as :func:`exact_search` over the
eligible rows: candidates are short-listed with float32 BLAS/faiss scores, re-scored canonically
(float64 products, pairwise sum, rounded to float32: independent of batch shape) and ordered by
score descending then key ascending. A shortlist is widened when a row left out could tie or beat
the k-th score given the float32 error bound, so the result is exact for exhaustive ("Flat")
indexes; IVF/HNSW indexes stay approximate but their scores are canonical too.
"""

from __future__ import annotations

import copy
from pathlib import Path

import faiss
import numpy as np
import pandas as pd

from matching.errors import UnknownId
from matching.search.exact import (
    SHORTLIST_MARGIN,
    empty_result,
    error_bound,
    exact_scores,
    exact_search,
    normalize,
    rank_exact,
    shortlist_rows,
)
from matching.search.index_files import (
    check_arrays,
    prune_snapshots,
    read_arrays,
    read_json,
    verify_checksums,
    write_snapshot,
)

# exact_scores, exact_search and normalize live in exact.py and stay importable from here
__all__ = ["VectorIndex", "exact_scores", "exact_search", "normalize"]

_CHUNK = 128  # queries per score block in the batch path: 128 x 100k float32 = 51 MB


class VectorIndex:
    """Cosine index over L2-normalised float32 vectors keyed by non-negative int64 keys.

    Args:
        dim: vector dimension.
        factory: faiss factory string: "Flat" (exact), "IVF1024,Flat", "HNSW32"...
        metric: "ip" only (inner product = cosine on normalised rows).
        subset_fraction: filters allowing fewer than this share of the index are searched exactly
            on the gathered subset; above it, one query goes through a faiss ``IDSelectorBatch``
            (measured crossover on 100k x 512: ``benchmarks/index_bench.py``).
    """

    def __init__(
        self, dim: int, factory: str = "Flat", metric: str = "ip", *, subset_fraction: float = 0.10
    ):
        if metric != "ip":
            raise ValueError(
                f"metric {metric!r} is not supported: use 'ip' (cosine on normalised rows)"
            )
        self.dim, self.factory, self.metric, self.subset_fraction = (
            int(dim),
            factory,
            metric,
            subset_fraction,
        )
        self.generation, self.manifest = 0, dict[str, object]()  # set by save / load
        self._params: dict[str, float] = {}  # set_params, replayed after an HNSW rebuild
        inner = faiss.index_factory(self.dim, factory, faiss.METRIC_INNER_PRODUCT)
        self._exhaustive = isinstance(inner, faiss.IndexFlat)
        # IVF takes ids natively (IndexIDMap2 would misnumber it after remove_ids)
        self._ivf = faiss.try_extract_index_ivf(inner)
        self._index = inner if self._ivf is not None else faiss.IndexIDMap2(inner)
        self._keys = np.empty(0, np.int64)  # key of each row, in faiss storage order
        self._store = None if self._exhaustive else np.empty((0, self.dim), np.float32)
        self._positions: pd.Index | None = None  # key -> storage position, rebuilt lazily

    def set_params(self, **params: float) -> VectorIndex:
        """Set faiss search parameters, e.g. ``nprobe=16`` (IVF) or ``efSearch=64`` (HNSW)."""
        for name, value in params.items():
            try:
                faiss.ParameterSpace().set_index_parameter(self._index, name, value)
            except RuntimeError as error:
                raise ValueError(f"{self.factory!r} has no search parameter {name!r}") from error
            self._params[name] = value
        return self

    def __len__(self) -> int:
        return int(self._keys.size)

    def copy(self) -> VectorIndex:
        """Return a copy that :meth:`add` and :meth:`remove` change without changing this index.

        The faiss index is cloned; key and vector arrays are shared, since this class replaces
        them rather than writing into them. The live engine changes a copy while requests read
        the original (copy-on-write).
        """
        twin = copy.copy(self)
        twin._index = faiss.clone_index(self._index)
        twin._ivf = faiss.try_extract_index_ivf(twin._index)
        twin._params, twin.manifest = dict(self._params), dict(self.manifest)
        return twin

    def __contains__(self, key: object) -> bool:
        try:
            return bool(self._lookup(np.array([int(key)], np.int64))[1][0])  # type: ignore[call-overload]
        except (TypeError, ValueError, OverflowError):
            return False

    def keys(self) -> np.ndarray:
        """Return the keys ``(n,)`` int64, in storage order."""
        return self._keys.copy()

    def vectors(self, keys) -> np.ndarray:
        """Return the stored (normalised) vectors ``(n, dim)`` of ``keys``; raise UnknownId."""
        positions, found = self._lookup(self._check_keys(keys))
        if not found.all():
            missing = np.asarray(keys)[~found][:5].tolist()
            raise UnknownId(f"keys not in the index: {missing}", field="keys")
        return self._matrix()[positions].copy()

    def add(self, keys, vectors) -> VectorIndex:
        """Add ``vectors (n, dim)`` under ``keys (n,)``; an existing key gets its vector replaced."""
        keys, vectors = self._check_keys(keys), normalize(vectors)
        if vectors.shape != (keys.size, self.dim):
            raise ValueError(f"vectors must be ({keys.size}, {self.dim}), got {vectors.shape}")
        if np.unique(keys).size != keys.size:
            raise ValueError("keys repeat inside one add() batch: pass each key once")
        if keys.size == 0:
            return self
        if not self._index.is_trained:
            needed = 39 * self._ivf.nlist if self._ivf is not None else 1
            if keys.size < needed:
                raise ValueError(
                    f"{self.factory!r} is untrained and needs at least {needed} vectors in the "
                    f"first add() (got {keys.size}): add a bigger batch or use fewer lists"
                )
            self._index.train(vectors)
        self.remove(keys)
        self._index.add_with_ids(vectors, keys)
        self._keys = np.concatenate([self._keys, keys])
        if self._store is not None:
            self._store = np.concatenate([self._store, vectors])
        self._positions = None
        return self

    def remove(self, keys) -> int:
        """Remove ``keys`` (unknown keys are ignored); return how many were removed.

        HNSW graphs cannot delete in faiss: the graph is rebuilt from the stored vectors, so
        batch removals (and replacements) in one call.
        """
        gone = np.isin(self._keys, self._check_keys(keys))
        count = int(gone.sum())
        if count == 0:
            return 0
        try:
            self._index.remove_ids(faiss.IDSelectorBatch(self._keys[gone]))
        except RuntimeError:  # HNSW: rebuild the graph without the removed rows
            self._index = faiss.IndexIDMap2(
                faiss.index_factory(self.dim, self.factory, faiss.METRIC_INNER_PRODUCT)
            )
            self._index.add_with_ids(self._matrix()[~gone], self._keys[~gone])
            self.set_params(**self._params)
        self._keys = self._keys[~gone]
        if self._store is not None:
            self._store = self._store[~gone]
        self._positions = None
        return count

    def search(self, queries, top_k: int, allowed=None) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(keys (q, top_k) int64, scores (q, top_k) float32)`` for ``queries (q, dim)``.

        ``allowed``: None (every key), one key array shared by all queries, or a list of q key
        arrays (one filter per query; see :meth:`search_batch_filtered`). Unknown keys in a filter
        are ignored. Order: score desc, then key asc; missing slots are key -1, score -inf.
        """
        queries, top_k = self._check_queries(queries, top_k)
        if isinstance(allowed, list | tuple):
            return self._batch_filtered(queries, top_k, allowed)
        if allowed is not None and len(queries) > 1 and self._exhaustive:
            return self._batch_filtered(queries, top_k, [allowed] * len(queries))
        eligible = (
            None if allowed is None else self._lookup(self._check_keys(allowed), unique=True)[0]
        )
        out = empty_result(len(queries), top_k)
        if len(self) == 0 or (eligible is not None and eligible.size == 0):
            return out
        matrix, tol = self._matrix(), error_bound(self.dim)
        if eligible is not None and eligible.size < self.subset_fraction * len(self):
            subset = matrix[eligible]  # few rows: exact search on the gathered subset
            for i, query in enumerate(queries):
                cand, floor = shortlist_rows(subset @ query, eligible, top_k)
                self._fill(
                    out, i, rank_exact(query, matrix, self._keys, cand, floor, eligible, top_k, tol)
                )
            return out
        params = None
        if eligible is not None:
            selector = faiss.IDSelectorBatch(self._keys[eligible])
            params = (
                faiss.SearchParametersIVF(sel=selector, nprobe=self._ivf.nprobe)  # type: ignore[call-arg]
                if self._ivf is not None
                else faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
            )
        fetch = min(top_k + SHORTLIST_MARGIN, len(self))
        distances, labels = self._index.search(queries, fetch, params=params)
        for i, query in enumerate(queries):
            hits = self._lookup(labels[i][labels[i] >= 0])[0]
            # exhaustive: every row left out scores <= the last hit; approximate: no such bound
            full = hits.size == fetch and self._exhaustive
            floor = float(distances[i, -1]) if full else -np.inf
            self._fill(
                out, i, rank_exact(query, matrix, self._keys, hits, floor, eligible, top_k, tol)
            )
        return out

    def search_batch_filtered(
        self, queries, top_k: int, allowed_list
    ) -> tuple[np.ndarray, np.ndarray]:
        """Search ``queries (q, dim)``, query i among the keys ``allowed_list[i]`` only.

        Exhaustive indexes score blocks of queries with one matrix product (over the union of
        the block's filters when it is under half the index), then take each query's allowed
        columns: same answer as one :meth:`search` per query, several times faster.
        """
        return self._batch_filtered(*self._check_queries(queries, top_k), allowed_list)

    def _batch_filtered(self, queries, top_k, allowed_list):
        if len(allowed_list) != len(queries):
            raise ValueError(
                f"allowed has {len(allowed_list)} key arrays for {len(queries)} queries"
            )
        if not self._exhaustive:
            results = [
                self.search(q[None], top_k, allowed=a)
                for q, a in zip(queries, allowed_list, strict=True)
            ]
            return np.vstack([r[0] for r in results]), np.vstack([r[1] for r in results])
        eligible = [self._lookup(self._check_keys(a), unique=True)[0] for a in allowed_list]
        out, matrix, tol = empty_result(len(queries), top_k), self._matrix(), error_bound(self.dim)
        # a filter shared by enough queries (same commune and radius...), or a tiny one, gets
        # blocks of its own: one gather of its rows beats that many full-index rows of the
        # product when count > 50 x share (measured costs); the rest go 128 queries a block
        by_filter: dict[int, list[int]] = {}
        for i, rows in enumerate(eligible):  # a hash clash costs speed, never accuracy
            by_filter.setdefault(hash(rows.tobytes()), []).append(i)
        grouped: list[list[int]] = []
        packed: list[int] = []
        for m in by_filter.values():
            if len(m) * len(self) > 50 * eligible[m[0]].size:
                grouped.append(m)
            else:
                packed.extend(m)
        for members in [
            m[s : s + _CHUNK] for m in [*grouped, packed] for s in range(0, len(m), _CHUNK)
        ]:
            block = [eligible[i] for i in members]
            in_block = np.zeros(len(self), bool)  # np.unique hashes: much slower
            for rows in block:
                in_block[rows] = True
            union = np.flatnonzero(in_block)
            if union.size < len(self) / 2:  # score only rows that a query of the block may return
                scores = queries[members] @ matrix[union].T
                column_of = np.empty(len(self), np.int64)
                column_of[union] = np.arange(union.size)
                columns = [column_of[rows] for rows in block]
            else:
                scores, columns = queries[members] @ matrix.T, block
            for j, (i, rows) in enumerate(zip(members, block, strict=True)):
                if rows.size:
                    cand, floor = shortlist_rows(scores[j, columns[j]], rows, top_k)
                    result = rank_exact(
                        queries[i], matrix, self._keys, cand, floor, rows, top_k, tol
                    )
                    self._fill(out, i, result)
        return out

    def save(self, directory, metadata: dict | None = None) -> Path:
        """Write a snapshot to ``directory`` crash-safely and return the manifest path.

        Data files carry the generation in their name and go through temp file, fsync,
        ``os.replace``; ``manifest.json`` is replaced last, so a crash at any point leaves the
        previous snapshot whole. Files of older generations are deleted afterwards
        (:mod:`~matching.search.index_files`).
        """
        directory = Path(directory)
        manifest = write_snapshot(
            directory,
            self._index,
            self._keys,
            self._store,
            generation=self.generation,
            header={
                "factory": self.factory,
                "dim": self.dim,
                "metric": self.metric,
                "count": len(self),
            },
            params=self._params,
            metadata=metadata,
        )
        self.generation, self.manifest = manifest["generation"], manifest
        prune_snapshots(directory, manifest["files"])
        return directory / "manifest.json"

    @classmethod
    def load(cls, directory) -> VectorIndex:
        """Read the snapshot of ``directory``; raise ValueError when files and manifest disagree."""
        directory = Path(directory)
        manifest = read_json(directory / "manifest.json")
        try:
            files, count, dim = manifest["files"], int(manifest["count"]), int(manifest["dim"])
            loaded = cls(dim, manifest["factory"], manifest["metric"])
            verify_checksums(directory, manifest)
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"{directory / 'manifest.json'} is incomplete: {error!r}") from error
        index, keys, store = read_arrays(directory, files)
        check_arrays(
            directory,
            index,
            keys,
            store,
            dim=dim,
            count=count,
            exhaustive=loaded._exhaustive,
            factory=loaded.factory,
        )
        loaded._index, loaded._keys, loaded._store = index, keys, store
        loaded._ivf, loaded._params = faiss.try_extract_index_ivf(index), manifest.get("params", {})
        loaded.generation, loaded.manifest = int(manifest["generation"]), manifest
        return loaded

    def _matrix(self) -> np.ndarray:
        """Rows ``(n, dim)`` in storage order: a view on faiss' flat storage, or the store."""
        if self._store is not None:
            return self._store
        flat = faiss.downcast_index(self._index.index)  # type: ignore[attr-defined]
        data = faiss.rev_swig_ptr(flat.get_xb(), len(self) * self.dim)  # type: ignore[attr-defined]
        return data.reshape(len(self), self.dim)

    def _lookup(self, keys: np.ndarray, unique: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Return (storage positions of the known keys, mask of known keys); ``unique``: sorted,
        without repeats (a hash index: 4x faster than searchsorted on 6k random keys)."""
        if self._positions is None:
            self._positions = pd.Index(self._keys)
        where = self._positions.get_indexer(keys)  # hash lookups
        positions = where[where >= 0]
        if unique and positions.size:
            positions = np.sort(positions)  # np.unique hashes: 20x slower here
            positions = positions[np.concatenate([[True], positions[1:] != positions[:-1]])]
        return positions, where >= 0

    def _check_keys(self, keys) -> np.ndarray:
        keys = np.asarray(keys)
        if keys.ndim != 1 or not (np.issubdtype(keys.dtype, np.integer) or keys.size == 0):
            raise ValueError(f"keys must be a 1-d integer array, got {keys.dtype} {keys.shape}")
        if keys.size and keys.min() < 0:
            raise ValueError("keys must be non-negative int64 (-1 marks a missing result)")
        return keys.astype(np.int64)

    def _check_queries(self, queries, top_k) -> tuple[np.ndarray, int]:
        if int(top_k) != top_k or top_k < 1:
            raise ValueError(f"top_k must be a positive integer, got {top_k!r}")
        queries = np.asarray(queries)
        if queries.ndim != 2 or queries.shape[1] != self.dim:
            raise ValueError(f"queries must be (q, {self.dim}), got {queries.shape}")
        return (normalize(queries) if len(queries) else queries.astype(np.float32)), int(top_k)

    @staticmethod
    def _fill(out, i, result) -> None:
        keys, scores = result
        out[0][i, : keys.size], out[1][i, : keys.size] = keys, scores
