"""Employer-relations pages: the territory's vacancies, a new vacancy (ROME code inferred, then
confirmed, then saved once through the API's path), the shortlist's pseudonymised cards and its
exports; scoping by role and territory."""

from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook
from sqlalchemy import func, select
from web_helpers import csrf_of, sign_in

from service.store.models import Vacancy, Youth

VACANCY = {"title": "Vendeur en boulangerie (H/F)",
           "description": "Vente de pain et de viennoiseries au comptoir, encaissement, mise en rayon.",
           "contract": "CDI", "places": "1", "beginners_accepted": "on"}


def _vacancy_count(web) -> int:
    _, _, read_sessions = web.workspace.store()
    with read_sessions() as session:
        return session.scalar(select(func.count()).select_from(Vacancy))


def _open_vacancy(web) -> str:
    """An open vacancy of ML-METZ whose shortlist has candidates."""
    vacancies = web.client.get("/v1/vacancies", headers=web.as_("er"), params={"status": "open"}).json()
    for vacancy in vacancies[:20]:
        found = web.client.get(f"/v1/vacancies/{vacancy['id']}/candidates", headers=web.as_("er")).json()
        if found["candidates"]:
            return vacancy["id"]
    raise AssertionError("no open vacancy of ML-METZ with candidates")


def test_vacancy_list_shows_the_territory_and_more(web):
    sign_in(web.client, web.keys["er"])
    page = web.client.get("/offres")
    assert page.status_code == 200
    ids = re.findall(r'data-vacancy-id="([^"]+)"', page.text)
    own = {v["id"] for v in web.client.get("/v1/vacancies", headers=web.as_("er"), params={"limit": 1000}).json()}
    assert 0 < len(ids) <= 20 and set(ids) <= own
    if 'id="voir-plus-bouton"' in page.text:
        more = web.client.post("/offres/plus", data={"csrf_token": csrf_of(page.text), "offset": "20"})
        assert more.status_code == 200 and 'hx-swap-oob="true"' in more.text
        shown = set(re.findall(r'data-vacancy-id="([^"]+)"', more.text))
        assert shown and not shown & set(ids) and shown <= own
        longer = web.client.post("/offres", data={"csrf_token": csrf_of(page.text), "offset": "20"})
        assert len(re.findall(r"data-vacancy-id=", longer.text)) > len(ids)


def test_roles_and_territory(web):
    vacancy_id = _open_vacancy(web)
    sign_in(web.client, web.keys["adviser"])
    for path in ("/offres", "/offres/nouvelle", f"/offres/{vacancy_id}/candidats"):
        assert web.client.get(path).status_code == 403  # another role: the 403 page, as /jeunes for er
    sign_in(web.client, web.keys["er"])
    assert web.client.get("/jeunes").status_code == 403
    sign_in(web.client, web.keys["er_other"])
    other = web.client.get(f"/offres/{vacancy_id}/candidats")
    unknown = web.client.get("/offres/V-0000000000000000/candidats")
    assert other.status_code == unknown.status_code == 404
    assert other.text.count("existe pas") == unknown.text.count("existe pas") >= 1
    assert web.client.get(f"/offres/{vacancy_id}/candidats.csv").status_code == 404
    assert vacancy_id not in web.client.get("/offres").text
    web.client.cookies.clear()
    assert web.client.get("/offres", follow_redirects=False).headers["location"] == "/connexion"


def test_infer_then_confirm_stores_exactly_one_vacancy(web):
    sign_in(web.client, web.keys["er"])
    form = web.client.get("/offres/nouvelle")
    assert form.status_code == 200 and 'id="verifier"' in form.text
    siret = re.search(r'<select id="employer_siret"[^>]*>\s*<option value="(\d{14})"', form.text).group(1)
    data = {"csrf_token": csrf_of(form.text), "employer_siret": siret, "jeton": "t1", **VACANCY}
    before = _vacancy_count(web)
    check = web.client.post("/offres/nouvelle", data={**data, "etape": "verifier"})
    assert check.status_code == 200, check.text[:2000]
    codes = re.findall(r'<li data-rome="([A-N]\d{4})"', check.text)
    assert 2 <= len(codes) <= 4 and 'data-proposed="true"' in check.text
    assert 'value="Vendeur en boulangerie (H/F)"' in check.text  # entries carried to the confirmation
    assert _vacancy_count(web) == before  # shown, not saved
    chosen = codes[0]
    saved = web.client.post("/offres/nouvelle", data={**data, "etape": "enregistrer", "code_rome": chosen},
                            follow_redirects=False)
    assert saved.status_code == 303, saved.text[:2000]
    vacancy_id = re.fullmatch(r"/offres/(V-[0-9a-f]{16})/candidats\?enregistree=1", saved.headers["location"]).group(1)
    again = web.client.post("/offres/nouvelle", data={**data, "etape": "enregistrer", "code_rome": chosen})
    assert again.status_code == 422  # the same confirmation posted twice: no twin
    assert _vacancy_count(web) == before + 1
    stored = web.client.get(f"/v1/vacancies/{vacancy_id}", headers=web.as_("er")).json()
    assert stored["code_rome"] == chosen and stored["title"] == VACANCY["title"]
    assert stored["employer_siret"] == siret
    shortlist = web.client.get(saved.headers["location"])
    assert shortlist.status_code == 200 and 'id="offre-enregistree"' in shortlist.text


def test_form_errors_keep_the_entries(web):
    sign_in(web.client, web.keys["er"])
    form = web.client.get("/offres/nouvelle")
    data = {"csrf_token": csrf_of(form.text), "employer_siret": "", "etape": "verifier",
            **VACANCY, "title": "", "places": "5000", "description": "Pétrissage & façonnage"}
    before = _vacancy_count(web)
    answer = web.client.post("/offres/nouvelle", data=data)
    assert answer.status_code == 422
    for field in ("title", "places", "employer_siret"):
        assert f'id="{field}-error"' in answer.text, field
    assert re.search(r'id="places"[^>]*aria-describedby="places-hint places-error"', answer.text)
    assert 'value="5000"' in answer.text and "Pétrissage &amp; façonnage" in answer.text
    outside = web.client.post("/offres/nouvelle", data={**data, "title": "Boulanger", "places": "1",
                                                         "employer_siret": "00000000000000"})
    assert outside.status_code == 422 and 'id="employer_siret-error"' in outside.text
    no_token = web.client.post("/offres/nouvelle", data={**data, "csrf_token": ""})
    assert no_token.status_code == 403
    assert _vacancy_count(web) == before


def test_shortlist_cards_are_pseudonymised_and_exported(web):
    vacancy_id = _open_vacancy(web)
    sign_in(web.client, web.keys["er"])
    page = web.client.get(f"/offres/{vacancy_id}/candidats", params={"balance": "parity"})
    assert page.status_code == 200
    cards = re.findall(r"<li class=\"card\" data-youth-card data-shared=\"(\w+)\">", page.text)
    api = web.client.get(f"/v1/vacancies/{vacancy_id}/candidates", headers=web.as_("er"),
                         params={"balance": "parity"}).json()
    assert len(cards) == len(api["candidates"]) and set(cards) <= {"false"}
    assert cards, "no candidate on this vacancy's shortlist"
    _, _, read_sessions = web.workspace.store()
    with read_sessions() as session:
        references = [ref for ref in session.scalars(select(Youth.external_id)) if ref]
    assert not re.search(r"Y-[0-9a-f]{16}", page.text)  # no youth id
    assert "Genre</dt>" not in page.text and "MARQUEUR" not in page.text  # no gender, no free text
    assert not [ref for ref in references if ref in page.text]  # no dossier reference
    assert api["candidates"][0]["candidate_ref"] in page.text  # what the adviser is sent
    if (api.get("policy") or {}).get("target"):
        assert 'id="target-table"' in page.text and "<meter" in page.text
    assert 'id="balance-parity" name="balance" value="parity" checked' in page.text
    assert web.client.get(f"/offres/{vacancy_id}/candidats", params={"balance": "nope"}).status_code == 422
    exported = web.client.get(f"/offres/{vacancy_id}/candidats.csv", params={"balance": "parity"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert f'filename="candidats-{vacancy_id}.csv"' in exported.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) - 1 == len(cards)
    book = load_workbook(io.BytesIO(web.client.get(f"/offres/{vacancy_id}/candidats.xlsx").content))
    assert book.sheetnames == ["Candidats", "À propos"]
    assert book["Candidats"].max_row - 1 == len(api["candidates"])
    assert web.client.get(f"/offres/{vacancy_id}/candidats.pdf").status_code == 404
