"""Build the texts the engine embeds: trades, youths, vacancies (pure functions).

What goes into a trade's texts was chosen on the held-out appellation benchmark
(``benchmarks/quality``): each appellation label is embedded on its own (max over a card's
appellations is the strongest semantic signal), and the card document is the label plus the
definition (adding the access text or all skills to one document dilutes the encoder).
Skills are embedded one by one and matched individually, which also gives readable reasons.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

from matching.search.negation import split_negations

ROME_CODE = re.compile(r"^[A-N]\d{4}$")

TITLE_WEIGHT = 0.7
"""Weight of the title score when a vacancy's title and description are scored separately.

A long description embedded whole drowns the encoder; the title carries most of the signal.
"""
VACANCY_TITLE_WEIGHT = TITLE_WEIGHT


def trade_document(label: str, definition: str = "", *, include_label: bool = True) -> str:
    """Return the card document: its label (unless held out) and its definition sentences.

    Args:
        label: the card label ("Boulanger / Boulangère").
        definition: the ROME definition text, one sentence per line.
        include_label: False when the label is a held-out appellation (benchmarks).
    """
    sentences = [s.strip() for s in definition.split("\n") if s.strip()]
    parts = ([label.strip()] if include_label else []) + sentences
    return ". ".join(p.rstrip(".") for p in parts)


def trade_documents(cards: pd.DataFrame, excluded_labels: Iterable[str] = ()) -> list[str]:
    """Card documents in card order (``cards`` indexed by ``code_rome``, ``label``, ``definition``).

    A card label equal to an excluded (held-out) appellation label is left out of its document.
    """
    excluded = set(excluded_labels)
    definitions = cards["definition"] if "definition" in cards else pd.Series("", cards.index)
    return [
        trade_document(label, definition or "", include_label=label not in excluded)
        for label, definition in zip(cards["label"], definitions.fillna(""), strict=True)
    ]


QUERY_WEIGHTS: dict[str, float] = {"wished": 1.0, "experience": 0.8, "interests": 0.6}
"""Weight of each kind of youth text when their trade scores are combined (a prior, not tuned)."""


def youth_query_texts(youth, referential=None) -> list[tuple[str, float]]:
    """Return ``(text, weight)`` pairs of a youth profile to score against trades.

    Wished trades come first (weight 1.0): free texts as given; ROME codes become the card
    label when ``referential`` is given (unknown codes are skipped, the profile validator reports
    them). Then each experience (0.8), then the interests (0.6). Score each text separately and
    combine per card (max, or a blend of max and mean): one strong wish must not be averaged away
    by unrelated experiences.

    A free text with negated clauses ("pas dans un bureau") gives its positive part with its
    weight and each negated clause with the opposite weight: a negative query whose card scores
    are subtracted (:func:`matching.search.negation.negative_penalty`); a text without one is
    kept as is.
    """
    pairs: list[tuple[str, float]] = []
    for wish in youth.wished_trades:
        wish = wish.strip()
        if ROME_CODE.match(wish.upper()):
            if referential is not None and referential.has_card(wish.upper()):
                pairs.append(
                    (str(referential.cards.loc[wish.upper(), "label"]), QUERY_WEIGHTS["wished"])
                )
        elif wish:
            pairs += _signed(wish, QUERY_WEIGHTS["wished"])
    for experience in youth.experiences:
        if experience.strip():
            pairs += _signed(experience.strip(), QUERY_WEIGHTS["experience"])
    if youth.interests and youth.interests.strip():
        pairs += _signed(youth.interests.strip(), QUERY_WEIGHTS["interests"])
    return pairs


def _signed(text: str, weight: float) -> list[tuple[str, float]]:
    """``(positive part, weight)`` and ``(negated clause, -weight)`` pairs of a free text."""
    positive, negated = split_negations(text)
    return ([(positive, weight)] if positive else []) + [(clause, -weight) for clause in negated]


def vacancy_texts(vacancy) -> tuple[str, str]:
    """Return ``(title, description)`` of a vacancy, to embed separately.

    Combine their scores (or vectors) as ``TITLE_WEIGHT * title + (1 - TITLE_WEIGHT) *
    description``; an empty description gives the title its full weight.
    """
    return vacancy.title.strip(), (vacancy.description or "").strip()
