"""The learned vacancy ranker: LightGBM ``lambdarank`` fitted on logged lists, saved as text.

Training data is the suggestion log as a frame (one row per item shown: ``list_id``,
``item_kind``, ``rank``, ``created_at``, ``label`` and one column per feature, as
:func:`service.store.suggestion_log.read_log` returns it). Only vacancy items are used; each
``list_id`` is one query group; the graded label (0..3 by default, :mod:`matching.learn.labels`)
is the relevance.

Position bias: the rank an item was shown at is a feature, ``rank_shown``, filled from the
log's ``rank`` column at training time and fixed to 1 (:data:`RANK_AT_INFERENCE`) when the
ranker scores candidates. The model learns how much of an outcome the position explains, and
at inference every candidate is scored as if it were shown first, so the order reflects the
other features only (the "position as a feature, constant at serving" method of Joachims et al.
and of LightGBM's own position-debiasing examples). Where the log holds explored lists, the fit
uses inverse-propensity weights instead and ``rank_shown`` is fixed to 1 in training too
(:func:`fit_booster`).

Determinism: fixed ``seed``, ``deterministic=True``, ``force_row_wise=True`` and a fixed
number of threads (:class:`RankerParams`); the same frame and parameters give the same model
text. The model is kept in LightGBM's text format (``model.txt``), never pickled.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

POSITION_FEATURE = "rank_shown"
"""The feature that carries the rank shown (1-based)."""
RANK_AT_INFERENCE = 1.0
"""``rank_shown`` when scoring candidates: every item as if it were shown first."""
VACANCY_KIND = "vacancy"
"""``item_kind`` of the rows the ranker learns from (trade lists keep their ranking)."""


def default_threads() -> int:
    """Two threads, or fewer when the machine has fewer cores."""
    return max(1, min(2, os.cpu_count() or 1))


@dataclass(frozen=True)
class RankerParams:
    """Hyperparameters of the lambdarank model (stored in the manifest).

    Small trees (3 leaves, at least 300 rows a leaf) and more, slower rounds: chosen on simulated
    outcomes of development seeds 101, 202 and 303 (and 101 without signal) among six sets,
    ``docs/LEARNING.md``; the earlier 31 leaves / 50 rows / 150 rounds at 0.08 fitted the few
    positives (about 2 % of the rows) too closely."""

    num_boost_round: int = 300
    learning_rate: float = 0.05
    num_leaves: int = 3
    min_data_in_leaf: int = 300
    lambdarank_truncation_level: int = 20
    seed: int = 15
    num_threads: int = field(default_factory=default_threads)

    def lightgbm(self) -> dict[str, Any]:
        """The parameter dict LightGBM's ``train`` reads."""
        return {
            "objective": "lambdarank",
            "metric": "ndcg",
            "eval_at": [10],
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf,
            "lambdarank_truncation_level": self.lambdarank_truncation_level,
            "seed": self.seed,
            "num_threads": self.num_threads,
            "deterministic": True,
            "force_row_wise": True,
            "verbose": -1,
        }

    def describe(self) -> dict[str, Any]:
        return asdict(self)


_LOGGED_FEATURE_HINTS = ("semantic", "trade", "distance")
"""Feature columns that every logged vacancy row holds (NaN on rows logged before features)."""


def vacancy_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The vacancy rows of a log frame that carry a list id and logged features, grouped by list
    (lists in first-seen time order) and ordered by rank within a list (a fresh index)."""
    rows = frame[frame["item_kind"] == VACANCY_KIND] if "item_kind" in frame else frame
    rows = rows[rows["list_id"].notna()]  # rows logged before lists had an id (migration 0007)
    logged = [name for name in _LOGGED_FEATURE_HINTS if name in rows]
    if logged:  # rows logged before their features were: nothing to learn from
        rows = rows[rows[logged].notna().any(axis=1)]
    first_seen = rows.groupby("list_id", sort=False)["created_at"].transform("min")
    rows = rows.assign(_first=first_seen).sort_values(["_first", "list_id", "rank"], kind="stable")
    return rows.drop(columns="_first").reset_index(drop=True)


def design_matrix(rows: pd.DataFrame, feature_names: Sequence[str], *, logged_rank: bool) -> np.ndarray:
    """The float64 ``(n_rows, len(feature_names))`` matrix of ``rows``; ``rank_shown`` is the
    logged ``rank`` (``logged_rank=True``) or :data:`RANK_AT_INFERENCE` (``logged_rank=False``:
    inference, and training with inverse-propensity weights)."""
    names = list(feature_names)
    missing = [name for name in names if name != POSITION_FEATURE and name not in rows]
    if missing:
        raise ValueError(f"the log frame lacks feature columns: {', '.join(missing)}")
    matrix = np.empty((len(rows), len(names)), dtype=np.float64)
    for j, name in enumerate(names):
        if name == POSITION_FEATURE:
            matrix[:, j] = rows["rank"].to_numpy(np.float64) if logged_rank else RANK_AT_INFERENCE
        else:
            matrix[:, j] = rows[name].to_numpy(np.float64)
    return matrix


def group_sizes(list_ids: np.ndarray) -> np.ndarray:
    """Sizes of the runs of equal ids in ``list_ids`` (rows already grouped), int ``(n_lists,)``."""
    if list_ids.size == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, list_ids[1:] != list_ids[:-1]])
    return np.diff(np.r_[starts, list_ids.size])


def frame_hash(rows: pd.DataFrame, columns: Sequence[str]) -> str:
    """SHA-256 of the values of ``columns`` of ``rows`` in row order (the training data's id)."""
    hashed = pd.util.hash_pandas_object(rows[list(columns)], index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()


def fit_booster(rows: pd.DataFrame, feature_names: Sequence[str], params: RankerParams,
                weights: np.ndarray | None = None):
    """Fit lambdarank on grouped vacancy ``rows`` (:func:`vacancy_rows`); returns the Booster.

    ``weights``: one per row (inverse-propensity weights, :mod:`matching.learn.propensity`);
    LightGBM's lambdarank multiplies each item's gradient and hessian by its weight. With
    weights, ``rank_shown`` is fixed to :data:`RANK_AT_INFERENCE` on every row (a constant no
    tree splits on): the weights alone correct the position bias. Giving the rank too corrected
    it twice and let trees single out the items the fusion put first (no-signal outcomes, seed
    101: 1.035x the fusion, p = 0.02, with the rank; 0.999x, p = 0.97, without)."""
    import lightgbm

    if rows.empty:
        raise ValueError("no vacancy rows to train on")
    labels = rows["label"].to_numpy(np.int32)
    if labels.min() < 0:
        raise ValueError("labels must be >= 0")
    dataset = lightgbm.Dataset(
        design_matrix(rows, feature_names, logged_rank=weights is None), label=labels, weight=weights,
        group=group_sizes(rows["list_id"].astype(str).to_numpy()),
        feature_name=list(feature_names), free_raw_data=True,
        params={"max_bin": 255, "verbose": -1, "num_threads": params.num_threads},
    )
    return lightgbm.train(params.lightgbm(), dataset, num_boost_round=params.num_boost_round)


class LearnedRanker:
    """A fitted lambdarank model, loaded from LightGBM's text format.

    Attributes:
        version: the model's id in the registry (``manifest.json``'s ``version``).
        feature_names: the columns :meth:`score` expects, in order.
    """

    def __init__(self, booster, *, version: str, feature_names: Sequence[str]):
        self._booster = booster
        self.version = version
        self.feature_names = tuple(feature_names)
        self._position = (self.feature_names.index(POSITION_FEATURE)
                          if POSITION_FEATURE in self.feature_names else None)

    @classmethod
    def from_text(cls, model_text: str, *, version: str, feature_names: Sequence[str]) -> LearnedRanker:
        """Load a model from its LightGBM text (``model.txt``)."""
        import lightgbm

        booster = lightgbm.Booster(model_str=model_text)
        if list(booster.feature_name()) != list(feature_names):
            raise ValueError("the model's features differ from its manifest's feature list")
        return cls(booster, version=version, feature_names=feature_names)

    @classmethod
    def load(cls, folder: Path) -> LearnedRanker:
        """Load ``folder/model.txt`` described by ``folder/manifest.json``."""
        import json

        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        return cls.from_text((folder / "model.txt").read_text(encoding="utf-8"),
                             version=manifest["version"], feature_names=manifest["features"])

    def to_text(self) -> str:
        """The model in LightGBM's text format (every tree, full precision)."""
        return str(self._booster.model_to_string())

    def score(self, features: np.ndarray) -> np.ndarray:
        """Score candidates of one list (higher is better), float64 ``(n,)``.

        Args:
            features: ``(n, len(feature_names))`` in :attr:`feature_names` order; the
                ``rank_shown`` column is set to :data:`RANK_AT_INFERENCE` whatever it holds.
        """
        matrix = np.array(features, dtype=np.float64, order="C", ndmin=2)
        if matrix.shape[0] == 0:
            return np.zeros(0, dtype=np.float64)
        if matrix.shape[1] != len(self.feature_names):
            raise ValueError(f"expected {len(self.feature_names)} feature columns, got {matrix.shape[1]}")
        if self._position is not None:
            matrix[:, self._position] = RANK_AT_INFERENCE
        return np.asarray(self._booster.predict(matrix, num_threads=1), dtype=np.float64)
