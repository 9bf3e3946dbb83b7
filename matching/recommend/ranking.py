"""Eligibility filters, score combination and readable reasons (pure functions).

Relevance never uses gender: no function here takes it.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import numpy as np

from matching.referential.geo import haversine_km
from matching.search.negation import negative_penalty

WIDEN_STEP_KM = 10.0
WIDEN_MAX_KM = 100.0
VACANCY_WEIGHTS = {"semantic": 0.45, "trade": 0.35, "distance": 0.15, "contract": 0.05}
"""Weights of the vacancy score parts; each part lies in [0, 1]."""
CONTRACT_WISHED, CONTRACT_ANY = 1.0, 0.5

_STOPWORDS = frozenset(
    "les des une aux avec dans pour par sur sous chez est sont être avoir mon mes ton tes son ses "
    "nos vos leur leurs qui que quoi dont cela celle celui ceux elle elles ils nous vous mais donc "
    "car plus moins tres bien fait faire faut veux voudrais aime aimerais j'aime travailler travail "
    "metier metiers emploi personnes selon cette ces tout tous toute toutes etc".split()
)


def fold(text: str) -> str:
    """Lowercase and strip accents (for word matching)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_SUFFIXES = tuple(sorted(
    "s x es e er ers ez ee ees ement ements ment ments ation ations ations tion tions ateur "
    "ateurs atrice atrices eur eurs euse euses rice rices ier iers iere ieres ique iques iste "
    "istes isme ismes age ages ant ants ante antes ance ances ence ences ure ures if ive ifs "
    "ives al aux ale ales elle elles re res ir".split(), key=len, reverse=True))
"""Inflectional and derivational endings taken off a word (longest first), when 4 letters stay.

"-erie" is kept ("brasserie" is not "brassage", "boulangerie" not "boulanger").
"""
_MIN_STEM = 4


@lru_cache(maxsize=65536)
def word_stem(word: str) -> str:
    """Return the stem of one folded word: the whole word less one ending of :data:`_SUFFIXES`.

    A whole-word stem, not a prefix: "bureau" and "bureautique" ("bureaut"), "pain" and
    "paiement" ("paie") stay apart; "restaurant" and "restauration" meet ("restaur"), which only
    the semantic check of a reason can tell apart.
    """
    if word.endswith(("erie", "eries", "eaux")):  # "bureaux" is "bureau", not "bure"
        return word.removesuffix("s").removesuffix("x")
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=65536)
def stems(text: str) -> frozenset[str]:
    """Return French word stems of ``text`` (:func:`word_stem` of words of 3+ letters, no
    stopwords)."""
    words = re.findall(r"[a-z]{3,}", fold(text))
    return frozenset(word_stem(w) for w in words if w not in _STOPWORDS)


def masked(text: str, masked_stems: frozenset[str] | set[str], mask: str = "…") -> str:
    """``text`` with every word whose stem is in ``masked_stems`` replaced by ``mask``."""
    if not masked_stems:
        return text
    return _WORD.sub(lambda m: mask if _folded_stem(m.group()) in masked_stems else m.group(), text)


_WORD = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=65536)
def _folded_stem(word: str) -> str:
    """:func:`word_stem` of a word as written (a list masks the same words many times)."""
    return word_stem(fold(word))


def matching_labels(query_stems: frozenset[str] | set[str], labels: list[str], limit: int = 3,
                    common: frozenset[str] = frozenset(), max_length: int = 80) -> list[str]:
    """Return up to ``limit`` labels sharing the most stems with the query (input order on ties).

    Stems in ``common`` (words found in the skills of many cards, such as "accueillir") do not
    count, so a reason names what is specific; labels longer than ``max_length`` are skipped.
    To match many queries against the same labels, build a :class:`LabelIndex` once.
    """
    return LabelIndex(labels, max_length).best(frozenset(query_stems) - common, limit)


class LabelIndex:
    """Labels indexed by stem: :func:`matching_labels` for one list of labels (a card's skills)
    without a scan of every label per query.

    Args:
        labels: the labels, in their order of preference (ties keep it).
        max_length: labels longer than this are never returned.
    """

    __slots__ = ("labels", "stems", "positions")

    def __init__(self, labels: list[str], max_length: int = 80):
        self.labels = list(labels)
        positions: dict[str, list[int]] = {}
        for i, label in enumerate(self.labels):
            if len(label) <= max_length:
                for stem in stems(label):
                    positions.setdefault(stem, []).append(i)
        self.positions = {stem: tuple(found) for stem, found in positions.items()}  # ascending
        self.stems = frozenset(positions)

    def best(self, query_stems: frozenset[str] | set[str], limit: int = 3) -> list[str]:
        """Up to ``limit`` labels sharing the most of ``query_stems`` (input order on ties); the
        caller removes the common stems."""
        hits = self.stems.intersection(query_stems)
        if not hits:
            return []
        if len(hits) == 1:  # every label found shares just that stem: input order
            return [self.labels[i] for i in self.positions[next(iter(hits))][:limit]]
        # label i sharing k stems -> i - k * n: ascending order is the answer, and i = that % n
        n, shared = len(self.labels), dict[int, int]()
        for stem in hits:
            for i in self.positions[stem]:
                shared[i] = shared.get(i, i) - n
        return [self.labels[key % n] for key in sorted(shared.values())[:limit]]


def vacancy_eligibility(
    table, lat: float, lon: float, contracts: int, level_rank: int, available: int,
    distance: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(eligible, distance_km)`` over all vacancies, before the radius.

    A vacancy is eligible when it is open, its contract is wished (or no wish was given), the
    youth's diploma reaches its required level, and it starts on or after the youth's
    availability date (when both are known). Shapes ``(n_vacancies,)``. ``distance``: the
    distances from (lat, lon) when the caller has them (youths of one commune share them).
    """
    if distance is None:
        distance = haversine_km(lat, lon, table.lat, table.lon)
    ok = table.open & (table.level_rank <= level_rank)
    if contracts:
        ok &= (table.contract_bit & contracts) != 0
    if available:
        ok &= (table.start == 0) | (table.start >= available)
    return ok, distance


def widened_radius(distance: np.ndarray, eligible: np.ndarray, radius_km: float, top_k: int) -> float:
    """Return the radius to use: ``radius_km``, widened by 10 km steps up to 100 km while
    fewer than ``top_k`` eligible vacancies lie within it (as La bonne alternance does)."""
    radius = radius_km
    within = distance[eligible]
    while np.count_nonzero(within <= radius) < top_k and radius < WIDEN_MAX_KM:
        radius = min(radius + WIDEN_STEP_KM, WIDEN_MAX_KM)
    return radius


def distance_score(distance: np.ndarray, radius_km: float) -> np.ndarray:
    """Score 1 at the youth's door, 0 at the edge of the radius."""
    return np.clip(1.0 - distance / max(radius_km, 1e-9), 0.0, 1.0)


def combine(parts: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """Weighted sum of score parts (each in [0, 1]), float32."""
    total = sum(weights[name] * np.asarray(value, dtype=np.float64) for name, value in parts.items())
    return np.asarray(total, dtype=np.float32)


def combine_texts(text_scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """One youth's card scores from the scores of their texts.

    0.6 x best + 0.4 x mean of the rows of positive weight (each times its weight), less what the
    rows of negative weight, the negated clauses, name
    (:func:`matching.search.negation.negative_penalty`), clipped to [0, 1].

    Args:
        text_scores: ``(n_texts, n_cards)`` each row in [0, 1] (:func:`rescale`).
        weights: ``(n_texts,)`` the texts' weights (:func:`matching.search.texts.youth_query_texts`).

    Returns:
        ``(n_cards,)`` float32 in [0, 1]; zeros without a positive text.
    """
    text_scores = np.asarray(text_scores, dtype=np.float32)
    weights = np.asarray(weights, dtype=np.float32)
    result = np.zeros(text_scores.shape[1], dtype=np.float32)
    if (weights > 0).any():
        mine = text_scores[weights > 0] * weights[weights > 0, None]
        result = 0.6 * mine.max(axis=0) + 0.4 * mine.mean(axis=0)
    if (weights < 0).any():
        penalty = negative_penalty(text_scores[weights < 0], -weights[weights < 0])
        result = np.clip(result - penalty, 0.0, 1.0)
    return result.astype(np.float32)


def rescale(scores: np.ndarray) -> np.ndarray:
    """Map each row of ``scores`` to [0, 1] by its own min and max (shape kept)."""
    scores = np.asarray(scores, dtype=np.float32)
    low = scores.min(axis=-1, keepdims=True)
    span = scores.max(axis=-1, keepdims=True) - low
    return (scores - low) / np.where(span > 0, span, 1.0)


def top_k_order(scores: np.ndarray, top_k: int) -> np.ndarray:
    """Positions of the ``top_k`` best scores, best first, ties by position."""
    if top_k >= len(scores):
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, top_k - 1)[:top_k]
    return part[np.lexsort((part, -scores[part]))]


def share_women_reason(share: float | None) -> str:
    """French sentence on the share of women in a trade."""
    if share is None or share != share:
        return "part des femmes dans ce métier non connue"
    return f"{round(share * 100):d} % de femmes dans ce métier"


def shown_km(distance_km: float) -> float:
    """The distance an item carries and shows, rounded once (0.1 km): its ``distance_km``, its
    reason and every render use this value."""
    return round(float(distance_km), 1)


def distance_text(distance_km: float) -> str:
    """French words for a distance already rounded by :func:`shown_km` ("12 km", "moins d'1 km")."""
    if distance_km < 1:
        return "moins d'1 km"
    return f"{distance_km:.0f} km"


def distance_reason(distance_km: float) -> str:
    """French sentence on the distance to the vacancy (give it the :func:`shown_km` value)."""
    return "à " + distance_text(distance_km)


MOVED_REASONS = {
    "mixite": "proposé pour la mixité des métiers",
    "counter_stereotype": "proposé pour la mixité : un métier où votre genre est peu représenté",
    "domain_cap": "pour varier les domaines professionnels",
    "diversity": "pour varier les suggestions",
    "sector_mix": "pour varier les secteurs",
    "employer_cap": "pour varier les employeurs",
    "exposure": "pour répartir les candidatures (offre moins sollicitée)",
    "representation": "proposé pour une liste équilibrée entre les groupes",
    "reordered": "ordre ajusté pour la mixité",
}


def moved_reason(token: str) -> str:
    """French reason for an item moved by a constraint (token from :mod:`matching.fairness.rerank`)."""
    return MOVED_REASONS.get(token, "proposé pour équilibrer la liste")
