"""Seeded synthetic job-dating event around Metz: firms and youths CSV rows (SYNTHETIC data).

Firms present trades drawn from real ROME 4.0 cards in proportion to their hires, in real
communes of the Pays Messin (weighted as in :mod:`matching.synthetic.places`); youths live in
the same communes, with the gender, mobility and number-of-wishes mix of
:mod:`matching.synthetic.youths` and wishes as stereotyped as real life: a young woman picks a
card in proportion to its share of women, a young man to one minus it. Most wishes name a trade
present at the event (youths register for an event whose firms are announced), the rest any
hiring card. Ids start with ``SYN`` so the rows cannot be taken for real people or firms.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import numpy as np

from matching.events.inputs import FIRM_COLUMNS, YOUTH_COLUMNS
from matching.referential.loader import Referential
from matching.synthetic.places import METZ_CODE, TERRITORIES, territory_communes
from matching.synthetic.youths import (
    GENDER_WEIGHTS,
    GENDERS,
    MOBILITY_KM,
    MOBILITY_WEIGHTS,
    N_WISHES_WEIGHTS,
)

SEATS = (1, 2)
SEATS_WEIGHTS = (0.6, 0.4)
EVENT_WISH_RATE = 0.7
OPEN_RATE = 0.4


def _gendered(weights: np.ndarray, share_women: np.ndarray, gender: str | None) -> np.ndarray:
    """Card probabilities for one gender: weights x share (F), x (1 - share) (M), x 1."""
    if gender == "F":
        weights = weights * share_women
    elif gender == "M":
        weights = weights * (1.0 - share_women)
    return weights / weights.sum()


def synthetic_event(
    referential: Referential,
    *,
    n_firms: int = 40,
    n_youths: int = 300,
    slots: int = 6,
    seed: int = 2026,
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Generate the rows of a firms CSV and a youths CSV (``docs/EVENT_PLANNER.md``).

    Returns:
        ``(firm_rows, youth_rows)``: dicts of strings keyed by column name; same seed, same rows.
    """
    rng = np.random.default_rng(seed)
    spec = next(t for t in TERRITORIES if t.code == METZ_CODE)
    communes = territory_communes(referential, spec)
    commune_codes = communes.index.to_numpy(dtype=str)
    commune_weights = communes["weight"].to_numpy(dtype=float)
    codes = referential.codes
    hires = referential.hires.groupby("code_rome")["hirings"].sum().reindex(codes).fillna(0.0)
    hires = hires.to_numpy(dtype=float)
    share = referential.cards["share_women"].astype(float).fillna(0.5).to_numpy()
    firm_cards = rng.choice(len(codes), size=n_firms, replace=False, p=hires / hires.sum())
    firm_places = rng.choice(commune_codes, size=n_firms, p=commune_weights)
    firm_seats = rng.choice(SEATS, size=n_firms, p=SEATS_WEIGHTS)
    firms = [
        {"firm_id": f"SYN-F{i + 1:02d}", "name": f"Entreprise synthétique {i + 1:02d}",
         "code_rome": str(codes[card]), "commune_insee": str(place), "postcode": "",
         "slots": str(slots), "seats": str(seats)}
        for i, (card, place, seats) in enumerate(zip(firm_cards, firm_places, firm_seats, strict=True))
    ]
    genders = rng.choice(len(GENDERS), size=n_youths, p=GENDER_WEIGHTS)
    youth_places = rng.choice(commune_codes, size=n_youths, p=commune_weights)
    mobility = rng.choice(MOBILITY_KM, size=n_youths, p=MOBILITY_WEIGHTS)
    n_wishes = rng.choice(len(N_WISHES_WEIGHTS), size=n_youths, p=N_WISHES_WEIGHTS)
    open_to = rng.random(n_youths) < OPEN_RATE
    youths = []
    for i in range(n_youths):
        gender = GENDERS[genders[i]]
        at_event = _gendered(np.ones(n_firms), share[firm_cards], gender)
        anywhere = _gendered(hires, share, gender)
        wishes: list[str] = []
        for _ in range(n_wishes[i]):
            if rng.random() < EVENT_WISH_RATE:
                card = firm_cards[rng.choice(n_firms, p=at_event)]
            else:
                card = rng.choice(len(codes), p=anywhere)
            if str(codes[card]) not in wishes:
                wishes.append(str(codes[card]))
        youths.append({
            "youth_id": f"SYN-Y{i + 1:03d}", "commune_insee": str(youth_places[i]), "postcode": "",
            "mobility_km": str(mobility[i]), "gender": gender or "",
            "wished_codes": "|".join(wishes), "open_to_non_traditional": "1" if open_to[i] else "0",
        })
    return firms, youths


def to_csv_text(rows: Sequence[dict[str, str]], columns: Sequence[str]) -> str:
    """Render rows as CSV text (comma separated, header first)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def synthetic_event_csv(referential: Referential, **options) -> tuple[str, str]:
    """:func:`synthetic_event` as the texts of the firms CSV and the youths CSV."""
    firms, youths = synthetic_event(referential, **options)
    return to_csv_text(firms, FIRM_COLUMNS), to_csv_text(youths, YOUTH_COLUMNS)
