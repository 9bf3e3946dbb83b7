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
        cap_labels: group of each item for the cap, ``(n,)``: str, or int (same groups as
            their str form).
        cap: at most this many items per cap group; 0 disables; relaxed when nothing else fits.
        rel_rank: relevance-only rank of each item, ``(n,)``, to say why an item moved.
        tokens: the reason tokens to record.
        mmr: ``(relevance in [0, 1] (n,), cosine similarity (n, n), lambda)`` or None.

    Returns:
        Positions in pick order ``(size,)``, the reason of each pick ``(size,)``, notes.

    Each slot takes the allowed item first in preference order (ties: position) or, with MMR,
    the allowed item of highest MMR value (ties: preference, then position). Plain Python
    loops over the items in preference and relevance order: lists are short (tens to hundreds
    of items), where numpy's per-call overhead cost more than the work; the array version
    stays in ``tests/test_diversity.py`` as an oracle.
    """
    by_pref = np.argsort(preference, kind="stable").tolist()
    by_rel = by_pref if rel_rank is preference else np.argsort(rel_rank, kind="stable").tolist()
    rel = np.asarray(rel_rank).tolist()
    floor_labels = np.asarray(floor_labels)
    floor_of = floor_labels.tolist()
    if floor_labels.dtype.kind != "U":
        floor_of = [str(g) for g in floor_of]
    cap_of = np.asarray(cap_labels).tolist()
    live = list(by_pref)  # the items not taken yet, in preference order
    remaining = [True] * len(by_pref)
    deficit = {g: f for g, f in floors.items() if f > 0}  # items each floor still needs
    missing = sum(deficit.values())
    capped: set = set()
    cap_count: dict = {}
    picks: list[int] = []
    reasons: list[str] = []
    notes: list[str] = []
    values = None if mmr is None else _MmrValues(*mmr)
    rel_start = 0  # by_rel[:rel_start] are all taken
    for slot in range(size):
        while not remaining[by_rel[rel_start]]:
            rel_start += 1
        reserved = missing > 0 and missing >= size - slot
        pool = [i for i in live if floor_of[i] in deficit] if reserved else live
        if not pool:
            raise ValueError("nothing left to pick: size exceeds the items")
        if values is None:  # the first allowed item, else (cap relaxed) the first of the pool
            choice = next((i for i in pool if cap_of[i] not in capped), None) if capped else pool[0]
            if choice is None:
                choice = pool[0]
                notes.append(f"{tokens.cap}_relaxed")
        else:
            allowed = [i for i in pool if cap_of[i] not in capped] if capped else pool
            if not allowed:
                allowed = pool
                notes.append(f"{tokens.cap}_relaxed")
            choice = values.best(allowed)
        if reserved or mmr is not None:  # the first free item, ignoring the floors
            base = next((i for i in live if cap_of[i] not in capped), choice) if capped else live[0]
        else:
            base = choice  # the allowed items are the free ones (or none is free)
        if reserved and choice != base:
            reason = tokens.floor
        elif mmr is not None and choice != base:
            reason = tokens.diversity
        else:  # a better-ranked item left: capped, or passed over by preference
            reason, bound = NOT_MOVED, rel[choice]
            for k in range(rel_start, len(by_rel)):
                i = by_rel[k]
                if rel[i] >= bound:
                    break
                if remaining[i]:
                    if cap_of[i] in capped:
                        reason = tokens.cap
                        break
                    reason = tokens.preference
        picks.append(choice)
        reasons.append(reason)
        remaining[choice] = False
        live.remove(choice)
        group = floor_of[choice]
        if group in deficit:
            missing -= 1
            deficit[group] -= 1
            if not deficit[group]:
                del deficit[group]
        if values is not None:
            values.take(choice)
        label = cap_of[choice]
        cap_count[label] = cap_count.get(label, 0) + 1
        if cap > 0 and cap_count[label] >= cap:
            capped.add(label)
    return np.asarray(picks, dtype=np.int64), np.asarray(reasons, dtype=object), tuple(notes)


class _MmrValues:
    """The MMR values of :func:`mmr_values` (same bits), kept up to date as items are taken:
    the max similarity to the items taken grows by one column per pick."""

    def __init__(self, relevance: np.ndarray, similarity: np.ndarray, diversity: float):
        self.base = (1.0 - diversity) * relevance
        self.similarity, self.diversity = similarity, diversity
        self.nearest: np.ndarray | None = None  # max similarity to the items taken, (n,)
        self.nan = bool(np.isnan(self.base).any() or np.isnan(similarity).any())

    def best(self, allowed: list[int]) -> int:
        """The item of ``allowed`` (in preference order) of highest value: the first of equal
        values; NaN below any number (as a lexsort ranks it)."""
        values = self.base if self.nearest is None else self.base - self.diversity * self.nearest
        listed = values.tolist()
        if self.nan:
            return max(allowed, key=lambda i: (listed[i] == listed[i], listed[i]))
        return max(allowed, key=listed.__getitem__)

    def take(self, item: int) -> None:
        column = self.similarity[:, item]
        self.nearest = column if self.nearest is None else np.maximum(self.nearest, column)
