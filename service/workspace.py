"""The data home: where run-time artefacts live, and how the engine is built or reloaded.

Layout under ``PASSERELLE_HOME``::

    cache/referential/        compact build of the referentials (parquet)
    models/<model>/trades/    fitted trade searcher + manifest.json
    models/<model>/skills_in_card/  every skill read in its card, encoded once (vectors.npy)
    demo/                     synthetic demo data (youths.jsonl, vacancies.parquet, ...)
    indexes/<model>/store-<id>/  snapshots of the live engine's vector indexes (vacancies/, youths/)
    passerelle.sqlite3        the store (unless PASSERELLE_DATABASE_URL names another)

The store is the source of truth for youths and vacancies; the demo data set is loaded into it.
Every artefact carries a manifest; a stale one (other model, other data, other store) is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from matching.files import atomic_write, atomic_write_bytes
from matching.recommend.recommender import Recommender
from matching.recommend.skill_sense import in_card_strings
from matching.referential.loader import load_referential
from matching.search.trade_search import TradeSearcher
from matching.synthetic import dataset as synthetic
from service.config import Settings

Progress = Callable[[str, int, int], None]
"""``progress(task, done, total)``: reports long steps (the CLI draws bars)."""

DEMO_YOUTHS, DEMO_VACANCIES, DEMO_SEED = 2000, 5000, 2026
MODEL_FREE = ("hashing", "tfidf")
"""Embedders that encode the skills of a list faster than a file of them would load."""


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
    engine_generation: int | None = field(default=None, init=False, repr=False)
    """The store generation the last :meth:`engine` reflects (recorded by batch runs)."""
    _store: tuple | None = field(default=None, init=False, repr=False)

    @property
    def home(self) -> Path:
        return self.settings.home

    @property
    def demo_dir(self) -> Path:
        return self.home / "demo"

    @property
    def trades_dir(self) -> Path:
        return self.home / "models" / model_slug(self.settings.model) / "trades"

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
        from matching.search.trade_search import data_hash

        try:
            searcher = TradeSearcher.load(self.trades_dir, embedder=embedder)
            if searcher.data_hash_ == data_hash(referential):
                return searcher
        except (FileNotFoundError, ValueError, KeyError, OSError):
            pass
        fitting, task = "Modèle des métiers (construit une fois)", "Encodage des fiches métier"
        progress(fitting, 0, 1)  # announced before the encoding bar, and held after it (the fit)
        searcher = TradeSearcher().fit(referential, embedder,
                                       on_progress=lambda done, total: progress(task, done, total))
        searcher.save(self.trades_dir)
        progress(fitting, 1, 1)
        return searcher

    def skill_vectors(self, referential, embedder, progress: Progress = _quiet):
        """``(strings, vectors)``: every skill read in its card (:func:`in_card_strings`),
        encoded once per model and referential and kept in the data home (float16, 93 MB with
        USE; about 1.5 minutes on 2 cores, once), so that no suggestion encodes them; None for
        the model-free embedders."""
        if self.settings.model in MODEL_FREE:
            return None
        strings = in_card_strings(referential)
        digest = hashlib.blake2b("\n".join(strings).encode(), digest_size=16).hexdigest()
        folder = self.home / "models" / model_slug(self.settings.model) / "skills_in_card"
        expected = {"model": self.settings.model, "strings": len(strings), "strings_hash": digest}
        try:
            if json.loads((folder / "manifest.json").read_text()) == expected:
                vectors = np.load(folder / "vectors.npy", mmap_mode="r")
                if vectors.shape == (len(strings), embedder.dim):
                    return strings, vectors
        except (OSError, ValueError):
            pass
        task, step = "Compétences lues dans leur fiche (une fois)", 1024
        vectors = np.empty((len(strings), embedder.dim), dtype=np.float16)
        progress(task, 0, len(strings))
        for start in range(0, len(strings), step):
            vectors[start:start + step] = embedder.encode_queries(strings[start:start + step])
            progress(task, min(start + step, len(strings)), len(strings))
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / "vectors.npy", lambda path: np.save(path, vectors, allow_pickle=False))
        atomic_write_bytes(folder / "manifest.json", json.dumps(expected).encode())  # last: marks it whole
        return strings, vectors

    def generate_demo(self, referential, n_youths=DEMO_YOUTHS, n_vacancies=DEMO_VACANCIES,
                      seed=DEMO_SEED, progress: Progress = _quiet):
        """Generate and save synthetic demo data (replaces any previous demo)."""
        data = synthetic.generate(
            referential, n_youths=n_youths, n_vacancies=n_vacancies, seed=seed,
            on_progress=lambda _step, done, total: progress("Génération des données synthétiques", done, total),
        )
        synthetic.save(data, self.demo_dir)
        self.load_demo_into_store(data, progress=progress)
        return data

    # ------------------------------------------------------------- the store
    def store_index_dir(self, instance: str) -> Path:
        """Snapshots of the live engine's indexes for the store ``instance`` and this model."""
        return self.home / "indexes" / model_slug(self.settings.model) / f"store-{instance or 'unknown'}"

    def store(self):
        """The store's engine and session factories ``(engine, sessions, read_sessions)``.

        Migrations run on first use (Alembic, to head). ``sessions`` begin with ``BEGIN
        IMMEDIATE`` on SQLite (writers queue), ``read_sessions`` do not.
        """
        if self._store is None:
            from service.store.db import session_factory
            from service.store_access import store_sessions

            engine, sessions = store_sessions(self.settings)
            self._store = (engine, sessions, session_factory(engine, immediate=False))
        return self._store

    def load_demo_into_store(self, data=None, progress: Progress = _quiet) -> dict[str, int]:
        """Put the demo data set (generated, or read from the demo folder) into the store.

        Synthetic rows already stored are replaced: reloading the demo is idempotent. One
        ``progress`` step ("Chargement dans la base") announces the load, which takes a while.
        """
        from service.store.synthetic import load_synthetic

        task = "Chargement dans la base"
        progress(task, 0, 1)
        data = data or synthetic.load(self.demo_dir)
        _, sessions, _ = self.store()
        with sessions.begin() as session:
            added = load_synthetic(session, data)
        progress(task, 1, 1)
        return added

    def store_has_demo(self) -> bool:
        """Whether the store holds synthetic youths (the demo was loaded into it)."""
        from sqlalchemy import select

        from service.store.models import Youth

        _, _, read_sessions = self.store()
        with read_sessions() as session:
            return session.scalar(select(Youth.id).where(Youth.synthetic).limit(1)) is not None

    def live(self, *, progress: Progress = _quiet):
        """The live engine over the store (snapshot reused, changed rows encoded)."""
        from service.live.engine import LiveEngine

        _, sessions, read_sessions = self.store()
        return LiveEngine.open(self, sessions, read_sessions, progress=progress)

    def engine(self, *, progress: Progress = _quiet) -> Recommender:
        """The recommender over the store's youths and vacancies (see :meth:`live`)."""
        live = self.live(progress=progress)
        self.engine_generation = live.generation
        return live.recommender
