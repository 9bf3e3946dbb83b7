"""Batch inputs: youth profiles from Parquet or CSV files, and the territory filters.

Columns follow the youth profile schema (``examples/youth.schema.json``); in CSV every cell is
text, list columns are JSON arrays (``["CDI", "CDD"]``) and empty cells are absent fields.
Each row goes through :func:`matching.profiles.parse_youth`; a bad row stops the run with an
error that names the row and the field.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from pathlib import Path

from matching.errors import InvalidProfile, PasserelleError
from matching.profiles import parse_youth, youth_schema
from matching.types import Youth

CSV_LIMIT = 1 << 20  # bytes in one CSV cell (long experience texts)


def read_youths(path: Path, referential) -> tuple[list[Youth], list[str]]:
    """Read and validate every youth of a ``.parquet`` or ``.csv`` file.

    Returns:
        The youths in file order and the warnings (prefixed with their row number).

    Raises:
        InvalidProfile (and the other profile errors): the first bad row, named.
    """
    path = Path(path)
    if not path.exists():
        raise PasserelleError(f"input file not found: {path}", field="input",
                              message_fr=f"fichier d'entrée introuvable : {path}")
    rows = _parquet_rows(path) if path.suffix.lower() in (".parquet", ".pq") else _csv_rows(path)
    youths, warnings, seen = [], [], dict[str, int]()
    for number, data in rows:
        try:
            youth, notes = parse_youth(data, referential)
        except PasserelleError as error:
            field = f" (field '{error.field}')" if error.field else ""
            champ = f" (champ « {error.field} »)" if error.field else ""
            raise type(error)(f"{path.name}, row {number}{field}: {error.message}", field=error.field,
                              message_fr=f"{path.name}, ligne {number}{champ} : {error.message_fr}") from None
        if youth.id in seen:
            raise InvalidProfile(
                f"{path.name}, row {number}: id '{youth.id}' already used on row {seen[youth.id]}",
                field="id", message_fr=f"{path.name}, ligne {number} : l'id « {youth.id} » figure déjà "
                f"ligne {seen[youth.id]}")
        seen[youth.id] = number
        youths.append(youth)
        warnings += [f"ligne {number} : {w}" for w in notes]
    return youths, warnings


def _clean(value):
    """Plain JSON values from Arrow/NumPy ones; None and NaN mean absent."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _parquet_rows(path: Path) -> Iterator[tuple[int, dict]]:
    import pyarrow.parquet as pq

    arrays = {name for name, spec in youth_schema()["properties"].items() if spec.get("type") == "array"}
    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=4096):
        for record in batch.to_pylist():
            number += 1
            data = {}
            for name, value in record.items():
                value = _clean(value)
                if name in arrays and isinstance(value, str):
                    value = _json_list(value, name, number, path)
                if value is not None:
                    data[name] = value
            yield number, data


def _json_list(text: str, name: str, number: int, path: Path):
    try:
        return json.loads(text) if text.strip() else []
    except json.JSONDecodeError:
        raise InvalidProfile(
            f"{path.name}, row {number} (field '{name}'): not a JSON list, write e.g. [\"CDI\", \"CDD\"]",
            field=name, message_fr=f"{path.name}, ligne {number} (champ « {name} ») : liste JSON attendue, "
            "par exemple [\"CDI\", \"CDD\"]") from None


def _csv_value(text: str, spec: dict, name: str, number: int, path: Path):
    kinds = spec.get("type", [])
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if "array" in kinds:
        return _json_list(text, name, number, path)
    if "boolean" in kinds and text.strip().lower() in ("true", "false", "1", "0", "oui", "non"):
        return text.strip().lower() in ("true", "1", "oui")
    if "integer" in kinds or "number" in kinds:
        try:
            number_value = float(text.replace(",", "."))
        except ValueError:
            return text  # the schema check names the field
        return int(number_value) if "integer" in kinds and number_value.is_integer() else number_value
    return text


def _csv_rows(path: Path) -> Iterator[tuple[int, dict]]:
    properties = youth_schema()["properties"]
    csv.field_size_limit(CSV_LIMIT)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for number, record in enumerate(csv.DictReader(handle), 1):
            data = {}
            for name, text in record.items():
                if name is None or text is None or text == "":
                    continue
                data[name] = _csv_value(text, properties.get(name, {}), name, number, path)
            yield number, data


# ---------------------------------------------------------------------------- filters
def departement_of(referential, commune_insee: str | None) -> str | None:
    communes = referential.communes
    if commune_insee is None or commune_insee not in communes.index:
        return None
    return str(communes.at[commune_insee, "departement"])


def select_youths(youths: list[Youth], referential, *, mission_locale: str | None = None,
                  departement: str | None = None) -> list[Youth]:
    """The youths of a Mission Locale (``youth.mission_locale``) and/or of a département."""
    return [y for y in youths
            if (mission_locale is None or y.mission_locale == mission_locale)
            and (departement is None or departement_of(referential, y.location.commune_insee) == departement)]


def select_vacancies(vacancies, referential, *, departement: str | None = None) -> list[str]:
    """Ids of the open vacancies, those of a département (where the work happens) if given."""
    return [v.id for v in vacancies if v.status == "open"
            and (departement is None or departement_of(referential, v.place.commune_insee) == departement)]
