"""Index snapshots of the live engine: vectors (and youth trade scores) at a store generation.

A snapshot is a vector cache, never the source of truth: on start-up the engine loads the
store's rows, reuses the snapshot's vectors for rows unchanged since the snapshot's generation
and encodes the rest. Files are written crash-safely by :meth:`VectorIndex.save` (temporary
file, fsync, atomic rename, manifest last); the youths' trade-score matrix is written first and
named, with its checksum, in the youth manifest's metadata.
"""

from __future__ import annotations

import fcntl
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np

from matching.files import atomic_write, sha256_file
from matching.search.index import VectorIndex
from matching.search.index_files import read_json, restamp
from matching.types import stable_keys

SCORES_PREFIX = "trade_scores-"


@dataclass
class Snapshot:
    """What a snapshot holds; ``youth_scores`` rows align with ``youths.keys()``."""

    vacancies: VectorIndex
    youths: VectorIndex
    youth_scores: np.ndarray
    generation: int
    metadata: dict


def write_snapshot(directory: Path, vacancy_keys, vacancy_vectors, youth_keys, youth_vectors,
                   youth_scores: np.ndarray, metadata: dict, *, keep: dict[str, int] | None = None) -> dict[str, int]:
    """Write a snapshot (``metadata`` must hold ``store_generation``); one writer at a time.
    Return the file generation of each half (``"vacancies"``, ``"youths"``).

    Vectors may be given as functions, called only for a half written whole.
    ``keep``: halves whose rows did not change since this caller wrote them, with the file
    generation it got then. When the half on disk is still that one, its files stay and only its
    manifest takes the new metadata: the 50,000 vectors of a territory are not written again
    every interval because a vacancy's places changed. A half another process wrote meanwhile
    is written whole.
    """
    keep = keep or {}
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # several server workers may snapshot the same store
        youth_dir = directory / "youths"
        youth_dir.mkdir(exist_ok=True)
        kept = {half for half, generation in keep.items() if _file_generation(directory / half) == generation}
        if "youths" in kept:
            extra = {"trade_scores": read_json(youth_dir / "manifest.json")["metadata"]["trade_scores"]}
        else:
            scores_file = f"{SCORES_PREFIX}{int(metadata['store_generation']):012d}.npy"
            scores = np.ascontiguousarray(youth_scores, dtype=np.float16)
            atomic_write(youth_dir / scores_file, lambda path: np.save(path, scores, allow_pickle=False))
            extra = {"trade_scores": {"file": scores_file, "sha256": sha256_file(youth_dir / scores_file)}}
        halves = (("vacancies", vacancy_keys, vacancy_vectors, metadata),
                  ("youths", youth_keys, youth_vectors, {**metadata, **extra}))
        written = {}
        for half, keys, vectors, half_metadata in halves:
            if half in kept:
                restamp(directory / half, half_metadata)
                written[half] = keep[half]
            else:
                index = _index(keys, vectors)
                index.save(directory / half, metadata=half_metadata)
                written[half] = index.generation
        for stale in youth_dir.glob(f"{SCORES_PREFIX}*.npy"):
            if stale.name != extra["trade_scores"]["file"]:
                stale.unlink(missing_ok=True)
        return written


def _file_generation(directory: Path) -> int | None:
    """The file generation of the snapshot half in ``directory`` (None: none readable)."""
    try:
        return int(read_json(directory / "manifest.json")["generation"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_snapshot(directory: Path) -> Snapshot | None:
    """Return the snapshot of ``directory``, or None when absent, partial or inconsistent."""
    try:
        vacancies = VectorIndex.load(directory / "vacancies")
        youths = VectorIndex.load(directory / "youths")
        meta_v = cast(dict, vacancies.manifest.get("metadata", {}))
        meta_y = cast(dict, youths.manifest.get("metadata", {}))
        scores_meta = meta_y["trade_scores"]
        path = directory / "youths" / scores_meta["file"]
        if sha256_file(path) != scores_meta["sha256"]:
            return None
        scores = np.load(path, allow_pickle=False)
    except (FileNotFoundError, ValueError, KeyError, TypeError, OSError):
        return None
    generation = meta_v.get("store_generation")
    same = {k: v for k, v in meta_y.items() if k != "trade_scores"} == meta_v
    if generation is None or not same or scores.shape[0] != len(youths):
        return None  # a crash between the two manifests: the halves disagree
    return Snapshot(vacancies, youths, scores, int(generation), meta_v)


def _index(keys, vectors) -> VectorIndex:
    vectors = vectors() if callable(vectors) else vectors
    index = VectorIndex(vectors.shape[1])
    if len(keys):
        index.add(keys, vectors)
    return index


def drop_youths(directory: Path, youth_ids) -> int:
    """Rewrite the snapshot of ``directory`` without the youths ``youth_ids``; return how many left.

    For erasures made without a live engine (``passerelle purge``): the snapshot keeps its
    generation (it is a vector cache: rows it lacks are encoded again at the next start) and
    the files that held the erased youths' vectors are deleted.
    """
    snapshot = read_snapshot(directory)
    if snapshot is None:
        return 0
    keys = snapshot.youths.keys()
    keep = ~np.isin(keys, stable_keys(list(youth_ids)))
    if keep.all():
        return 0
    v_keys = snapshot.vacancies.keys()
    write_snapshot(directory, v_keys, lambda: snapshot.vacancies.vectors(v_keys), keys[keep],
                   snapshot.youths.vectors(keys[keep]), snapshot.youth_scores[keep], snapshot.metadata,
                   keep={"vacancies": snapshot.vacancies.generation})
    return int((~keep).sum())
