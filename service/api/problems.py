"""Errors as ``application/problem+json`` (RFC 9457) with an English and a French message.

Domain errors (:class:`~matching.errors.PasserelleError`) are translated here, at the edge:
``UnknownId`` -> 404, ``Conflict`` -> 409, every other input error -> 422. Every problem
carries the request id (also in the ``X-Request-ID`` header). An unexpected error answers 500
and logs its traceback with the request id, frames and exception types only: messages may
quote request data (database errors quote SQL parameters), so none is logged. The 500 says the
request was not applied only when it started no commit; otherwise the outcome is unknown.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from matching.errors import PasserelleError, UnknownId
from service.logs import redacted_traceback
from service.store.errors import Conflict

log = logging.getLogger("passerelle.api")
MEDIA_TYPE = "application/problem+json"

TITLES = {
    400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
    405: "Method not allowed", 409: "Conflict", 413: "Payload too large",
    415: "Unsupported media type", 422: "Unprocessable content", 429: "Too many requests",
    500: "Internal server error", 503: "Service unavailable",
}


class Problem(BaseModel):
    """An error: ``detail`` in English, ``detail_fr`` in French, ``field`` the input at fault."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    detail_fr: str
    field: str | None = None
    errors: list[dict[str, Any]] | None = None
    request_id: str | None = None
    """The request's id (as in the ``X-Request-ID`` header): quote it when reporting an error."""


class ApiError(Exception):
    """An HTTP error raised by the routes themselves (403, 413, 429...)."""

    def __init__(self, status: int, detail: str, detail_fr: str, *, field: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.detail_fr, self.field = status, detail, detail_fr, field
        self.headers = headers


def problem(status: int, detail: str, detail_fr: str, *, field: str | None = None,
            errors: list | None = None, headers: dict[str, str] | None = None,
            request_id: str | None = None) -> JSONResponse:
    body = Problem(title=TITLES.get(status, "Error"), status=status, detail=detail,
                   detail_fr=detail_fr, field=field, errors=errors, request_id=request_id)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status,
                        media_type=MEDIA_TYPE, headers=headers)


def _trace(scope) -> Any:
    """The request's trace (set by :class:`~service.api.middleware.RequestContext`), or None."""
    return (scope.get("state") or {}).get("trace")


def request_id_of(scope) -> str | None:
    """The id of the request of ``scope`` (None outside :class:`RequestContext`)."""
    trace = _trace(scope)
    return trace.request_id if trace is not None else None


def _internal_error(request: Request, error: Exception) -> JSONResponse:
    """Log the traceback with the request id; answer 500, "not applied" only when known."""
    trace = _trace(request.scope)
    request_id = trace.request_id if trace is not None else None
    applied_unknown = trace is None or trace.commit_started
    route = getattr(request.scope.get("route"), "path", "unmatched")
    log.error("internal error on %s %s, request_id=%s, %s\n%s", request.method, route, request_id,
              "commit started: outcome unknown" if applied_unknown else "no commit: not applied",
              redacted_traceback(error))  # never the request: no body, no path ids, no message
    if applied_unknown:
        detail = ("internal error: the outcome is unknown (changes may have been saved); "
                  "read the resource again before retrying")
        detail_fr = ("erreur interne : résultat incertain (des modifications ont pu être "
                     "enregistrées) ; relisez la ressource avant de réessayer")
    else:
        detail = "internal error: the request was not applied; you may retry it"
        detail_fr = "erreur interne : la demande n'a pas été appliquée ; vous pouvez la renvoyer"
    headers = {"X-Request-ID": request_id} if request_id else None  # sent outside the middleware
    return problem(500, detail, detail_fr, headers=headers, request_id=request_id)


def _status_of(error: PasserelleError) -> int:
    if isinstance(error, UnknownId):
        return 404
    if isinstance(error, Conflict):
        return 409
    return 422


def _field_of(location: tuple) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or (str(location[-1]) if location else "")


def install(app: FastAPI) -> None:
    """Register the exception handlers on ``app``."""

    @app.exception_handler(PasserelleError)
    async def _domain(request: Request, error: PasserelleError) -> JSONResponse:
        return problem(_status_of(error), error.message, error.message_fr, field=error.field,
                       request_id=request_id_of(request.scope))

    @app.exception_handler(ApiError)
    async def _api(request: Request, error: ApiError) -> JSONResponse:
        return problem(error.status, error.detail, error.detail_fr, field=error.field,
                       headers=error.headers, request_id=request_id_of(request.scope))

    @app.exception_handler(ValueError)
    async def _value(request: Request, error: ValueError) -> JSONResponse:
        text = str(error)
        return problem(422, text, f"valeur refusée : {text}", request_id=request_id_of(request.scope))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
        request_id = request_id_of(request.scope)
        errors = [{"field": _field_of(tuple(e.get("loc", ()))), "message": e.get("msg", "")}
                  for e in error.errors()]
        first = errors[0] if errors else {"field": "", "message": "invalid request"}
        if any(e.get("type") == "json_invalid" for e in error.errors()):
            return problem(400, "malformed JSON body: send a valid JSON document",
                           "corps JSON mal formé : envoyez un document JSON valide", field="body",
                           request_id=request_id)
        return problem(422, f"{first['field']}: {first['message']}",
                       f"champ « {first['field']} » invalide : {first['message']}",
                       field=first["field"] or None, errors=errors, request_id=request_id)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        detail = str(error.detail)
        french = {404: "ressource introuvable : vérifiez l'adresse",
                  405: "méthode non autorisée sur cette adresse"}.get(error.status_code, detail)
        return problem(error.status_code, detail, french, headers=getattr(error, "headers", None),
                       request_id=request_id_of(request.scope))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        return _internal_error(request, error)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for error statuses (all answer a :class:`Problem`)."""
    return {status: {"model": Problem, "description": TITLES.get(status, "Error"),
                     "content": {MEDIA_TYPE: {}}} for status in statuses}


COMMON = responses(400, 401, 403, 404, 413, 422, 429)
