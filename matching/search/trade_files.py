"""Saved trade searchers: one ``.npy`` per array, ``labels.json``, two ``.npz`` and a manifest.

Writes and reads the fitted state of a :class:`~matching.search.trade_search.TradeSearcher`
without pickle: dense arrays as ``.npy``, label arrays as JSON, the char n-gram TF-IDF and the
sparse SVM weights as ``.npz`` of their CSR parts, and ``manifest.json`` with the embedding model,
the data hash and the hyperparameters the searcher is rebuilt with. Search-time state is derived
again after loading, by the searcher itself.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from matching.search.lexical import CharTfidf

ARRAYS = (
    "codes_",
    "app_vectors_",
    "app_cards_",
    "doc_vectors_",
    "skill_vectors_",
    "skill_pairs_",
    "svm_intercept_",
    "svm_columns_",
)
LABELS = ("app_labels_", "skill_labels_")


def save_searcher(searcher, directory: Path, weights: dict[str, float]) -> None:
    """Write ``searcher``'s fitted arrays and its manifest (fusion ``weights`` as used)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in ARRAYS:
        np.save(directory / f"{name.rstrip('_')}.npy", getattr(searcher, name))
    labels = {name: getattr(searcher, name).tolist() for name in LABELS}
    (directory / "labels.json").write_text(json.dumps(labels, ensure_ascii=False), encoding="utf-8")
    np.savez(
        directory / "tfidf.npz",
        **searcher.tfidf_.state(),
        app_data=searcher.app_tfidf_.data,
        app_indices=searcher.app_tfidf_.indices,
        app_indptr=searcher.app_tfidf_.indptr,
    )
    coef = searcher.svm_coef_
    np.savez(
        directory / "svm_coef.npz",
        data=coef.data,
        indices=coef.indices,
        indptr=coef.indptr,
        shape=np.array(coef.shape, dtype=np.int64),
    )
    manifest = {
        "kind": "trade_searcher",
        "model": searcher.model_name_,
        "dim": int(searcher.app_vectors_.shape[1]),
        "n_cards": int(len(searcher.codes_)),
        "n_appellations": int(len(searcher.app_labels_)),
        "data_hash": searcher.data_hash_,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "weights": weights,
        "ngram_range": list(searcher.ngram_range),
        "svm": {
            "alpha": searcher.svm_alpha,
            "epochs": searcher.svm_epochs,
            "min_df": searcher.svm_min_df,
            "keep": searcher.svm_keep,
        },
        "skill_kinds": list(searcher.skill_kinds),
        "fusion": searcher.fusion,
        "rrf_k": searcher.rrf_k,
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def read_searcher(cls, directory: Path, model_name: str):
    """Rebuild a ``cls`` searcher from ``directory`` with its fitted arrays (not yet prepared).

    Raises:
        FileNotFoundError: no saved searcher in ``directory``.
        ValueError: it was built with another embedding model than ``model_name``.
    """
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    if manifest["model"] != model_name:
        raise ValueError(
            f"trade searcher in {directory} was built with {manifest['model']!r}, "
            f"not {model_name!r}: rebuild it with `passerelle index build`"
        )
    searcher = cls(
        weights=manifest["weights"],
        ngram_range=tuple(manifest["ngram_range"]),
        svm_alpha=manifest["svm"]["alpha"],
        svm_epochs=manifest["svm"]["epochs"],
        svm_min_df=manifest["svm"]["min_df"],
        svm_keep=manifest["svm"]["keep"],
        skill_kinds=tuple(manifest["skill_kinds"]),
        fusion=manifest.get("fusion", "zscore"),
        rrf_k=manifest.get("rrf_k", 10.0),
    )
    for name in ARRAYS:
        setattr(searcher, name, np.load(directory / f"{name.rstrip('_')}.npy", allow_pickle=False))
    labels = json.loads((directory / "labels.json").read_text(encoding="utf-8"))
    for name in LABELS:
        setattr(searcher, name, np.array(labels[name], dtype=object))
    with np.load(directory / "tfidf.npz", allow_pickle=False) as data:
        searcher.tfidf_ = CharTfidf.from_state({key: data[key] for key in data.files})
        shape = (len(searcher.app_labels_), searcher.tfidf_.n_features)
        searcher.app_tfidf_ = sp.csr_matrix(
            (data["app_data"], data["app_indices"], data["app_indptr"]), shape=shape
        )
    with np.load(directory / "svm_coef.npz", allow_pickle=False) as data:
        searcher.svm_coef_ = sp.csr_matrix(
            (data["data"], data["indices"], data["indptr"]), shape=tuple(data["shape"])
        )
    searcher.model_name_, searcher.data_hash_ = manifest["model"], manifest["data_hash"]
    return searcher
