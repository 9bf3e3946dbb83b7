"""``/jeunes/{id}/suggestions``: trades and nearby vacancies for a young person, the mix policy
switch, a printable fiche (``/fiche``) and the CSV/XLSX export of the lists.

One code path with the API: :func:`~service.api.youths.stored_suggestions` computes the
``GET /v1/youths/{id}/suggestions`` document and records it (each item gets the suggestion id
its outcome buttons post). The pages only choose words; they rank nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from service import exports
from service.api.suggestions import default_params
from service.api.youths import stored_suggestions
from service.store.outcome_codes import DECLINE_REASONS, OUTCOME_LABELS_FR, OUTCOME_STATUSES
from service.web.core.auth import Adviser
from service.web.core.downloads import download
from service.web.core.errors import NOT_FOUND_FR, WebError
from service.web.core.templates import render
from service.web.pages.suggestion_view import MIX_POLICIES, suggestions_view
from service.web.pages.youth_view import load_youth, youth_summary

router = APIRouter(include_in_schema=False)

Mix = Annotated[str, Query(pattern="^(balanced|counter_stereotype|off)$")]
OUTCOME_BUTTONS = [(status, OUTCOME_LABELS_FR[status]) for status in OUTCOME_STATUSES
                   if status not in ("proposed", "declined")]
"""One button per status an adviser records in one click (``declined`` takes a reason)."""


def _document(request: Request, principal, youth_id: str, mix: str) -> tuple[Any, dict[str, Any]]:
    row = load_youth(request, principal, youth_id, action=None)  # 404 page before any work
    document = stored_suggestions(request, principal, youth_id, default_params(mix=mix))
    return row, document


@router.get("/jeunes/{youth_id}/suggestions")
def suggestions_page(request: Request, principal: Adviser, youth_id: str, mix: Mix = "balanced") -> Response:
    """Trade cards and vacancies, with outcome buttons and the mix policy switch."""
    row, document = _document(request, principal, youth_id, mix)
    return render(request, "suggestions/page.html", {
        "youth": {"id": row.id, "external_id": row.external_id}, "mix": mix, "policies": MIX_POLICIES,
        "outcomes": OUTCOME_BUTTONS, "reasons": DECLINE_REASONS, **suggestions_view(document)})


@router.get("/jeunes/{youth_id}/fiche")
def fiche(request: Request, principal: Adviser, youth_id: str, mix: Mix = "balanced") -> Response:
    """A one-page fiche for the young person to take away (print stylesheet)."""
    row, document = _document(request, principal, youth_id, mix)
    return render(request, "suggestions/fiche.html", {
        "youth": {"id": row.id, "external_id": row.external_id}, "mix": mix,
        "summary": [item for item in youth_summary(request, row.profile)
                    if item[0] in ("Commune", "Mobilité", "Métiers souhaités", "Contrats recherchés")],
        **suggestions_view(document)})


@router.get("/jeunes/{youth_id}/suggestions.{extension}")
def export(request: Request, principal: Adviser, youth_id: str, extension: str,
           mix: Mix = "balanced") -> Response:
    """The lists as CSV (UTF-8 with BOM, semicolons: opens in a French spreadsheet) or XLSX
    (:mod:`service.exports`, the same files as any client of the API would write)."""
    if extension not in ("csv", "xlsx"):
        raise WebError(404, NOT_FOUND_FR)
    _, document = _document(request, principal, youth_id, mix)
    body = exports.suggestions_csv(document) if extension == "csv" else exports.suggestions_xlsx(document)
    return download(body, extension, f"suggestions-{youth_id}")
