"""Youth profile JSON -> validated :class:`~matching.types.Youth`.

The JSON Schema in ``examples/youth.schema.json`` is the contract; this module checks it, then
the rules a schema cannot express (a known commune, commune and postcode that agree, known ROME
codes, a non-empty profile) and says in one line which field is wrong and how to fix it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from matching.errors import EmptyProfile, InvalidProfile, OutOfRange, UnknownRomeCode
from matching.referential.geo import resolve_location
from matching.types import AGE_USUAL, DEFAULT_MOBILITY_KM, MOBILITY_KM_RANGE, Youth

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "examples" / "youth.schema.json"
ROME_CODE = re.compile(r"^[A-Z]\d{4}$")
SAFE_ID = r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$"
"""The ids the store accepts (youths, vacancies): 1 to 64 letters, digits, ``-``, ``_``, ``.``,
not starting with a dot (so never ``.`` or ``..``). Safe in a URL path and a file name."""

_HINTS = {
    "id": (
        "use 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'",
        "utilisez 1 à 64 lettres, chiffres, « - », « _ » ou « . », sans « . » au début",
    ),
    "mobility_km": ("give a distance in km between 1 and 200", "indiquez une distance en km entre 1 et 200"),
    "age": ("give an age between 15 and 30", "indiquez un âge entre 15 et 30 ans"),
    "gender": ('use "F", "M", "X" or null (not stated)', 'utilisez "F", "M", "X" ou null (non renseigné)'),
    "diploma_level": (
        'use "none", "3" (CAP/BEP), "4" (bac), "5" (bac+2), "6", "7" or "8"',
        'utilisez "none", "3" (CAP/BEP), "4" (bac), "5" (bac+2), "6", "7" ou "8"',
    ),
    "contracts": (
        "use CDI, CDD, interim, apprentissage, professionnalisation, stage or immersion",
        "utilisez CDI, CDD, interim, apprentissage, professionnalisation, stage ou immersion",
    ),
    "commune_insee": ("give the 5-character INSEE code, e.g. 57463", "indiquez le code INSEE à 5 caractères, ex. 57463"),
    "postcode": ("give a 5-digit postcode, e.g. 57000", "indiquez un code postal à 5 chiffres, ex. 57000"),
    "available_from": ("use an ISO date, e.g. 2026-09-01", "utilisez une date ISO, ex. 2026-09-01"),
}


@lru_cache(maxsize=1)
def youth_schema() -> dict[str, Any]:
    """Return the youth profile JSON Schema (``examples/youth.schema.json``)."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(youth_schema())


@lru_cache(maxsize=1)
def _fast_check():
    """The schema compiled to Python (fastjsonschema): a valid profile passes in a few
    microseconds (a batch validates 100,000s). It is only a fast path: whatever it refuses
    is judged, and explained, by :func:`_validator` (it may be stricter, e.g. on formats)."""
    import fastjsonschema

    schema = {k: v for k, v in youth_schema().items() if k != "$schema"}  # same keywords in draft 7
    return fastjsonschema.compile(schema)


def non_finite_field(data: Any, path: str = "") -> str | None:
    """Return the path (``mobility_km``, ``experiences.0``) of the first NaN or infinite number
    in ``data``, or None. JSON has no such numbers, but Python's ``json`` reads ``NaN`` and
    ``Infinity``, and JSON Schema's ``minimum``/``maximum`` let NaN through."""
    if isinstance(data, float):
        return None if math.isfinite(data) else path or "?"
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        found = non_finite_field(value, f"{path}.{key}" if path else str(key))
        if found is not None:
            return found
    return None


def schema_error(data: Any) -> InvalidProfile | None:
    """Return the first schema violation of ``data`` as an :class:`InvalidProfile`, or None."""
    if not isinstance(data, dict):
        return InvalidProfile(
            "the profile must be a JSON object", field=None,
            message_fr="le profil doit être un objet JSON",
        )
    bad = non_finite_field(data)
    if bad is not None:
        return InvalidProfile(
            f"field '{bad}': NaN and infinite values are not numbers: give a finite number",
            field=bad.split(".")[0],
            message_fr=f"champ « {bad} » : NaN et l'infini ne sont pas des nombres : indiquez un nombre fini",
        )
    try:
        _fast_check()(data)
        return None
    except Exception:  # noqa: BLE001  (JsonSchemaException, or a value it cannot handle)
        pass
    errors = sorted(_validator().iter_errors(data), key=lambda e: (list(e.path), e.validator))
    if not errors:
        return None
    error = errors[0]
    if error.validator == "additionalProperties":
        unknown = sorted(set(data) - set(youth_schema()["properties"]))
        name = unknown[0] if unknown else "?"
        return InvalidProfile(
            f"unknown field '{name}': remove it (allowed fields are listed in examples/youth.schema.json)",
            field=name,
            message_fr=f"champ inconnu « {name} » : retirez-le (les champs admis sont dans examples/youth.schema.json)",
        )
    if error.validator == "anyOf" and not error.path:
        return InvalidProfile(
            "missing location: give commune_insee (e.g. 57463) or postcode (e.g. 57000)",
            field="commune_insee",
            message_fr="lieu manquant : indiquez commune_insee (ex. 57463) ou postcode (ex. 57000)",
        )
    name = str(error.path[0]) if error.path else "?"
    hint_en, hint_fr = _HINTS.get(name, ("see examples/youth.schema.json", "voir examples/youth.schema.json"))
    value = json.dumps(error.instance, ensure_ascii=False)[:60]
    return InvalidProfile(
        f"field '{name}': invalid value {value}: {hint_en}",
        field=name,
        message_fr=f"champ « {name} » : valeur {value} invalide : {hint_fr}",
    )


def check_mobility(radius_km: float, field: str = "mobility_km") -> float:
    """Return ``radius_km`` as a float or raise :class:`OutOfRange` outside 1 to 200 km."""
    low, high = MOBILITY_KM_RANGE
    if not (low <= float(radius_km) <= high):
        raise OutOfRange(
            f"{field} {radius_km:g} is out of range: give a distance between {low:g} and {high:g} km",
            field=field,
            message_fr=f"{field} {radius_km:g} hors limites : indiquez une distance entre {low:g} et {high:g} km",
        )
    return float(radius_km)


def check_rome_codes(referential: Any, wished_trades: list[str]) -> None:
    """Raise :class:`UnknownRomeCode` for a wished trade that looks like a ROME code but is not one."""
    for text in wished_trades:
        code = text.strip().upper()
        if ROME_CODE.match(code) and not referential.has_card(code):
            raise UnknownRomeCode(
                f"unknown ROME code '{code}' in wished_trades: use a ROME 4.0 code or free text "
                "(see `passerelle trades search`)",
                field="wished_trades",
                message_fr=f"code ROME inconnu « {code} » dans wished_trades : utilisez un code ROME 4.0 "
                "ou du texte libre (voir `passerelle trades search`)",
            )


def _parse_date(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidProfile(
            f"field '{field}': {value!r} is not a valid date: use an ISO date, e.g. 2026-09-01",
            field=field,
            message_fr=f"champ « {field} » : {value!r} n'est pas une date valide : utilisez une date ISO, ex. 2026-09-01",
        ) from None


def profile_id(data: dict[str, Any]) -> str:
    """Return a stable id for a profile that has none: a hash of its content."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return "Y-" + hashlib.blake2b(canonical, digest_size=6).hexdigest()


def parse_youth(data: Any, referential: Any, *, synthetic: bool = False) -> tuple[Youth, list[str]]:
    """Validate a youth profile dict and resolve its location.

    Args:
        data: the decoded JSON profile.
        referential: a loaded :class:`~matching.referential.loader.Referential`.
        synthetic: mark the youth as synthetic (generated) data.

    Returns:
        The youth and a list of warnings (e.g. an age outside 16 to 25).

    Raises:
        InvalidProfile, EmptyProfile, UnknownRomeCode, UnknownCommune, LocationMismatch.
    """
    error = schema_error(data)
    if error is not None:
        raise error
    experiences = [t.strip() for t in data.get("experiences") or [] if t.strip()]
    interests = (data.get("interests") or "").strip()
    wished = [t.strip() for t in data.get("wished_trades") or [] if t.strip()]
    if not (experiences or interests or wished):
        raise EmptyProfile(
            "empty profile: give at least one of experiences, interests or wished_trades",
            field="experiences",
            message_fr="profil vide : renseignez au moins une expérience, des centres d'intérêt "
            "ou un métier souhaité",
        )
    check_rome_codes(referential, wished)
    location = resolve_location(referential, data.get("commune_insee"), data.get("postcode"))
    warnings = []
    age = data.get("age")
    if age is not None and not (AGE_USUAL[0] <= age <= AGE_USUAL[1]):
        warnings.append(f"age {age} is outside the usual 16-25 range of the Missions Locales")
    available = _parse_date(data.get("available_from"), "available_from")
    youth = Youth(
        id=data.get("id") or profile_id(data),
        location=location,
        mission_locale=data.get("mission_locale"),
        external_id=data.get("external_id"),
        mobility_km=float(data.get("mobility_km", DEFAULT_MOBILITY_KM)),
        age=age,
        gender=data.get("gender"),
        qpv=data.get("qpv"),
        diploma_level=data.get("diploma_level"),
        experiences=tuple(experiences),
        interests=interests,
        wished_trades=tuple(t.upper() if ROME_CODE.match(t.upper()) else t for t in wished),
        contracts=tuple(data.get("contracts") or ()),
        driving_licence=data.get("driving_licence"),
        available_from=available,
        consent_share=bool(data.get("consent_share", False)),
        synthetic=synthetic,
    )
    return youth, warnings


def youth_to_dict(youth: Youth) -> dict[str, Any]:
    """Return the JSON form of a youth (the inverse of :func:`parse_youth`)."""
    return {
        "id": youth.id,
        "external_id": youth.external_id,
        "mission_locale": youth.mission_locale,
        "commune_insee": youth.location.commune_insee,
        "postcode": youth.location.postcode,
        "mobility_km": youth.mobility_km,
        "age": youth.age,
        "gender": youth.gender,
        "qpv": youth.qpv,
        "diploma_level": youth.diploma_level,
        "experiences": list(youth.experiences),
        "interests": youth.interests,
        "wished_trades": list(youth.wished_trades),
        "contracts": list(youth.contracts),
        "driving_licence": youth.driving_licence,
        "available_from": youth.available_from.isoformat() if youth.available_from else None,
        "consent_share": youth.consent_share,
    }
