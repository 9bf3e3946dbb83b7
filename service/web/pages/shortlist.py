"""``/offres/{id}/candidats``: a vacancy's shortlist of pseudonymised cards, the balance switch
(``?balance=pool|parity|off``), the target groups as a bar with its table, and the CSV/XLSX
export of the list.

One code path with the API: :func:`~service.api.employers.candidates` is the body of
``GET /v1/vacancies/{id}/candidates`` (territory check, balance, shares, audit lines), so a card
shows on the page exactly what the API gives: initials, age, commune, matched skills; the full
profile only once an adviser shared it. There is no share *request* in the API: an adviser
shares with ``POST /v1/shares`` and the card's ``candidate_ref``, so "Demander le partage" tells
what to send to the youth's adviser (the reference and the vacancy), and stores nothing.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from matching.profiles import SAFE_ID
from service import exports
from service.api.employers import candidates
from service.output import BALANCE_LABELS
from service.web.core.auth import EmployerRelations
from service.web.core.downloads import download
from service.web.core.errors import NOT_FOUND_FR, WebError
from service.web.core.templates import render
from service.web.pages.profile_form import CONTRACT_LABELS, DIPLOMAS, GENDERS

router = APIRouter(include_in_schema=False)

BalanceQuery = Annotated[str, Query(pattern="^(pool|parity|off)$")]
TOP_K = 10
BALANCES = {"pool": "À l'image du vivier (les groupes dans la proportion des candidats qualifiés)",
            "parity": "Parité (autant de chaque groupe présent)",
            "off": "Aucun (pertinence seule)"}
"""The balance switch: token -> French label, in the order the switch lists them."""
GROUP_LABELS = {"F": "Femmes", "M": "Hommes", "X": "Autre genre", "not_stated": "Non renseigné",
                "unknown": "Non renseigné"}
SHORTLIST_MOVES = ("balance", "mixite")
_SAFE_ID = re.compile(SAFE_ID)


def _document(request: Request, principal, vacancy_id: str, balance: str) -> dict[str, Any]:
    if len(vacancy_id) > 64 or not _SAFE_ID.fullmatch(vacancy_id):
        raise WebError(404, NOT_FOUND_FR)
    return candidates(request, principal, vacancy_id, top_k=TOP_K, balance=balance,  # type: ignore[arg-type]
                      algorithm="det_relaxed", with_qpv=False)


def _group_label(group: str) -> str:
    gender, _, qpv = group.partition("|")
    label = GROUP_LABELS.get(gender, gender)
    return f"{label}, {'QPV' if qpv == 'True' else 'hors QPV'}" if qpv else label


def target_rows(policy: dict[str, Any]) -> list[dict[str, Any]]:
    """The target shares as rows (label, percent) for the bar and its table; [] without target."""
    target = policy.get("target") or {}
    return [{"group": group, "label": _group_label(group), "percent": round(100 * share)}
            for group, share in sorted(target.items(), key=lambda item: -item[1])]


def card_view(candidate: dict[str, Any]) -> dict[str, Any]:
    """One card's display values (the shared fields only when ``shared``)."""
    card = candidate["card"]
    view = {"ref": candidate["candidate_ref"], "initials": card["initials"], "age": card.get("age"),
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
    """The shortlist, its balance switch, the target bar, the exports."""
    document = _document(request, principal, vacancy_id, balance)
    vacancy = document["vacancy"]
    return render(request, "offres/candidats.html", {
        "vacancy": {**vacancy, "contract": CONTRACT_LABELS.get(vacancy["contract"], vacancy["contract"])},
        "cards": [card_view(c) for c in document["candidates"]], "balance": balance,
        "balances": BALANCES, "balance_label": BALANCE_LABELS.get(balance, balance),
        "target": target_rows(document.get("policy") or {}), "synthetic": document.get("synthetic"),
        "saved": request.query_params.get("enregistree") == "1"})


@router.get("/offres/{vacancy_id}/candidats.{extension}")
def shortlist_export(request: Request, principal: EmployerRelations, vacancy_id: str, extension: str,
                     balance: BalanceQuery = "pool") -> Response:
    """The shortlist as CSV or XLSX (:mod:`service.exports`: the pseudonymised cards)."""
    if extension not in ("csv", "xlsx"):
        raise WebError(404, NOT_FOUND_FR)
    document = _document(request, principal, vacancy_id, balance)
    body = exports.shortlist_csv(document) if extension == "csv" else exports.shortlist_xlsx(document)
    return download(body, extension, f"candidats-{vacancy_id}")
