"""Share requests between employer-relations staff and a youth's adviser (#14).

- ``POST /offres/{id}/candidats/partage`` (employer relations): "Demander le partage" on a
  shortlist card. The form carries the card's ``candidate_ref`` and the balance the list was
  shown with, never the youth's id: the server ranks that shortlist again
  (:func:`service.api.shortlists.shortlist_youth_ids`) and finds the youth whose reference it is.
  Asking twice while pending stores one request.
- ``POST /jeunes/{id}/demandes/{request}/partager`` and ``…/refuser`` (adviser of the youth's
  Mission Locale; another one's request answers 404): grant through
  :func:`service.store.share_requests.grant` (the store function of
  ``POST /v1/youths/{id}/shares`` with ``vacancy_id``: the youth's consent is required), or
  dismiss. Audit lines name the youth and the action only.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from service.api.shortlists import shortlist_youth_ids
from service.pseudonym import candidate_ref, pseudonym_key
from service.store import crud
from service.store.errors import Conflict, UnknownId
from service.store.models import Youth
from service.store.share_requests import dismiss, get_pending, grant, request_share
from service.web.core.auth import Adviser, EmployerRelations
from service.web.core.csrf import check_token
from service.web.core.errors import NOT_FOUND_FR, WebError
from service.web.pages.shortlist import TOP_K, check_vacancy_id
from service.web.pages.youth_view import load_youth

router = APIRouter(include_in_schema=False)

REQUEST_ID_MAX = 2**63 - 1
GONE_FR = "Ce jeune n'est plus dans la liste de candidats : rechargez la page."
CONSENT_FR = ("Le jeune n'a pas donné son accord pour partager son profil : recueillez son accord, "
              "cochez « Partage du profil accepté » dans son profil, puis partagez.")


@router.post("/offres/{vacancy_id}/candidats/partage")
def ask_share(request: Request, principal: EmployerRelations, vacancy_id: str,
              candidate_ref_: Annotated[str, Form(alias="candidate_ref", pattern=r"^C-[0-9a-f]{32}$")],
              balance: Annotated[str, Form(pattern="^(pool|parity|off)$")] = "pool",
              csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Store a share request for the youth behind a card of this vacancy's shortlist."""
    check_token(request, csrf_token)
    check_vacancy_id(vacancy_id)
    ids = shortlist_youth_ids(request, principal, vacancy_id, top_k=TOP_K, balance=balance)
    key = pseudonym_key(request.app.state.workspace.settings)
    youth_id = next((y for y in ids if hmac.compare_digest(candidate_ref(key, vacancy_id, y), candidate_ref_)), None)
    with request.app.state.sessions.begin() as session:
        youth = session.get(Youth, youth_id) if youth_id else None
        if youth is None:
            raise WebError(404, GONE_FR)
        _, new = request_share(session, vacancy_id=vacancy_id, youth=youth, key_id=principal.key_id)
        if new:
            crud.audit(session, principal.actor, "share_request", "youth", youth.id)
    if request.headers.get("HX-Request"):
        return Response("Demande envoyée au conseiller" if new else "Demande déjà envoyée au conseiller",
                        media_type="text/html; charset=utf-8")
    return RedirectResponse(f"/offres/{vacancy_id}/candidats?balance={balance}", status_code=303)


def _answer(request: Request, principal, youth_id: str, request_id: int, csrf_token: str, *, share: bool) -> Response:
    check_token(request, csrf_token)
    youth = load_youth(request, principal, youth_id, action=None)
    with request.app.state.sessions.begin() as session:
        try:
            asked = get_pending(session, request_id, youth_id=youth.id, mission_locale=principal.mission_locale or "")
        except UnknownId:
            raise WebError(404, NOT_FOUND_FR) from None
        if share:
            youth = session.get_one(Youth, youth_id)
            try:
                grant(session, asked, youth, by=principal.actor)
            except Conflict:
                raise WebError(409, CONSENT_FR) from None
            except UnknownId:
                raise WebError(404, "Cette offre n'existe plus ou n'est pas du territoire de votre Mission Locale.") from None
            crud.audit(session, principal.actor, "share", "youth", youth_id)
        else:
            dismiss(session, asked)
            crud.audit(session, principal.actor, "share_request_dismiss", "youth", youth_id)
    return RedirectResponse(f"/jeunes/{youth_id}?partage={'accorde' if share else 'refuse'}", status_code=303)


@router.post("/jeunes/{youth_id}/demandes/{request_id}/partager")
def grant_request(request: Request, principal: Adviser, youth_id: str, request_id: int,
                  csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Share the youth's profile for the request's vacancy (with the youth's consent only)."""
    return _answer(request, principal, youth_id, _request_id(request_id), csrf_token, share=True)


@router.post("/jeunes/{youth_id}/demandes/{request_id}/refuser")
def dismiss_request(request: Request, principal: Adviser, youth_id: str, request_id: int,
                    csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Dismiss the request: the card stays pseudonymised."""
    return _answer(request, principal, youth_id, _request_id(request_id), csrf_token, share=False)


def _request_id(request_id: int) -> int:
    if not 1 <= request_id <= REQUEST_ID_MAX:
        raise WebError(404, NOT_FOUND_FR)
    return request_id


