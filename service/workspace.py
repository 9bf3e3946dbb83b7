"""The data home: where run-time artefacts live, and how the engine is built or reloaded.

Layout under ``PASSERELLE_HOME``::

    cache/referential/        compact build of the referentials (parquet)
    models/<model>/trades/    fitted trade searcher + manifest.json
    demo/                     synthetic demo data (youths.jsonl, vacancies.parquet, ...)
    indexes/<model>/vacancies/, indexes/<model>/youths/   vector indexes + manifests

Every artefact carries a manifest; a stale one (other model, other data) is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from matching import synthetic
from matching.embeddings import make_embedder
from matching.index import VectorIndex
from matching.recommender import Recommender
from matching.referential import load_referential
from matching.trade_search import TradeSearcher
from service.config import Settings

Progress = Callable[[str, int, int], None]
"""``progress(task, done, total)``: reports long steps (the CLI draws bars)."""

DEMO_YOUTHS, DEMO_VACANCIES, DEMO_SEED = 2000, 5000, 2026


def _quiet(task: str, done: int, total: int) -> None:
    return None


def model_slug(model: str) -> str:
    """A folder-safe name for a model spec (``st:/a/b`` -> ``st-b-<hash>``)."""
    if model.startswith("st:"):
        digest = hashlib.blake2b(model.encode(), digest_size=4).hexdigest()
        return f"st-{Path(model[3:]).name}-{digest}"
    return re.sub(r"[^A-Za-z0-9_.-]", "-", model)


@dataclass
class Workspace:
    """Artefact paths and loaders for one data home and one model."""

    settings: Settings
    _referential: object = field(default=None, init=False, repr=False)
    loaded_engine: Recommender | None = field(default=None, init=False, repr=False)

    @property
    def home(self) -> Path:
        return self.settings.home

    @property
    def demo_dir(self) -> Path:
        return self.home / "demo"

    @property
    def trades_dir(self) -> Path:
        return self.home / "models" / model_slug(self.settings.model) / "trades"

    def index_dir(self, kind: str) -> Path:
        return self.home / "indexes" / model_slug(self.settings.model) / kind

    def has_demo(self) -> bool:
        return (self.demo_dir / "manifest.json").exists()

    # ------------------------------------------------------------- building blocks
    def referential(self):
        """The referentials, loaded once per workspace (compact cache in the data home)."""
        if self._referential is None:
            self._referential = load_referential(cache_dir=self.home / "cache" / "referential")
        return self._referential

    def trade_searcher(self, referential, embedder, progress: Progress = _quiet) -> TradeSearcher:
        """Load the fitted trade searcher, or fit and save it (a minute or two, once)."""
        from matching.trade_search import data_hash

        try:
            searcher = TradeSearcher.load(self.trades_dir, embedder=embedder)
            if searcher.data_hash_ == data_hash(referential):
                return searcher
        except (FileNotFoundError, ValueError, KeyError, OSError):
            pass
        task = "Encodage des fiches métier"
        searcher = TradeSearcher().fit(referential, embedder,
                                       on_progress=lambda done, total: progress(task, done, total))
        searcher.save(self.trades_dir)
        return searcher

    def generate_demo(self, referential, n_youths=DEMO_YOUTHS, n_vacancies=DEMO_VACANCIES,
                      seed=DEMO_SEED, progress: Progress = _quiet):
        """Generate and save synthetic demo data (replaces any previous demo)."""
        data = synthetic.generate(
            referential, n_youths=n_youths, n_vacancies=n_vacancies, seed=seed,
            on_progress=lambda _step, done, total: progress("Génération des données synthétiques", done, total),
        )
        synthetic.save(data, self.demo_dir)
        return data

    def engine(self, *, progress: Progress = _quiet, build_demo: bool = False) -> Recommender:
        """Build or reload the recommender with the demo vacancies and youths, if any."""
        referential = self.referential()
        embedder = make_embedder(self.settings.model)
        recommender = Recommender(referential, embedder, self.trade_searcher(referential, embedder, progress))
        if build_demo and not self.has_demo():
            self.generate_demo(referential, progress=progress)
        if self.has_demo():
            data = synthetic.load(self.demo_dir)
            youths = synthetic.parse_youths(data, referential)
            self._attach(recommender, data.vacancies, youths, progress)
        return recommender

    def _data_hash(self) -> str:
        manifest = (self.demo_dir / "manifest.json").read_bytes()
        return hashlib.blake2b(manifest, digest_size=8).hexdigest()

    def _attach(self, recommender: Recommender, vacancies, youths, progress: Progress) -> None:
        data_hash = self._data_hash()
        vac_dir, youth_dir = self.index_dir("vacancies"), self.index_dir("youths")
        try:
            vac_index, youth_index = VectorIndex.load(vac_dir), VectorIndex.load(youth_dir)
            scores = np.load(youth_dir / "trade_scores.npy", allow_pickle=False)
            fresh = all(json.loads((d / "manifest.json").read_text()).get("metadata", {}).get("data_hash") == data_hash
                        for d in (vac_dir, youth_dir))
        except (FileNotFoundError, ValueError, OSError):
            fresh = False
        if fresh and len(vac_index) == len(vacancies) and len(youth_index) == len(youths):
            recommender.load_vacancies(vacancies, vectors=vac_index.vectors(_keys(vacancies)))
            recommender.load_youths(youths, vectors=youth_index.vectors(_keys(youths)), trade_scores=scores)
            return
        self.build_indexes(recommender, vacancies, youths, progress)

    def build_indexes(self, recommender: Recommender, vacancies, youths, progress: Progress = _quiet) -> None:
        """Encode vacancies and youths, index them and save the indexes."""
        metadata = {"data_hash": self._data_hash(), "model": self.settings.model, "synthetic": True}
        task = "Indexation des offres"
        recommender.load_vacancies(vacancies, on_progress=lambda d, t: progress(task, d, t))
        progress(task, len(vacancies), len(vacancies))
        task = "Indexation des jeunes"
        progress(task, 0, len(youths))
        vectors = recommender.encode_youths(youths)
        scores = recommender.trade_scores(youths)
        recommender.load_youths(youths, vectors=vectors, trade_scores=scores)
        progress(task, len(youths), len(youths))
        recommender.vacancy_index.save(self.index_dir("vacancies"), metadata=metadata)
        recommender.youth_index.save(self.index_dir("youths"), metadata=metadata)
        _save_npy(self.index_dir("youths") / "trade_scores.npy", recommender.youth_trade_scores)


def _keys(items) -> np.ndarray:
    return np.array([item.key for item in items], dtype=np.int64)


def _save_npy(path: Path, array: np.ndarray) -> None:
    tmp = path.with_suffix(f".tmp{time.time_ns()}.npy")
    np.save(tmp, array, allow_pickle=False)
    tmp.replace(path)
