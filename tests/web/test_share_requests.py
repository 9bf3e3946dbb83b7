"""Share requests (#14): "Demander le partage" on a shortlist card stores one request, the
youth's adviser grants it (the card then shows the shared profile) or dismisses it; CSRF,
Mission Locale scoping, erasure. And the shortlist's groups against the target."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import delete, func, select
from web_helpers import create_youth, csrf_of, sign_in

from matching.fairness.policies import Balance
from service.pseudonym import candidate_ref, pseudonym_key
from service.store import crud
from service.store.models import Share, ShareRequest, Vacancy, Youth
from service.store.share_requests import request_share
from service.web.pages.shortlist_groups import composition_rows, shown_groups


@pytest.fixture()
def web_requests(web):
    """The ``web`` fixture, with the share requests and shares the test made removed after it
    (they concern youths of the package's store, which the undo keeps)."""
    _, sessions, read_sessions = web.workspace.store()
    with read_sessions() as session:
        marks = (session.scalar(select(func.max(ShareRequest.id))) or 0,
                 session.scalar(select(func.max(Share.id))) or 0)
    yield web
    with sessions.begin() as session:
        session.execute(delete(ShareRequest).where(ShareRequest.id > marks[0]))
        session.execute(delete(Share).where(Share.id > marks[1]))


def _shortlisted(web, *, consent: bool) -> tuple[str, str, list[str]]:
    """(vacancy, youth of ML-METZ on its pool shortlist whose consent_share is ``consent``, the
    shortlist's youth ids), from the engine and the store directly."""
    engine = web.client.app.state.live.read().recommender
    _, _, read_sessions = web.workspace.store()
    with read_sessions() as session:
        vacancy_ids = list(session.scalars(select(Vacancy.id).where(Vacancy.status == "open").order_by(Vacancy.id)))
        for vacancy_id in vacancy_ids[:60]:
            ids = [item.youth_id for item in engine.find_candidates([vacancy_id], 10, balance=Balance())[0].items]
            for youth_id in ids:
                youth = session.get(Youth, youth_id)
                if youth.mission_locale == "ML-METZ" and bool(youth.profile.get("consent_share")) == consent:
                    found = web.client.get(f"/v1/vacancies/{vacancy_id}/candidates", headers=web.as_("er"))
                    if found.status_code == 200:
                        return vacancy_id, youth_id, ids
    raise AssertionError("no ML-METZ youth on an open vacancy's shortlist")


def _ask(web, vacancy_id: str, ref: str, token: str, **headers):
    return web.client.post(f"/offres/{vacancy_id}/candidats/partage", headers=headers,
                           data={"csrf_token": token, "candidate_ref": ref, "balance": "pool"},
                           follow_redirects=False)


def _requests(web, youth_id: str) -> list[tuple[str, str]]:
    _, _, read_sessions = web.workspace.store()
    with read_sessions() as session:
        return [(r.vacancy_id, r.status) for r in session.scalars(
            select(ShareRequest).where(ShareRequest.youth_id == youth_id).order_by(ShareRequest.id))]


def test_request_once_then_the_adviser_grants_it(web_requests):
    web = web_requests
    vacancy_id, youth_id, _ = _shortlisted(web, consent=True)
    ref = candidate_ref(pseudonym_key(web.workspace.settings), vacancy_id, youth_id)
    sign_in(web.client, web.keys["er"])
    page = web.client.get(f"/offres/{vacancy_id}/candidats")
    assert page.status_code == 200 and f'name="candidate_ref" value="{ref}"' in page.text
    assert youth_id not in page.text and not re.search(r"Y-[0-9a-f]{16}", page.text)
    token = csrf_of(page.text)
    assert _ask(web, vacancy_id, ref, "").status_code == 403
    assert _requests(web, youth_id) == []
    first = _ask(web, vacancy_id, ref, token, **{"HX-Request": "true"})
    assert first.status_code == 200 and first.text == "Demande envoyée au conseiller"
    again = _ask(web, vacancy_id, ref, token)
    assert again.status_code == 303 and again.headers["location"] == f"/offres/{vacancy_id}/candidats?balance=pool"
    assert _requests(web, youth_id) == [(vacancy_id, "pending")]  # stored once
    shown = web.client.get(f"/offres/{vacancy_id}/candidats").text
    assert f'id="demande-{ref}" data-share-requested>Demande envoyée au conseiller' in shown
    assert _ask(web, vacancy_id, "C-" + "0" * 32, token).status_code == 404  # not on the list
    sign_in(web.client, web.keys["adviser_other"])
    assert web.client.get(f"/jeunes/{youth_id}").status_code == 404
    other = web.client.get("/jeunes")
    with web.workspace.store()[2]() as session:
        request_id = session.scalar(select(ShareRequest.id).where(ShareRequest.youth_id == youth_id))
        title = session.get(Vacancy, vacancy_id).title
    grant = f"/jeunes/{youth_id}/demandes/{request_id}/partager"
    assert web.client.post(grant, data={"csrf_token": csrf_of(other.text)}).status_code == 404
    sign_in(web.client, web.keys["adviser"])
    profile = web.client.get(f"/jeunes/{youth_id}")
    assert f'data-share-request="{request_id}"' in profile.text
    assert title.replace("'", "&#39;") in profile.text and f'id="partager-{request_id}"' in profile.text
    assert web.client.post(grant, data={"csrf_token": ""}).status_code == 403
    granted = web.client.post(grant, data={"csrf_token": csrf_of(profile.text)}, follow_redirects=False)
    assert granted.status_code == 303 and granted.headers["location"] == f"/jeunes/{youth_id}?partage=accorde"
    assert _requests(web, youth_id) == [(vacancy_id, "granted")]
    assert 'data-share-request=' not in web.client.get(f"/jeunes/{youth_id}").text
    sign_in(web.client, web.keys["er"])
    card = web.client.get(f"/offres/{vacancy_id}/candidats").text
    shared = re.search(rf'<li class="card" data-youth-card data-shared="(\w+)">(?:(?!</li>\s*<li class="card").)*{ref}',
                       card, re.S)
    assert shared is None  # a shared card no longer offers the request (no form, no ref in it)
    assert card.count('data-shared="true"') >= 1 and "Profil partagé" in card
    assert youth_id not in card


def test_dismiss_and_consent_needed(web_requests):
    web = web_requests
    vacancy_id, youth_id, _ = _shortlisted(web, consent=False)
    ref = candidate_ref(pseudonym_key(web.workspace.settings), vacancy_id, youth_id)
    sign_in(web.client, web.keys["er"])
    token = csrf_of(web.client.get(f"/offres/{vacancy_id}/candidats").text)
    assert _ask(web, vacancy_id, ref, token).status_code == 303
    with web.workspace.store()[2]() as session:
        request_id = session.scalar(select(ShareRequest.id).where(ShareRequest.youth_id == youth_id))
    sign_in(web.client, web.keys["adviser"])
    profile = web.client.get(f"/jeunes/{youth_id}")
    assert 'id="consentement-requis"' in profile.text
    token = csrf_of(profile.text)
    refused = web.client.post(f"/jeunes/{youth_id}/demandes/{request_id}/partager", data={"csrf_token": token})
    assert refused.status_code == 409 and "accord" in refused.text
    assert _requests(web, youth_id) == [(vacancy_id, "pending")]  # no share without consent
    dismissed = web.client.post(f"/jeunes/{youth_id}/demandes/{request_id}/refuser", data={"csrf_token": token},
                                follow_redirects=False)
    assert dismissed.status_code == 303 and _requests(web, youth_id) == [(vacancy_id, "dismissed")]
    again = web.client.post(f"/jeunes/{youth_id}/demandes/{request_id}/refuser", data={"csrf_token": token})
    assert again.status_code == 404  # no longer pending
    with web.workspace.store()[2]() as session:
        assert session.scalar(select(func.count()).select_from(Share).where(Share.youth_id == youth_id)) == 0


def test_erasure_removes_share_requests(web_requests):
    web = web_requests
    sign_in(web.client, web.keys["adviser"])
    youth_id = create_youth(web)
    _, sessions, read_sessions = web.workspace.store()
    with sessions.begin() as session:
        vacancy_id = session.scalars(select(Vacancy.id).order_by(Vacancy.id)).first()
        request_share(session, vacancy_id=vacancy_id, youth=session.get_one(Youth, youth_id), key_id=web.key_ids["er"])
    assert _requests(web, youth_id) == [(vacancy_id, "pending")]
    with sessions.begin() as session:
        crud.erase_youth(session, youth_id)
    assert _requests(web, youth_id) == []


def test_composition_known_answers():
    groups = ["F"] * 3 + ["M"] * 5 + ["X"] * 2
    rows = {r["group"]: (r["share"], r["target"]) for r in composition_rows(groups, {"F": 0.4, "M": 0.4, "X": 0.2})}
    # X (2) is masked; the masked ones would hold 2: F, the smallest shown, is masked too
    assert rows == {"F": (None, 40), "M": (50, 40), "X": (None, 20), "not_stated": (0, None)}
    rows = {r["group"]: r["share"] for r in composition_rows(["F"] * 4 + ["M"] * 6, None)}
    assert rows == {"F": 40, "M": 60, "X": 0, "not_stated": 0}
    assert shown_groups({"F": 9, "M": 1, "X": 0, "not_stated": 0}) == {"X", "not_stated"}
    assert shown_groups({"F": 3, "M": 3, "X": 3, "not_stated": 1}) == {"M", "X"}  # ties: the first listed goes


def test_shortlist_table_matches_the_stored_genders(web):
    vacancy_id, _, ids = _shortlisted(web, consent=True)
    with web.workspace.store()[2]() as session:
        genders = [session.get(Youth, y).profile.get("gender") or "not_stated" for y in ids]
    target = web.client.get(f"/v1/vacancies/{vacancy_id}/candidates", headers=web.as_("er")).json()["policy"]["target"]
    sign_in(web.client, web.keys["er"])
    page = web.client.get(f"/offres/{vacancy_id}/candidats").text
    table = dict(re.findall(r'<tr data-group="(\w+)"><th scope="row">[^<]*</th><td data-column="liste"[^>]*>([^<]*)</td>',
                            page))
    counts = Counter(genders)
    assert set(table) == {"F", "M", "X", "not_stated"}
    for group, cell in table.items():
        n = counts.get(group, 0)
        if cell != "masqué":  # a shown share is the stored genders' share, rounded to 10 %
            assert cell == f"{int(10 * n / len(ids) + 0.5) * 10} %", (group, cell, counts)
    expected = {r["group"]: r["share"] for r in composition_rows(genders, target)}
    assert {g: (None if c == "masqué" else int(c.split()[0])) for g, c in table.items()} == expected
    assert not re.search(r"Y-[0-9a-f]{16}", page)
