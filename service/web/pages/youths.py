"""``/jeunes``: an adviser's young people (list, search, "Voir plus"), one profile, and the
profile form (``/jeunes/nouveau``, ``/jeunes/{id}/modifier``).

Adviser role only, own Mission Locale only: another Mission Locale's youth answers the same
404 page as an unknown one. Profiles are stored through the API's own functions
(:func:`~service.api.youths.create_stored_youth`, :func:`~service.api.youths.update_stored_youth`):
one validator, its French messages shown next to the field, the entries kept. Searches are
posted, never put in the URL (an adviser may type a name); ids in URLs are the service's
random ``Y-`` ids.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from matching.errors import PasserelleError
from service.api.problems import ApiError
from service.api.youths import create_stored_youth, update_stored_youth
from service.store import crud
from service.store.errors import Conflict
from service.store.share_requests import pending_for_youth
from service.store.youth_list import youth_page
from service.web.core.auth import Adviser
from service.web.core.csrf import check_token
from service.web.core.templates import render
from service.web.pages import profile_form as pf
from service.web.pages.youth_view import load_youth, youth_summary

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
MAX_OFFSET = 100_000
SEARCH_MAX = 100
COMMUNE_CODES_MAX = 50


def _rows(request: Request, principal, search: str, offset: int,
          limit: int) -> tuple[list[dict[str, Any]], bool]:
    """One page of rows (and whether more follow); the search also matches a commune's name."""
    referential = request.app.state.workspace.referential()
    codes: list[str] = []
    if search.strip():
        codes = [code for name, found in pf.commune_names(referential).items()
                 if name == pf.fold(search) for code in found][:COMMUNE_CODES_MAX]
    st = request.app.state
    with st.sessions.begin() as session:
        page = youth_page(session, mission_locale=principal.mission_locale, search=search,
                          commune_codes=codes, limit=limit + 1, offset=offset)
        crud.audit(session, principal.actor, "list", "youth", None)
    rows = [{"id": youth.id, "external_id": youth.external_id,
             "commune": pf.commune_label(referential, youth.commune_insee),
             "age": youth.profile.get("age"), "updated_at": youth.updated_at,
             "last_suggested_at": last_at} for youth, last_at in page[:limit]]
    return rows, len(page) > limit


def _list_page(request: Request, principal, search: str, shown: int) -> Response:
    rows, more = _rows(request, principal, search, 0, shown)
    return render(request, "youths/list.html", {"rows": rows, "more": more, "search": search,
                                                "next_offset": len(rows)})


@router.get("/jeunes")
def youth_list(request: Request, principal: Adviser) -> Response:
    """The adviser's young people, most recently active first."""
    return _list_page(request, principal, "", PAGE_SIZE)


@dataclasses.dataclass
class ListForm:
    """The list's search form and its "Voir plus" form (``q``: the search, never in the URL)."""

    q: str = Form("", max_length=SEARCH_MAX)
    offset: int = Form(0, ge=0, le=MAX_OFFSET)
    csrf_token: str = Form("", max_length=200)


Listed = Annotated[ListForm, Depends()]


@router.post("/jeunes")
def youth_search(request: Request, principal: Adviser, form: Listed) -> Response:
    """Search (dossier reference, id or commune); without JavaScript "Voir plus" lands here too."""
    check_token(request, form.csrf_token)
    return _list_page(request, principal, form.q, form.offset + PAGE_SIZE)


@router.post("/jeunes/plus")
def youth_more(request: Request, principal: Adviser, form: Listed) -> Response:
    """The next rows of the list (htmx fragment: rows, and the "Voir plus" form replaced)."""
    check_token(request, form.csrf_token)
    rows, more = _rows(request, principal, form.q, form.offset, PAGE_SIZE)
    return render(request, "youths/more.html", {"rows": rows, "more": more, "search": form.q,
                                                "next_offset": form.offset + len(rows)})


@router.get("/jeunes/nouveau")
def new_youth_form(request: Request, principal: Adviser) -> Response:
    """An empty profile form."""
    values = pf.values_of({"mobility_km": 20}, request.app.state.workspace.referential())
    return _form(request, values, {}, youth=None)


def _form(request: Request, values: dict[str, Any], errors: dict[str, str], *, youth: dict | None,
          version: int | None = None, status_code: int = 200) -> Response:
    return render(request, "youths/form.html", {
        "values": values, "errors": errors, "youth": youth, "version": version,
        "genders": pf.GENDERS, "diplomas": pf.DIPLOMAS, "contracts": pf.CONTRACT_LABELS,
    }, status_code=status_code)


def _errors_of(error: Exception) -> dict[str, str]:
    if isinstance(error, pf.FormProblem):
        return {error.field: error.message_fr}
    if isinstance(error, ApiError):
        return {pf.field_of_error(error.field): error.detail_fr}
    if isinstance(error, Conflict):
        return {"form": "Ce profil a été modifié entre-temps : rechargez la page pour voir la "
                        "dernière version, puis refaites vos changements."}
    assert isinstance(error, PasserelleError)
    return {pf.field_of_error(error.field): error.message_fr}


@router.post("/jeunes/nouveau")
async def create_youth(request: Request, principal: Adviser) -> Response:
    """Store a new profile; bad input shows the form again with the message by the field."""
    form = await request.form()
    check_token(request, str(form.get("csrf_token") or ""))
    values = pf.form_values(form)
    try:
        profile = pf.profile_of(values, request.app.state.workspace.referential())
        row, _ = create_stored_youth(request, principal, profile)
    except (pf.FormProblem, ApiError, PasserelleError) as error:
        return _form(request, values, _errors_of(error), youth=None, status_code=422)
    return RedirectResponse(f"/jeunes/{row.id}?enregistre=1", status_code=303)


@router.get("/jeunes/{youth_id}")
def youth_profile(request: Request, principal: Adviser, youth_id: str) -> Response:
    """A profile's summary, with its actions (suggestions, change, fiche, exports)."""
    row = load_youth(request, principal, youth_id, action="read")
    summary = youth_summary(request, row.profile)
    with request.app.state.read_sessions() as session:
        asked = pending_for_youth(session, row.id, principal.mission_locale or "")
    return render(request, "youths/profile.html", {
        "youth": {"id": row.id, "external_id": row.external_id, "updated_at": row.updated_at,
                  "synthetic": row.synthetic, "consent_share": bool(row.profile.get("consent_share"))},
        "summary": summary, "saved": request.query_params.get("enregistre") == "1",
        "share_requests": asked, "shared": request.query_params.get("partage")})


@router.get("/jeunes/{youth_id}/modifier")
def edit_youth_form(request: Request, principal: Adviser, youth_id: str) -> Response:
    """The profile form, filled with the stored profile."""
    row = load_youth(request, principal, youth_id, action="read")
    values = pf.values_of(row.profile, request.app.state.workspace.referential())
    return _form(request, values, {}, youth={"id": row.id, "external_id": row.external_id},
                 version=row.version)


@router.post("/jeunes/{youth_id}/modifier")
async def update_youth(request: Request, principal: Adviser, youth_id: str) -> Response:
    """Save the changed profile (the version read guards against a concurrent change)."""
    row = load_youth(request, principal, youth_id, action=None)
    form = await request.form()
    check_token(request, str(form.get("csrf_token") or ""))
    values = pf.form_values(form)
    version_text = str(form.get("version") or "")
    version = int(version_text) if version_text.isdigit() and len(version_text) < 10 else row.version
    youth = {"id": row.id, "external_id": row.external_id}
    try:
        profile = pf.profile_of(values, request.app.state.workspace.referential())
        changes = {**{k: None for k in ("age", "gender", "diploma_level", "available_from",
                                        "external_id", "postcode", "commune_insee")}, **profile}
        update_stored_youth(request, principal, youth_id, changes, version)
    except (pf.FormProblem, ApiError, PasserelleError, Conflict) as error:
        return _form(request, values, _errors_of(error), youth=youth, version=version, status_code=422)
    return RedirectResponse(f"/jeunes/{youth_id}?enregistre=1", status_code=303)
