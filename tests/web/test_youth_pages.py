"""Adviser pages: the list, a profile, the profile form (errors keep the entries), scoping."""

from __future__ import annotations

import re

from sqlalchemy import select
from web_helpers import create_youth, csrf_of, profile_form, sign_in

from service.store.models import Youth


def _metz_youth(web) -> str:
    _, _, read_sessions = web.workspace.store()
    with read_sessions() as session:
        return session.scalars(select(Youth.id).where(Youth.mission_locale == "ML-METZ").order_by(Youth.id)).first()


def test_list_shows_own_youths_with_links_and_more_button(web):
    assert sign_in(web.client, web.keys["adviser"]).status_code == 303
    page = web.client.get("/jeunes")
    assert page.status_code == 200
    ids = re.findall(r'data-youth-id="([^"]+)"', page.text)
    assert 0 < len(ids) <= 20
    assert f'href="/jeunes/{ids[0]}"' in page.text
    assert "<th scope=\"col\">Dernières suggestions</th>" in page.text
    if 'id="voir-plus-bouton"' in page.text:
        more = web.client.post("/jeunes/plus", data={"csrf_token": csrf_of(page.text), "q": "", "offset": "20"})
        assert more.status_code == 200 and 'hx-swap-oob="true"' in more.text
        assert not set(re.findall(r'data-youth-id="([^"]+)"', more.text)) & set(ids)


def test_search_is_posted_not_put_in_the_url(web):
    sign_in(web.client, web.keys["adviser"])
    page = web.client.get("/jeunes")
    assert 'method="post" action="/jeunes"' in page.text
    found = web.client.post("/jeunes", data={"csrf_token": csrf_of(page.text), "q": "zzz-aucun"})
    assert found.status_code == 200 and 'id="aucun-jeune"' in found.text


def test_create_profile_then_see_it(web):
    sign_in(web.client, web.keys["adviser"])
    token = csrf_of(web.client.get("/jeunes/nouveau").text)
    answer = web.client.post("/jeunes/nouveau", data=profile_form(token), follow_redirects=False)
    assert answer.status_code == 303, answer.text[:2000]
    location = answer.headers["location"]
    assert re.fullmatch(r"/jeunes/Y-[0-9a-f]{16}\?enregistre=1", location)
    profile = web.client.get(location)
    assert "Profil enregistré" in profile.text and "Metz (57463)" in profile.text
    assert "Boulanger" in profile.text


def test_form_error_is_shown_by_its_field_and_entries_are_kept(web):
    sign_in(web.client, web.keys["adviser"])
    token = csrf_of(web.client.get("/jeunes/nouveau").text)
    answer = web.client.post("/jeunes/nouveau", data=profile_form(token, mobility_km="500", interests="j'aime le vélo"))
    assert answer.status_code == 422
    assert 'id="mobility_km-error"' in answer.text
    assert re.search(r'id="mobility_km"[^>]*aria-describedby="mobility_km-hint mobility_km-error"', answer.text)
    assert 'value="500"' in answer.text and "j&#39;aime le vélo" in answer.text
    assert 'value="Metz (57463)"' in answer.text
    unknown = web.client.post("/jeunes/nouveau", data=profile_form(token, commune="Nullepart-sur-Rien"))
    assert unknown.status_code == 422 and 'id="commune-error"' in unknown.text
    empty = web.client.post("/jeunes/nouveau", data=profile_form(token, experiences="", interests="",
                                                           wished_trades=["", "", ""]))
    assert empty.status_code == 422 and 'id="experiences-error"' in empty.text


def test_edit_profile_keeps_version_and_saves(web):
    sign_in(web.client, web.keys["adviser"])
    youth_id = create_youth(web)
    form = web.client.get(f"/jeunes/{youth_id}/modifier")
    assert form.status_code == 200 and 'name="version"' in form.text
    version = re.search(r'name="version" value="(\d+)"', form.text).group(1)
    data = profile_form(csrf_of(form.text), version=version)
    answer = web.client.post(f"/jeunes/{youth_id}/modifier", data=data, follow_redirects=False)
    assert answer.status_code == 303
    stale = web.client.post(f"/jeunes/{youth_id}/modifier", data=data)
    assert stale.status_code == 422 and "modifié entre-temps" in stale.text


def test_another_mission_locale_youth_is_a_404_page_like_an_unknown_one(web):
    sign_in(web.client, web.keys["adviser_other"])
    youth_id = _metz_youth(web)
    for path in (f"/jeunes/{youth_id}", f"/jeunes/{youth_id}/modifier", f"/jeunes/{youth_id}/suggestions",
                 f"/jeunes/{youth_id}/fiche", f"/jeunes/{youth_id}/suggestions.csv"):
        theirs, unknown = web.client.get(path), web.client.get(path.replace(youth_id, "Y-0000000000000000"))
        assert theirs.status_code == unknown.status_code == 404, path
        assert theirs.text.replace(youth_id, "") .count("Page introuvable") == unknown.text.count("Page introuvable")


def test_other_roles_may_not_see_adviser_pages(web):
    sign_in(web.client, web.keys["er"])
    assert web.client.get("/jeunes").status_code == 403
    web.client.cookies.clear()
    assert web.client.get("/jeunes", follow_redirects=False).headers["location"] == "/connexion"


def test_autocompletion_of_communes_and_trades(web):
    sign_in(web.client, web.keys["adviser"])
    communes = web.client.get("/referentiel/communes", params={"commune": "metz"})
    assert '<option value="Metz (57463)">' in communes.text
    trades = web.client.get("/referentiel/metiers", params={"wished_trades": "boulang"})
    assert "(D1102)" in trades.text
