"""Vacancy title (and description) -> ROME 4.0 card: the inference path for real job offers.

A path of its own beside :class:`~matching.search.trade_search.TradeSearcher`'s fused search
(which serves youths' everyday wording and is left unchanged): it reuses the fitted searcher's
arrays but scores differently, because a vacancy title is an appellation in disguise.

1. The title is cleaned (:func:`~matching.search.title_clean.clean_title`: gender marks,
   references, contract and seniority words removed, abbreviations and English job words
   expanded) and its gender pairs collapsed.
2. Title score of each card: its closest appellation by char n-gram TF-IDF cosine
   (``lex_app``) plus its closest appellation by sentence-encoder cosine (``sem_app``), plus a
   small share of the supervised linear model's margin (``svm``).
3. Description (optional): its first characters are scored by char n-gram TF-IDF against the
   appellations, z-scored over the cards, and each ROME domain (``M18``, ``K23``...) gets the mean
   of its best cards; that domain score is added to every card of the domain. A description
   rarely names the trade but says which field the offer is in ("administrateur" alone reads
   as publishing; with an IT description, as IT).
4. Siblings: ROME 4.0 cards split from one ROME v3 card (same ``code_rome_parent``) are near
   trades that offers are often coded with; a card scores at least ``sibling`` times its best
   sibling's score, which lifts the sibling into the top 5 without overtaking the best card.

The score is divided by the title weights' sum (:attr:`InferSettings.scale`): about 1 for a title
that is one appellation word for word, around 0.5 to 0.7 for a good match, under 0.3 for noise.
It ranks cards for one vacancy; it is not a probability. Every weight is global, chosen on a
split of development offers (``benchmarks/quality/offers.py``); no code has a weight of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from matching.errors import PasserelleError
from matching.search.lexical import collapse_gender
from matching.search.title_clean import clean_title


@dataclass(frozen=True)
class InferSettings:
    """Global weights of :func:`vacancy_scores` (see the module docstring).

    Attributes:
        lex: weight of the char n-gram cosine to the closest appellation.
        sem: weight of the sentence-encoder cosine to the closest appellation.
        svm: weight of the supervised model's margin.
        domain: weight of the description's domain score (z-score units).
        domain_top: cards averaged per domain for the domain score.
        sibling: a card scores at least this share of its best sibling's score (0: off).
        description_chars: characters of the description read.
    """

    lex: float = 1.0
    sem: float = 1.0
    svm: float = 0.1
    domain: float = 0.1
    domain_top: int = 3
    sibling: float = 0.6
    description_chars: int = 1000

    def __post_init__(self) -> None:
        if min(self.lex, self.sem, self.svm, self.domain, self.sibling) < 0 or self.scale <= 0:
            raise ValueError("weights must be >= 0 and lex + sem + svm > 0")

    @property
    def scale(self) -> float:
        """What the raw score is divided by: the title weights' sum."""
        return self.lex + self.sem + self.svm


DEFAULT_SETTINGS = InferSettings()


def title_queries(titles: Sequence[str]) -> list[str]:
    """Cleaned titles with gender pairs collapsed; the raw title when cleaning leaves nothing.

    Raises:
        PasserelleError: a title is empty or blank (field ``title``).
    """
    queries = []
    for row, title in enumerate(titles):
        if not str(title or "").strip():
            raise PasserelleError(
                f"empty title at position {row}: give each vacancy a title",
                field="title",
                message_fr=f"intitulé vide en position {row} : donnez un intitulé à chaque offre",
            )
        queries.append(collapse_gender(clean_title(title)) or str(title).strip())
    return queries


def domain_scores(card_scores: np.ndarray, domains: np.ndarray, top: int) -> np.ndarray:
    """Each card's domain score: mean of its domain's ``top`` best card scores, ``(q, n_cards)``.

    Args:
        card_scores: ``(q, n_cards)`` scores.
        domains: ``(n_cards,)`` domain of each card (any hashable labels).
        top: cards averaged per domain (fewer when the domain has fewer cards).
    """
    labels, index = np.unique(domains, return_inverse=True)
    per_domain = np.empty((card_scores.shape[0], len(labels)), dtype=np.float32)
    for group in range(len(labels)):
        columns = np.flatnonzero(index == group)
        k = min(top, len(columns))
        best = np.partition(card_scores[:, columns], len(columns) - k, axis=1)[:, -k:]
        per_domain[:, group] = best.mean(axis=1)
    return per_domain[:, index]


def sibling_max(scores: np.ndarray, parents: np.ndarray) -> np.ndarray:
    """Best score among each card's siblings (same parent, itself excluded), ``(q, n_cards)``.

    Cards without a sibling get ``-inf``. Args: ``scores (q, n_cards)``, ``parents (n_cards,)``.
    """
    labels, index = np.unique(parents, return_inverse=True)
    out = np.full(scores.shape, -np.inf, dtype=np.float32)
    order = np.argsort(index, kind="stable")
    starts = np.r_[0, np.flatnonzero(np.diff(index[order])) + 1]
    for begin, end in zip(starts, np.r_[starts[1:], len(order)], strict=True):
        members = order[begin:end]
        if len(members) < 2:
            continue
        block = scores[:, members]
        top2 = np.sort(np.partition(block, len(members) - 2, axis=1)[:, -2:], axis=1)
        is_best = block >= top2[:, 1:2]
        out[:, members] = np.where(is_best, top2[:, 0:1], top2[:, 1:2])
    return out


def _zscore(scores: np.ndarray) -> np.ndarray:
    mean, std = scores.mean(axis=1, keepdims=True), scores.std(axis=1, keepdims=True)
    return (scores - mean) / (std + 1e-6)


def vacancy_scores(
    searcher,
    titles: Sequence[str],
    descriptions: Sequence[str | None] | None = None,
    *,
    parents: np.ndarray | None = None,
    settings: InferSettings = DEFAULT_SETTINGS,
) -> np.ndarray:
    """Score every card for each vacancy, ``(n_vacancies, n_cards)`` float32 (module docstring).

    Args:
        searcher: a fitted :class:`~matching.search.trade_search.TradeSearcher`.
        titles: ``(n_vacancies,)`` raw titles.
        descriptions: ``(n_vacancies,)`` raw descriptions or None (each may be None or empty).
        parents: ``(n_cards,)`` ROME v3 parent of each card in ``searcher.codes_`` order
            (:func:`card_parents`); None: no sibling step.
        settings: the global weights.

    Raises:
        PasserelleError: a title is empty. ValueError: ``descriptions`` is not one per title.
    """
    if descriptions is not None and len(descriptions) != len(titles):
        raise ValueError(
            f"{len(descriptions)} descriptions for {len(titles)} titles: give one per title"
        )
    parts = title_parts(searcher, titles, settings)
    domains = None
    if descriptions is not None and settings.domain:
        domains = description_domains(searcher, descriptions, settings)
    return combine_scores(parts, domains, parents, settings)


def title_parts(
    searcher, titles: Sequence[str], settings: InferSettings = DEFAULT_SETTINGS
) -> dict:
    """The title components with a weight: ``{"lex_app"|"sem_app"|"svm": (n, n_cards)}``."""
    weights = {"lex_app": settings.lex, "sem_app": settings.sem, "svm": settings.svm}
    names = [name for name, weight in weights.items() if weight]
    return searcher.components(title_queries(titles), names=names)


def description_domains(
    searcher, descriptions: Sequence[str | None], settings: InferSettings = DEFAULT_SETTINGS
) -> np.ndarray:
    """Domain scores of the descriptions, ``(n, n_cards)`` z-score units (0 without text)."""
    texts = [" ".join(str(d or "").split())[: settings.description_chars] for d in descriptions]
    present = np.array([bool(t) for t in texts], dtype=bool)
    out = np.zeros((len(texts), len(searcher.codes_)), dtype=np.float32)
    if present.any():
        rows = [t for t in texts if t]
        # Only the char n-gram part is asked for: no sentence encoding of long descriptions.
        dummy = np.zeros((len(rows), searcher.app_vectors_.shape[1]), dtype=np.float32)
        lexical = searcher.components(rows, names=("lex_app",), query_vectors=dummy)["lex_app"]
        domains = np.array([code[:3] for code in searcher.codes_])
        out[present] = domain_scores(_zscore(lexical), domains, settings.domain_top)
    return out


def combine_scores(
    parts: dict,
    domains: np.ndarray | None,
    parents: np.ndarray | None,
    settings: InferSettings = DEFAULT_SETTINGS,
) -> np.ndarray:
    """Weighted title parts + description domains, siblings, scaled: ``(n, n_cards)`` float32."""
    weights = {"lex_app": settings.lex, "sem_app": settings.sem, "svm": settings.svm}
    first = next(iter(parts.values()))
    scores = np.zeros(first.shape, dtype=np.float32)
    for name, weight in weights.items():
        if weight:
            scores += weight * parts[name]
    if domains is not None and settings.domain:
        scores += settings.domain * domains
    if parents is not None and settings.sibling:
        scores = np.maximum(scores, settings.sibling * sibling_max(scores, parents))
    return (scores / settings.scale).astype(np.float32)


def card_parents(referential, codes: np.ndarray) -> np.ndarray:
    """``(n_cards,)`` ROME v3 parent of each card of ``codes``; a card without one is its own."""
    parents = referential.cards["code_rome_parent"].reindex(codes).fillna("").astype(str).to_numpy()
    return np.where(parents == "", np.asarray(codes, dtype=str), parents)


def infer_rome(
    searcher,
    titles: Sequence[str],
    descriptions: Sequence[str | None] | None = None,
    *,
    top_k: int = 5,
    parents: np.ndarray | None = None,
    settings: InferSettings = DEFAULT_SETTINGS,
) -> tuple[np.ndarray, np.ndarray]:
    """Best ROME cards for each vacancy: positions ``(n, top_k)`` int64, scores ``(n, top_k)``.

    Positions index ``searcher.codes_``; best first (ties: card order). One vacancy is a batch
    of one. See :func:`vacancy_scores` for the arguments.

    Raises:
        ValueError: a title is empty, ``top_k`` < 1, or the descriptions do not match the titles.
    """
    if top_k < 1:
        raise ValueError(f"top_k must be at least 1, not {top_k}")
    scores = vacancy_scores(searcher, titles, descriptions, parents=parents, settings=settings)
    top_k = min(top_k, scores.shape[1])
    order = np.argsort(-scores, axis=1, kind="stable")[:, :top_k].astype(np.int64)
    return order, np.take_along_axis(scores, order, axis=1)
