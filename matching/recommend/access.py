"""Which trades a youth may be offered: per-card requirements and the accessibility mask.

Rules (issue #12, documented in ``docs/ACCESS.md``):

- graduate-level cards (``cadre``) only for a stated diploma of level 6 or more, or when wished;
- under 18: no card flagged ``night_work`` (ROME work context "Travail de nuit"), except in the
  sectors where the Code du travail allows minors a derogation (art. R3163-1: bakery, hotels,
  restaurants, entertainment); no driving card (domain N41, or an access text that requires a
  licence); no card whose access text names a higher minimum age;
- a wished card is always accessible (the youth asked; its ``access`` text says what it needs);
- an unknown age applies no age rule, an unknown diploma counts as below level 6.

Per-card facts come from the referential only (:func:`card_requirements`); where its access
text states no requirement the card says :data:`NOT_STATED` rather than guess.
:func:`accessible` is a pure function of those facts and one youth's age, diploma and wishes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from matching.recommend import ranking

GRADUATE_LEVEL = 6
"""Diploma level (licence, bac+3) from which graduate-level cards are suggested unwished."""
ADULT = 18
NIGHT_WORK_DEROGATIONS = ("D11", "G15", "G16", "G17", "G18", "L1")
"""ROME domain prefixes where minors may work at night by derogation (Code du travail
R3163-1: boulangerie-pâtisserie, hôtellerie, restauration, spectacles)."""
DRIVING_DOMAINS = ("N41",)
"""Domains whose cards are driving jobs (Personnel de conduite du transport routier)."""
NOT_STATED = "non renseigné"
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_REQUIREMENT = re.compile(
    r"obligatoire|exig|requi[st]|nécessaire|indispensable|accessible (?:avec|sans|aux|à)|titulaire|"
    r"permis|habilitation|certificat|diplôme d'[ÉE]tat|casier|\d\s*ans\b|agrément|carte professionnelle|"
    r"concours|autorisation", re.IGNORECASE)
_LICENCE = re.compile(r"permis (?:de conduire|poids lourds?|[BCD][1E]?\b)", re.IGNORECASE)
_OPTIONAL = re.compile(r"peu(?:t|vent)|conseill|recommand|utile|non obligatoire|certaines|souvent|"
                       r"amené|en cas", re.IGNORECASE)
_FIRM = re.compile(r"obligatoire|exig|requi[st]|nécessaire|accessible|titulaire|demandé", re.IGNORECASE)
_MIN_AGE = re.compile(r"(?:avoir|âgée? d[e'’]|âge minimum de|au moins)\s*(\d{2})\s*ans", re.IGNORECASE)
_FIRST_DIPLOMA = re.compile(r"accessible (?:avec|à partir d)[^.]*?(?:niveau\s*)?(CAP|BEP|Bac\s*\+\s*\d|Bac|BTS|DUT|BUT|"
                            r"Licence|Master|Doctorat)", re.IGNORECASE)
_DIPLOMA_LEVELS = {"cap": 3, "bep": 3, "bac": 4, "bts": 5, "dut": 5, "but": 6, "licence": 6, "master": 7,
                   "doctorat": 8}
MAX_SENTENCES = 3


@dataclass(frozen=True)
class CardRequirements:
    """What access to each card requires, in card order (arrays of shape ``(n_cards,)``).

    Attributes:
        cadre: graduate-level card. night_work: night work a minor may not do (after the
            derogations). driving: the job is driving or requires a driving licence.
        min_age: minimum age named by the access text or implied by driving (0: none known).
        text: the access sentences stating requirements, or :data:`NOT_STATED`.
        first_diploma: :func:`first_diploma` of each card (0: none named); not a rule of
            :func:`accessible`, used to choose the open trades of a thin profile.
    """

    cadre: np.ndarray
    night_work: np.ndarray
    driving: np.ndarray
    min_age: np.ndarray
    text: list[str]
    first_diploma: np.ndarray | None = None


def requirement_text(access: str) -> str:
    """The sentences of an access text that state a requirement (at most 3), or ``NOT_STATED``."""
    sentences = [s.strip() for s in _SENTENCE.split(str(access or "")) if _REQUIREMENT.search(s)]
    return " ".join(sentences[:MAX_SENTENCES]) if sentences else NOT_STATED


def needs_licence(access: str) -> bool:
    """Whether an access text makes a driving licence a firm requirement (not "peut", "conseillé")."""
    return any(_LICENCE.search(s) and _FIRM.search(s) and not _OPTIONAL.search(s)
               for s in _SENTENCE.split(str(access or "")))


def min_age(access: str) -> int:
    """The lowest minimum age an access text names ("avoir 17 ans"), 0 when none."""
    ages = [int(a) for a in _MIN_AGE.findall(str(access or "")) if 14 <= int(a) <= 30]
    return min(ages) if ages else 0


def first_diploma(access: str) -> int:
    """The diploma level of the first "accessible avec ... niveau X" of an access text (CAP 3,
    Bac 4, Bac+2 5, Bac+3 and licence 6, Bac+5 and master 7...), 0 when it names none. The
    lowest way in is usually named first; texts also name experience as another way in."""
    match = _FIRST_DIPLOMA.search(str(access or ""))
    if not match:
        return 0
    token = re.sub(r"\s", "", match.group(1).lower())
    if token.startswith("bac+"):
        return min(8, 4 + {"1": 1, "2": 1, "3": 2, "4": 3, "5": 3}.get(token[4:], 4))
    return _DIPLOMA_LEVELS.get(token, 0)


def card_requirements(cards: pd.DataFrame) -> CardRequirements:
    """Read each card's requirements from the card frame (in its row order)."""
    access = cards["access"].astype(str).tolist()
    domains = cards["code_domaine"].astype(str)
    night = cards["night_work"].to_numpy(dtype=bool) if "night_work" in cards else np.zeros(len(cards), bool)
    derogation = domains.str.startswith(NIGHT_WORK_DEROGATIONS).to_numpy()
    driving = domains.str.startswith(DRIVING_DOMAINS).to_numpy() | np.array([needs_licence(a) for a in access])
    ages = np.array([min_age(a) for a in access], dtype=np.int64)
    return CardRequirements(
        cadre=cards["cadre"].to_numpy(dtype=bool),
        night_work=night & ~derogation,
        driving=driving,
        min_age=np.where(driving, np.maximum(ages, ADULT), ages),
        text=[requirement_text(a) for a in access],
        first_diploma=np.array([first_diploma(a) for a in access], dtype=np.int64),
    )


def diploma_rank(level: str | None) -> int:
    """A diploma token as a number: ``"none"`` and None are 0, ``"3"``..``"8"`` their level."""
    return int(level) if level and str(level).isdigit() else 0


def accessible(req: CardRequirements, *, age: int | None, diploma_level: str | None,
               wished: np.ndarray) -> np.ndarray:
    """Which cards may be suggested to one youth, bool ``(n_cards,)``.

    Args:
        req: the cards' requirements.
        age: the youth's age (None: no age rule applies).
        diploma_level: ``"none"``, ``"3"``..``"8"`` or None (counts as below level 6).
        wished: bool ``(n_cards,)``, the cards the youth wished (always accessible).
    """
    ok = ~req.cadre if diploma_rank(diploma_level) < GRADUATE_LEVEL else np.ones(req.cadre.size, dtype=bool)
    if age is not None:
        if age < ADULT:
            ok &= ~req.night_work & ~req.driving
        ok &= req.min_age <= age
    return ok | np.asarray(wished, dtype=bool)


class WishMatcher:
    """Cards a youth wished: ROME codes of the wishes, and cards with an appellation (or label)
    whose stems contain every stem of a free-text wish (``"boulangère"`` -> D1102)."""

    def __init__(self, referential, codes: np.ndarray):
        self.codes = np.asarray(codes)
        position = {str(code): i for i, code in enumerate(self.codes)}
        apps = referential.appellations
        labels = list(zip(apps["code_rome"].astype(str), apps["label"].astype(str), strict=True))
        labels += list(zip(referential.cards.index.astype(str), referential.cards["label"].astype(str), strict=True))
        titles = [(position[c], ranking.stems(label)) for c, label in labels if c in position]
        self._title_card = np.array([pos for pos, _ in titles], dtype=np.int64)
        self._by_stem: dict[str, set[int]] = {}
        for i, (_, stems) in enumerate(titles):
            for stem in stems:
                self._by_stem.setdefault(stem, set()).add(i)
        self._position = position

    def mask(self, wishes) -> np.ndarray:
        """Bool ``(n_cards,)``: the cards these wishes name."""
        out = np.zeros(self.codes.size, dtype=bool)
        for wish in wishes:
            code = str(wish).strip().upper()
            if code in self._position:
                out[self._position[code]] = True
                continue
            wanted = ranking.stems(str(wish))
            if wanted:  # the titles holding every stem of the wish: intersect the stems' titles
                titles = set.intersection(*(self._by_stem.get(stem, set()) for stem in wanted))
                out[self._title_card[sorted(titles)]] = True
        return out
