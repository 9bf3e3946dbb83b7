"""``POST /jeunes/{id}/suivi``: one click records what happened to a suggestion (contacted,
applied, immersion, hired, in post after 6 months, or declined with a reason code).

Recorded by the store function of ``POST /v1/outcomes`` (:func:`service.store.crud.add_outcome`,
which checks the status and the reason code), for a suggestion of this youth in the adviser's
Mission Locale only (any other answers the 404 page). htmx swaps a confirmation into the card;
without JavaScript a small page confirms and links back.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from service.store import crud
from service.store.models import Suggestion
from service.store.outcome_codes import DECLINE_REASONS, OUTCOME_LABELS_FR, InvalidOutcome
from service.web.core.auth import Adviser
from service.web.core.csrf import check_token
from service.web.core.errors import NOT_FOUND_FR, WebError
from service.web.core.templates import render
from service.web.pages.youth_view import load_youth

router = APIRouter(include_in_schema=False)

SUGGESTION_ID_MAX = 2**63 - 1


@router.post("/jeunes/{youth_id}/suivi")
def record_outcome(request: Request, principal: Adviser, youth_id: str,
                   suggestion_id: Annotated[int, Form(ge=1, le=SUGGESTION_ID_MAX)],
                   status: Annotated[str, Form(max_length=32)],
                   reason: Annotated[str, Form(max_length=32)] = "",
                   csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Record an outcome of one of this youth's suggestions."""
    check_token(request, csrf_token)
    load_youth(request, principal, youth_id, action=None)
    with request.app.state.sessions.begin() as session:
        suggestion = session.get(Suggestion, suggestion_id)
        if (suggestion is None or suggestion.youth_id != youth_id
                or suggestion.mission_locale != principal.mission_locale):
            raise WebError(404, NOT_FOUND_FR)
        try:
            crud.add_outcome(session, suggestion_id, status, reason or None)
        except InvalidOutcome as error:
            raise WebError(422, error.message_fr) from None
        crud.touch_youth(session, youth_id)
        crud.audit(session, principal.actor, f"outcome_{status}", "youth", youth_id)
    label = OUTCOME_LABELS_FR.get(status, status)
    if status == "declined" and reason:
        label = f"{label} ({DECLINE_REASONS.get(reason, reason).lower()})"
    context = {"label": label, "youth_id": youth_id, "suggestion_id": suggestion_id}
    if request.headers.get("HX-Request"):
        return render(request, "suggestions/outcome_done.html", context)
    return render(request, "suggestions/outcome_saved.html", context)
