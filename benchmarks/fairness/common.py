"""Shared set-up of the fairness benchmark and the audit notebook: engine, synthetic data, machine.

Everything is synthetic (:mod:`matching.synthetic.dataset`, seeded). The engine comes from a data home
(:class:`service.workspace.Workspace`: the fitted trade model is cached there); the benchmark's
own youths and vacancies are generated here, not taken from the demo, and their vectors are
cached in ``<home>/bench/`` keyed by model, seed and sizes, so a rerun skips the encoding.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from matching.recommend.recommender import Recommender  # noqa: E402
from matching.search.embeddings import make_embedder  # noqa: E402
from matching.synthetic import dataset as synthetic  # noqa: E402
from matching.types import Vacancy, Youth  # noqa: E402
from service.config import Settings  # noqa: E402
from service.workspace import Workspace, model_slug  # noqa: E402

BANDS: tuple[str, ...] = ("male", "mixed", "female")
UNIFORM_BANDS = {band: 1.0 / len(BANDS) for band in BANDS}
"""Target distribution of trade lists for Skew/NDKL: uniform over the three gender-mix bands."""


class MemoEmbedder:
    """Memoise an embedder's vectors by text: every policy compared re-encodes the same youths.

    Policies never change relevance (it is gender-blind and computed before any re-ranking), so
    reusing the vectors changes no figure; it only saves the encoding time of each extra call.
    """

    def __init__(self, inner):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self._cache: dict[str, dict[str, np.ndarray]] = {"query": {}, "document": {}}

    def _encode(self, side: str, encode, texts, on_progress=None) -> np.ndarray:
        texts = list(texts)
        cache = self._cache[side]
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing:
            vectors = encode(missing, on_progress=on_progress)
            cache.update(zip(missing, vectors, strict=True))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([cache[t] for t in texts]).astype(np.float32)

    def encode_queries(self, texts, on_progress=None) -> np.ndarray:
        return self._encode("query", self.inner.encode_queries, texts, on_progress)

    def encode_documents(self, texts, on_progress=None) -> np.ndarray:
        return self._encode("document", self.inner.encode_documents, texts, on_progress)


class BenchRecommender(Recommender):
    """The recommender with each youth's trade scores memoised by youth id.

    Relevance is gender-blind and computed before any re-ranking, and each youth's row does not
    depend on the batch, so every policy compared sees exactly the scores it would compute; the
    memo (seeded with the scores computed when the youths are indexed) only saves their cost.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._memo: dict[str, np.ndarray] = {}

    def remember_trade_scores(self, youths: list[Youth], scores: np.ndarray) -> None:
        self._memo.update(
            (y.id, row) for y, row in zip(youths, np.asarray(scores, np.float32), strict=True)
        )

    def trade_scores(self, youths: list[Youth], *args, **kwargs) -> np.ndarray:
        """Return :meth:`Recommender.trade_scores`, memoised per youth (extra arguments ignored)."""
        missing = [y for y in dict((y.id, y) for y in youths).values() if y.id not in self._memo]
        if missing:
            self.remember_trade_scores(missing, super().trade_scores(missing))
        if not youths:
            return np.zeros((0, len(self.codes)), dtype=np.float32)
        return np.stack([self._memo[y.id] for y in youths])


@dataclass
class Bench:
    """The engine loaded with the benchmark's synthetic youths and vacancies."""

    engine: BenchRecommender
    youths: list[Youth]
    vacancies: list[Vacancy]
    settings: Settings
    seed: int


def build_engine(
    settings: Settings, *, n_youths: int, n_vacancies: int, seed: int, log=print
) -> Bench:
    """Load the trade model from the data home (fitting it once) and index seeded synthetic data.

    Args:
        settings: data home and model (``Settings(home=Path(...), model="use")``).
        n_youths: synthetic youths (indexed for candidate shortlists).
        n_vacancies: synthetic vacancies.
        seed: generator seed.
        log: progress printer.
    """
    workspace = Workspace(settings)
    started = time.perf_counter()
    referential = workspace.referential()
    embedder = MemoEmbedder(make_embedder(settings.model))
    searcher = workspace.trade_searcher(referential, embedder)
    engine = BenchRecommender(referential, embedder, searcher)
    log(f"trade model '{settings.model}' ready in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    data = synthetic.generate(referential, n_youths=n_youths, n_vacancies=n_vacancies, seed=seed)
    youths = synthetic.parse_youths(data, referential)
    log(
        f"generated {len(youths)} youths, {len(data.vacancies)} vacancies "
        f"in {time.perf_counter() - started:.0f} s"
    )
    started = time.perf_counter()
    cache = (
        settings.home
        / "bench"
        / (
            f"fairness-{model_slug(settings.model)}-{searcher.data_hash_}-v{synthetic.GENERATOR_VERSION}"
            f"-s{seed}-y{n_youths}-v{n_vacancies}.npz"
        )
    )
    try:
        with np.load(cache, allow_pickle=False) as saved:
            arrays = {name: saved[name] for name in saved.files}
        fresh = _matches_engine(engine, youths[:3], data.vacancies[:3], arrays)
    except (FileNotFoundError, ValueError, OSError, KeyError):
        fresh = False
    if not fresh:
        arrays = {
            "vacancy_vectors": engine.encode_vacancies(data.vacancies),
            "youth_vectors": engine.encode_youths(youths),
            "youth_trade_scores": engine.trade_scores(youths),
        }
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".tmp{os.getpid()}.npz")
        np.savez(tmp, **arrays)
        tmp.replace(cache)
    engine.load_vacancies(data.vacancies, vectors=arrays["vacancy_vectors"])
    engine.load_youths(
        youths, vectors=arrays["youth_vectors"], trade_scores=arrays["youth_trade_scores"]
    )
    engine.remember_trade_scores(youths, arrays["youth_trade_scores"])
    log(f"indexed in {time.perf_counter() - started:.0f} s")
    return Bench(engine, youths, data.vacancies, settings, seed)


def _matches_engine(
    engine: Recommender,
    youths: list[Youth],
    vacancies: list[Vacancy],
    arrays: dict[str, np.ndarray],
) -> bool:
    """Whether cached vectors and scores still match what the engine computes (code may change)."""
    checks = (
        (engine.encode_youths(youths), arrays["youth_vectors"][: len(youths)]),
        (Recommender.trade_scores(engine, youths), arrays["youth_trade_scores"][: len(youths)]),
        (engine.encode_vacancies(vacancies), arrays["vacancy_vectors"][: len(vacancies)]),
    )
    return all(new.shape == old.shape and np.allclose(new, old, atol=1e-5) for new, old in checks)


def card_positions(engine: Recommender, codes) -> np.ndarray:
    """Positions of ROME codes in the engine's card order, int64 ``(n,)``."""
    return np.searchsorted(engine.codes, np.asarray(codes, dtype=str)).astype(np.int64)


def machine() -> dict:
    """Describe the machine and the code version (for RESULTS.md)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "commit": commit,
    }


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
