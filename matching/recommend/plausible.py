"""The plausible pool: the trades a mix policy or the diversity term may add to a youth's list.

A card is plausible for a youth (issue #12, ``docs/ACCESS.md``) when it is accessible and

- it is one of the youth's :data:`ANCHORS` most relevant accessible cards (or a wished card),
  or is close to one of them: a ROME mobility link (either direction) or at least
  :data:`MIN_SHARED_CORE` shared "coeur de métier" skills; and
- its relevance is at least :data:`RELEVANCE_FLOOR` times the best accessible card's (the best
  card not wished: a wished card scores 1).

The re-rankers keep the relevance-only top-k whatever this says; only the cards they move up
must be plausible. :func:`neighbours` is built once per referential; :func:`plausible` is a pure
function of one youth's scores.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

ANCHORS = 5
"""How many of the youth's most relevant cards anchor the pool."""
MIN_SHARED_CORE = 3
"""Shared core skills from which two cards count as close."""
RELEVANCE_FLOOR = 0.35
"""A policy pick scores at least this share of the best card (measured: docs/ACCESS.md)."""


def neighbours(referential, codes: np.ndarray, min_shared_core: int = MIN_SHARED_CORE) -> np.ndarray:
    """Which cards are close to which, bool ``(n_cards, n_cards)`` symmetric, True on the diagonal:
    a mobility link either way, or ``min_shared_core`` shared core skills."""
    codes = np.asarray(codes).astype(str)
    n = codes.size
    index = pd.Index(codes)
    close = np.eye(n, dtype=bool)
    mob = referential.mobility
    src, dst = index.get_indexer(mob["code_rome"].astype(str)), index.get_indexer(mob["code_rome_target"].astype(str))
    keep = (src >= 0) & (dst >= 0)
    close[src[keep], dst[keep]] = close[dst[keep], src[keep]] = True
    core = referential.skills.loc[referential.skills["core"], ["code_rome", "code_ogr"]]
    rows = index.get_indexer(core["code_rome"].astype(str))
    skills, cols = np.unique(core["code_ogr"].to_numpy(), return_inverse=True)
    keep = rows >= 0
    incidence = sparse.csr_matrix((np.ones(int(keep.sum()), dtype=np.float32), (rows[keep], cols[keep])),
                                  shape=(n, skills.size))
    shared = (incidence @ incidence.T).tocoo()
    many = shared.data >= min_shared_core
    close[shared.row[many], shared.col[many]] = True
    return close


def plausible(scores: np.ndarray, close: np.ndarray, *, wished: np.ndarray | None = None,
              anchors: int = ANCHORS, floor: float = RELEVANCE_FLOOR) -> np.ndarray:
    """The plausible cards of one youth, bool ``(n_cards,)``.

    Args:
        scores: relevance of every card, float ``(n_cards,)``; ``-inf`` for inaccessible cards.
        close: :func:`neighbours`.
        wished: bool ``(n_cards,)``, cards the youth wished (anchors too).
        anchors: the most relevant accessible cards the pool is drawn around.
        floor: share of the best score a plausible card reaches.
    """
    scores = np.asarray(scores, dtype=np.float64)
    finite = np.isfinite(scores)
    if not finite.any():
        return np.zeros(scores.size, dtype=bool)
    order = np.argsort(-np.where(finite, scores, -np.inf), kind="stable")[: min(anchors, int(finite.sum()))]
    anchor = np.zeros(scores.size, dtype=bool)
    anchor[order] = True
    if wished is not None:
        anchor |= np.asarray(wished, dtype=bool) & finite
    # the best card the youth did not name: a wished card scores 1 whatever the texts say
    unnamed = finite if wished is None else finite & ~np.asarray(wished, dtype=bool)
    best = float(scores[unnamed].max() if unnamed.any() else scores[finite].max())
    near = close[anchor].any(axis=0)
    return near & finite & (scores >= floor * best)
