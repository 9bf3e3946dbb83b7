"""Run-wide text features of a youth batch: each distinct text of the run encoded and scored
against every card once, before the youths are ranked.

Youths share many texts (wished trades named by their card label, stock phrases of
interests); a chunk alone sees only its own repeats. The text phase encodes the run's distinct
texts in fixed chunks (through the same engine as the youths), and each youth chunk then reads
the rows of its texts instead of encoding them. Files, in the run's parts folder (removed with
it when the output is assembled)::

    texts/texts.json       the distinct texts in first-seen order, dimensions, chunk size
    texts/features.f32     one row per text: vector (dim) then card scores (n_cards), float32
    texts/done-000000      written after the rows of text chunk 0 are on disk (fsync)

A killed run resumes the text phase where it stopped; the partition of the texts is fixed by
the run's queries, so resumed and uninterrupted runs read the same numbers.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from matching.batch import plan as batch_plan
from matching.files import atomic_write

TEXT_CHUNK = 2048
"""Distinct texts per chunk of the text phase (its rows: about 17 MB with 1,584 cards)."""
FORMAT = 1


@dataclass(frozen=True)
class TextRequest:
    """The text phase's request, sent to the workers like a :class:`~matching.batch.score.BatchRequest`."""

    what: str = "texts"


def run_texts(recommender, youths) -> list[str]:
    """The distinct query texts of ``youths``, in first-seen order."""
    from matching.search.texts import youth_query_texts

    seen: dict[str, None] = {}
    for youth in youths:
        for text, _weight in youth_query_texts(youth, recommender.referential):
            seen.setdefault(text, None)
    return list(seen)


def score_texts(recommender, texts: list[str]) -> np.ndarray:
    """Rows of the features file for ``texts``: ``(n, dim + n_cards)`` float32."""
    vectors, scores = recommender.text_features(texts)
    return np.hstack([vectors, scores])


class TextStore:
    """The text features of one run (see the module docstring)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        header = json.loads((self.folder / "texts.json").read_text(encoding="utf-8"))
        self.texts: list[str] = header["texts"]
        self.dim, self.n_cards, self.chunk = header["dim"], header["n_cards"], header["chunk"]
        self.width = self.dim + self.n_cards
        self._rows: dict[str, int] | None = None

    # ------------------------------------------------------------------ writing (the run)
    @classmethod
    def prepare(cls, folder: Path, texts: list[str], dim: int, n_cards: int) -> TextStore:
        """Open the store of these texts, or start it (an older store of other texts is dropped)."""
        folder = Path(folder)
        header = {"format": FORMAT, "digest": batch_plan.ids_digest(texts), "dim": dim, "n_cards": n_cards,
                  "chunk": TEXT_CHUNK, "count": len(texts)}
        path = folder / "texts.json"
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
            if {k: old.get(k) for k in header} == header:
                return cls(folder)
        except (OSError, ValueError):
            pass
        if folder.exists():
            for item in folder.iterdir():
                item.unlink()
        folder.mkdir(parents=True, exist_ok=True)
        _check_space(folder, len(texts) * (dim + n_cards) * 4)
        with open(folder / "features.f32", "wb") as handle:
            handle.truncate(len(texts) * (dim + n_cards) * 4)
        atomic_write(path, lambda tmp: tmp.write_text(
            json.dumps({**header, "texts": texts}, ensure_ascii=False), encoding="utf-8"))
        return cls(folder)

    @property
    def n_chunks(self) -> int:
        return -(-len(self.texts) // self.chunk)

    def chunk_texts(self, chunk: int) -> list[str]:
        return self.texts[chunk * self.chunk : (chunk + 1) * self.chunk]

    def pending(self) -> list[int]:
        return [c for c in range(self.n_chunks) if not (self.folder / f"done-{c:06d}").exists()]

    def write(self, chunk: int, rows: np.ndarray) -> None:
        """Write the rows of a finished text chunk, fsync, then mark it done."""
        rows = np.ascontiguousarray(rows, dtype=np.float32)
        if rows.shape != (len(self.chunk_texts(chunk)), self.width):
            raise ValueError(f"text chunk {chunk}: rows of shape {rows.shape}")
        fd = os.open(self.folder / "features.f32", os.O_WRONLY)
        try:
            os.pwrite(fd, rows.tobytes(), chunk * self.chunk * self.width * 4)
            os.fsync(fd)
        finally:
            os.close(fd)
        (self.folder / f"done-{chunk:06d}").touch()

    # ------------------------------------------------------------------ reading (the workers)
    def features(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(vectors, card scores)`` of texts of the run (the :meth:`Recommender.text_features`
        contract). The file is mapped for the read only, so a worker keeps no page of it."""
        if self._rows is None:
            self._rows = {text: row for row, text in enumerate(self.texts)}
        rows = np.fromiter((self._rows[t] for t in texts), dtype=np.int64, count=len(texts))
        picked = np.empty((len(rows), self.width), dtype=np.float32)
        if len(rows):
            mapped = np.memmap(self.folder / "features.f32", dtype=np.float32, mode="r",
                               shape=(len(self.texts), self.width))
            order = np.argsort(rows, kind="stable")  # read the file forwards
            picked[order] = mapped[rows[order]]
            del mapped  # unmapped: only the copied rows stay
        return picked[:, : self.dim], picked[:, self.dim :]


def _check_space(folder: Path, needed: int) -> None:
    """Refuse to start a text phase the disk cannot hold (the file is sparse until written)."""
    import shutil

    from matching.errors import PasserelleError

    free = shutil.disk_usage(folder).free
    if free < needed * 1.1:
        gigabytes = f"{needed / 1e9:.1f}".replace(".", ",")
        raise PasserelleError(
            f"not enough disk space beside the output for the run's text features: {needed / 1e9:.1f} GB "
            f"needed, {free / 1e9:.1f} GB free; free some space or write the output elsewhere",
            field="out",
            message_fr=f"pas assez d'espace disque à côté du fichier de sortie pour les textes du calcul : "
            f"{gigabytes} Go nécessaires ; libérez de la place ou écrivez la sortie ailleurs")


_OPEN: dict[str, TextStore] = {}


def open_store(folder: str) -> TextStore:
    """The store at ``folder``, opened once per process (workers read it chunk after chunk)."""
    key = f"{folder}@{os.stat(Path(folder) / 'texts.json').st_mtime_ns}"  # a rebuilt store is reread
    store = _OPEN.get(key)
    if store is None:
        _OPEN.clear()  # one run at a time per process
        store = _OPEN[key] = TextStore(Path(folder))
    return store
