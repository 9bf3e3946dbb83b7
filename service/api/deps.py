"""Dependencies and small helpers shared by the routers."""

from __future__ import annotations

import copy
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials

from matching.profiles import youth_schema
from service.api.security import Principal, authenticate, bearer


def current_principal(request: Request,
                      credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]) -> Principal:
    return authenticate(request, credentials)


Caller = Annotated[Principal, Depends(current_principal)]

KEY_ID_MAX = 2**31 - 1
"""Largest API key id (``api_keys.id`` is a 32-bit INTEGER): a larger one is refused (422)."""
ROW_ID_MAX = 2**63 - 1
"""Largest BIGINT id (suggestions): a larger one is refused (422), not sent to the store."""


def state(request: Request):
    """The application state: ``sessions``, ``read_sessions``, ``live``, ``workspace``..."""
    return request.app.state


def _openapi_schema(schema: dict[str, Any]) -> dict[str, Any]:
    schema = copy.deepcopy(schema)
    for key in ("$schema", "$id"):
        schema.pop(key, None)
    return schema


def profile_body_schema() -> dict[str, Any]:
    """The youth profile JSON Schema, as an OpenAPI request body."""
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": _openapi_schema(youth_schema())}}}}


def patch_body_schema() -> dict[str, Any]:
    """A partial youth profile plus the ``version`` the change is based on."""
    schema = _openapi_schema(youth_schema())
    schema.pop("anyOf", None)
    schema["properties"] = {k: v for k, v in schema["properties"].items() if k not in ("id", "mission_locale")}
    schema["properties"]["version"] = {"type": "integer", "minimum": 1,
                                       "description": "The version you read: a stale one answers 409."}
    schema["required"] = ["version"]
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}
