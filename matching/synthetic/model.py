"""The synthetic data set as values: :class:`SyntheticData` and its :class:`MissionLocale` s.

Shared by the generator (:mod:`~matching.synthetic.dataset`) and the files it writes
(:mod:`~matching.synthetic.files`), so that neither imports the other. Also the generator's
calendar: its "today" is a Monday of 2026 drawn from the seed, never the real date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from matching.types import Employer, Location, Vacancy

REFERENCE_EPOCH = date(2026, 1, 5)  # a Monday


@dataclass(frozen=True)
class MissionLocale:
    """A Mission Locale and its territory (real communes, illustrative name)."""

    code: str
    name: str
    departements: tuple[str, ...]
    communes: tuple[str, ...]
    centre: Location
    synthetic: bool = True


@dataclass(frozen=True)
class SyntheticData:
    """A generated data set. ``youths`` are profile dicts valid against the youth schema."""

    missions_locales: list[MissionLocale]
    employers: list[Employer]
    vacancies: list[Vacancy]
    youths: list[dict[str, Any]]
    seed: int = 0
    reference_date: date = REFERENCE_EPOCH
    rome_given: dict[str, bool] | None = None
    """Vacancy id -> whether the "employer" gave the ROME code (False for about 10 %): lets the
    engine test ROME inference on vacancies whose true card is known."""
    wished_codes: dict[str, list[str]] | None = None
    """Youth id -> the ROME code behind each of its ``wished_trades`` (same order): the known
    answer for evaluating free-text trade matching and the gender skew of wishes."""


def reference_date(seed: int) -> date:
    """Return the generator's "today" for a seed: a Monday in 2026 (never the real date)."""
    return REFERENCE_EPOCH + timedelta(weeks=seed % 52)


def mission_to_dict(mission: MissionLocale) -> dict[str, Any]:
    """Return a Mission Locale as the JSON document of ``missions_locales.json``."""
    return {
        "code": mission.code,
        "name": mission.name,
        "departements": list(mission.departements),
        "communes": list(mission.communes),
        "centre": vars(mission.centre),
        "synthetic": True,
    }


def mission_from_dict(data: dict[str, Any]) -> MissionLocale:
    """Read back a Mission Locale written by :func:`mission_to_dict`."""
    return MissionLocale(
        data["code"],
        data["name"],
        tuple(data["departements"]),
        tuple(data["communes"]),
        Location(**data["centre"]),
        synthetic=True,
    )
