"""The body of ``GET /v1/vacancies/{id}/candidates``, shared with the shortlist web page.

:func:`shortlist` builds the API's document and also returns, for the server's own use, the
youth ids and gender groups of the listed candidates in order: the web page counts the list's
groups (never per card) and resolves a card's ``candidate_ref`` into a share request; neither
goes into the document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request

from matching.fairness.policies import Balance
from service import output
from service.api.deps import state
from service.api.security import Principal, in_territory
from service.pseudonym import pseudonym_key
from service.store import crud
from service.store.errors import not_found
from service.store.models import Vacancy
from service.store.shares import shared_youth_ids


@dataclass(frozen=True)
class Shortlist:
    """A shortlist's document (what the API answers) and, in the same order, its candidates'
    youth ids and gender groups (``F``, ``M``, ``X``, ``not_stated``): server side only."""

    document: dict[str, Any]
    youth_ids: list[str]
    groups: list[str]


def readable_vacancy(session, principal: Principal, vacancy_id: str) -> Vacancy:
    """The vacancy; for employer-relations staff, 404 outside their territory."""
    vacancy = crud.get_vacancy(session, vacancy_id)
    if principal.role == "employer_relations":
        employer = crud.get_employer(session, vacancy.employer_siret)
        if not in_territory(principal, employer.commune_insee):
            raise not_found("vacancy", vacancy_id)
    return vacancy


def _ranked(request: Request, principal: Principal, vacancy_id: str, top_k: int, policy: Balance):
    st = state(request)
    with st.read_sessions() as session:
        readable_vacancy(session, principal, vacancy_id)
    engine = st.live.read().recommender  # one generation for the list and its cards
    return engine, engine.find_candidates([vacancy_id], top_k, balance=policy)[0]


def shortlist(request: Request, principal: Principal, vacancy_id: str, *, top_k: int, balance: str,
              algorithm: str, with_qpv: bool) -> Shortlist:
    """Rank, build the cards (full ones where shared), audit one ``shortlist`` line per youth."""
    engine, result = _ranked(request, principal, vacancy_id, top_k,
                             Balance(policy=balance, algorithm=algorithm, with_qpv=with_qpv))
    st = state(request)
    ids = [item.youth_id for item in result.items]
    with st.read_sessions() as session:
        shared = shared_youth_ids(session, ids, key_id=principal.key_id, vacancy_id=vacancy_id)
    document = output.candidates_document(engine, vacancy_id, result, shared=shared,
                                          key=pseudonym_key(st.workspace.settings))
    with st.sessions.begin() as session:
        for youth_id in ids:
            crud.audit(session, principal.actor, "shortlist", "youth", youth_id)
    youths = engine.youths
    groups = [str(youths.gender_group[youths.rows[youth_id]]) for youth_id in ids]
    return Shortlist(document, ids, groups)


def shortlist_youth_ids(request: Request, principal: Principal, vacancy_id: str, *, top_k: int,
                        balance: str) -> list[str]:
    """The youth ids of the shortlist as :func:`shortlist` ranks it (``det_relaxed``, no QPV
    groups), without cards or audit lines."""
    _, result = _ranked(request, principal, vacancy_id, top_k,
                        Balance(policy=balance, algorithm="det_relaxed", with_qpv=False))
    return [item.youth_id for item in result.items]
