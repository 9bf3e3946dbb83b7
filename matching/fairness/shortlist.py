"""Candidate shortlists: DetGreedy, DetCons and DetRelaxed (Geyik, Ambler, Kenthapadi, KDD 2019).

Algorithm 1 of the paper (arXiv 1905.01989), for each position k' = 1..k, with counts c_g of
each group g already placed and desired shares p_g:

- below minimum: c_g < floor(p_g k'); below maximum: c_g < ceil(p_g k');
- if some group is below minimum, take the best next candidate among those groups;
- else DetGreedy takes the best next candidate among groups below maximum; DetCons takes the
  group minimising ceil(p_g k') / p_g (the earliest position where it would fall below its
  minimum; ties by best next candidate); DetRelaxed takes the groups minimising
  ceil(ceil(p_g k') / p_g) and the best next candidate among them.

The paper proves all three feasible (every prefix floor held, InfeasibleIndex = 0) for at most
3 groups given enough candidates in each, and shows DetGreedy can fail with 4 or more.

Beyond the paper: a group whose queue is empty is skipped (it is never credited with another
group's candidate: the bug reported in AIF360's DeterministicReranking); when no group that the
rules allow has candidates left, the best remaining candidate of any group is taken. Groups
absent from the target (share 0) are only used that way. Ties in score keep input order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from matching.errors import OutOfRange, PasserelleError
from matching.fairness.greedy import Reranked, finalize, relevance_rank
from matching.fairness.metrics import ceil_share, floor_share, infeasible_index

ALGORITHMS: tuple[str, ...] = ("det_greedy", "det_cons", "det_relaxed")
JOINT_SEPARATOR = "|"
_TOLERANCE = 1e-9
Target = str | Mapping[str, float] | Sequence[Mapping[str, float]] | None


def target_from_pool(groups_of_qualified: npt.ArrayLike) -> dict[str, float]:
    """Return each group's share among the qualified candidates, ``{group: share}``."""
    labels, counts = np.unique(np.asarray(groups_of_qualified).astype(str), return_counts=True)
    return {str(g): float(c / counts.sum()) for g, c in zip(labels, counts, strict=True)}


def parity(groups: npt.ArrayLike) -> dict[str, float]:
    """Return equal shares over the groups present (``not_stated`` is a group of its own)."""
    labels = np.unique(np.asarray(groups).astype(str))
    return {str(g): 1.0 / labels.size for g in labels}


def joint_groups(*label_arrays: npt.ArrayLike) -> np.ndarray:
    """Join per-attribute labels into one group per item: ``F`` and ``qpv`` -> ``F|qpv``."""
    columns = [np.asarray(labels).astype(str) for labels in label_arrays]
    joined = columns[0]
    for column in columns[1:]:
        joined = np.char.add(np.char.add(joined, JOINT_SEPARATOR), column)
    return joined


def joint_target(*marginals: Mapping[str, float]) -> dict[str, float]:
    """Return the product of per-attribute targets: ``{"F|qpv": p_F * p_qpv, ...}``."""
    joint: dict[str, float] = {"": 1.0}
    for marginal in marginals:
        joint = {
            f"{k}{JOINT_SEPARATOR}{g}" if k else g: p * q
            for k, p in joint.items()
            for g, q in marginal.items()
        }
    return joint


def _next_group(
    kp: int,
    target: Mapping[str, float],
    counts: dict[str, int],
    heads: dict[str, int],
    algorithm: str,
) -> str:
    """Choose the group of position k' (1-based); ``heads`` holds groups with candidates left."""
    below_min = [g for g in heads if counts[g] < floor_share(target.get(g, 0.0), kp)]
    if below_min:
        return min(below_min, key=heads.__getitem__)
    below_max = [g for g in heads if counts[g] < ceil_share(target.get(g, 0.0), kp)]
    if not below_max:
        return min(heads, key=heads.__getitem__)
    if algorithm == "det_greedy":
        return min(below_max, key=heads.__getitem__)
    due = {g: ceil_share(target[g], kp) / target[g] for g in below_max}
    if algorithm == "det_cons":
        return min(below_max, key=lambda g: (due[g], heads[g]))
    relaxed = {g: math.ceil(due[g] - _TOLERANCE) for g in below_max}
    first = min(relaxed.values())
    return min((g for g in below_max if relaxed[g] == first), key=heads.__getitem__)


def fair_order(
    groups: npt.ArrayLike,
    rel_rank: np.ndarray,
    target: Mapping[str, float],
    top_k: int,
    *,
    algorithm: str = "det_greedy",
) -> np.ndarray:
    """Return the input positions of the fair top-k, int64 ``(min(top_k, n),)``.

    Args:
        groups: group of each candidate, str ``(n,)``.
        rel_rank: relevance rank of each candidate, ``(n,)``, 0 = best.
        target: desired share per group (sum <= 1).
        top_k: shortlist length.
        algorithm: ``det_greedy``, ``det_cons`` or ``det_relaxed``.
    """
    labels = np.asarray(groups).astype(str)
    order = np.argsort(rel_rank, kind="stable")
    queues = {str(g): order[labels[order] == g].tolist() for g in np.unique(labels)}
    counts = dict.fromkeys(queues, 0)
    picks = []
    for kp in range(1, min(top_k, labels.size) + 1):
        heads = {g: int(rel_rank[q[counts[g]]]) for g, q in queues.items() if counts[g] < len(q)}
        group = _next_group(kp, target, counts, heads, algorithm)
        picks.append(queues[group][counts[group]])
        counts[group] += 1
    return np.asarray(picks, dtype=np.int64)


def _resolve_target(target: Target, groups: np.ndarray, qualified: np.ndarray) -> dict[str, float]:
    """Turn ``pool`` / ``parity`` / a dict / per-attribute dicts into joint shares."""
    joint = joint_groups(*groups.T) if groups.ndim == 2 else groups
    if target is None:
        return {}
    if isinstance(target, str):
        if target == "pool":
            return target_from_pool(joint[qualified])
        if target != "parity":
            raise PasserelleError(
                f"unknown target {target!r}: use pool, parity or a dict", field="target"
            )
        if groups.ndim == 1:
            return parity(groups[qualified])
        target = [parity(column[qualified]) for column in groups.T]
    if not isinstance(target, Mapping):
        present = set(joint[qualified].tolist())
        product = {g: p for g, p in joint_target(*target).items() if g in present}
        total = sum(product.values())
        return {g: p / total for g, p in product.items()} if total > 0 else {}
    return dict(target)


def shortlist(
    ids: npt.ArrayLike,
    scores: npt.ArrayLike,
    groups: npt.ArrayLike,
    top_k: int,
    *,
    algorithm: str = "det_greedy",
    target: Target = "pool",
    qualified_mask: npt.ArrayLike | None = None,
    reason: str = "representation",
) -> Reranked:
    """Re-rank candidates so that every prefix of the shortlist holds floor(p_g k) of group g.

    Args:
        ids: candidate ids, int64 ``(n,)``.
        scores: relevance, float32 ``(n,)``, best first (ties keep input order).
        groups: group of each candidate, str ``(n,)``, or ``(n, n_attributes)`` (e.g. gender
            and qpv) re-ranked on the joint group ``"F|qpv"``.
        top_k: shortlist length (a pool smaller than top_k gives a shorter list).
        algorithm: ``det_greedy``, ``det_cons`` or ``det_relaxed``.
        target: ``"pool"`` (the distribution among qualified candidates; on two attributes,
            the joint one, which respects their correlation and is always reachable),
            ``"parity"`` (equal shares over the groups present; on two attributes the product
            of per-attribute parities over the joint groups present, renormalised), a dict of
            shares per (joint) group, a sequence of per-attribute dicts (their product), or
            None (no constraint: the relevance-only top-k).
        qualified_mask: bool ``(n,)``: candidates that define ``pool``/``parity`` (eligible and
            above a relevance threshold or in the top N); all candidates may be shortlisted.
        reason: the ``why`` token of moved candidates.

    Returns:
        The shortlist; ``feasible`` False (notes ``infeasible``, ``empty_group:<g>``) when a
        prefix floor fails.
    """
    if algorithm not in ALGORITHMS:
        raise PasserelleError(
            f"unknown algorithm {algorithm!r}: use one of {ALGORITHMS}", field="algorithm"
        )
    labels = np.asarray(groups).astype(str)
    shares = _checked_shares(target, labels, qualified_mask)
    joint = joint_groups(*labels.T) if labels.ndim == 2 else labels
    rel_rank = relevance_rank(scores)
    picks = fair_order(joint, rel_rank, shares, top_k, algorithm=algorithm)
    feasible = infeasible_index(joint[picks], shares, top_k) == 0
    present = set(joint.tolist())
    empty = tuple(f"empty_group:{g}" for g, p in shares.items() if p > 0 and g not in present)
    notes = (() if feasible else ("infeasible",)) + empty
    reasons = np.full(picks.size, reason, dtype=object)
    return finalize(ids, scores, picks, reasons, rel_rank, feasible=feasible, notes=notes)


def _checked_shares(
    target: Target, labels: np.ndarray, qualified_mask: npt.ArrayLike | None
) -> dict[str, float]:
    """The target share of each (joint) group, from the qualified candidates (all when
    ``qualified_mask`` is None); raise OutOfRange unless they are >= 0 and sum to at most 1."""
    qualified = (
        np.ones(labels.shape[0], dtype=bool)
        if qualified_mask is None
        else np.asarray(qualified_mask, dtype=bool)
    )
    shares = _resolve_target(target, labels, qualified)
    if any(p < 0 for p in shares.values()) or sum(shares.values()) > 1 + 1e-6:
        raise OutOfRange("target shares must be >= 0 and sum to at most 1", field="target")
    return shares
