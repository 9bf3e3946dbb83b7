"""Registry of trained rankers in a folder (the data home's ``models/ranker``).

Layout::

    <root>/<version>/model.txt       LightGBM text model
    <root>/<version>/manifest.json   what it was trained on and how it measured
    <root>/active.json               {"active": version or null, "history": [...]}

Nothing is served until a person activates a version (training never does). Each activation
pushes the version it replaces (possibly none: the untrained fusion) onto ``history``;
:func:`rollback` pops it back, so a rollback restores exactly what was served before. Every
file is written atomically (temporary file, ``os.replace``); a version folder is filled under a
temporary name and renamed into place, so a reader sees a complete version or none.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from matching.errors import UnknownId
from matching.files import atomic_write_bytes
from matching.learn.ranker import LearnedRanker
from matching.learn.training import Trained

POINTER = "active.json"


def _dump(document: Any) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def save(root: Path, trained: Trained) -> Path:
    """Store a trained ranker as ``root/<version>``; never activates it. Returns the folder."""
    version = trained.manifest["version"]
    target = root / version
    if target.exists():
        raise FileExistsError(f"ranker version {version} already exists in {root}")
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".{version}.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        (staging / "model.txt").write_text(trained.ranker.to_text(), encoding="utf-8")
        (staging / "manifest.json").write_bytes(_dump(trained.manifest))
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def manifests(root: Path) -> list[dict[str, Any]]:
    """Manifests of every stored version, oldest first."""
    found = []
    for path in sorted(root.glob("*/manifest.json")) if root.is_dir() else []:
        if not path.parent.name.startswith("."):
            found.append(json.loads(path.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: (m.get("created_at", ""), m["version"]))


def pointer(root: Path) -> dict[str, Any]:
    """The ``active.json`` document (``{"active": None, "history": []}`` when absent)."""
    path = root / POINTER
    if not path.is_file():
        return {"active": None, "history": []}
    return json.loads(path.read_text(encoding="utf-8"))


def active_version(root: Path) -> str | None:
    """The active version, or None (the untrained fusion is served)."""
    return pointer(root).get("active")


def _write_pointer(root: Path, active: str | None, history: list[dict[str, Any]]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(root / POINTER, _dump({"active": active, "history": history,
                                              "changed_at": datetime.now(UTC).isoformat()}))


def activate(root: Path, version: str) -> str | None:
    """Serve ``version`` from now on; returns the version it replaces (None: the fusion).

    Raises:
        UnknownId: no such version in ``root``.
    """
    if not (root / version / "model.txt").is_file():
        raise UnknownId(f"unknown ranker version '{version}': see `passerelle ranker list`",
                        field="version",
                        message_fr=f"version de classeur « {version} » inconnue : voir `passerelle ranker list`")
    state = pointer(root)
    previous = state.get("active")
    history = list(state.get("history", []))
    if previous != version:
        history.append({"version": previous, "replaced_at": datetime.now(UTC).isoformat()})
    _write_pointer(root, version, history)
    return previous


def rollback(root: Path) -> str | None:
    """Restore the version active before the last activation (None: the untrained fusion).

    Raises:
        LookupError: nothing to roll back (no activation recorded).
    """
    state = pointer(root)
    history = list(state.get("history", []))
    if not history:
        raise UnknownId("nothing to roll back: no ranker was ever activated", field="version",
                        message_fr="rien à annuler : aucun classeur n'a été activé")
    restored = history.pop()["version"]
    _write_pointer(root, restored, history)
    return restored


def load(root: Path, version: str) -> LearnedRanker:
    """Load one stored version."""
    if not (root / version / "model.txt").is_file():
        raise UnknownId(f"unknown ranker version '{version}'", field="version",
                        message_fr=f"version de classeur « {version} » inconnue")
    return LearnedRanker.load(root / version)


def load_active(root: Path) -> LearnedRanker | None:
    """The active ranker, or None when none is active."""
    version = active_version(root)
    return None if version is None else load(root, version)
