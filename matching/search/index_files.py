"""Snapshot files of a :class:`~matching.search.index.VectorIndex`: manifest, generations, checks.

A snapshot is a folder with ``manifest.json`` and data files named after their generation
(``index-000003.faiss``, ``keys-000003.npy``, ``vectors-000003.npy`` for non-exhaustive indexes).
Data files go through :func:`~matching.files.atomic_write` first and the manifest last, so a crash
at any point leaves the previous snapshot whole; files of older generations are pruned after the
new manifest is in place. Reading checks every file against its SHA-256 in the manifest and the
arrays against the manifest's shape. The index class itself stays in :mod:`matching.search.index`;
this module only moves faiss indexes and numpy arrays to and from disk.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import faiss
import numpy as np

from matching.files import atomic_write, sha256_file

_SNAPSHOT_FILE = re.compile(r"\.?(index|keys|vectors)-\d{6}(\.tmp-\d+)?\.(faiss|npy)")


def read_json(path: Path) -> dict:
    """Parse the JSON file ``path``; raise ValueError when it is not valid JSON."""
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from error


def write_snapshot(
    directory: Path,
    index,
    keys: np.ndarray,
    store: np.ndarray | None,
    *,
    generation: int,
    header: dict,
    params: dict,
    metadata: dict | None,
) -> dict:
    """Write the data files and then ``manifest.json`` of a new snapshot; return the manifest.

    The new generation is one past the larger of ``generation`` (the index's own) and the one
    on disk. ``header`` holds ``factory``, ``dim``, ``metric`` and ``count``, in that order.
    """
    directory.mkdir(parents=True, exist_ok=True)
    try:
        previous = int(read_json(directory / "manifest.json").get("generation", 0))
    except (OSError, ValueError):  # no snapshot yet, or an unreadable one: start over
        previous = 0
    generation = max(generation, previous) + 1
    files = {"index": f"index-{generation:06d}.faiss", "keys": f"keys-{generation:06d}.npy"}
    atomic_write(directory / files["index"], lambda path: faiss.write_index(index, str(path)))
    atomic_write(directory / files["keys"], lambda path: np.save(path, keys, allow_pickle=False))
    if store is not None:
        files["vectors"] = f"vectors-{generation:06d}.npy"
        atomic_write(
            directory / files["vectors"], lambda path: np.save(path, store, allow_pickle=False)
        )
    manifest = {
        "format": 1,
        **header,
        "generation": generation,
        "files": files,
        "sha256": {name: sha256_file(directory / file) for name, file in files.items()},
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "faiss_version": faiss.__version__,
        "params": params,
        "metadata": dict(metadata or {}),
    }
    _write_manifest(directory, manifest)
    return manifest


def restamp(directory: Path, metadata: dict) -> None:
    """Give the snapshot of ``directory`` new metadata, its data files, checksums and
    generation kept: for a caller that knows the vectors did not change since they were written
    (the live engine's snapshot of an index it did not touch)."""
    manifest = read_json(directory / "manifest.json")
    _write_manifest(directory, {**manifest, "metadata": dict(metadata)})


def _write_manifest(directory: Path, manifest: dict) -> None:
    try:
        text = json.dumps(manifest, indent=2, sort_keys=True)
    except TypeError as error:
        raise ValueError(f"metadata must be JSON-serialisable: {error}") from error
    atomic_write(directory / "manifest.json", lambda path: path.write_text(text))


def prune_snapshots(directory: Path, files: dict) -> None:
    """Delete the data files of older generations and temp files of crashed saves."""
    for stale in directory.iterdir():
        if _SNAPSHOT_FILE.fullmatch(stale.name) and stale.name not in files.values():
            stale.unlink()


def verify_checksums(directory: Path, manifest: dict) -> None:
    """Raise ValueError when a data file differs from its SHA-256 in the manifest (KeyError,
    TypeError or AttributeError when the manifest lacks the entries)."""
    for name, file in manifest["files"].items():
        if sha256_file(directory / file) != manifest["sha256"][name]:
            raise ValueError(f"{file} does not match its checksum in manifest.json (corrupted)")


def read_arrays(directory: Path, files: dict) -> tuple[faiss.Index, np.ndarray, np.ndarray | None]:
    """Read ``(faiss index, keys (n,) int64, stored vectors (n, dim) or None)`` of a snapshot."""
    index = faiss.read_index(str(directory / files["index"]))
    keys = np.load(directory / files["keys"], allow_pickle=False)
    store = (
        np.load(directory / files["vectors"], allow_pickle=False) if "vectors" in files else None
    )
    return index, keys, store


def check_arrays(
    directory: Path, index, keys, store, *, dim: int, count: int, exhaustive: bool, factory: str
) -> None:
    """Raise ValueError when the arrays read from ``directory`` disagree with the manifest."""
    if index.d != dim or index.ntotal != count or keys.shape != (count,) or keys.dtype != np.int64:
        raise ValueError(
            f"snapshot in {directory} does not match its manifest (dim {dim}, count {count}): "
            f"index has d={index.d}, ntotal={index.ntotal}; keys {keys.dtype} {keys.shape}"
        )
    if exhaustive:
        if not isinstance(index, faiss.IndexIDMap2) or not np.array_equal(
            faiss.vector_to_array(index.id_map), keys
        ):
            raise ValueError(
                f"snapshot in {directory}: index ids do not match keys (factory {factory!r})"
            )
    elif store is None or store.shape != (count, dim) or store.dtype != np.float32:
        raise ValueError(
            f"snapshot in {directory}: stored vectors do not match factory {factory!r}"
        )
