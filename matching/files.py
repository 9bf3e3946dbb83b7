"""Crash-safe files: the one atomic-write helper of the project, and file digests.

Every file that a crash must never leave half-written (index snapshots, batch plans and parts,
synthetic data sets, schedules) goes through :func:`atomic_write`: a temporary file in the same
folder, fsync of the file, ``os.replace`` onto the target, then fsync of the folder so that the
rename itself survives a power cut. A reader sees the old file or the new one, never a mix.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path


def fsync_path(path: Path, flags: int = os.O_RDONLY) -> None:
    """Flush ``path`` (a file, or a folder with ``os.O_DIRECTORY``) to disk."""
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Write ``path`` through ``write(temporary)`` beside it, fsync, rename, fsync the folder.

    The temporary name keeps ``path``'s suffix (``np.save`` would add one otherwise) and the
    process id, so two processes writing the same target do not share a temporary file.
    """
    temporary = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    try:
        write(temporary)
        fsync_path(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable
        fsync_path(path.parent, os.O_RDONLY | os.O_DIRECTORY)


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` atomically (:func:`atomic_write`)."""
    atomic_write(path, lambda temporary: temporary.write_bytes(payload))


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read by blocks of 1 MiB."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
