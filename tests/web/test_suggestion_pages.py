"""Suggestions page (the API's document, shown), outcomes in one click, fiche and exports."""

from __future__ import annotations

import io
import re

from web_helpers import create_youth, csrf_of, sign_in

from service.store.models import Outcome


def test_suggestions_page_shows_cards_with_their_attributes(web):
    sign_in(web.client, web.keys["adviser"])
    youth_id = create_youth(web)
    page = web.client.get(f"/jeunes/{youth_id}/suggestions")
    assert page.status_code == 200
    codes = re.findall(r'data-rome="([A-N]\d{4})"', page.text)
    assert codes and "D1102" in codes
    assert re.findall(r'data-vacancy-id="([^"]+)"', page.text)
    assert "Compétences à acquérir" in page.text and "Compétences déjà montrées" in page.text
    assert "% de femmes" in page.text
    assert 'id="mix-counter_stereotype"' in page.text
    off = web.client.get(f"/jeunes/{youth_id}/suggestions", params={"mix": "off"})
    assert 'data-marker="mixite"' not in off.text
    assert web.client.get(f"/jeunes/{youth_id}/suggestions", params={"mix": "nope"}).status_code == 422


def test_one_click_outcome_is_recorded_by_the_store(web):
    sign_in(web.client, web.keys["adviser"])
    youth_id = create_youth(web)
    page = web.client.get(f"/jeunes/{youth_id}/suggestions")
    suggestion_id = re.search(r'name="suggestion_id" value="(\d+)"', page.text).group(1)
    token = csrf_of(page.text)
    done = web.client.post(f"/jeunes/{youth_id}/suivi", headers={"HX-Request": "true"},
                           data={"csrf_token": token, "suggestion_id": suggestion_id, "status": "contacted"})
    assert done.status_code == 200 and "Enregistré" in done.text
    declined = web.client.post(f"/jeunes/{youth_id}/suivi", data={
        "csrf_token": token, "suggestion_id": suggestion_id, "status": "declined", "reason": "transport_distance"})
    assert declined.status_code == 200 and "transport / distance" in declined.text
    _, _, read_sessions = web.workspace.store()
    with read_sessions() as session:
        statuses = {(o.status, o.reason) for o in session.query(Outcome).filter_by(suggestion_id=int(suggestion_id))}
    assert statuses == {("contacted", None), ("declined", "transport_distance")}
    bad = web.client.post(f"/jeunes/{youth_id}/suivi", data={
        "csrf_token": token, "suggestion_id": suggestion_id, "status": "declined", "reason": "nope"})
    assert bad.status_code == 422
    no_token = web.client.post(f"/jeunes/{youth_id}/suivi", data={"suggestion_id": suggestion_id, "status": "hired"})
    assert no_token.status_code == 403


def test_outcome_on_another_mission_locale_suggestion_is_404(web):
    sign_in(web.client, web.keys["adviser"])
    youth_id = create_youth(web)
    page = web.client.get(f"/jeunes/{youth_id}/suggestions")
    suggestion_id = re.search(r'name="suggestion_id" value="(\d+)"', page.text).group(1)
    sign_in(web.client, web.keys["adviser_other"])
    token = csrf_of(web.client.get("/jeunes").text)
    answer = web.client.post(f"/jeunes/{youth_id}/suivi", data={
        "csrf_token": token, "suggestion_id": suggestion_id, "status": "contacted"})
    assert answer.status_code == 404


def test_fiche_and_exports(web):
    from openpyxl import load_workbook

    sign_in(web.client, web.keys["adviser"])
    youth_id = create_youth(web)
    fiche = web.client.get(f"/jeunes/{youth_id}/fiche")
    assert fiche.status_code == 200 and 'media="print"' in fiche.text and "À apprendre" in fiche.text
    csv = web.client.get(f"/jeunes/{youth_id}/suggestions.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    text = csv.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Rang;Type;Code ROME;Intitulé") and "D1102" in text
    assert "Compétences à acquérir" in text.splitlines()[0]
    xlsx = web.client.get(f"/jeunes/{youth_id}/suggestions.xlsx", params={"mix": "off"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.cell(1, 4).value == "Intitulé" and sheet.max_row > 2
    assert web.client.get(f"/jeunes/{youth_id}/suggestions.pdf").status_code == 404


def test_no_key_or_dossier_reference_in_any_link(web):
    sign_in(web.client, web.keys["adviser"])
    youth_id = create_youth(web)
    for path in ("/jeunes", f"/jeunes/{youth_id}", f"/jeunes/{youth_id}/suggestions", f"/jeunes/{youth_id}/fiche"):
        html = web.client.get(path).text
        for url in re.findall(r'(?:href|action|hx-get|hx-post)="([^"]*)"', html):
            assert "psl_" not in url and "MARQUEUR" not in url, (path, url)
