"""Dependencies and small helpers shared by the routers."""

from __future__ import annotations

import copy
import re
from typing import Annotated, Any

from fastapi import Depends, Path, Request, Security
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel

from matching.profiles import SAFE_ID, non_finite_field, youth_schema
from service.api.problems import ApiError
from service.api.security import Principal, authenticate, bearer
from service.store.rows import table_of


def current_principal(request: Request,
                      credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]) -> Principal:
    return authenticate(request, credentials)


Caller = Annotated[Principal, Depends(current_principal)]

KEY_ID_MAX = 2**31 - 1
"""Largest API key id (``api_keys.id`` is a 32-bit INTEGER): a larger one is refused (422)."""
ROW_ID_MAX = 2**63 - 1
"""Largest BIGINT id (suggestions): a larger one is refused (422), not sent to the store."""


def _id_path(what: str) -> Any:
    return Path(pattern=SAFE_ID, max_length=64, description=f"The {what}'s id, as the service assigned it.")


YouthId = Annotated[str, _id_path("youth")]
VacancyId = Annotated[str, _id_path("vacancy")]
Siret = Annotated[str, _id_path("employer (SIRET)")]
"""Id path parameters: a value outside :data:`~matching.profiles.SAFE_ID` answers 422."""

_SURROGATE = re.compile("[\ud800-\udfff]")


def _bad_text(data: Any, path: str = "") -> str | None:
    """The path of the first string (value or key) holding a lone UTF-16 surrogate, or None."""
    if isinstance(data, str):
        return path or "body" if _SURROGATE.search(data) else None
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        where = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and _SURROGATE.search(key):
            return where
        found = _bad_text(value, where)
        if found is not None:
            return found
    return None


async def json_body(request: Request) -> Any:
    """The request's JSON body as FastAPI parsed it (None when absent or not JSON)."""
    if not await request.body():
        return None
    try:
        return await request.json()  # parsed (and cached) before any dependency runs
    except (ValueError, UnicodeDecodeError):
        return None  # not JSON: the body's own validation answers


async def clean_json(request: Request) -> None:
    """Refuse what Python's ``json`` reads but JSON forbids: ``NaN``, ``Infinity`` and lone
    surrogates (``"\\ud800"``, which no UTF-8 text can hold), naming the field (422)."""
    data = await json_body(request)
    if data is None:
        return
    field = non_finite_field(data)
    if field is not None:
        raise ApiError(422, f"{field}: NaN and infinite values are not JSON numbers: give a finite number",
                       f"champ « {field} » : NaN et l'infini ne sont pas des nombres JSON : "
                       "indiquez un nombre fini", field=field)
    field = _bad_text(data)
    if field is not None:
        raise ApiError(422, f"{field}: the text holds a lone surrogate (\\ud800-\\udfff), which is not "
                       "a character: send valid UTF-8 text",
                       f"champ « {field} » : le texte contient un demi-caractère UTF-16 isolé "
                       "(\\ud800-\\udfff) : envoyez un texte UTF-8 valide", field=field)


async def refuse_client_id(request: Request) -> None:
    """The service assigns ids on create: a body carrying ``id`` answers 422 naming it."""
    data = await json_body(request)
    if isinstance(data, dict) and "id" in data:
        raise ApiError(422, "id: ids are assigned by the service (see the answer's id); "
                       "put your own reference in external_id",
                       "champ « id » : l'identifiant est attribué par le service (voir l'id de la "
                       "réponse) ; mettez votre propre référence dans external_id", field="id")


def refuse_nulls(body: BaseModel, model: type) -> None:
    """Answer 422 naming the first field sent as null whose column is NOT NULL in ``model``
    (derived from the table: a new column is covered without editing this)."""
    required = {column.name for column in table_of(model).columns if not column.nullable}
    for name in sorted(body.model_fields_set & required):
        if getattr(body, name) is None:
            raise ApiError(422, f"{name} cannot be null: give a value or leave the field out",
                           f"champ « {name} » : il ne peut pas être vide (null) : donnez une valeur "
                           "ou omettez le champ", field=name)


def state(request: Request):
    """The application state: ``sessions``, ``read_sessions``, ``live``, ``workspace``..."""
    return request.app.state


def _openapi_schema(schema: dict[str, Any]) -> dict[str, Any]:
    schema = copy.deepcopy(schema)
    for key in ("$schema", "$id"):
        schema.pop(key, None)
    return schema


def profile_body_schema(*, with_id: bool = True) -> dict[str, Any]:
    """The youth profile JSON Schema, as an OpenAPI request body (``with_id=False``: less
    ``id``, which the service assigns on create)."""
    schema = _openapi_schema(youth_schema())
    if not with_id:
        schema["properties"] = {k: v for k, v in schema["properties"].items() if k != "id"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def patch_body_schema() -> dict[str, Any]:
    """A partial youth profile plus the ``version`` the change is based on."""
    schema = _openapi_schema(youth_schema())
    schema.pop("anyOf", None)
    schema["properties"] = {k: v for k, v in schema["properties"].items() if k not in ("id", "mission_locale")}
    schema["properties"]["version"] = {"type": "integer", "minimum": 1,
                                       "description": "The version you read: a stale one answers 409."}
    schema["required"] = ["version"]
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}
