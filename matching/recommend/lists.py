"""What every suggestion method returns: one ranked list and what was applied to it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

FETCH_MIN = 200
"""Vector-search candidates fetched per query before the full score is computed."""


@dataclass
class ListResult:
    """One ranked list with what was applied to it."""

    items: list
    policy: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    ask_next: list[str] = field(default_factory=list)
    """Questions to ask the youth (French), for a thin profile (note ``thin_profile``)."""
    features: np.ndarray | None = None
    """Vacancy lists asked ``features=True``: the items' features ``(n_items, F)`` with their
    shown rank (:data:`matching.learn.features.VACANCY_FEATURES`), for the suggestion log."""
    model_version: str | None = None
    """The learned ranker's version when one ordered the list; None for the fusion."""
    propensities: np.ndarray | None = None
    """An explored list (:mod:`matching.recommend.exploration`): each shown item's probability of
    the rank it was shown at, ``(n_items,)``; None for a list served in its ranked order."""
