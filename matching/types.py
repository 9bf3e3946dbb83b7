"""Domain model: frozen dataclasses for youths, employers, vacancies and trades.

The youth profile JSON form (``examples/youth.schema.json``) is the one contract shared by the
CLI, the API and batch files; :mod:`matching.profiles` turns that JSON into these objects.
Engine functions exchange ``(ids, scores)`` numpy arrays; these classes carry the rest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import numpy as np
import numpy.typing as npt

Ids = npt.NDArray[np.int64]
"""Array of int64 keys, shape ``(n,)`` (or ``(n_queries, k)`` for search results)."""
Scores = npt.NDArray[np.float32]
"""Array of float32 scores aligned with :data:`Ids`."""

Gender = Literal["F", "M", "X"]
GENDERS: tuple[str, ...] = ("F", "M", "X")
NOT_STATED = "not_stated"
"""The gender group of a youth who did not state a gender (``gender: null``)."""

DIPLOMA_LEVELS: tuple[str, ...] = ("none", "3", "4", "5", "6", "7", "8")
DIPLOMA_LABELS_FR: dict[str, str] = {
    "none": "sans diplôme",
    "3": "CAP/BEP",
    "4": "bac",
    "5": "bac+2",
    "6": "bac+3/4",
    "7": "bac+5",
    "8": "doctorat",
}
CONTRACTS: tuple[str, ...] = (
    "CDI",
    "CDD",
    "interim",
    "apprentissage",
    "professionnalisation",
    "stage",
    "immersion",
)
SECTOR_FAMILIES: tuple[str, ...] = ("artisanat", "commerce", "liberal", "other")
GENDER_BANDS: tuple[str, ...] = ("male", "mixed", "female", "unknown")

MOBILITY_KM_RANGE = (1.0, 200.0)
DEFAULT_MOBILITY_KM = 20.0
AGE_ACCEPTED = (15, 30)
AGE_USUAL = (16, 25)


def stable_key(text: str) -> int:
    """Map a string id to a stable non-negative int64 key (faiss external id).

    Stable across processes and machines (blake2b, not Python's salted ``hash``).
    """
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") & 0x7FFF_FFFF_FFFF_FFFF


def stable_keys(texts: list[str] | tuple[str, ...]) -> Ids:
    """Vectorised :func:`stable_key`, shape ``(n,)`` int64."""
    return np.fromiter((stable_key(t) for t in texts), dtype=np.int64, count=len(texts))


def diploma_rank(level: str | None) -> int:
    """Order diploma levels: ``none`` and unknown -> 0, ``"3"`` -> 3, ... ``"8"`` -> 8."""
    if level is None or level == "none":
        return 0
    return int(level)


@dataclass(frozen=True)
class Location:
    """A resolved place: INSEE commune code, postcode, name and WGS84 coordinates."""

    commune_insee: str
    postcode: str | None
    name: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Youth:
    """A young person's profile, validated and with a resolved location.

    ``gender`` is used only to measure and balance lists, never to score relevance.
    """

    id: str
    location: Location
    mission_locale: str | None = None
    external_id: str | None = None
    mobility_km: float = DEFAULT_MOBILITY_KM
    age: int | None = None
    gender: str | None = None
    qpv: bool | None = None
    diploma_level: str | None = None
    experiences: tuple[str, ...] = ()
    interests: str = ""
    wished_trades: tuple[str, ...] = ()
    contracts: tuple[str, ...] = ()
    driving_licence: bool | None = None
    available_from: date | None = None
    consent_share: bool = False
    synthetic: bool = False

    @property
    def key(self) -> int:
        return stable_key(self.id)

    @property
    def gender_group(self) -> str:
        """``"F"``, ``"M"``, ``"X"`` or ``"not_stated"``."""
        return self.gender if self.gender else NOT_STATED


@dataclass(frozen=True)
class Employer:
    """An establishment that offers vacancies.

    ``name`` is always displayable: for sole traders it is the enseigne or a generated label,
    never the legal name of a person.
    """

    siret: str
    name: str
    naf: str
    sector_family: str
    location: Location
    size_band: str | None = None
    synthetic: bool = False


@dataclass(frozen=True)
class Vacancy:
    """A job, alternance or immersion offer.

    When the employer gave no ROME code the engine infers one from title and description and
    sets ``rome_inferred``.
    """

    id: str
    employer: Employer
    title: str
    description: str
    code_rome: str
    contract: str
    rome_inferred: bool = False
    level_required: str | None = None
    beginners_accepted: bool = True
    places: int = 1
    start_date: date | None = None
    location: Location | None = None
    status: str = "open"
    synthetic: bool = False

    @property
    def key(self) -> int:
        return stable_key(self.id)

    @property
    def place(self) -> Location:
        """Where the work happens: the vacancy's own location, else the employer's."""
        return self.location or self.employer.location


@dataclass(frozen=True)
class Trade:
    """A ROME 4.0 job card with what an adviser needs to talk about it."""

    code_rome: str
    label: str
    domain: str
    share_women: float | None
    band: str
    transition_eco: bool = False
    transition_num: bool = False
    regulated: bool = False
    cadre: bool = False
    median_salary: float | None = None
    median_salary_year: str | None = None
    tension: float | None = None
    tension_year: int | None = None


@dataclass(frozen=True)
class Suggestion:
    """One ranked item for one query, with its score decomposition and readable reasons."""

    item_id: str
    score: float
    score_parts: dict[str, float] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()
