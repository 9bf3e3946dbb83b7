"""Shared core of the re-rankers: the result type and a greedy fill with floors, a cap and MMR.

The fill takes items best first (by a preference rank, or by maximal marginal relevance) and
reserves the last slots for groups still under their floor: once the unmet floors equal the
slots left, only items of those groups may be taken. When the best items already meet the
floors, nothing changes; otherwise the floor items displace the least relevant picks only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

NOT_MOVED = ""


@dataclass(frozen=True, eq=False)
class Reranked:
    """A re-ranked list of m items (m <= top_k), best first.

    Attributes:
        ids: item ids, int64 ``(m,)``.
        scores: the items' input (relevance) scores, float32 ``(m,)``.
        moved: bool ``(m,)``; True where the item ranks better than in the relevance-only list.
        why: str ``(m,)``; a machine token naming the constraint that moved the item
            (``"mixite"``, ``"domain_cap"``, ``"diversity"``...), ``""`` when not moved.
        feasible: False when the pool could not meet every requested floor.
        notes: short machine tokens (``"floor_unmet:female"``, ``"domain_cap_relaxed"``...).
        positions: index of each item in the input arrays, int64 ``(m,)``.
    """

    ids: np.ndarray
    scores: np.ndarray
    moved: np.ndarray
    why: np.ndarray
    feasible: bool = True
    notes: tuple[str, ...] = field(default_factory=tuple)
    positions: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))


@dataclass(frozen=True)
class Tokens:
    """Reason tokens of one re-ranker: for a floor pick, a capped better item, a preference."""

    floor: str = "mixite"
    cap: str = "cap"
    preference: str = "reordered"
    diversity: str = "diversity"


def relevance_rank(scores: npt.ArrayLike) -> np.ndarray:
    """Rank items by score descending, ties by input order: int64 ``(n,)``, 0 = best."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    return rank


def finalize(
    ids: npt.ArrayLike,
    scores: npt.ArrayLike,
    picks: np.ndarray,
    reasons: np.ndarray,
    rel_rank: np.ndarray,
    *,
    feasible: bool = True,
    notes: tuple[str, ...] = (),
) -> Reranked:
    """Build a :class:`Reranked` from input positions in output order and their pick reasons."""
    picks = np.asarray(picks, dtype=np.int64)
    moved = np.arange(picks.size) < rel_rank[picks]
    why = np.where(moved, np.where(reasons == NOT_MOVED, "reordered", reasons), NOT_MOVED)
    return Reranked(
        ids=np.asarray(ids, dtype=np.int64)[picks],
        scores=np.asarray(scores, dtype=np.float32)[picks],
        moved=moved,
        why=why.astype(str),
        feasible=feasible,
        notes=tuple(dict.fromkeys(notes)),
        positions=picks,
    )


def feasible_floors(
    floor_labels: np.ndarray, floors: Mapping[str, int]
) -> tuple[dict[str, int], tuple[str, ...]]:
    """Lower each floor to the number of items of its group; note the groups left short."""
    available = Counter(floor_labels.tolist())
    need = {g: min(f, available.get(g, 0)) for g, f in floors.items() if f > 0}
    short = tuple(f"floor_unmet:{g}" for g, f in floors.items() if f > 0 and need[g] < f)
    return need, short


def mmr_values(
    relevance: np.ndarray, similarity: np.ndarray, chosen: list[int], diversity: float
) -> np.ndarray:
    """MMR = (1 - lambda) relevance - lambda max similarity to the chosen items, ``(n,)``."""
    if not chosen:
        return (1.0 - diversity) * relevance
    return (1.0 - diversity) * relevance - diversity * similarity[:, chosen].max(axis=1)


def greedy_fill(
    preference: np.ndarray,
    size: int,
    *,
    floor_labels: np.ndarray,
    floors: Mapping[str, int],
    cap_labels: np.ndarray,
    cap: int,
    rel_rank: np.ndarray,
    tokens: Tokens,
    mmr: tuple[np.ndarray, np.ndarray, float] | None = None,
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Pick ``size`` items best first while meeting floors and, when possible, a cap.

    Args:
        preference: rank of each item, int ``(n,)``, 0 = take first.
        size: number of items to pick (<= n).
        floor_labels: group of each item for the floors, str ``(n,)``.
        floors: minimum count per group, already lowered to what exists (sum <= size).
        cap_labels: group of each item for the cap, str ``(n,)``.
        cap: at most this many items per cap group; 0 disables; relaxed when nothing else fits.
        rel_rank: relevance-only rank of each item, ``(n,)``, to say why an item moved.
        tokens: the reason tokens to record.
        mmr: ``(relevance in [0, 1] (n,), cosine similarity (n, n), lambda)`` or None.

    Returns:
        Positions in pick order ``(size,)``, the reason of each pick ``(size,)``, notes.
    """
    remaining = np.ones(preference.size, dtype=bool)
    have: Counter[str] = Counter()
    capped: set[str] = set()
    cap_count: Counter[str] = Counter()
    picks: list[int] = []
    reasons: list[str] = []
    notes: list[str] = []
    for slot in range(size):
        unmet = [g for g, f in floors.items() if have[g] < f]
        reserved = sum(floors[g] - have[g] for g in unmet) >= size - slot
        blocked = np.isin(cap_labels, list(capped)) if capped else np.zeros_like(remaining)
        free = remaining & ~blocked
        pool = remaining & np.isin(floor_labels, unmet) if reserved else remaining
        allowed = pool & ~blocked
        if not allowed.any():
            allowed = pool
            notes.append(f"{tokens.cap}_relaxed")
        choice = _best(allowed, preference, mmr, picks)
        base = _best(free, preference, None, picks) if free.any() else choice
        if reserved and choice != base:
            reason = tokens.floor
        elif mmr is not None and choice != base:
            reason = tokens.diversity
        elif np.any(remaining & blocked & (rel_rank < rel_rank[choice])):
            reason = tokens.cap
        elif np.any(remaining & (rel_rank < rel_rank[choice])):
            reason = tokens.preference
        else:
            reason = NOT_MOVED
        picks.append(choice)
        reasons.append(reason)
        remaining[choice] = False
        have[str(floor_labels[choice])] += 1
        cap_count[str(cap_labels[choice])] += 1
        if cap > 0 and cap_count[str(cap_labels[choice])] >= cap:
            capped.add(str(cap_labels[choice]))
    return np.asarray(picks, dtype=np.int64), np.asarray(reasons, dtype=object), tuple(notes)


def _best(
    allowed: np.ndarray,
    preference: np.ndarray,
    mmr: tuple[np.ndarray, np.ndarray, float] | None,
    chosen: list[int],
) -> int:
    """Return the allowed item with the best MMR value (ties: preference) or preference."""
    candidates = np.flatnonzero(allowed)
    if mmr is None:
        return int(candidates[np.argmin(preference[candidates])])
    values = mmr_values(mmr[0], mmr[1], chosen, mmr[2])[candidates]
    return int(candidates[np.lexsort((preference[candidates], -values))[0]])
