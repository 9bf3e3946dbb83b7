"""Seeded synthetic data: Missions Locales, employers, vacancies and youth profiles.

There is no public data on young people, so everything here is generated from the real
referentials (ROME 4.0, hires per ROME x NAF, DARES share of women, communes) and marked
synthetic: ``synthetic=True`` on every object, ``"synthetic": true`` in every file written
(parquet column and metadata, JSON documents, manifest). Youth profiles are written as plain
schema-valid profiles (the schema refuses unknown fields): their ids start with ``SYN-`` and
the manifest of their folder says they are synthetic.

Metz (``ML-METZ``) uses the 17,091 real establishments of La Bonne Boite's Metz sample;
sole traders' legal names are never used as display names (see
:func:`matching.synthetic.places.display_names`).

Example:
    >>> data = generate(load_referential(), n_youths=2_000, n_vacancies=5_000, seed=7)
    >>> save(data, Path("demo"))
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from matching.files import atomic_write_bytes
from matching.synthetic.cards import build_card_tables
from matching.synthetic.files import (
    employers_from_frame,
    json_bytes,
    read_frames,
    vacancies_from_frame,
    write_frames,
)
from matching.synthetic.places import (
    TERRITORIES,
    build_employers,
    commune_postcodes,
    location_of,
    territory_communes,
)
from matching.synthetic.vacancies import vacancy_rows
from matching.synthetic.youths import youth_profiles
from matching.types import Employer, Location, Vacancy, Youth

GENERATOR_VERSION = "1"
REFERENCE_EPOCH = date(2026, 1, 5)  # a Monday

ProgressCallback = Callable[[str, int, int], None]
"""``on_progress(step, done, total)``: called after each of the ``total`` generation steps."""


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


def generate(
    referential,
    *,
    n_youths: int,
    n_vacancies: int,
    seed: int,
    on_progress: ProgressCallback | None = None,
    establishments_path: Path | None = None,
) -> SyntheticData:
    """Generate Missions Locales, employers, vacancies and youths from the referential.

    Args:
        referential: a loaded :class:`~matching.referential.loader.Referential`.
        n_youths: number of youth profiles.
        n_vacancies: number of vacancies.
        seed: the same seed gives the same data (byte-identical files with :func:`save`).
        on_progress: optional ``on_progress(step, done, total)`` callback.
        establishments_path: the Metz establishments file (default: the repository's copy in
            ``data/labonneboite/``).

    Raises:
        ValueError: a negative count.
    """
    if n_youths < 0 or n_vacancies < 0:
        raise ValueError(f"counts must be >= 0, got n_youths={n_youths}, n_vacancies={n_vacancies}")
    steps = ("territories", "employers", "vacancies", "youths", "objects")

    def progress(step: str) -> None:
        if on_progress is not None:
            on_progress(step, steps.index(step) + 1, len(steps))

    employer_rng, vacancy_rng, youth_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3)
    )
    today = reference_date(seed)
    tables = build_card_tables(referential)
    territories = [territory_communes(referential, spec) for spec in TERRITORIES]
    postcodes = commune_postcodes(
        referential, pd.Index(np.concatenate([t.index for t in territories]))
    )
    missions = [
        MissionLocale(
            spec.code,
            spec.name,
            spec.departements,
            tuple(communes.index),
            location_of(referential, spec.centre_insee, postcodes),
        )
        for spec, communes in zip(TERRITORIES, territories, strict=True)
    ]
    progress("territories")

    weights = np.array([spec.weight for spec in TERRITORIES])
    weights = weights / weights.sum()
    employers, employer_territory = build_employers(
        referential, territories, weights, n_vacancies, employer_rng, establishments_path
    )
    progress("employers")

    naf_labels = dict(
        zip(referential.naf_labels["naf"], referential.naf_labels["label"], strict=True)
    )
    commune_names = referential.communes["name"].astype(str).to_dict()
    vacancies = vacancy_rows(
        employers,
        employer_territory,
        weights,
        tables,
        naf_labels,
        commune_names,
        n_vacancies,
        today,
        seed,
        vacancy_rng,
    )
    progress("vacancies")

    youth_territory = youth_rng.choice(len(TERRITORIES), size=n_youths, p=weights)
    youth_communes = np.empty(n_youths, dtype=object)
    for index, communes in enumerate(territories):
        rows = np.flatnonzero(youth_territory == index)
        youth_communes[rows] = communes.index.to_numpy()[
            youth_rng.choice(len(communes), size=len(rows), p=communes["weight"].to_numpy())
        ]
    codes = np.asarray([spec.code for spec in TERRITORIES])[youth_territory]
    youths, wished_codes = youth_profiles(
        tables,
        youth_communes,
        np.asarray([postcodes.get(c) for c in youth_communes], dtype=object),
        codes,
        np.array([spec.qpv_rate for spec in TERRITORIES])[youth_territory],
        np.array([spec.rural for spec in TERRITORIES], dtype=float)[youth_territory],
        today,
        seed,
        youth_rng,
    )
    progress("youths")

    employer_objects = employers_from_frame(employers, commune_names)
    vacancy_objects = vacancies_from_frame(vacancies, employer_objects)
    progress("objects")
    return SyntheticData(
        missions,
        employer_objects,
        vacancy_objects,
        youths,
        seed,
        today,
        dict(zip(vacancies["id"], vacancies["rome_given"].astype(bool), strict=True)),
        wished_codes,
    )


def parse_youths(data: SyntheticData, referential) -> list[Youth]:
    """Validate the youth profiles and return them as :class:`~matching.types.Youth` (``synthetic=True``)."""
    from matching.profiles import parse_youth

    return [parse_youth(profile, referential, synthetic=True)[0] for profile in data.youths]


def save(data: SyntheticData, directory: Path) -> None:
    """Write the data set to ``directory`` (created if needed), each file atomically.

    Files: ``youths.jsonl``, ``employers.parquet``, ``vacancies.parquet``,
    ``youth_wishes.parquet`` (the ROME code behind each wished trade), ``missions_locales.json``
    and, last, ``manifest.json``
    (``{"synthetic": true, "seed", "counts", "generator_version", "created", ...}``).
    ``created`` is the generator's reference date, not the wall clock, so that the same seed
    gives byte-identical files.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    # The manifest goes last: until it is rewritten, a half-saved folder has none and load() refuses it.
    (directory / "manifest.json").unlink(missing_ok=True)
    youths = "".join(json.dumps(y, ensure_ascii=False, sort_keys=False) + "\n" for y in data.youths)
    atomic_write_bytes(directory / "youths.jsonl", youths.encode("utf-8"))
    write_frames(data, directory, atomic_write_bytes)
    missions = {
        "synthetic": True,
        "missions_locales": [_mission_to_dict(m) for m in data.missions_locales],
    }
    atomic_write_bytes(directory / "missions_locales.json", json_bytes(missions))
    manifest = {
        "synthetic": True,
        "seed": data.seed,
        "counts": {
            "missions_locales": len(data.missions_locales),
            "employers": len(data.employers),
            "vacancies": len(data.vacancies),
            "youths": len(data.youths),
        },
        "generator_version": GENERATOR_VERSION,
        "created": data.reference_date.isoformat(),
        "reference_date": data.reference_date.isoformat(),
        "files": [
            "youths.jsonl",
            "employers.parquet",
            "vacancies.parquet",
            "youth_wishes.parquet",
            "missions_locales.json",
        ],
        "note": "Données synthétiques générées (aucune personne réelle) ; employeurs de Metz : "
        "établissements réels de La Bonne Boite.",
    }
    atomic_write_bytes(directory / "manifest.json", json_bytes(manifest))


def load(directory: Path) -> SyntheticData:
    """Read a data set written by :func:`save`.

    Raises:
        FileNotFoundError: no ``manifest.json`` in ``directory``.
        ValueError: the manifest does not say the data are synthetic.
    """
    directory = Path(directory)
    manifest_path = directory / "manifest.json"
    if not manifest_path.exists():
        raise FileNotFoundError(
            f"{manifest_path} not found: generate the data first (`passerelle data generate`)"
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("synthetic") is not True:
        raise ValueError(f"{manifest_path} does not mark the data as synthetic: regenerate them")
    missions = json.loads((directory / "missions_locales.json").read_text(encoding="utf-8"))
    with (directory / "youths.jsonl").open(encoding="utf-8") as lines:
        youths = [json.loads(line) for line in lines if line.strip()]
    employers, vacancies, rome_given, wished_codes = read_frames(directory)
    wished_codes = {youth["id"]: wished_codes.get(youth["id"], []) for youth in youths}
    return SyntheticData(
        [_mission_from_dict(m) for m in missions["missions_locales"]],
        employers,
        vacancies,
        youths,
        int(manifest["seed"]),
        date.fromisoformat(manifest["reference_date"]),
        rome_given,
        wished_codes,
    )


def _mission_to_dict(mission: MissionLocale) -> dict[str, Any]:
    return {
        "code": mission.code,
        "name": mission.name,
        "departements": list(mission.departements),
        "communes": list(mission.communes),
        "centre": vars(mission.centre),
        "synthetic": True,
    }


def _mission_from_dict(data: dict[str, Any]) -> MissionLocale:
    return MissionLocale(
        data["code"],
        data["name"],
        tuple(data["departements"]),
        tuple(data["communes"]),
        Location(**data["centre"]),
        synthetic=True,
    )
