"""A synthetic suggestion log with the real feature names, for benchmarks and tests.

One row per vacancy shown, the columns of :func:`service.store.suggestion_log.read_log`
(``suggestion_id``, ``list_id``, ``youth_id``, ``mission_locale``, ``created_at``, ``item_kind``,
``item_id``, ``rank``, ``policy``, ``model_version``, ``propensity``, ``simulated``, ``label``)
plus one column per :data:`matching.learn.features.VACANCY_FEATURES`. Each list holds
``list_size`` items ranked by a fusion-like score of ``semantic``, ``trade`` and ``distance``.

Labels (``signal``):
- ``"outcome"``: a latent utility that the fusion only partly sees (``hires_log``,
  ``close_trade`` and ``beginners`` count, the shown rank lowers the chance of a look);
- ``"noise"``: labels drawn independently of every feature and of the rank;
- ``"position"``: no signal either, but an item is looked at with probability ``rank ** -0.7``
  (the position bias alone);
- a feature name: the label is that feature's quartile in the list (0..3), a known answer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from matching.learn.features import VACANCY_FEATURES
from matching.types import SECTOR_FAMILIES

START = pd.Timestamp("2026-01-05T08:00:00Z")


def _features(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    family = rng.integers(0, len(SECTOR_FAMILIES), n)
    distance_km = rng.uniform(0, 30, n)
    values = {
        "semantic": rng.beta(2, 3, n), "trade": rng.beta(2, 4, n), "distance_km": distance_km,
        "distance": np.clip(1 - distance_km / 30, 0, 1), "contract": rng.choice([0.5, 1.0], n),
        "level_gap": rng.choice([0, 0, 0, 3, 4, 5], n).astype(float),
        "tension": rng.uniform(0, 1, n), "hires_log": np.log1p(rng.poisson(3, n)),
        "beginners": rng.integers(0, 2, n).astype(float), "close_trade": (rng.random(n) < 0.2) * 1.0,
    }
    for i, name in enumerate(SECTOR_FAMILIES):
        values[f"family_{name}"] = (family == i) * 1.0
    return values


def _labels(rng, signal: str, values: dict[str, np.ndarray], rank: np.ndarray, list_index: np.ndarray) -> np.ndarray:
    n = rank.size
    if signal == "noise":
        return rng.choice([0, 1, 2, 3], n, p=[0.85, 0.09, 0.04, 0.02])
    if signal == "position":  # looked at with P = rank^-0.7, then a label that ignores the pair
        looked = rng.random(n) < rank ** -0.7
        return np.where(looked, rng.choice([0, 1, 2, 3], n, p=[0.7, 0.2, 0.06, 0.04]), 0)
    if signal == "outcome":
        utility = (0.8 * values["hires_log"] + 1.2 * values["close_trade"] + 0.6 * values["beginners"]
                   + 1.0 * values["semantic"] - 0.04 * values["distance_km"] - 3.0)
        look = 1.0 / np.sqrt(rank)  # the position bias: lower items are looked at less
        positive = rng.random(n) < look / (1 + np.exp(-utility))
        grade = 1 + (rng.random(n) < 0.35) + (rng.random(n) < 0.15)
        return np.where(positive, grade, 0)
    quartile = pd.Series(values[signal]).groupby(list_index).rank(pct=True).to_numpy()
    return np.minimum((quartile * 4).astype(int), 3)


def rng_shuffle(size: int, seed: int, list_number: int) -> np.ndarray:
    """The shown ranks of an explored list's items (a uniform permutation of 1..size)."""
    return np.random.default_rng([seed, 15, list_number]).permutation(size) + 1


def synthetic_log(n_lists: int, list_size: int = 20, *, seed: int = 0, signal: str = "outcome",
                  days: int = 60, mission_locales: int = 3, explore: float = 0.0) -> pd.DataFrame:
    """A log frame of ``n_lists`` lists of ``list_size`` vacancies served over ``days`` days;
    a share ``explore`` of the lists is shown uniformly shuffled (RandTop-n over the whole list,
    ``propensity`` 1 / ``list_size``; the others in the fusion's order, ``propensity`` NaN)."""
    rng = np.random.default_rng(seed)
    n = n_lists * list_size
    values = _features(rng, n)
    list_index = np.repeat(np.arange(n_lists), list_size)
    fusion = 0.5 * values["semantic"] + 0.3 * values["trade"] + 0.2 * values["distance"]
    order = np.lexsort((-fusion, list_index))
    values = {name: column[order] for name, column in values.items()}
    rank = np.tile(np.arange(1, list_size + 1), n_lists)
    explored = np.zeros(n_lists, dtype=bool)
    if explore > 0:  # drawn after every other draw: explore=0 gives the same log as before
        explored = np.random.default_rng([seed, 15]).random(n_lists) < explore
        for i in np.flatnonzero(explored).tolist():
            rank[i * list_size:(i + 1) * list_size] = rng_shuffle(list_size, seed, i)
    values["rank_shown"] = rank.astype(float)
    served = START + pd.to_timedelta(np.sort(rng.uniform(0, days * 86400, n_lists)), unit="s")
    frame = pd.DataFrame({
        "list_id": np.char.add("l", np.char.zfill(np.arange(n_lists).astype(str), 7)),
        "youth_id": rng.integers(0, max(1, n_lists // 3), n_lists), "mission_locale": rng.integers(0, mission_locales, n_lists),
        "created_at": served,
    }).iloc[list_index].reset_index(drop=True)
    frame["youth_id"] = "y" + frame["youth_id"].astype(str)
    frame["mission_locale"] = "ml" + frame["mission_locale"].astype(str)
    frame["suggestion_id"] = np.arange(n)
    frame["item_kind"] = "vacancy"
    frame["item_id"] = "v" + pd.Series(rng.zipf(1.3, n) % 5000).astype(str)
    frame["rank"] = rank
    frame["policy"] = "default"
    frame["model_version"] = None
    frame["propensity"] = np.where(explored[list_index], 1.0 / list_size, np.nan)
    frame["simulated"] = True
    frame["label"] = _labels(rng, signal, values, rank, list_index)
    for name in VACANCY_FEATURES:
        frame[name] = values[name].astype(np.float32)
    return frame
