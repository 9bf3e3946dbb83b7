"""Array helpers of the trade search: per-card max, per-query normalisation, data hash."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd


def max_per_group(
    sims: np.ndarray, order: np.ndarray, starts: np.ndarray, groups: np.ndarray, n_groups: int
) -> np.ndarray:
    """Reduce ``sims (q, n_items)`` to ``(q, n_groups)`` by max over each group's items.

    ``order`` sorts the items by group; ``starts`` are the first sorted position of each
    present group and ``groups`` their ids. Absent groups get -1.
    """
    out = np.full((sims.shape[0], n_groups), -1.0, dtype=np.float32)
    if len(order):
        out[:, groups] = np.maximum.reduceat(sims[:, order], starts, axis=1)
    return out


def _grouping(item_groups: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.argsort(item_groups, kind="stable")
    sorted_groups = item_groups[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_groups)) + 1].astype(np.int64)
    return order.astype(np.int64), starts, sorted_groups[starts].astype(np.int64)


def zscore_top(scores: np.ndarray, top: int = 50) -> np.ndarray:
    """Normalise each row by the mean and std of its ``top`` best values, ``(q, n)`` float32."""
    top = min(top, scores.shape[1])
    best = np.partition(scores, scores.shape[1] - top, axis=1)[:, -top:]
    mean, std = best.mean(axis=1, keepdims=True), best.std(axis=1, keepdims=True)
    return ((scores - mean) / (std + 1e-6)).astype(np.float32)


def data_hash(referential) -> str:
    """Hash the card, appellation and skill texts the searcher is fitted on."""
    digest = hashlib.blake2b(digest_size=8)
    for frame, columns in (
        (referential.cards.reset_index(), ["code_rome", "label", "definition"]),
        (referential.appellations, ["code_ogr", "label", "code_rome"]),
        (referential.skills, ["code_rome", "label"]),
    ):
        digest.update(pd.util.hash_pandas_object(frame[columns].astype(str), index=False).values)
    return digest.hexdigest()
