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
    fill = _Fill(preference, rel_rank, floor_labels, cap_labels, floors)
    values = None if mmr is None else _MmrValues(*mmr)
    picks: list[int] = []
    reasons: list[str] = []
    notes: list[str] = []
    for slot in range(size):
        pool, reserved = fill.pool(size - slot)
        if not pool:
            raise ValueError("nothing left to pick: size exceeds the items")
        choice = fill.choose(pool, values, notes, tokens)
        picks.append(choice)
        reasons.append(fill.reason(choice, reserved, values is not None, tokens))
        fill.take(choice, cap)
        if values is not None:
            values.take(choice)
    return np.asarray(picks, dtype=np.int64), np.asarray(reasons, dtype=object), tuple(notes)


class _Fill:
    """The state of one :func:`greedy_fill`: the items not taken yet (in preference order and
    in relevance order), the floors still unmet and the cap groups full."""

    def __init__(self, preference, rel_rank, floor_labels, cap_labels, floors) -> None:
        by_pref = np.argsort(preference, kind="stable").tolist()
        self.by_rel = (
            by_pref if rel_rank is preference else np.argsort(rel_rank, kind="stable").tolist()
        )
        self.rel = np.asarray(rel_rank).tolist()
        floor_labels = np.asarray(floor_labels)
        self.floor_of = floor_labels.tolist()
        if floor_labels.dtype.kind != "U":
            self.floor_of = [str(g) for g in self.floor_of]
        self.cap_of = np.asarray(cap_labels).tolist()
        self.live = list(by_pref)  # the items not taken yet, in preference order
        self.remaining = [True] * len(by_pref)
        self.deficit = {g: f for g, f in floors.items() if f > 0}  # items each floor still needs
        self.missing = sum(self.deficit.values())
        self.capped: set = set()
        self.cap_count: dict = {}
        self.rel_start = 0  # by_rel[:rel_start] are all taken

    def pool(self, slots_left: int) -> tuple[list[int], bool]:
        """The items the next slot may take, and whether it is reserved for unmet floors (once
        the unmet floors equal the slots left, only items of those groups may be taken)."""
        remaining, by_rel, start = self.remaining, self.by_rel, self.rel_start
        while not remaining[by_rel[start]]:
            start += 1
        self.rel_start = start
        if self.missing > 0 and self.missing >= slots_left:
            floor_of, deficit = self.floor_of, self.deficit
            return [i for i in self.live if floor_of[i] in deficit], True
        return self.live, False

    def choose(self, pool: list[int], values: _MmrValues | None, notes: list, tokens) -> int:
        """The first item of ``pool`` whose cap group is not full or, with MMR, the allowed item
        of highest value; when every group of the pool is full, the cap is relaxed (noted)."""
        capped, cap_of = self.capped, self.cap_of
        if values is None:
            choice = next((i for i in pool if cap_of[i] not in capped), None) if capped else pool[0]
            if choice is None:
                choice = pool[0]
                notes.append(f"{tokens.cap}_relaxed")
            return choice
        allowed = [i for i in pool if cap_of[i] not in capped] if capped else pool
        if not allowed:
            allowed = pool
            notes.append(f"{tokens.cap}_relaxed")
        return values.best(allowed)

    def reason(self, choice: int, reserved: bool, diverse: bool, tokens: Tokens) -> str:
        """Why ``choice`` was taken before a better-ranked item: a floor, MMR, a full cap group
        or the preference order; :data:`NOT_MOVED` when no better-ranked item is left."""
        capped, cap_of = self.capped, self.cap_of
        if reserved or diverse:  # the first free item, ignoring the floors
            live = self.live
            base = next((i for i in live if cap_of[i] not in capped), choice) if capped else live[0]
        else:
            base = choice  # the allowed items are the free ones (or none is free)
        if reserved and choice != base:
            return tokens.floor
        if diverse and choice != base:
            return tokens.diversity
        # a better-ranked item left: capped, or passed over by preference
        reason, bound = NOT_MOVED, self.rel[choice]
        rel, by_rel, remaining = self.rel, self.by_rel, self.remaining
        for k in range(self.rel_start, len(by_rel)):
            i = by_rel[k]
            if rel[i] >= bound:
                break
            if remaining[i]:
                if cap_of[i] in capped:
                    return tokens.cap
                reason = tokens.preference
        return reason

    def take(self, choice: int, cap: int) -> None:
        """Mark ``choice`` taken: one less item for its floor, one more in its cap group."""
        self.remaining[choice] = False
        self.live.remove(choice)
        group = self.floor_of[choice]
        if group in self.deficit:
            self.missing -= 1
            self.deficit[group] -= 1
            if not self.deficit[group]:
                del self.deficit[group]
        label = self.cap_of[choice]
        self.cap_count[label] = self.cap_count.get(label, 0) + 1
        if cap > 0 and self.cap_count[label] >= cap:
            self.capped.add(label)


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
