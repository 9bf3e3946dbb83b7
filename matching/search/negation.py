"""Negated clauses in a youth's free text: what they do not want (pure functions).

"Pas dans un bureau", "je ne veux pas faire de vente", "jamais de nuit", "surtout pas la
caisse": a text embedded whole scores the trades it names *up*, negation or not (a sentence
encoder and the lexical features both see "bureau"). :func:`split_negations` cuts such a text
into its positive part, scored as before, and the negated clauses, scored as negative queries
whose trade scores are subtracted (:func:`negative_penalty`). A text without a negation cue is
returned unchanged, so profiles without one score exactly as before.

Scope: from the cue ("pas", "ne ... plus", "jamais", "sans", "aucun", "ni", with "surtout" or
"plutôt" before it) to the end of the clause (punctuation, "mais", "car", "parce que", "par
contre", "plutôt que", or "et" followed by a new subject or wish).
"""

from __future__ import annotations

import re

import numpy as np

NEGATION_SCALE = 0.5
"""Largest amount a negated clause takes off a trade's score (in [0, 1]) at weight 1."""
NEGATION_QUANTILE = 0.9
"""Only the cards above this quantile of a negated clause's scores are lowered: what it names."""

_CLAUSE_END = re.compile(
    r"[.;:!?\n,()]|\b(?:mais|car|parce qu(?:e|')|par contre|plut[oô]t que|sinon|puis)\b"
    r"|\bet\s+(?=(?:je|j'|j’|moi|il|elle|on|nous|plut[oô]t|surtout|aussi|adore|aime|pr[ée]f[èe]re)\b)",
    re.IGNORECASE,
)
_NE = re.compile(r"\bn(?:e\b|['’])", re.IGNORECASE)
_CUE = re.compile(
    r"(?:\b(?:surtout|plut[oô]t|vraiment|absolument)\s+)?"
    r"\b(?:pas|jamais|sans|aucun|aucune|ni|nulle part)\b(?:\s+(?:du\s+tout|de|d['’]|du|des))?",
    re.IGNORECASE,
)
_NE_ONLY_CUE = re.compile(r"\b(?:plus|rien|gu[èe]re)\b", re.IGNORECASE)
"""Cues that negate only after "ne"/"n'" ("je n'aime plus la vente", not "plus de contact")."""
_NOT_NEGATION = re.compile(  # idioms, and names of activities ("accueil de loisirs sans hébergement")
    r"\b(?:pas\s+mal|pas\s+seulement|pas\s+que|pas\s+uniquement|sans\s+doute|sans\s+cesse"
    r"|sans\s+h[ée]bergement)\b",
    re.IGNORECASE,
)
_CONTENT = re.compile(r"[^\W\d_]{4,}")
_EMPTY_WORDS = frozenset(
    "veux voudrais voudrai souhaite souhaiterais aime aimerais adore supporte suis être etre "
    "faire travailler trop vraiment envie peux pourrais serait cela ceci".split()
)


def _meaningful(text: str) -> bool:
    """Whether ``text`` names something (a word of 4+ letters that is not a bare wish verb)."""
    return any(w.lower() not in _EMPTY_WORDS for w in _CONTENT.findall(text))


def _clauses(text: str) -> list[str]:
    """``text`` cut at clause ends (the separators are dropped)."""
    pieces, start = [], 0
    for match in _CLAUSE_END.finditer(text):
        pieces.append(text[start : match.start()])
        start = match.end()
    pieces.append(text[start:])
    return [p.strip() for p in pieces if p.strip()]


def _negated(clause: str) -> tuple[str, str] | None:
    """``(before the cue, negated scope)`` of a clause, or None when it negates nothing."""
    masked = _NOT_NEGATION.sub(lambda m: "_" * len(m.group()), clause)
    cue = _CUE.search(masked)
    ne = _NE.search(masked)
    if ne is not None:
        late = _NE_ONLY_CUE.search(masked, ne.end())
        if late is not None and (cue is None or late.start() < cue.start()):
            cue = late
    if cue is None:
        return None
    before = clause[: cue.start()]
    if ne is not None and ne.start() < cue.start():
        before = clause[: ne.start()]
    return before.strip(), clause[cue.end() :].strip()


def split_negations(text: str) -> tuple[str, list[str]]:
    """Split a free text into its positive part and its negated clauses.

    Args:
        text: one free text of a youth (an experience, the interests, a wish).

    Returns:
        ``(positive, negated)``: ``positive`` is ``text`` itself when no clause is negated (so
        its scores do not move), else the non-negated parts joined by ", " ("" when nothing
        is left); ``negated`` lists the negated scopes that name something, in text order.

    Example:
        >>> split_negations("j'aime être dehors, pas enfermé dans un bureau")
        ("j'aime être dehors", ['enfermé dans un bureau'])
    """
    if not (_CUE.search(text) or _NE_ONLY_CUE.search(text)):
        return text, []
    positive, negated, found = [], [], False
    for clause in _clauses(text):
        parts = _negated(clause)
        if parts is None:
            positive.append(clause)
            continue
        found = True
        before, scope = parts
        if _meaningful(before):
            positive.append(before)
        if _meaningful(scope):
            negated.append(scope)
    if not found:
        return text, []
    return ", ".join(positive), negated


def negative_penalty(scores: np.ndarray, weights: np.ndarray, scale: float = NEGATION_SCALE,
                     quantile: float = NEGATION_QUANTILE) -> np.ndarray:
    """What negated clauses take off every card's score.

    Each clause lowers only the cards it names: those above the ``quantile`` of its own scores,
    in proportion to how far above (the best card loses ``scale x weight``); clauses combine by
    their maximum.

    Args:
        scores: ``(n_clauses, n_cards)`` card scores of the negated clauses, each row in [0, 1].
        weights: ``(n_clauses,)`` positive weights (the weight of the text they came from).
        scale: the largest amount taken off at weight 1.
        quantile: the quantile of a row under which nothing is taken off.

    Returns:
        ``(n_cards,)`` float32 in [0, scale x max(weights)]; zeros when there is no clause.
    """
    scores = np.asarray(scores, dtype=np.float32)
    if scores.ndim != 2 or not len(scores):
        return np.zeros(scores.shape[-1] if scores.ndim == 2 else 0, dtype=np.float32)
    floor = np.quantile(scores, quantile, axis=1, keepdims=True)
    top = scores.max(axis=1, keepdims=True)
    named = np.clip((scores - floor) / np.maximum(top - floor, 1e-6), 0.0, 1.0)
    weighted = named * np.asarray(weights, dtype=np.float32)[:, None] * scale
    return weighted.max(axis=0).astype(np.float32)
