"""``/offres/{id}/candidats``: a vacancy's shortlist of pseudonymised cards, the balance switch
(``?balance=pool|parity|off``), the list's groups against the target (bars and a table), and
the CSV/XLSX export of the list.

One code path with the API: :func:`~service.api.shortlists.shortlist` is the body of
``GET /v1/vacancies/{id}/candidates`` (territory check, balance, shares, audit lines), so a card
shows on the page exactly what the API gives: initials, age, commune, matched skills; the full
profile only once an adviser shared it. The list's composition by group is counted on the
server from the same ranking (:mod:`service.web.pages.shortlist_groups`), never per card.
"Demander le partage" posts the card's ``candidate_ref`` (:mod:`service.web.pages.share_requests`);
a card whose request is pending says so.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from matching.profiles import SAFE_ID
from service import exports
from service.api.shortlists import Shortlist, shortlist
from service.output import BALANCE_LABELS
from service.store.share_requests import pending_youth_ids
from service.web.core.auth import EmployerRelations
from service.web.core.downloads import download
from service.web.core.errors import NOT_FOUND_FR, WebError
from service.web.core.templates import render
from service.web.pages.profile_form import CONTRACT_LABELS, DIPLOMAS, GENDERS
from service.web.pages.shortlist_groups import composition_rows

router = APIRouter(include_in_schema=False)

BalanceQuery = Annotated[str, Query(pattern="^(pool|parity|off)$")]
TOP_K = 10
BALANCES = {"pool": "À l'image du vivier (les groupes dans la proportion des candidats qualifiés)",
            "parity": "Parité (autant de chaque groupe présent)",
            "off": "Aucun (pertinence seule)"}
"""The balance switch: token -> French label, in the order the switch lists them."""
SHORTLIST_MOVES = ("balance", "mixite")
_SAFE_ID = re.compile(SAFE_ID)


def check_vacancy_id(vacancy_id: str) -> None:
    """A malformed vacancy id answers the 404 page, as an unknown one."""
    if len(vacancy_id) > 64 or not _SAFE_ID.fullmatch(vacancy_id):
        raise WebError(404, NOT_FOUND_FR)


def _shortlist(request: Request, principal, vacancy_id: str, balance: str) -> Shortlist:
    check_vacancy_id(vacancy_id)
    return shortlist(request, principal, vacancy_id, top_k=TOP_K, balance=balance,
                     algorithm="det_relaxed", with_qpv=False)


def card_view(candidate: dict[str, Any], *, requested: bool = False) -> dict[str, Any]:
    """One card's display values (the shared fields only when ``shared``; ``requested``: a share
    request of this key is pending)."""
    card = candidate["card"]
    view = {"ref": candidate["candidate_ref"], "requested": requested, "initials": card["initials"], "age": card.get("age"),
            "commune": card["commune"], "skills": card.get("skills", []), "shared": card.get("shared", False),
            "distance": candidate.get("distance_km"), "reasons": candidate.get("reasons", []),
            "balanced": candidate.get("moved_by") in SHORTLIST_MOVES}
    if view["shared"]:
        view.update(gender=dict(GENDERS).get(card.get("gender") or "", card.get("gender")),
                    diploma=dict(DIPLOMAS).get(card.get("diploma_level") or "", card.get("diploma_level")),
                    external_id=card.get("external_id"), experiences=card.get("experiences", []),
                    interests=card.get("interests"), wished_trades=card.get("wished_trades", []))
    return view


@router.get("/offres/{vacancy_id}/candidats")
def shortlist_page(request: Request, principal: EmployerRelations, vacancy_id: str,
                   balance: BalanceQuery = "pool") -> Response:
    """The shortlist, its balance switch, its groups against the target, the exports."""
    listed = _shortlist(request, principal, vacancy_id, balance)
    document = listed.document
    vacancy = document["vacancy"]
    with request.app.state.read_sessions() as session:
        pending = pending_youth_ids(session, listed.youth_ids, vacancy_id=vacancy_id, key_id=principal.key_id)
    requested = [youth_id in pending for youth_id in listed.youth_ids]
    policy = document.get("policy") or {}
    return render(request, "offres/candidats.html", {
        "vacancy": {**vacancy, "contract": CONTRACT_LABELS.get(vacancy["contract"], vacancy["contract"])},
        "cards": [card_view(c, requested=r) for c, r in zip(document["candidates"], requested, strict=True)],
        "balance": balance, "balances": BALANCES, "balance_label": BALANCE_LABELS.get(balance, balance),
        "groups": composition_rows(listed.groups, policy.get("target")) if listed.groups else [],
        "has_target": bool(policy.get("target")), "synthetic": document.get("synthetic"),
        "saved": request.query_params.get("enregistree") == "1"})


@router.get("/offres/{vacancy_id}/candidats.{extension}")
def shortlist_export(request: Request, principal: EmployerRelations, vacancy_id: str, extension: str,
                     balance: BalanceQuery = "pool") -> Response:
    """The shortlist as CSV or XLSX (:mod:`service.exports`: the pseudonymised cards)."""
    if extension not in ("csv", "xlsx"):
        raise WebError(404, NOT_FOUND_FR)
    document = _shortlist(request, principal, vacancy_id, balance).document
    body = exports.shortlist_csv(document) if extension == "csv" else exports.shortlist_xlsx(document)
    return download(body, extension, f"candidats-{vacancy_id}")
