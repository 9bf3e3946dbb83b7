"""Fitting steps of the trade search: held-out appellations, skill links, encoding, the SVM.

Pure functions over the referential's frames and arrays that
:meth:`~matching.search.trade_search.TradeSearcher.fit` calls in turn: which appellations a
benchmark holds out (and every text that reads the same), which skills link to which cards, the
three encoding passes with one progress count, and the one-vs-rest linear SVM on char n-grams
kept sparse. The searcher class keeps the fitted arrays; this module holds no state.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from matching.search.lexical import normalize_fr
from matching.search.trade_scores import sparse_top


def held_out_appellations(
    appellations: pd.DataFrame, exclude_appellations
) -> tuple[pd.DataFrame, set[str], set[str]]:
    """Split off held-out appellations: ``(kept rows, held normalised forms, held labels)``.

    ``exclude_appellations``: ``code_ogr`` values to hold out (None: none); so is every other
    appellation whose normalised label equals a held-out one (its other gender form...).
    """
    excluded = set() if exclude_appellations is None else set(exclude_appellations)
    held = appellations["code_ogr"].isin(excluded).to_numpy().copy()
    held_forms = {normalize_fr(label) for label in appellations.loc[held, "label"]}
    if held_forms:
        held |= appellations["label"].map(normalize_fr).isin(held_forms).to_numpy()
    excluded_labels = set(appellations.loc[held, "label"])
    return appellations.loc[~held], held_forms, excluded_labels


def skill_links(
    skills: pd.DataFrame, kinds: tuple[str, ...], position: pd.Series
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct skill labels of ``kinds`` ``(n_skills,)`` object and the ``(n_links, 2)`` int64
    rows (skill row, card position) linking them to cards (``position``: code -> position)."""
    skills = skills[skills["kind"].isin(kinds)]
    labels, rows = np.unique(skills["label"].to_numpy(dtype=str), return_inverse=True)
    pairs = np.stack([rows, position.loc[skills["code_rome"]].to_numpy()], 1).astype(np.int64)
    return labels.astype(object), pairs


def encode_in_steps(embedder, steps: list[list[str]], on_progress=None) -> list[np.ndarray]:
    """Encode each list of ``steps`` as documents; ``on_progress(done, total)`` counts texts
    across all the steps."""
    total, done, encoded = sum(map(len, steps)), 0, []
    for texts in steps:
        offset = done
        encoded.append(
            embedder.encode_documents(
                texts,
                on_progress=None
                if on_progress is None
                else lambda d, _t, o=offset: on_progress(o + d, total),
            )
        )
        done += len(texts)
    return encoded


def fit_svm(
    train: sp.csr_matrix,
    labels: np.ndarray,
    sample_weight: np.ndarray,
    n_cards: int,
    *,
    alpha: float,
    epochs: int,
    min_df: int,
    keep: float,
    n_jobs: int,
) -> tuple[np.ndarray, sp.csr_matrix, np.ndarray]:
    """Train the one-vs-rest linear SVM on ``train`` rows labelled with card positions.

    Returns ``(columns (n_columns,) int64, coef (n_cards, n_columns) sparse CSR float32,
    intercept (n_cards,) float32)``: only n-grams seen in ``min_df`` texts or more are columns;
    a card with no training text keeps no weights and an intercept of -10.
    """
    from sklearn.linear_model import SGDClassifier

    df = np.bincount(train.indices, minlength=train.shape[1])
    columns = np.flatnonzero(df >= min_df).astype(np.int64)
    # One solve for all cards (one-vs-rest hinge loss over n_jobs threads): seconds where
    # 1,584 LinearSVC fits took minutes.
    svm = SGDClassifier(alpha=alpha, max_iter=epochs, tol=None, random_state=0, n_jobs=n_jobs)
    svm.fit(train[:, columns], labels, sample_weight=sample_weight)
    coef = np.zeros((n_cards, len(columns)), dtype=np.float32)
    intercept = np.full(n_cards, -10.0, dtype=np.float32)
    coef[svm.classes_] = svm.coef_
    intercept[svm.classes_] = svm.intercept_
    return columns, sparse_top(coef, keep), intercept
