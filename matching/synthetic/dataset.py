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
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from matching.files import atomic_write_bytes
from matching.synthetic.cards import CardTables, build_card_tables
from matching.synthetic.files import (
    employers_from_frame,
    json_bytes,
    read_frames,
    vacancies_from_frame,
    write_frames,
)
from matching.synthetic.model import (
    REFERENCE_EPOCH,
    MissionLocale,
    SyntheticData,
    mission_from_dict,
    mission_to_dict,
    reference_date,
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
from matching.types import Youth

GENERATOR_VERSION = "1"

__all__ = [
    "GENERATOR_VERSION",
    "REFERENCE_EPOCH",
    "MissionLocale",
    "SyntheticData",
    "generate",
    "load",
    "parse_youths",
    "reference_date",
    "save",
]

ProgressCallback = Callable[[str, int, int], None]
"""``on_progress(step, done, total)``: called after each of the ``total`` generation steps."""


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
    progress = _progress(on_progress)
    employer_rng, vacancy_rng, youth_rng = _generators(seed)
    today = reference_date(seed)
    tables = build_card_tables(referential)
    territories, postcodes, missions = _territories(referential)
    progress("territories")
    weights = _territory_weights()
    employers, employer_territory = build_employers(
        referential, territories, weights, n_vacancies, employer_rng, establishments_path
    )
    progress("employers")
    commune_names = referential.communes["name"].astype(str).to_dict()
    vacancies = vacancy_rows(
        employers,
        employer_territory,
        weights,
        tables,
        dict(zip(referential.naf_labels["naf"], referential.naf_labels["label"], strict=True)),
        commune_names,
        n_vacancies,
        today,
        seed,
        vacancy_rng,
    )
    progress("vacancies")
    youths, wished_codes = _youths(tables, territories, postcodes, n_youths, today, seed, youth_rng)
    progress("youths")
    employer_objects = employers_from_frame(employers, commune_names)
    vacancy_objects = vacancies_from_frame(vacancies, employer_objects)
    progress("objects")
    rome_given = dict(zip(vacancies["id"], vacancies["rome_given"].astype(bool), strict=True))
    return SyntheticData(
        missions, employer_objects, vacancy_objects, youths, seed, today, rome_given, wished_codes
    )


def _generators(seed: int) -> tuple[np.random.Generator, ...]:
    """Return independent generators for the employers, the vacancies and the youths."""
    return tuple(np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))


def _territory_weights() -> np.ndarray:
    """Return each territory's share of youths and vacancies (sums to 1)."""
    weights = np.array([spec.weight for spec in TERRITORIES])
    return weights / weights.sum()


_STEPS = ("territories", "employers", "vacancies", "youths", "objects")


def _progress(on_progress: ProgressCallback | None) -> Callable[[str], None]:
    """Return ``progress(step)``, which reports ``step`` as done to ``on_progress`` (if any)."""

    def progress(step: str) -> None:
        if on_progress is not None:
            on_progress(step, _STEPS.index(step) + 1, len(_STEPS))

    return progress


def _territories(
    referential,
) -> tuple[list[pd.DataFrame], dict[str, str], list[MissionLocale]]:
    """Return the communes of each territory, their postcodes and the Missions Locales."""
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
    return territories, postcodes, missions


def _youths(
    tables: CardTables,
    territories: list[pd.DataFrame],
    postcodes: dict[str, str],
    n_youths: int,
    today: date,
    seed: int,
    rng: np.random.Generator,
) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """Place ``n_youths`` youths (territory by weight, then commune) and draw their profiles."""
    youth_territory = rng.choice(len(TERRITORIES), size=n_youths, p=_territory_weights())
    youth_communes = np.empty(n_youths, dtype=object)
    for index, communes in enumerate(territories):
        rows = np.flatnonzero(youth_territory == index)
        youth_communes[rows] = communes.index.to_numpy()[
            rng.choice(len(communes), size=len(rows), p=communes["weight"].to_numpy())
        ]
    codes = np.asarray([spec.code for spec in TERRITORIES])[youth_territory]
    return youth_profiles(
        tables,
        youth_communes,
        np.asarray([postcodes.get(c) for c in youth_communes], dtype=object),
        codes,
        np.array([spec.qpv_rate for spec in TERRITORIES])[youth_territory],
        np.array([spec.rural for spec in TERRITORIES], dtype=float)[youth_territory],
        today,
        seed,
        rng,
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
        "missions_locales": [mission_to_dict(m) for m in data.missions_locales],
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
        [mission_from_dict(m) for m in missions["missions_locales"]],
        employers,
        vacancies,
        youths,
        int(manifest["seed"]),
        date.fromisoformat(manifest["reference_date"]),
        rome_given,
        wished_codes,
    )
