"""``passerelle outcomes simulate``: simulated advisers' days over the store (evaluation only).

The latent model is :mod:`matching.learn.simulate` (``docs/SIMULATOR.md``). This module plays it
on the data home's store: it draws the youths among the demo ones, serves each day's visitors
their vacancy lists through the real engine (one batch call per day, the default policy, the
exposure read from the log as of that day), logs the lists as the service logs them, and writes
the drawn outcomes, every row flagged ``simulated`` and dated on its simulated day.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from matching.learn import simulate as model
from matching.learn.simulation import Simulation, concat
from matching.recommend.exploration import maybe_explore
from matching.recommend.updates import indexed_features
from matching.types import CONTRACTS
from service.simulate_store import StoreWriter

TOP_K = 10
EXPLORATION = 0.25
"""Share of the served lists explored (RandTop-n over the 10 items, propensities logged): the
simulation's SERVING policy (``docs/SIMULATOR.md``, *Serving policy*), not its latent model."""
OPENING, CLOSING = time(9, 0), time(17, 0)
OUTCOME_TIME = time(17, 30)  # after the day's visits


class SimulationError(ValueError):
    """The simulation cannot run as asked (no demo, too few youths, a bad strength)."""

    def __init__(self, message: str, message_fr: str) -> None:
        super().__init__(message)
        self.message_fr = message_fr


@dataclass
class Summary:
    """What a run did (the ``--json`` document)."""

    seed: int
    start: str
    days: int
    youths: int
    preference_strength: float
    acceptance_strength: float
    exploration: float = EXPLORATION
    lists: int = 0
    explored_lists: int = 0
    rows: int = 0
    youths_served: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    decline_reasons: dict[str, int] = field(default_factory=dict)
    hired_youths: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"simulated": True, "model_version": model.MODEL_VERSION, **self.__dict__}


def revealed_families(youth_ids: list[str], demo_dir: Path) -> np.ndarray:
    """Families of each youth's wished trades (the demo's ``youth_wishes.parquet``), bool
    ``(n, len(FAMILIES))``; none when the file is missing."""
    out = np.zeros((len(youth_ids), len(model.FAMILIES)), dtype=bool)
    path = demo_dir / "youth_wishes.parquet"
    if not path.exists():
        return out
    import pyarrow.parquet as pq

    position = {youth_id: i for i, youth_id in enumerate(youth_ids)}
    table = pq.read_table(path, columns=["youth_id", "code_rome"]).to_pydict()
    for youth_id, code in zip(table["youth_id"], table["code_rome"], strict=True):
        if youth_id in position and code and code[0] in model.FAMILIES:
            out[position[youth_id], model.FAMILIES.index(code[0])] = True
    return out


def _shares(values: np.ndarray, size: int) -> np.ndarray:
    counts = np.bincount(values, minlength=size).astype(np.float64)
    return counts / counts.sum() if counts.sum() else np.full(size, 1.0 / size)


def pick_youths(engine, stored_synthetic: list[str], n_youths: int, rng: np.random.Generator) -> list[str]:
    """``n_youths`` demo youths drawn without replacement among those stored and indexed (sorted)."""
    pool = sorted(y for y in stored_synthetic if y in engine.youths.rows)
    if len(pool) < n_youths:
        raise SimulationError(
            f"only {len(pool)} demo youths in the store: run `passerelle demo` or ask for fewer --youths",
            f"seulement {len(pool)} jeunes de démonstration dans la base : lancez `passerelle demo` "
            "ou demandez moins de --youths")
    return sorted(np.asarray(pool, dtype=object)[rng.choice(len(pool), n_youths, replace=False)].tolist())


class _World:
    """The engine-side facts of the chosen youths and the open vacancies, as the latent model reads them."""

    def __init__(self, engine, youth_ids: list[str], demo_dir: Path, rng: np.random.Generator) -> None:
        table = engine.vacancies
        self.engine = engine
        self.youth_ids = youth_ids
        self.youths = [engine.youths.youths[engine.youths.rows[y]] for y in youth_ids]
        features = indexed_features(engine, youth_ids)
        if features is None:
            features = engine.youth_features(self.youths)
        self.vectors: np.ndarray = features[0]
        self.trade_scores: np.ndarray = features[1]
        vacancies = table.vacancies
        self.family = model.family_of([v.code_rome for v in vacancies])
        self.contract = np.array([CONTRACTS.index(v.contract) for v in vacancies], dtype=np.int64)
        self.level = model.level_position([v.level_required for v in vacancies])
        self.youth_level = model.level_position([y.diploma_level for y in self.youths])
        ticked = np.array([[c in y.contracts for c in CONTRACTS] for y in self.youths], dtype=bool)
        ticked = ticked.reshape(len(self.youths), len(CONTRACTS))
        open_rows = np.flatnonzero(table.open)
        self.latent = model.draw_youths(
            revealed_families(youth_ids, demo_dir), ticked,
            np.array([y.mobility_km for y in self.youths], dtype=np.float64),
            _shares(self.family[open_rows], len(model.FAMILIES)),
            _shares(self.contract[open_rows], len(CONTRACTS)), rng)
        self.places = np.array([max(1, v.places) for v in vacancies], dtype=np.int64)

    def shown(self, visitors: np.ndarray, lists) -> model.Shown:
        """The latent model's view of the lists served to ``visitors`` (same order)."""
        rows = self.engine.vacancies.rows
        youth, vacancy, rank, distance = [], [], [], []
        for who, result in zip(visitors.tolist(), lists, strict=True):
            for position, item in enumerate(result.items, start=1):
                youth.append(who)
                vacancy.append(rows[item.vacancy_id])
                rank.append(position)
                distance.append(item.distance_km)
        youth_rows, vacancy_rows = np.array(youth, dtype=np.int64), np.array(vacancy, dtype=np.int64)
        return model.Shown(youth_rows, vacancy_rows, np.array(rank, dtype=np.int64),
                           np.array(distance, dtype=np.float64), self.family[vacancy_rows],
                           self.contract[vacancy_rows],
                           np.maximum(self.youth_level[youth_rows] - self.level[vacancy_rows], 0))


def _is_weekday(day: date) -> bool:
    return day.weekday() < 5


def run(ws, live, *, n_youths: int, n_days: int, seed: int, start: date | None = None,
        preference: float = 1.0, acceptance: float = 1.0, exploration: float = EXPLORATION,
        progress=None) -> Summary:
    """Play ``n_days`` simulated days from ``start`` (default: today minus ``n_days``) on the
    store of ``ws`` with the live engine ``live``; return the run's summary.

    ``exploration``: share of the served lists shuffled (RandTop-n) with their propensities
    logged, drawn from a fifth random stream (the four streams of the latent model and the
    visits are the same whatever the share)."""
    if not 0.0 <= exploration <= 1.0:
        raise SimulationError(f"exploration {exploration} outside [0, 1]",
                              f"part explorée {exploration} hors de [0, 1]")
    import time as clock

    began = clock.perf_counter()
    start = start or (datetime.now(UTC).date() - timedelta(days=n_days))
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)]
    pick_rng, preference_rng, visit_rng, time_rng, explore_rng = streams  # spawn(5)[:4] == spawn(4)
    engine = live.recommender
    writer = StoreWriter(ws, live)
    youth_ids = pick_youths(engine, writer.synthetic_youth_ids(), n_youths, pick_rng)
    world = _World(engine, youth_ids, ws.demo_dir, preference_rng)
    sim = Simulation(world.latent, world.places, preference=preference, acceptance=acceptance, rng=visit_rng)
    summary = Summary(seed, start.isoformat(), n_days, n_youths, preference, acceptance, exploration)
    suggestion_ids = np.zeros(0, dtype=np.int64)
    outcomes: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    served: set[int] = set()
    for d in range(n_days):
        day = start + timedelta(days=d)
        due = sim.advance(d)
        visitors = sim.visitors(d, _is_weekday(day))
        new = concat([])
        if len(visitors):
            lists = engine.suggest_vacancies(
                [world.youths[i] for i in visitors.tolist()], top_k=TOP_K,
                exposure=writer.exposure(day), vectors=world.vectors[visitors],
                trade_scores=world.trade_scores[visitors], ranker=None, features=True,
                confirm_skills=False)  # the log keeps no reason: skills cited by stems, no encoder
            lists = [maybe_explore(result, exploration, explore_rng) for result in lists]
            summary.explored_lists += sum(result.propensities is not None for result in lists)
            minutes = np.sort(time_rng.integers(0, _minutes(OPENING, CLOSING), len(visitors)))
            moments = [datetime.combine(day, OPENING, UTC) + timedelta(minutes=int(m)) for m in minutes]
            ids = writer.log_lists([youth_ids[i] for i in visitors.tolist()], lists, moments, seed)
            suggestion_ids = np.concatenate([suggestion_ids, ids])
            new = sim.show(d, world.shown(visitors, lists))
            summary.lists += len(lists)
            summary.rows += len(ids)
            served.update(visitors.tolist())
        events = concat([due, new])
        writer.write_outcomes(suggestion_ids[events.row], events.status, events.reason,
                              datetime.combine(day, OUTCOME_TIME, UTC))
        outcomes.update(events.status)
        reasons.update(r for r in events.reason if r)
        if progress is not None:
            progress("Simulation des journées", d + 1, n_days)
    summary.youths_served = len(served)
    summary.outcomes = dict(sorted(outcomes.items()))
    summary.decline_reasons = dict(sorted(reasons.items()))
    summary.hired_youths = int(sim.hired.sum())
    summary.seconds = round(clock.perf_counter() - began, 1)
    return summary


def _minutes(first: time, last: time) -> int:
    return (last.hour * 60 + last.minute) - (first.hour * 60 + first.minute)
