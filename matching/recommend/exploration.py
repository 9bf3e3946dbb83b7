"""Exploration of served vacancy lists (issue #15): RandTop-n, propensities logged.

:func:`explore` shuffles an already-built :class:`~matching.recommend.lists.ListResult` (after
the mix constraints, so the employer cap and sector floors, counts over the list, hold on the
list shown) with :func:`matching.learn.propensity.shuffle_top`, moves the logged features'
``rank_shown`` with the items and records each item's propensity. :func:`maybe_explore` does so
for a share of the lists (``PASSERELLE_EXPLORATION`` in the service, ``--exploration`` in the
outcome simulator). See ``docs/LEARNING.md``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from matching.learn.features import COLUMN
from matching.learn.propensity import SCHEME, shuffle_top
from matching.recommend.lists import ListResult


def explore(result: ListResult, rng: np.random.Generator, top: int | None = None) -> ListResult:
    """``result`` with its first ``top`` items (all when None) uniformly shuffled; its
    ``propensities`` hold each shown item's probability of its rank, its policy the scheme."""
    order, propensity = shuffle_top(len(result.items), rng, top)
    features = None
    if result.features is not None:
        features = result.features[order].copy()
        features[:, COLUMN["rank_shown"]] = np.arange(1, len(order) + 1, dtype=features.dtype)
    shuffled = int((propensity < 1.0).sum()) if len(order) > 1 else len(order)
    policy = {**result.policy, "exploration": SCHEME, "explored_top": shuffled}
    return dataclasses.replace(result, items=[result.items[i] for i in order.tolist()], features=features,
                               policy=policy, propensities=propensity)


def maybe_explore(result: ListResult, share: float, rng: np.random.Generator) -> ListResult:
    """:func:`explore` ``result`` with probability ``share`` (0: never, the default of serving)."""
    if share <= 0.0 or len(result.items) < 2 or rng.random() >= share:
        return result
    return explore(result, rng)
