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


def reciprocal_ranks(scores: np.ndarray, k: float = 5.0) -> np.ndarray:
    """Per-row reciprocal rank ``1 / (k + rank)`` (rank 0 = best), ``(q, n)`` float32.

    The summand of reciprocal-rank fusion: only each component's order counts, so one
    component's outlying scores cannot drown the others.
    """
    order = np.argsort(-scores, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(scores.shape[1])[None, :], axis=1)
    return (1.0 / (k + ranks)).astype(np.float32)
