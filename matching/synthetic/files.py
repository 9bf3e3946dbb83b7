"""Parquet files of the synthetic data set: ``employers.parquet`` and ``vacancies.parquet``.

Tables are built with pyarrow from plain columns (no pandas index metadata) and carry
``synthetic: true`` both as a column and in the schema metadata. The output is a deterministic
function of the data: same data, same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from matching.synthetic.model import SyntheticData
from matching.types import Employer, Location, Vacancy

METADATA = {b"synthetic": b"true", b"source": b"passerelle matching.synthetic.dataset"}


def _table_bytes(columns: dict[str, pa.Array]) -> bytes:
    table = pa.table(columns).replace_schema_metadata(METADATA)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


# Columns read back into Employer / Vacancy, in the order their comprehensions unpack them.
_EMPLOYER_FIELDS = (
    "siret",
    "name",
    "naf",
    "sector_family",
    "size_band",
    "commune_insee",
    "postcode",
    "commune_name",
    "lat",
    "lon",
    "synthetic",
)
_VACANCY_FIELDS = (
    "id",
    "siret",
    "title",
    "description",
    "code_rome",
    "contract",
    "rome_inferred",
    "level_required",
    "beginners_accepted",
    "places",
    "start_date",
    "status",
    "synthetic",
)


def write_frames(
    data: SyntheticData, directory: Path, write: Callable[[Path, bytes], None]
) -> None:
    """Write ``employers.parquet``, ``vacancies.parquet`` and ``youth_wishes.parquet`` through ``write(path, payload)``."""
    write(directory / "employers.parquet", _table_bytes(_employer_columns(data.employers)))
    write(
        directory / "vacancies.parquet",
        _table_bytes(_vacancy_columns(data.vacancies, data.rome_given or {})),
    )
    write(directory / "youth_wishes.parquet", _table_bytes(_wish_columns(data)))


def _employer_columns(employers: list[Employer]) -> dict[str, pa.Array]:
    return {
        "siret": pa.array([e.siret for e in employers], pa.string()),
        "name": pa.array([e.name for e in employers], pa.string()),
        "naf": pa.array([e.naf for e in employers], pa.string()),
        "sector_family": pa.array([e.sector_family for e in employers], pa.string()),
        "size_band": pa.array([e.size_band for e in employers], pa.string()),
        "commune_insee": pa.array([e.location.commune_insee for e in employers], pa.string()),
        "postcode": pa.array([e.location.postcode for e in employers], pa.string()),
        "commune_name": pa.array([e.location.name for e in employers], pa.string()),
        "lat": pa.array([e.location.lat for e in employers], pa.float64()),
        "lon": pa.array([e.location.lon for e in employers], pa.float64()),
        "synthetic": pa.array([e.synthetic for e in employers], pa.bool_()),
    }


def _vacancy_columns(vacancies: list[Vacancy], rome_given: dict[str, bool]) -> dict[str, pa.Array]:
    return {
        "id": pa.array([v.id for v in vacancies], pa.string()),
        "siret": pa.array([v.employer.siret for v in vacancies], pa.string()),
        "title": pa.array([v.title for v in vacancies], pa.string()),
        "description": pa.array([v.description for v in vacancies], pa.string()),
        "code_rome": pa.array([v.code_rome for v in vacancies], pa.string()),
        "rome_given": pa.array([rome_given.get(v.id, True) for v in vacancies], pa.bool_()),
        "rome_inferred": pa.array([v.rome_inferred for v in vacancies], pa.bool_()),
        "contract": pa.array([v.contract for v in vacancies], pa.string()),
        "level_required": pa.array([v.level_required for v in vacancies], pa.string()),
        "beginners_accepted": pa.array([v.beginners_accepted for v in vacancies], pa.bool_()),
        "places": pa.array([v.places for v in vacancies], pa.int32()),
        "start_date": pa.array([v.start_date for v in vacancies], pa.date32()),
        "status": pa.array([v.status for v in vacancies], pa.string()),
        "synthetic": pa.array([v.synthetic for v in vacancies], pa.bool_()),
    }


def _wish_columns(data: SyntheticData) -> dict[str, pa.Array]:
    """One row per wished trade: youth id, position, wording and the ROME code behind it."""
    rows = [
        (youth["id"], position, trade, code)
        for youth in data.youths
        for position, (trade, code) in enumerate(
            zip(
                youth["wished_trades"], (data.wished_codes or {}).get(youth["id"], []), strict=False
            )
        )
    ]
    return {
        "youth_id": pa.array([r[0] for r in rows], pa.string()),
        "position": pa.array([r[1] for r in rows], pa.int32()),
        "wished_trade": pa.array([r[2] for r in rows], pa.string()),
        "code_rome": pa.array([r[3] for r in rows], pa.string()),
        "synthetic": pa.array([True] * len(rows), pa.bool_()),
    }


def read_frames(
    directory: Path,
) -> tuple[list[Employer], list[Vacancy], dict[str, bool], dict[str, list[str]]]:
    """Read the employers, vacancies and youth wishes written by :func:`write_frames`.

    Returns:
        employers, vacancies (linked to their employer), vacancy id -> ``rome_given`` and
        youth id -> ROME codes of its wished trades.
    """
    employers = _read_employers(directory / "employers.parquet")
    table = pq.read_table(directory / "vacancies.parquet").to_pydict()
    vacancies = _vacancies_from_table(table, {e.siret: e for e in employers})
    wishes = pq.read_table(directory / "youth_wishes.parquet").to_pydict()
    wished_codes: dict[str, list[str]] = {}
    for youth_id, code in zip(wishes["youth_id"], wishes["code_rome"], strict=True):
        wished_codes.setdefault(youth_id, []).append(code)
    return (
        employers,
        vacancies,
        dict(zip(table["id"], table["rome_given"], strict=True)),
        wished_codes,
    )


def _read_employers(path: Path) -> list[Employer]:
    table = pq.read_table(path).to_pydict()
    return [
        Employer(
            siret,
            name,
            naf,
            family,
            Location(commune, postcode, commune_name, lat, lon),
            size_band,
            synthetic=synthetic,
        )
        for siret, name, naf, family, size_band, commune, postcode, commune_name, lat, lon, synthetic in zip(
            *(table[c] for c in _EMPLOYER_FIELDS), strict=True
        )
    ]


def _vacancies_from_table(table: dict[str, list], by_siret: dict[str, Employer]) -> list[Vacancy]:
    return [
        Vacancy(
            vid,
            by_siret[siret],
            title,
            description,
            code,
            contract,
            rome_inferred=inferred,
            level_required=level,
            beginners_accepted=beginners,
            places=places,
            start_date=start,
            status=status,
            synthetic=synthetic,
        )
        for vid, siret, title, description, code, contract, inferred, level, beginners, places, start, status, synthetic in zip(
            *(table[c] for c in _VACANCY_FIELDS), strict=True
        )
    ]


def employers_from_frame(frame: pd.DataFrame, commune_names: dict[str, str]) -> list[Employer]:
    """Build :class:`Employer` objects from an employers frame (one per row)."""
    return [
        Employer(
            siret,
            name,
            naf,
            family,
            Location(commune, postcode, commune_names.get(commune, ""), float(lat), float(lon)),
            size_band,
            synthetic=True,
        )
        for siret, name, naf, family, commune, postcode, lat, lon, size_band in zip(
            frame["siret"],
            frame["name"],
            frame["naf"],
            frame["sector_family"],
            frame["commune_insee"],
            frame["postcode"].astype(object).where(frame["postcode"].notna(), None),
            frame["lat"],
            frame["lon"],
            frame["size_band"].astype(object).where(frame["size_band"].notna(), None),
            strict=True,
        )
    ]


def vacancies_from_frame(frame: pd.DataFrame, employers: list[Employer]) -> list[Vacancy]:
    """Build :class:`Vacancy` objects from a vacancies frame whose ``employer_row`` indexes ``employers``."""
    return [
        Vacancy(
            vid,
            employers[row],
            title,
            description,
            code,
            contract,
            level_required=level,
            beginners_accepted=bool(beginners),
            places=int(places),
            start_date=start,
            synthetic=True,
        )
        for vid, row, title, description, code, contract, level, beginners, places, start in zip(
            frame["id"],
            frame["employer_row"],
            frame["title"],
            frame["description"],
            frame["code_rome"],
            frame["contract"],
            frame["level_required"],
            frame["beginners_accepted"],
            frame["places"],
            frame["start_date"],
            strict=True,
        )
    ]


def json_bytes(document: Any) -> bytes:
    """Encode a JSON document as indented UTF-8 with a final newline."""
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
