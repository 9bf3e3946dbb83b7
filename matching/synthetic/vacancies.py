"""Synthetic vacancies drawn from the ROME x NAF hires table.

Each vacancy picks a territory (by its weight), an employer of that territory (by its hiring
score), then a ROME card in proportion to the hires of the employer's NAF code; title and
description are built from the card's appellations, definition and core skills.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from matching.synthetic.cards import CardTables
from matching.synthetic.wording import short_naf_label, vacancy_description, vacancy_title

# Contract mix of offers open to young people (alternance-heavy, as on La bonne alternance and
# in Missions Locales' employer relations).
VACANCY_CONTRACTS = (
    "apprentissage",
    "CDD",
    "CDI",
    "interim",
    "professionnalisation",
    "immersion",
    "stage",
)
VACANCY_CONTRACT_WEIGHTS = (0.24, 0.24, 0.20, 0.14, 0.05, 0.08, 0.05)
LEVELS_REQUIRED = ("none", "3", "4", "5")
LEVEL_WEIGHTS = (0.55, 0.25, 0.15, 0.05)
PLACES = (1, 2, 3)
PLACES_WEIGHTS = (0.75, 0.18, 0.07)
ROME_GIVEN_RATE = 0.9
BEGINNERS_RATE = 0.8
START_WITHIN_DAYS = 120


def vacancy_rows(
    employers: pd.DataFrame,
    territory_of_employer: np.ndarray,
    territory_weights: np.ndarray,
    tables: CardTables,
    naf_labels: dict[str, str],
    commune_names: dict[str, str],
    n_vacancies: int,
    reference: date,
    seed: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Draw ``n_vacancies`` vacancies; return one row per vacancy (employer by row position).

    Columns: id, employer_row, code_rome, rome_given, title, description, contract,
    level_required, beginners_accepted, places, start_date.
    """
    employer_rows = _employer_rows(
        employers, territory_of_employer, territory_weights, n_vacancies, rng
    )
    nafs = employers["naf"].to_numpy()[employer_rows]
    cards = _cards(tables, nafs, rng)
    terms = _terms(n_vacancies, reference, rng)
    uniforms = rng.random((n_vacancies, 5))
    titles, descriptions = _wording(
        tables,
        cards,
        terms["contract"],
        terms["beginners_accepted"],
        uniforms,
        sector_families=employers["sector_family"].to_numpy()[employer_rows],
        naf_labels=[short_naf_label(naf_labels.get(naf, "")) for naf in nafs],
        commune_names=[
            commune_names.get(c, "") for c in employers["commune_insee"].to_numpy()[employer_rows]
        ],
    )
    return pd.DataFrame(
        {
            "id": [f"SYN-{seed}-V{i + 1:06d}" for i in range(n_vacancies)],
            "employer_row": employer_rows,
            "code_rome": tables.codes[cards],
            "title": titles,
            "description": descriptions,
            **terms,
        }
    )


def _terms(n_vacancies: int, reference: date, rng: np.random.Generator) -> dict[str, Any]:
    """Draw the terms of each vacancy: contract, level, beginners, places, start date, ROME given."""
    contracts = np.asarray(VACANCY_CONTRACTS)[
        rng.choice(len(VACANCY_CONTRACTS), size=n_vacancies, p=VACANCY_CONTRACT_WEIGHTS)
    ]
    levels = np.asarray(LEVELS_REQUIRED)[
        rng.choice(len(LEVELS_REQUIRED), size=n_vacancies, p=LEVEL_WEIGHTS)
    ]
    beginners = rng.random(n_vacancies) < BEGINNERS_RATE
    places = np.asarray(PLACES)[rng.choice(len(PLACES), size=n_vacancies, p=PLACES_WEIGHTS)]
    start_offsets = rng.integers(0, START_WITHIN_DAYS, size=n_vacancies)
    return {
        "rome_given": rng.random(n_vacancies) < ROME_GIVEN_RATE,
        "contract": contracts,
        "level_required": levels,
        "beginners_accepted": beginners,
        "places": places.astype(np.int64),
        "start_date": [reference + timedelta(days=int(d)) for d in start_offsets],
    }


def _employer_rows(
    employers: pd.DataFrame,
    territory_of_employer: np.ndarray,
    territory_weights: np.ndarray,
    n_vacancies: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Pick a territory per vacancy (by its weight), then one of its employers (by hiring score)."""
    territories = rng.choice(len(territory_weights), size=n_vacancies, p=territory_weights)
    employer_rows = np.empty(n_vacancies, dtype=np.int64)
    hiring = employers["hiring"].to_numpy(dtype=float) + 1.0
    for territory in range(len(territory_weights)):
        slots = np.flatnonzero(territories == territory)
        candidates = np.flatnonzero(territory_of_employer == territory)
        if len(slots) == 0:
            continue
        if len(candidates) == 0:
            raise ValueError(
                f"territory {territory} has no employers: give more vacancies or fewer territories"
            )
        weights = hiring[candidates] / hiring[candidates].sum()
        employer_rows[slots] = candidates[rng.choice(len(candidates), size=len(slots), p=weights)]
    return employer_rows


def _cards(tables: CardTables, nafs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Pick a ROME card per vacancy in proportion to the hires of its employer's NAF code."""
    cards = np.empty(len(nafs), dtype=np.int64)
    for naf in np.unique(nafs):
        slots = np.flatnonzero(nafs == naf)
        choices, probabilities = tables.cards_for_naf(str(naf))
        cards[slots] = choices[rng.choice(len(choices), size=len(slots), p=probabilities)]
    return cards


def _wording(
    tables: CardTables,
    cards: np.ndarray,
    contracts: np.ndarray,
    beginners: np.ndarray,
    uniforms: np.ndarray,
    *,
    sector_families: np.ndarray,
    naf_labels: list[str],
    commune_names: list[str],
) -> tuple[list[str], list[str]]:
    """Return the title and the French description of each vacancy (``uniforms``: shape ``(n, 5)``)."""
    appellations = tables.job_titles(cards, uniforms[:, 0])
    skill_counts = np.minimum(2 + (uniforms[:, 1] < 0.5), tables.skills.counts(cards))
    skill_picks = [tables.skills.pick(cards, uniforms[:, 2], shift) for shift in range(3)]
    titles, descriptions = [], []
    for i, card in enumerate(cards):
        appellation = appellations[i]
        picked = (s[i] for s in skill_picks[: skill_counts[i]])
        skills = list(dict.fromkeys(skill for skill in picked if skill))
        titles.append(vacancy_title(appellation, contracts[i], uniforms[i, 3]))
        descriptions.append(
            vacancy_description(
                sector_family=sector_families[i],
                naf_label=naf_labels[i],
                commune=commune_names[i],
                appellation=appellation,
                contract=contracts[i],
                definition=tables.definitions[card],
                skills=skills,
                beginners_accepted=bool(beginners[i]),
                u=uniforms[i, 4],
            )
        )
    return titles, descriptions
