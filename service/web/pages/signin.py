"""``/connexion`` and ``/deconnexion``: sign in with an API key, sign out; ``/`` sends each
user to their role's home page.

The key is posted in a form (never put in a URL) and checked like the API's bearer key; a
batch key is refused (403: the pages are for people). Signing in issues a new CSRF token, so a
token seen before sign-in is worth nothing after it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from service.web.core.auth import HOME_BY_ROLE, sign_in, signed_in
from service.web.core.csrf import check_token
from service.web.core.errors import SignInRequired
from service.web.core.session import clear_session, new_token, read_session, write_session
from service.web.core.templates import render

router = APIRouter(include_in_schema=False)

KEY_MAX = 200
"""Longest value read from the key field (keys are 47 characters)."""


@router.get("/")
def home(request: Request) -> Response:
    """The signed-in user's home page, or the sign-in page."""
    try:
        principal = signed_in(request)
    except SignInRequired:
        return RedirectResponse("/connexion", status_code=303)
    return RedirectResponse(HOME_BY_ROLE[principal.role], status_code=303)


@router.get("/connexion")
def sign_in_form(request: Request) -> Response:
    """The sign-in form (one field, ``api_key``)."""
    return render(request, "connexion.html", {"error": None})


@router.post("/connexion")
def sign_in_post(request: Request, api_key: Annotated[str, Form(max_length=KEY_MAX)] = "",
                 csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Check the key; on success, open a session and go to the role's home page (303)."""
    check_token(request, csrf_token)
    if not api_key.strip():
        return render(request, "connexion.html", {"error": "Saisissez votre clé d'accès."}, status_code=422)
    found = sign_in(request, api_key)
    if found is None:
        return render(request, "connexion.html",
                      {"error": "Clé inconnue ou révoquée : vérifiez-la ou demandez-en une nouvelle."},
                      status_code=401)
    principal, data = found
    if principal.role not in HOME_BY_ROLE:
        return render(request, "error.html", {
            "status": 403, "title": "Accès refusé",
            "message": "Une clé de traitement par lots ne donne pas accès aux pages : "
                       "utilisez une clé de conseiller, de relations entreprises ou d'administration."},
            status_code=403)
    response = RedirectResponse(HOME_BY_ROLE[principal.role], status_code=303)
    write_session(request, response, {**data, "c": new_token()})
    return response


@router.post("/deconnexion")
def sign_out(request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    """End the session and go back to the sign-in page."""
    check_token(request, csrf_token)
    response = RedirectResponse("/connexion", status_code=303)
    if read_session(request):
        clear_session(request, response)
    return response
