"""Errors on web paths answer French HTML pages; the API keeps its JSON problems.

:func:`install` wraps each exception handler the API installed (:mod:`service.api.problems`):
on an API path it answers as before; on a web path it takes the status and French detail of the
problem it built (the same translation of domain errors: unknown id 404, conflict 409, bad
field 422, 500 logged with the request id and no content) and renders ``error.html`` instead.
Pages raise :class:`~service.web.core.errors.WebError` for their own refusals and
:class:`~service.web.core.errors.SignInRequired` to send the visitor to ``/connexion``.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import RedirectResponse, Response

from service.api.problems import request_id_of
from service.web.core.errors import NOT_FOUND_FR, SignInRequired, WebError
from service.web.core.headers import HEADERS
from service.web.core.paths import is_web_path
from service.web.core.session import clear_session
from service.web.core.templates import render

TITLES_FR = {400: "Requête incorrecte", 403: "Accès refusé", 404: "Page introuvable",
             405: "Méthode non autorisée", 409: "Modification concurrente", 413: "Envoi trop volumineux",
             422: "Saisie incorrecte", 429: "Trop de requêtes", 500: "Erreur interne"}
KEPT_HEADERS = ("Retry-After",)


def error_page(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """The French error page for ``status``."""
    response = render(request, "error.html", {
        "status": status, "title": TITLES_FR.get(status, "Erreur"), "message": message,
        "request_id": request_id_of(request.scope) if status >= 500 else None,
    }, status_code=status)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _message(status: int, problem: dict[str, Any]) -> str:
    if status == 404:
        return NOT_FOUND_FR
    if status == 422 and problem.get("errors"):  # a query or path parameter FastAPI refused
        return f"Paramètre « {problem.get('field') or '?'} » invalide dans l'adresse : revenez à la page précédente."
    if status >= 500:
        return ("Une erreur inattendue est survenue. Rechargez la page ; si elle revient, "
                "signalez-la avec l'identifiant ci-dessous.")
    return str(problem.get("detail_fr") or TITLES_FR.get(status, "Erreur"))


def _for_pages(handler):
    async def handle(request: Request, error: Exception) -> Response:
        response = handler(request, error)
        if inspect.isawaitable(response):
            response = await response
        if not is_web_path(request.url.path):
            return response
        try:
            problem = json.loads(bytes(response.body))
        except (AttributeError, ValueError):
            problem = {}
        kept = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
        # a 500 leaves through Starlette's outermost handler, which the headers middleware never sees
        kept.update({**HEADERS, "Cache-Control": "no-store"})
        return error_page(request, response.status_code, _message(response.status_code, problem), kept)

    return handle


async def _web_error(request: Request, error: WebError) -> Response:
    return error_page(request, error.status, error.message_fr)


async def _sign_in_required(request: Request, error: SignInRequired) -> Response:
    if request.headers.get("HX-Request"):  # htmx: have the browser load the sign-in page
        response: Response = Response(status_code=200, headers={"HX-Redirect": "/connexion"})
    else:
        response = RedirectResponse("/connexion", status_code=303)
    if error.clear:
        clear_session(request, response)
    return response


def install(app: FastAPI) -> None:
    """Wrap the API's handlers for web paths and add the pages' own (call after the API's)."""
    for key, handler in list(app.exception_handlers.items()):
        app.exception_handlers[key] = _for_pages(handler)
    app.add_exception_handler(WebError, _web_error)  # type: ignore[arg-type]
    app.add_exception_handler(SignInRequired, _sign_in_required)  # type: ignore[arg-type]
