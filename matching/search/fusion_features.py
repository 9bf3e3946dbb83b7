"""Extra per-card scores for the learned trade-search fusion: neighbours and words.

The five signals of :class:`~matching.search.trade_search.TradeSearcher` each keep one number per
card (a card's *best* appellation, skill...). For a title the searcher has not seen, what its
*neighbourhood* says matters too: how many of the query's nearest appellations belong to a card
and how close they are, and whether the card's appellations use the query's words (its head word
above all: "Soudeur ... à l'arc" is a welder before it is anything electric). Every function
here returns ``(q, n_cards)`` float32 arrays like the signals, so the fusion reads them the same
way; only the learned fusion asks for them (:data:`EXTRAS`).

- ``sem_knn`` / ``lex_knn``: among the query's ``K`` nearest appellations by the sentence
  encoder / char n-grams, the similarity mass of each card's (0 for a card with none);
- ``sem_knn_count``: how many of those ``K`` semantic neighbours are the card's;
- ``word_cover``: the idf-weighted share of the query's words found in the card's appellations
  (a word the referential never uses counts in the total and matches nothing);
- ``word_share``: the same words weighted by the share of the card's appellations using them;
- ``head_word``: the share of the card's appellations whose first word is the query's first word;
- ``last_word``: 1 when the query's last word is in the card's appellations.

Words are those of :func:`~matching.search.lexical.strip_intent` (normalised, gender pairs
collapsed, no intent words), without glue words, a final ``s``/``x`` dropped.
"""

from __future__ import annotations

import re

import numpy as np
import scipy.sparse as sp

from matching.search.lexical import strip_intent

K = 10  # nearest appellations voting for their cards
EXTRAS = (
    "sem_knn",
    "sem_knn_count",
    "lex_knn",
    "word_cover",
    "word_share",
    "head_word",
    "last_word",
    "sem_centroid",
    "sem_kernel",
    "lex_kernel",
)
TEMPERATURE = {"sem": 0.05, "lex": 0.1}  # of the kernel sums exp((sim - 1) / T) per card
_GLUE = frozenset("a au aux d de des du en et l la le les par pour sur un une avec chez dans".split())
_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    """The content words of ``text`` as the word features compare them."""
    out = []
    for word in _WORD.findall(strip_intent(text)):
        if word in _GLUE:
            continue
        if len(word) > 3 and word[-1] in "sx":
            word = word[:-1]
        out.append(word)
    return out


class WordIndex:
    """The words of each card's appellations: ``(n_words, n_cards)`` shares and first words.

    Args:
        app_labels: ``(n_appellations,)`` the fit's appellation labels.
        app_cards: ``(n_appellations,)`` their card positions.
        n_cards: number of cards.
    """

    def __init__(self, app_labels, app_cards: np.ndarray, n_cards: int):
        vocabulary: dict[str, int] = {}
        cells: list[tuple[int, int]] = []
        first: list[int] = []
        for app, label in enumerate(app_labels):
            tokens = words(str(label))
            for token in dict.fromkeys(tokens):
                cells.append((vocabulary.setdefault(token, len(vocabulary)), app))
            first.append(vocabulary[tokens[0]] if tokens else -1)
        self.vocabulary, self.n_cards = vocabulary, n_cards
        n_words, n_apps = len(vocabulary), len(app_labels)
        app_cards = np.asarray(app_cards, dtype=np.int64)
        per_card = np.maximum(np.bincount(app_cards, minlength=n_cards), 1).astype(np.float32)
        pairs = np.array(cells, dtype=np.int64).reshape(-1, 2)
        word_app = sp.csr_matrix(
            (np.ones(len(pairs), np.float32), (pairs[:, 0], pairs[:, 1])), shape=(n_words, n_apps)
        )
        to_cards = sp.csr_matrix(
            (1.0 / per_card[app_cards], (np.arange(n_apps), app_cards)), shape=(n_apps, n_cards)
        ).astype(np.float32)
        self.share = (word_app @ to_cards).tocsr()  # share of a card's appellations with the word
        self.present = self.share.copy()
        self.present.data[:] = 1.0
        heads = np.asarray(first, dtype=np.int64)
        has = heads >= 0
        head_app = sp.csr_matrix(
            (np.ones(has.sum(), np.float32), (heads[has], np.flatnonzero(has))),
            shape=(n_words, n_apps),
        )
        self.head = (head_app @ to_cards).tocsr()
        df = np.asarray(word_app.sum(axis=1)).ravel()
        self.idf = np.log((1.0 + n_apps) / (1.0 + df)).astype(np.float32) + 1.0
        self.unknown_idf = float(np.log(1.0 + n_apps)) + 1.0

    def features(self, texts) -> dict[str, np.ndarray]:
        """``word_cover``, ``word_share``, ``head_word``, ``last_word`` of ``texts``, each
        ``(q, n_cards)`` float32."""
        n = len(texts)
        rows: list[int] = []
        cols: list[int] = []
        weights: list[float] = []
        totals = np.zeros(n, np.float32)
        head_rows: list[int] = []
        head_cols: list[int] = []
        last_rows: list[int] = []
        last_cols: list[int] = []
        for row, text in enumerate(texts):
            tokens = list(dict.fromkeys(words(text)))
            for token in tokens:
                column = self.vocabulary.get(token)
                weight = self.unknown_idf if column is None else float(self.idf[column])
                totals[row] += weight
                if column is not None:
                    rows.append(row)
                    cols.append(column)
                    weights.append(weight)
            if tokens and tokens[0] in self.vocabulary:
                head_rows.append(row)
                head_cols.append(self.vocabulary[tokens[0]])
            if tokens and tokens[-1] in self.vocabulary:
                last_rows.append(row)
                last_cols.append(self.vocabulary[tokens[-1]])
        shape = (n, len(self.vocabulary))
        query = sp.csr_matrix(
            (np.array(weights, np.float32) / np.maximum(totals[rows], 1e-6), (rows, cols)), shape
        )
        head = sp.csr_matrix((np.ones(len(head_rows), np.float32), (head_rows, head_cols)), shape)
        last = sp.csr_matrix((np.ones(len(last_rows), np.float32), (last_rows, last_cols)), shape)
        return {
            "word_cover": _dense(query @ self.present),
            "word_share": _dense(query @ self.share),
            "head_word": _dense(head @ self.head),
            "last_word": _dense(last @ self.present),
        }


def _dense(matrix) -> np.ndarray:
    return np.asarray(matrix.toarray(), dtype=np.float32)


def knn_votes(sims_t: np.ndarray, app_cards: np.ndarray, n_cards: int, k: int = K):
    """``(mass, count)`` each ``(q, n_cards)`` float32: the similarity sum and number of the
    ``k`` most similar appellations (``sims_t`` ``(n_appellations, q)``) that each card holds."""
    n_apps, n = sims_t.shape
    mass = np.zeros((n, n_cards), np.float32)
    count = np.zeros((n, n_cards), np.float32)
    if not n_apps or not n:
        return mass, count
    k = min(k, n_apps)
    top = np.argpartition(-sims_t, k - 1, axis=0)[:k]  # (k, q)
    cards = app_cards[top]
    rows = np.broadcast_to(np.arange(n)[None, :], top.shape)
    np.add.at(mass, (rows, cards), np.take_along_axis(sims_t, top, axis=0))
    np.add.at(count, (rows, cards), 1.0)
    return mass, count


def extra_components(searcher, texts, vectors: np.ndarray, sem: np.ndarray, lex: np.ndarray):
    """Every :data:`EXTRAS` array of ``texts`` for a fitted ``searcher``, each ``(q, n_cards)``
    float32: ``vectors`` the query embeddings, ``sem``/``lex`` ``(n_appellations, q)`` the
    appellations' sentence-encoder and char n-gram similarities to the queries."""
    n_cards = len(searcher.codes_)
    if getattr(searcher, "_word_index", None) is None:
        searcher._word_index = WordIndex(searcher.app_labels_, searcher.app_cards_, n_cards)
        searcher._card_of_app = sp.csr_matrix(
            (np.ones(len(searcher.app_cards_), np.float32),
             (searcher.app_cards_, np.arange(len(searcher.app_cards_)))),
            shape=(n_cards, len(searcher.app_cards_)),
        )
        centroids = np.asarray(searcher._card_of_app @ searcher._app_vectors, np.float32)
        norms = np.linalg.norm(centroids, axis=1, keepdims=True)
        searcher._centroids = centroids / np.maximum(norms, 1e-6)
    vectors = np.asarray(vectors, np.float32)
    out = {}
    out["sem_knn"], out["sem_knn_count"] = knn_votes(sem, searcher.app_cards_, n_cards)
    out["lex_knn"], _ = knn_votes(lex, searcher.app_cards_, n_cards)
    out["sem_centroid"] = vectors @ searcher._centroids.T
    for name, sims in (("sem", sem), ("lex", lex)):
        weights = np.exp((sims - 1.0) / TEMPERATURE[name])
        out[f"{name}_kernel"] = np.log(1e-9 + (searcher._card_of_app @ weights).T).astype(np.float32)
    out.update(searcher._word_index.features(texts))
    return {name: out[name] for name in EXTRAS}
