"""Array helpers of the trade search: per-card max, per-query normalisation, data hash."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import scipy.sparse as sp


def max_per_group(
    sims: np.ndarray, order: np.ndarray | None, starts: np.ndarray, groups: np.ndarray, n_groups: int
) -> np.ndarray:
    """Reduce ``sims (q, n_items)`` to ``(q, n_groups)`` by max over each group's items.

    ``order`` sorts the items by group (None: the columns of ``sims`` already are); ``starts``
    are the first sorted position of each present group and ``groups`` their ids. Absent groups
    get -1.
    """
    out = np.full((sims.shape[0], n_groups), -1.0, dtype=np.float32)
    if len(starts) and sims.shape[1]:
        out[:, groups] = np.maximum.reduceat(sims if order is None else sims[:, order], starts, axis=1)
    return out


class GroupMax:
    """Max over each group's items of an ``(n_rows, q)`` array: per-card best appellation or skill.

    Args:
        item_rows: ``(n_items,)`` the row of each item in the arrays to reduce (an item may be
            a row shared by several groups: a skill of several cards).
        item_groups: ``(n_items,)`` the group of each item.
        n_groups: number of groups; absent ones get -1.

    The layout is slot by slot: slot ``s`` lists the ``s``-th item of every group with more
    than ``s`` items, groups by decreasing size, so each slot covers a prefix of the groups and
    the max is a running ``np.maximum`` over slots of ``(groups, q)`` row gathers, small enough
    to stay in cache; in the (items x queries) layout each gathered row is one contiguous
    block. Gathering the ``(q, n_links)`` array for ``np.maximum.reduceat`` took 7x as long
    (0.3 s per 256 queries for the 85k card-skill links, along either axis). Max is exact: the
    result is the same whatever the order.
    """

    def __init__(self, item_rows: np.ndarray, item_groups: np.ndarray, n_groups: int):
        order = np.argsort(item_groups, kind="stable")
        groups, starts, sizes = np.unique(item_groups[order], return_index=True, return_counts=True)
        by_size = np.argsort(-sizes, kind="stable")
        starts, sizes = starts[by_size], sizes[by_size]
        counts = (sizes[None, :] > np.arange(sizes.max(initial=0))[:, None]).sum(axis=1)
        sorted_rows = np.asarray(item_rows, dtype=np.int64)[order]
        self.groups = groups[by_size].astype(np.int64)
        self.absent = np.setdiff1d(np.arange(n_groups), self.groups)
        self.rows = np.concatenate(
            [sorted_rows[starts[:count] + slot] for slot, count in enumerate(counts)]
            or [np.zeros(0, np.int64)]
        )
        self.bounds = np.r_[0, np.cumsum(counts)]

    def reduce(self, sims_t: np.ndarray, out: np.ndarray) -> None:
        """Write into ``out (q, n_groups)`` the max per group of ``sims_t (n_rows, q)``."""
        out[:, self.absent] = -1.0
        if len(self.bounds) < 2:
            return
        best = sims_t[self.rows[: self.bounds[1]]]
        gathered = np.empty_like(best)
        for start, stop in zip(self.bounds[1:-1], self.bounds[2:], strict=True):
            n = stop - start
            np.take(sims_t, self.rows[start:stop], axis=0, out=gathered[:n])
            np.maximum(best[:n], gathered[:n], out=best[:n])
        out[:, self.groups] = best.T


def sparse_product_t(rows: sp.csr_matrix, matrix: sp.csr_matrix) -> np.ndarray:
    """``(rows @ matrix).T`` dense, ``(matrix.shape[1], n_rows)`` C-order, bit for bit.

    Char n-gram products are nearly dense (3.3M of 3.4M cells for 256 queries x 13k
    appellations): scipy's sparse x sparse product spends its time on the sparse result. Here
    the features present in ``rows`` become a dense (features x rows) block and ``matrix``'s
    rows for them a CSC operand, whose product adds feature by feature into a dense result.
    Features go in decreasing id order: the order in which :class:`CharTfidf` rows store them
    (a ``csr @ diags`` product writes them so), which is the order scipy's product sums them
    in; the sums are thus the same float32 additions (``tests/test_trade_search.py`` checks).
    """
    ascending, inverse = np.unique(rows.indices, return_inverse=True)
    features, position = ascending[::-1], len(ascending) - 1 - inverse.ravel()
    dense = np.zeros((len(features), rows.shape[0]), dtype=rows.dtype)
    dense[position, np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))] = rows.data
    return matrix[features].T @ dense


def sparse_product_dense(rows: sp.csr_matrix, matrix: sp.csr_matrix) -> np.ndarray:
    """``(rows @ matrix).toarray()``, bit for bit, when ``matrix`` has few columns (the cards).

    The SVM scores are dense (every card has a score), so scipy's sparse x sparse product
    spends its time on building a sparse result. Here ``matrix``'s rows for the features present
    in ``rows`` become a dense block (features x cards, 12 MB for 128 queries) and ``rows``,
    renumbered over them, multiply it: scipy then adds, query by query and in each row's stored
    order, the same products as its sparse x sparse product (products with an absent weight
    add +0.0). Twice as fast.
    """
    features, position = np.unique(rows.indices, return_inverse=True)
    local = sp.csr_matrix(
        (rows.data, position.ravel(), rows.indptr), shape=(rows.shape[0], len(features))
    )
    return local @ matrix[features].toarray()


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


# Training text of the supervised part: every short text of the referential labelled with its
# card, and how much each kind counts (appellations are what queries look like).
CORPUS_WEIGHTS: dict[str, float] = {
    "appellation": 1.0,
    "short_label": 1.0,
    "card_label": 1.0,
    "core_skill": 0.3,
    "definition": 0.3,
}


def supervised_corpus(
    referential, appellations: pd.DataFrame, held_out: set[str], normalise
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Texts labelled with their card: ``(texts, card codes (n,) str, sample weights (n,))``.

    ``appellations`` are the kept ones; any text whose ``normalise``d form equals a held-out
    label's (``held_out``, normalised) is dropped, so a held-out query never has its own
    wording (or its other gender form) in the training set.
    """
    rows: list[tuple[str, str, float]] = []

    def add(texts, codes, kind):
        for text, code in zip(texts, codes, strict=True):
            text = str(text).strip()
            if text and normalise(text) not in held_out:
                rows.append((text, str(code), CORPUS_WEIGHTS[kind]))

    add(appellations["label"], appellations["code_rome"], "appellation")
    if "label_short" in appellations:
        short = appellations[appellations["label_short"] != appellations["label"]]
        add(short["label_short"], short["code_rome"], "short_label")
    cards = referential.cards
    add(cards["label"], cards.index, "card_label")
    skills = referential.skills
    core = skills["core"].astype(bool) if "core" in skills else pd.Series(True, skills.index)
    skills = skills[core & skills["kind"].isin(["savoir_faire", "savoir"])]
    add(skills["label"], skills["code_rome"], "core_skill")
    if "definition" in cards:
        sentences = [
            (s, code)
            for code, text in zip(cards.index, cards["definition"].fillna(""), strict=True)
            for s in str(text).split("\n")
        ]
        add([s for s, _ in sentences], [c for _, c in sentences], "definition")
    texts, codes, weights = zip(*rows, strict=True) if rows else ((), (), ())
    return list(texts), np.array(codes, dtype=str), np.array(weights, dtype=np.float32)


def sparse_top(coef: np.ndarray, keep: float = 0.02) -> sp.csr_matrix:
    """Zero the weights below ``keep`` times each row's largest absolute weight, as CSR."""
    coef = np.asarray(coef, dtype=np.float32)
    limit = keep * np.abs(coef).max(axis=1, keepdims=True)
    return sp.csr_matrix(np.where(np.abs(coef) >= limit, coef, 0.0).astype(np.float32))


def descending_order(scores: np.ndarray) -> np.ndarray:
    """Per-row column order by decreasing score, ties by column (``(q, n)`` intp).

    The same as ``np.argsort(-scores, axis=1, kind="stable")``, 3-4x faster for float32: each
    score becomes one distinct int64 key (high half: the negated score's bits mapped to an
    int32 of the same order; low half: the column), so numpy's SIMD sort, not stable, gives
    the stable order. ``0 - score`` negates, mapping -0.0 and +0.0 (tied scores) to +0.0.
    """
    scores = np.asarray(scores)
    if scores.dtype != np.float32:
        return np.argsort(-scores, axis=1, kind="stable")
    bits = (np.float32(0.0) - scores).view(np.int32)
    keys = (bits ^ ((bits >> 31) & np.int32(0x7FFFFFFF))).astype(np.int64)
    keys <<= 32
    keys |= np.arange(scores.shape[1], dtype=np.int64)
    keys.sort(axis=1)
    keys &= 0xFFFFFFFF
    return keys.astype(np.intp, copy=False)


def reciprocal_ranks(scores: np.ndarray, k: float = 5.0) -> np.ndarray:
    """Per-row reciprocal rank ``1 / (k + rank)`` (rank 0 = best), ``(q, n)`` float32.

    The summand of reciprocal-rank fusion: only each component's order counts, so one
    component's outlying scores cannot drown the others. Ties keep the column order.
    """
    table = (1.0 / (k + np.arange(scores.shape[1]))).astype(np.float32)
    out = np.empty(scores.shape, dtype=np.float32)
    np.put_along_axis(out, descending_order(scores), table[None, :], axis=1)
    return out
