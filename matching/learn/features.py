"""Per-(youth, vacancy) features: what the suggestion log keeps and the learned ranker scores.

One function, :func:`matrix`, builds the ``(n_items, n_features)`` float32 matrix for one youth
and candidate vacancies, both when a served list is logged and when the ranker re-orders the top
of the fusion: the features trained on are the features served (train/serve parity by
construction). Columns, in the order of :data:`VACANCY_FEATURES`:

- ``semantic``: cosine similarity of youth and vacancy texts, in [0, 1];
- ``trade``: the fused trade score of the vacancy's ROME card for the youth, in [0, 1] (the
  trade searcher fuses its five signals per text then over the youth's texts; the parts are not
  kept per card, so only the fused score is a feature);
- ``distance_km`` and ``distance`` (the engine's distance score, 1 at the door, 0 at the radius);
- ``contract``: the engine's contract fit (1 when the youth named contracts, all eligible
  vacancies then match one; 0.5 when they named none);
- ``level_gap``: vacancy level minus youth diploma level as the engine codes them (0 for no
  diploma / no level required, else 3..8);
- ``family_<name>``: one-hot sector family of the employer (:data:`matching.types.SECTOR_FAMILIES`);
- ``tension``: DARES labour-market tension of the card's trade in the vacancy's département
  (:mod:`matching.learn.tables` documents the mapping), 0 when unknown;
- ``hires_log``: ``log1p`` of La Bonne Boîte's hires for the card x the employer's NAF code;
- ``beginners``: 1 when the vacancy accepts beginners;
- ``close_trade``: 1 when the card is a mobility neighbour (ROME ``rubrique_mobilite``) of one of
  the youth's wished cards or :data:`TOP_CARDS` best-scored cards;
- ``rank_shown``: the position bias: the rank the item was shown at (1-based) in the log, fixed
  to 1 at inference (:data:`RANK_AT_INFERENCE`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from matching.types import SECTOR_FAMILIES, Vacancy

VACANCY_FEATURES: tuple[str, ...] = (
    "semantic",
    "trade",
    "distance_km",
    "distance",
    "contract",
    "level_gap",
    *(f"family_{family}" for family in SECTOR_FAMILIES),
    "tension",
    "hires_log",
    "beginners",
    "close_trade",
    "rank_shown",
)
"""Feature names in column order of :func:`matrix`."""
COLUMN = {name: i for i, name in enumerate(VACANCY_FEATURES)}
RANK_AT_INFERENCE = 1.0
"""``rank_shown`` when the ranker scores candidates: every item as if shown first."""
TOP_CARDS = 5
"""Best-scored cards of a youth whose mobility neighbours count as close trades."""
_FAMILY_START = COLUMN[f"family_{SECTOR_FAMILIES[0]}"]


def close_cards(neighbour_ptr: np.ndarray, neighbours: np.ndarray, trade_row: np.ndarray,
                wished: Sequence[int] = ()) -> np.ndarray:
    """Cards close to a youth: mobility neighbours of its wished and top cards, bool ``(n_cards,)``.

    Args:
        neighbour_ptr, neighbours: the mobility links as CSR arrays (card ``i``'s neighbours are
            ``neighbours[neighbour_ptr[i]:neighbour_ptr[i + 1]]``), int32.
        trade_row: the youth's trade scores, ``(n_cards,)``.
        wished: positions of the youth's wished cards.
    """
    n_cards = neighbour_ptr.size - 1
    top = np.argpartition(-np.asarray(trade_row, dtype=np.float32), min(TOP_CARDS, n_cards) - 1)[:TOP_CARDS] \
        if n_cards else np.zeros(0, dtype=np.int64)
    sources = np.unique(np.concatenate([top, np.asarray(wished, dtype=np.int64)]))
    mask = np.zeros(n_cards, dtype=bool)
    if sources.size:
        starts, ends = neighbour_ptr[sources], neighbour_ptr[sources + 1]
        mask[np.concatenate([neighbours[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)])] = True
    return mask


def vacancy_facts(vacancies: Sequence[Vacancy], commune_column: dict[str, int], national: int,
                  hires_log: dict[tuple[str, str], float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the features read of each vacancy: ``(département column (int32), hires_log
    (float32), beginners (float32))``, each ``(n,)``; a commune outside the table reads the
    national column ``national``."""
    n = len(vacancies)
    column = np.empty(n, dtype=np.int32)
    hires = np.empty(n, dtype=np.float32)
    beginners = np.empty(n, dtype=np.float32)
    for i, vacancy in enumerate(vacancies):
        column[i] = commune_column.get(vacancy.place.commune_insee, national)
        hires[i] = hires_log.get((vacancy.code_rome, normal_naf(vacancy.employer.naf)), 0.0)
        beginners[i] = vacancy.beginners_accepted
    return column, hires, beginners


def normal_naf(naf: str) -> str:
    """A NAF code as La Bonne Boîte writes it: ``"47.72A"`` -> ``"4772A"``."""
    return naf.replace(".", "").strip().upper()


def matrix(*, semantic: np.ndarray, trade: np.ndarray, distance_km: np.ndarray, distance: np.ndarray,
           contract: np.ndarray, level_gap: np.ndarray, family: np.ndarray, tension: np.ndarray,
           hires_log: np.ndarray, beginners: np.ndarray, close_trade: np.ndarray,
           rank_shown: np.ndarray | None = None) -> np.ndarray:
    """The feature matrix of ``n`` candidate vacancies for one youth, float32 ``(n, F)``.

    Every argument is an ``(n,)`` array aligned with the candidates (``family``: index in
    :data:`~matching.types.SECTOR_FAMILIES`; ``close_trade``: bool); ``rank_shown`` None means
    inference (:data:`RANK_AT_INFERENCE`). Columns: :data:`VACANCY_FEATURES`.
    """
    n = len(semantic)
    out = np.zeros((n, len(VACANCY_FEATURES)), dtype=np.float32)
    out[:, COLUMN["semantic"]] = semantic
    out[:, COLUMN["trade"]] = trade
    out[:, COLUMN["distance_km"]] = distance_km
    out[:, COLUMN["distance"]] = distance
    out[:, COLUMN["contract"]] = contract
    out[:, COLUMN["level_gap"]] = level_gap
    out[np.arange(n), _FAMILY_START + np.asarray(family, dtype=np.int64)] = 1.0
    out[:, COLUMN["tension"]] = tension
    out[:, COLUMN["hires_log"]] = hires_log
    out[:, COLUMN["beginners"]] = beginners
    out[:, COLUMN["close_trade"]] = close_trade
    out[:, COLUMN["rank_shown"]] = RANK_AT_INFERENCE if rank_shown is None else rank_shown
    return out


def as_dicts(features: np.ndarray, names: Sequence[str] = VACANCY_FEATURES) -> list[dict[str, float]]:
    """Rows of a feature matrix as ``{name: value}`` (the log's JSON form; float32 -> float)."""
    return [dict(zip(names, row, strict=True)) for row in features.astype(np.float64).tolist()]


def from_dicts(rows: Sequence[dict[str, float] | None], names: Sequence[str] = VACANCY_FEATURES) -> np.ndarray:
    """The inverse of :func:`as_dicts`, float32 ``(n, len(names))``; a missing name reads NaN."""
    out = np.full((len(rows), len(names)), np.nan, dtype=np.float32)
    for i, row in enumerate(rows):
        if row:
            out[i] = [row.get(name, np.nan) for name in names]
    return out
