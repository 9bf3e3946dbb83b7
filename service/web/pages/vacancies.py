"""``/offres``: the territory's vacancies ("Voir plus") and ``/offres/nouvelle``, a new vacancy
whose ROME code is inferred from its title and description and shown for confirmation.

Employer-relations role only (another role: the 403 page, as for every page of another role);
a vacancy or employer outside the key's territory reads as an unknown one (404). One code path
with the API: the list is :func:`~service.api.employers.list_vacancies`, the employers offered
:func:`~service.api.employers.list_employers`, the proposed codes
:func:`service.vacancy_rome.infer_codes` (the function ``POST /v1/vacancies`` infers with), and
the save :func:`~service.api.employers.create_vacancy` itself (its validation, territory check,
store and live-engine update). The code a person confirmed is stored as given
(``rome_inferred`` false: a person chose it).
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from pydantic import ValidationError
from sqlalchemy import select
from starlette.responses import RedirectResponse, Response

from matching.errors import PasserelleError
from service.api.deps import state
from service.api.employers import create_vacancy, list_employers, list_vacancies
from service.api.idempotency import Idempotency
from service.api.problems import ApiError
from service.output import sector_family_label
from service.store.models import Employer
from service.vacancy_rome import infer_codes
from service.web.core.auth import EmployerRelations
from service.web.core.csrf import check_token
from service.web.core.templates import render
from service.web.pages import vacancy_form as vf

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
MAX_OFFSET = 100_000
ALTERNATIVES = 4
"""ROME codes proposed on confirmation: the inferred one and the next best."""
STATUS_LABELS = {"open": "Ouverte", "filled": "Pourvue", "expired": "Expirée"}


def _employers(request: Request, principal) -> list[Any]:
    return list_employers(request, principal, limit=1000, offset=0)


def _rows(request: Request, principal, offset: int, limit: int) -> tuple[list[dict[str, Any]], bool]:
    vacancies = list_vacancies(request, principal, status=None, limit=limit + 1, offset=offset)
    sirets = {vacancy.employer_siret for vacancy in vacancies[:limit]}
    with state(request).read_sessions() as session:  # the rows' employers only, not the territory's
        names = {e.siret: e for e in session.scalars(select(Employer).where(Employer.siret.in_(sirets)))}
    referential = state(request).workspace.referential()
    rows = []
    for vacancy in vacancies[:limit]:
        employer = names.get(vacancy.employer_siret)
        label = referential.cards["label"].get(vacancy.code_rome, "")
        rows.append({"id": vacancy.id, "title": vacancy.title, "code_rome": vacancy.code_rome,
                     "rome_label": label, "employer": employer.name if employer else vacancy.employer_siret,
                     "sector": sector_family_label(employer.sector_family if employer else None),
                     "contract": vf.CONTRACT_LABELS.get(vacancy.contract, vacancy.contract),
                     "places": vacancy.places, "status": STATUS_LABELS.get(vacancy.status, vacancy.status),
                     "open": vacancy.status == "open"})
    return rows, len(vacancies) > limit


@router.get("/offres")
def vacancy_list(request: Request, principal: EmployerRelations) -> Response:
    """The territory's vacancies, by reference."""
    rows, more = _rows(request, principal, 0, PAGE_SIZE)
    return render(request, "offres/list.html", {"rows": rows, "more": more, "next_offset": len(rows)})


class MoreForm:
    """The "Voir plus" form (its offset, the CSRF token)."""

    def __init__(self, offset: int = Form(0, ge=0, le=MAX_OFFSET), csrf_token: str = Form("", max_length=200)):
        self.offset, self.csrf_token = offset, csrf_token


More = Annotated[MoreForm, Depends()]


@router.post("/offres")
def vacancy_list_more_page(request: Request, principal: EmployerRelations, form: More) -> Response:
    """Without JavaScript, "Voir plus" shows the list again, longer."""
    check_token(request, form.csrf_token)
    rows, more = _rows(request, principal, 0, form.offset + PAGE_SIZE)
    return render(request, "offres/list.html", {"rows": rows, "more": more, "next_offset": len(rows)})


@router.post("/offres/plus")
def vacancy_list_more(request: Request, principal: EmployerRelations, form: More) -> Response:
    """The next rows (htmx fragment: rows, and the "Voir plus" form replaced)."""
    check_token(request, form.csrf_token)
    rows, more = _rows(request, principal, form.offset, PAGE_SIZE)
    return render(request, "offres/more.html", {"rows": rows, "more": more,
                                                "next_offset": form.offset + len(rows)})


def _form(request: Request, principal, values: dict[str, Any], errors: dict[str, str], *,
          choices: list[dict[str, Any]] | None = None, status_code: int = 200) -> Response:
    employers = [(e.siret, f"{e.name} ({e.siret})") for e in _employers(request, principal)]
    if not values.get("employer_siret") and employers:
        values = {**values, "employer_siret": employers[0][0]}
    return render(request, "offres/form.html", {
        "values": values, "errors": errors, "choices": choices, "employers": employers,
        "contracts": vf.CONTRACTS, "levels": vf.LEVELS, "token": secrets.token_urlsafe(16),
    }, status_code=status_code)


@router.get("/offres/nouvelle")
def new_vacancy_form(request: Request, principal: EmployerRelations) -> Response:
    """An empty vacancy form."""
    return _form(request, principal, vf.empty_values(), {})


def _choices(request: Request, values: dict[str, Any]) -> list[dict[str, Any]]:
    with state(request).live.reading(sync=False) as engine:
        found = infer_codes(engine, [values["title"]], [values["description"]], top_k=ALTERNATIVES)[0]
    return [{**item, "proposed": position == 0} for position, item in enumerate(found)]


@router.post("/offres/nouvelle")
async def create_vacancy_page(request: Request, principal: EmployerRelations) -> Response:
    """First POST (``etape=verifier``): check the entries and propose ROME codes. Second
    (``etape=enregistrer``, a code chosen): save through the API. ``etape=modifier``: the form
    again, filled."""
    form = await request.form()
    check_token(request, str(form.get("csrf_token") or ""))
    values = vf.form_values(form)
    step = str(form.get("etape") or "verifier")
    if step == "modifier":
        return _form(request, principal, values, {})
    try:
        if step != "enregistrer":
            vf.vacancy_body(values, code_rome=None)  # the API's checks, before any inference
            if values["employer_siret"] not in {e.siret for e in _employers(request, principal)}:
                return _form(request, principal, values, {"employer_siret": vf.MESSAGES_FR["employer_siret"]},
                             status_code=422)
            return _form(request, principal, values, {}, choices=_choices(request, values))
        if not values["code_rome"]:
            choices = _choices(request, values)
            return _form(request, principal, values, {"code_rome": vf.MESSAGES_FR["code_rome"]},
                         choices=choices, status_code=422)
        body = vf.vacancy_body(values, code_rome=values["code_rome"])
        token = str(form.get("jeton") or "")[:64] or None  # a second click answers 409, not a twin
        saved = create_vacancy(request, principal, body,
                               Idempotency(token and f"web-{token}", principal.key_id, "", 201, "vacancy"))
    except (ValidationError, ApiError, PasserelleError) as error:
        errors = vf.errors_of(error)
        again = _choices(request, values) if step == "enregistrer" and "title" not in errors else None
        return _form(request, principal, values, errors, choices=again, status_code=422)
    return RedirectResponse(f"/offres/{saved.id}/candidats?enregistree=1", status_code=303)
