"""Synthetic youth profiles (JSON dicts valid against ``examples/youth.schema.json``).

Wished trades are as gender-stereotyped as real life: a card is drawn with probability
proportional to its hires times its share of women (young women), one minus it (young men), or
1 (gender X or not stated). Experiences and interests come from the skills and the
"J'ai envie de ..." interest centres of real cards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from matching.synthetic.cards import CardTables
from matching.synthetic.wording import experience, gendered, interests, lower_first
from matching.types import CONTRACTS

AGES = np.arange(16, 26)
AGE_WEIGHTS = (0.03, 0.06, 0.12, 0.14, 0.14, 0.13, 0.12, 0.10, 0.09, 0.07)
GENDERS = ("F", "M", "X", None)
GENDER_WEIGHTS = (0.46, 0.46, 0.01, 0.07)
# Missions Locales mostly see young people with at most a bac (DARES/DGEFP activity reports).
DIPLOMAS = ("none", "3", "4", "5", "6", "7")
DIPLOMA_WEIGHTS = (0.30, 0.25, 0.33, 0.08, 0.03, 0.01)
N_WISHES_WEIGHTS = (0.15, 0.35, 0.30, 0.20)  # 0, 1, 2 or 3 wished trades
N_EXPERIENCES_WEIGHTS = (0.25, 0.35, 0.25, 0.15)
CONTRACT_RATES = {  # probability that a youth ticks each contract type
    "CDI": 0.35,
    "CDD": 0.30,
    "interim": 0.15,
    "apprentissage": 0.40,
    "professionnalisation": 0.08,
    "stage": 0.12,
    "immersion": 0.20,
}
MOBILITY_KM = (5, 10, 15, 20, 25, 30, 40, 50)
MOBILITY_WEIGHTS = (0.10, 0.20, 0.15, 0.25, 0.08, 0.12, 0.07, 0.03)
ROME_CODE_WISH_RATE = 0.15
INTERESTS_RATE = 0.75
CONSENT_RATE = 0.6
# Columns of the per-youth uniform draws (0-3: qpv and driving licence).
_U_SAME, _U_POSTCODE, _U_AGE_NULL, _U_APPELLATION, _U_WISH = 4, 7, 8, 9, 15
_U_SKILL, _U_CENTRE, _U_INTERESTS, _U_EXPERIENCE, _U_EXPERIENCE_V = 18, 19, 20, 21, 24
_U_AVAILABLE, _U_CONSENT = 25, 26


def _with_unknown(values: np.ndarray, unknown: np.ndarray) -> np.ndarray:
    """Return ``values`` as an object array of bools with None where ``unknown``."""
    out = values.astype(object)
    out[unknown] = None
    return out


def wish_probabilities(tables: CardTables) -> dict[str | None, np.ndarray]:
    """Return card probabilities per gender: hires x share of women (F), x (1 - share) (M), x 1."""
    neutral = tables.hires / tables.hires.sum()
    female = tables.hires * tables.share_women
    male = tables.hires * (1.0 - tables.share_women)
    return {"F": female / female.sum(), "M": male / male.sum(), "X": neutral, None: neutral}


@dataclass(frozen=True)
class _Draws:
    """Everything drawn for a batch of youths; each field has ``n_youths`` rows."""

    ages: np.ndarray  # (n,) int
    genders: np.ndarray  # (n,) object: "F", "M", "X" or None
    diplomas: np.ndarray  # (n,) object
    uniforms: np.ndarray  # (n, 27) float: columns, see the _U_* constants
    qpv: np.ndarray  # (n,) object: bool or None
    licence: np.ndarray  # (n,) object: bool or None
    mobility: np.ndarray  # (n,) km
    contract_ticks: np.ndarray  # (n, len(CONTRACTS)) bool
    available: np.ndarray  # (n,) days after the reference date
    n_wishes: np.ndarray  # (n,) 0 to 3
    n_experiences: np.ndarray  # (n,) 0 to 3
    cards: np.ndarray  # (n, 6) card positions: three wishes, then three experiences
    appellations: list[list[str]]  # [card column][youth] job title
    skills: list[list[list[str | None]]]  # [card column][shift][youth] skill
    centres: list[str | None]  # [youth] interest centre of the first wished card


def youth_profiles(
    tables: CardTables,
    commune_codes: np.ndarray,
    postcodes: np.ndarray,
    territory_codes: np.ndarray,
    qpv_rates: np.ndarray,
    rural: np.ndarray,
    reference: date,
    seed: int,
    rng: np.random.Generator,
) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """Generate one youth profile per entry of ``commune_codes`` (all arrays have shape ``(n_youths,)``).

    Returns:
        The profiles and, per youth id, the ROME codes behind its wished trades (same order).
    """
    draws = _draw(tables, len(commune_codes), qpv_rates, rural, rng)
    youths = []
    wished_codes: dict[str, list[str]] = {}
    for i in range(len(commune_codes)):
        gender = draws.genders[i]
        form = gender if gender in ("F", "M") else None
        wishes, codes = _wishes(tables, draws, i, form)
        lines = _experience_lines(draws, i, form)
        text = ""
        if draws.uniforms[i, _U_INTERESTS] < INTERESTS_RATE or not (wishes or lines):
            text = interests(
                draws.centres[i], draws.skills[0][0][i], form, draws.uniforms[i, _U_CENTRE]
            )
        youth_id = f"SYN-{seed}-Y{i + 1:06d}"
        wished_codes[youth_id] = codes
        uniforms = draws.uniforms[i]
        youths.append(
            {
                "id": youth_id,
                "external_id": f"DOSSIER-{reference.year}-{i + 1:05d}",
                "mission_locale": str(territory_codes[i]),
                "commune_insee": str(commune_codes[i]),
                "postcode": postcodes[i] if uniforms[_U_POSTCODE] < 0.85 else None,
                "mobility_km": int(draws.mobility[i]),
                "age": int(draws.ages[i]) if uniforms[_U_AGE_NULL] >= 0.01 else None,
                "gender": gender,
                "qpv": None if draws.qpv[i] is None else bool(draws.qpv[i]),
                "diploma_level": draws.diplomas[i],
                "experiences": lines,
                "interests": text,
                "wished_trades": wishes,
                "contracts": [
                    c
                    for c, ticked in zip(CONTRACTS, draws.contract_ticks[i], strict=True)
                    if ticked
                ],
                "driving_licence": None if draws.licence[i] is None else bool(draws.licence[i]),
                "available_from": (reference + timedelta(days=int(draws.available[i]))).isoformat()
                if uniforms[_U_AVAILABLE] < 0.8
                else None,
                "consent_share": bool(uniforms[_U_CONSENT] < CONSENT_RATE),
            }
        )
    return youths, wished_codes


def _ages_genders_diplomas(
    n_youths: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw ages, genders and diploma levels; nobody gets a bac before 18 or a bac+3 before 21."""
    ages = AGES[rng.choice(len(AGES), size=n_youths, p=AGE_WEIGHTS)]
    genders = np.asarray(GENDERS, dtype=object)[
        rng.choice(len(GENDERS), size=n_youths, p=GENDER_WEIGHTS)
    ]
    diplomas = np.asarray(DIPLOMAS, dtype=object)[
        rng.choice(len(DIPLOMAS), size=n_youths, p=DIPLOMA_WEIGHTS)
    ]
    young = ages < 18
    diplomas[young & np.isin(diplomas, ("4", "5", "6", "7"))] = "3"
    diplomas[(ages < 21) & np.isin(diplomas, ("6", "7"))] = "5"
    diplomas[(ages < 20) & (diplomas == "5")] = "4"
    diplomas[young & (diplomas == "4")] = "3"
    return ages, genders, diplomas


def _draw(
    tables: CardTables,
    n_youths: int,
    qpv_rates: np.ndarray,
    rural: np.ndarray,
    rng: np.random.Generator,
) -> _Draws:
    """Make every random draw of a batch of youths, in a fixed order (the seed fixes the data)."""
    ages, genders, diplomas = _ages_genders_diplomas(n_youths, rng)
    uniforms = rng.random((n_youths, 27))  # columns: see the _U_* constants
    licence_rate = (
        np.select([ages < 18, ages < 20, ages < 22], [0.02, 0.2, 0.35], 0.5) + 0.15 * rural
    )
    mobility = (
        np.asarray(MOBILITY_KM)[rng.choice(len(MOBILITY_KM), size=n_youths, p=MOBILITY_WEIGHTS)]
        + 10 * rural
    )
    contract_ticks = rng.random((n_youths, len(CONTRACTS))) < np.array(
        [CONTRACT_RATES[c] for c in CONTRACTS]
    )
    available = rng.integers(0, 90, size=n_youths)
    n_wishes = rng.choice(4, size=n_youths, p=N_WISHES_WEIGHTS)
    n_experiences = rng.choice(4, size=n_youths, p=N_EXPERIENCES_WEIGHTS)
    cards = _cards(tables, genders, uniforms, n_wishes, rng)
    return _Draws(
        ages=ages,
        genders=genders,
        diplomas=diplomas,
        uniforms=uniforms,
        qpv=_with_unknown(uniforms[:, 1] < qpv_rates, uniforms[:, 0] < 0.05),
        licence=_with_unknown(uniforms[:, 3] < licence_rate, uniforms[:, 2] < 0.05),
        mobility=mobility,
        contract_ticks=contract_ticks,
        available=available,
        n_wishes=n_wishes,
        n_experiences=n_experiences,
        cards=cards,
        appellations=[
            tables.job_titles(cards[:, j], uniforms[:, _U_APPELLATION + j]) for j in range(6)
        ],
        skills=[
            [tables.skills.pick(cards[:, j], uniforms[:, _U_SKILL], shift) for shift in range(2)]
            for j in range(6)
        ],
        centres=tables.interest_centres.pick(cards[:, 0], uniforms[:, _U_CENTRE]),
    )


def _cards(
    tables: CardTables,
    genders: np.ndarray,
    uniforms: np.ndarray,
    n_wishes: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Six cards per youth from the gendered distribution: three wishes, three experiences.

    Half the experiences are in a trade the youth now wishes for.
    """
    cards = np.empty((len(genders), 6), dtype=np.int64)
    for gender, probabilities in wish_probabilities(tables).items():
        rows = np.flatnonzero([g == gender for g in genders])
        cards[rows] = rng.choice(len(probabilities), size=(len(rows), 6), p=probabilities)
    same = (uniforms[:, _U_SAME : _U_SAME + 3] < 0.5) & (np.arange(3) < n_wishes[:, None])
    cards[:, 3:6] = np.where(same, cards[:, 0:3], cards[:, 3:6])
    return cards


def _wishes(
    tables: CardTables, draws: _Draws, i: int, form: str | None
) -> tuple[list[str], list[str]]:
    """Return youth ``i``'s wished trades (a ROME code or a job title) and the code behind each."""
    wishes: list[str] = []
    codes: list[str] = []
    for j in range(draws.n_wishes[i]):
        u = draws.uniforms[i, _U_WISH + j]
        if u < ROME_CODE_WISH_RATE:
            wish = str(tables.codes[draws.cards[i, j]])
        else:
            label = draws.appellations[j][i]
            wish = gendered(label, form) if form else label
            wish = lower_first(wish) if u < 0.6 else wish
        if wish not in wishes:
            wishes.append(wish)
            codes.append(str(tables.codes[draws.cards[i, j]]))
    return wishes, codes


def _experience_lines(draws: _Draws, i: int, form: str | None) -> list[str]:
    """Return youth ``i``'s distinct experience lines (cards 3 to 5)."""
    lines: list[str] = []
    for j in range(3, 3 + draws.n_experiences[i]):
        label = draws.appellations[j][i]
        done = [skill for skill in (s[i] for s in draws.skills[j]) if skill]
        line = experience(
            gendered(label, form or "M"),
            list(dict.fromkeys(done)),
            draws.uniforms[i, _U_EXPERIENCE + j - 3],
            draws.uniforms[i, _U_EXPERIENCE_V],
        )
        if line not in lines:
            lines.append(line)
    return lines
