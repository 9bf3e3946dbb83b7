"""Thin profiles: too little said to rank trades by relevance, so ask and show open trades.

A profile is thin (issue #12, ``docs/ACCESS.md``) when it wishes no known card and its texts
hold fewer than :data:`THIN_BELOW` informative words: words of 3+ letters that are neither
French stop words nor words of intent or doubt ("je sais pas", "travail", "boulot", "rien").
Its list then comes from the referential's interest centres its words name ("animaux" ->
"J'aime m'occuper des animaux") and from the most open trades (:func:`openness`), never from
the noise of a relevance ranking over two words; :data:`ASK_NEXT` says what to ask next.
"""

from __future__ import annotations

import re

import numpy as np

from matching.recommend import ranking

THIN_BELOW = 2
"""A profile with fewer informative words than this (and no known wish) is thin."""
_UNINFORMATIVE = frozenset("""
je tu il elle on nous vous ils elles me moi te toi se lui leur les des une un le la du de da au aux
et ou mais donc car ni que qui quoi dont pas plus rien sais sait savoir connais idee idees aucune
aucun bof ben bah euh voila truc trucs chose choses tout tous toute toutes peu beaucoup tres trop
bien bon bonne mal veux voudrais vouloir aimerais aime aimer adore cherche chercher trouver faire
fais fait avoir suis etre travail travailler travaille boulot job emploi emplois metier metiers
taf taff poste argent gagner vie quelque quelques importe special speciale particulier envie
besoin dois doit peut peux pour avec sans dans sur par chez cette ces mon mes ton tes son ses
""".split())
ASK_NEXT = [
    "Qu'est-ce qui vous intéresse ou vous plaît, même en dehors du travail (sport, jeux, cuisine, "
    "bricolage, animaux, aider les autres…) ?",
    "Qu'avez-vous déjà fait, même un petit job, un stage, du bénévolat ou de l'aide à un proche ?",
    "Qu'est-ce que vous ne voulez surtout pas faire (horaires, lieux, tâches) ?",
]
"""Questions an adviser can ask to complete a thin profile (French, shown as ``ask_next``)."""
OPEN_PER_DOMAIN = 1
"""Trades shown per ROME domain in a thin profile's list."""
OPEN_MAX_DIPLOMA = 5
"""Cards whose access text first names a diploma of this level (bac+2) or more are not shown
as open trades to a thin profile."""
CENTRE_BONUS = 3.0
"""Added to the openness of the cards of a named interest centre (openness is at most 3)."""


def informative_words(texts: list[str]) -> list[str]:
    """The informative words of a youth's texts (accents folded, stop and intent words out)."""
    words = re.findall(r"[a-z]{3,}", ranking.fold(" ".join(texts)))
    return [w for w in words if w not in _UNINFORMATIVE]


def is_thin(texts: list[str], wishes_known: bool, threshold: int = THIN_BELOW) -> bool:
    """Whether a profile is too thin to rank: no known wish and fewer informative words than
    ``threshold``."""
    return not wishes_known and len(informative_words(texts)) < threshold


def centre_cards(referential, codes: np.ndarray, words: list[str]) -> np.ndarray:
    """Cards of the interest centres whose label or definition names one of ``words`` (stems),
    bool ``(n_cards,)``."""
    wanted = ranking.stems(" ".join(words))
    out = np.zeros(len(codes), dtype=bool)
    if not wanted:
        return out
    centres = referential.interest_centres
    hit = [str(code) for code, label, text in zip(centres["code"], centres["label"], centres["definition"], strict=True)
           if wanted & ranking.stems(f"{label} {text}")]
    linked = referential.interest_links.loc[referential.interest_links["code"].astype(str).isin(hit), "code_rome"]
    out[np.isin(np.asarray(codes).astype(str), linked.astype(str).to_numpy())] = True
    return out


def openness(referential, codes: np.ndarray, vacancies: np.ndarray | None = None,
             closed: np.ndarray | None = None) -> np.ndarray:
    """How open each card is to a newcomer, float ``(n_cards,)`` in [0, 3]: hirings (La Bonne
    Boîte, log-scaled), recruitment tension (DARES, rank) and, when given, the open vacancies of
    the territory per card (log-scaled); regulated and graduate-level cards, and the ``closed``
    ones (bool ``(n_cards,)``: driving jobs, bac+2 first named), score 0."""
    codes = np.asarray(codes).astype(str)
    cards = referential.cards.loc[codes]
    hires = referential.hires.groupby("code_rome")["hirings"].sum().reindex(codes).fillna(0.0).to_numpy()
    score = np.log1p(hires) / max(np.log1p(hires).max(), 1e-9)
    score = score + cards["tension"].rank(pct=True).fillna(0.0).to_numpy()
    if vacancies is not None and vacancies.sum() > 0:
        score = score + np.log1p(vacancies) / np.log1p(vacancies).max()
    shut = cards["regulated"].to_numpy(dtype=bool) | cards["cadre"].to_numpy(dtype=bool)
    if closed is not None:
        shut |= np.asarray(closed, dtype=bool)
    return np.where(shut, 0.0, score)


def thin_key(relevance: np.ndarray, from_centres: np.ndarray, open_score: np.ndarray) -> np.ndarray:
    """The order of a thin profile's candidates, float ``(n_cards,)``: cards of the named
    interest centres first, then the most open; relevance breaks ties only."""
    return open_score + CENTRE_BONUS * from_centres + 1e-3 * np.nan_to_num(relevance, neginf=0.0, posinf=0.0)
