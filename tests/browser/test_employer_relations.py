"""The employer-relations flow in the browser, up to the export: the territory's vacancies, a
new vacancy whose ROME code is inferred from its title and shown for confirmation before it is
saved, its balanced shortlist of pseudonymised cards, the shortlist's CSV export, and a share
request from a card (htmx answer in the card, axe still clean).

Hooks read: the list's rows ``[data-vacancy-id]``, the form's fields by their labels,
``#verifier`` then ``#confirmer``, the inferred codes ``[data-rome]`` (the proposed one first),
candidate cards ``[data-youth-card]``, ``?balance=pool|parity|off``, ``#export-csv``.
"""

from __future__ import annotations

import csv
import io
import re

from browsing import axe_check, require_pages, screenshot, sign_in_as
from playwright.sync_api import expect


def test_employer_relations_flow_up_to_the_export(page, web_server):
    require_pages("/offres", "/offres/nouvelle", "/offres/{id}/candidats")
    before = len(web_server.api("GET", "/v1/vacancies", "er", params={"limit": 1000}).json())
    sign_in_as(page, web_server.keys["er"], "employer_relations")
    expect(page.locator("[data-vacancy-id]").first).to_be_visible()  # the territory's vacancies
    page.goto("/offres/nouvelle")
    page.get_by_label("Intitulé du poste").fill("Vendeur en boulangerie (H/F)")
    page.get_by_label("Description du poste").fill(
        "Vente de pain et de viennoiseries au comptoir, encaissement, mise en rayon.")
    page.locator("#verifier").click()
    inferred = page.locator("[data-rome]").first
    expect(inferred).to_be_visible()  # shown for confirmation, not saved yet
    code = inferred.get_attribute("data-rome")
    assert re.fullmatch(r"[A-N]\d{4}", code or "")
    assert len(web_server.api("GET", "/v1/vacancies", "er", params={"limit": 1000}).json()) == before
    screenshot(page, "offre-confirmation")
    axe_check(page)
    page.locator("#confirmer").click()
    expect(page.locator("#offre-enregistree")).to_be_visible()
    vacancy_id = re.search(r"/offres/([^/?]+)", page.url).group(1)
    assert web_server.api("GET", f"/v1/vacancies/{vacancy_id}", "er").json()["code_rome"] == code
    page.goto(f"/offres/{vacancy_id}/candidats?balance=parity")
    cards = page.locator("[data-youth-card]")
    expect(cards.first).to_be_visible()
    names = [n["external_id"] for n in web_server.api("GET", "/v1/youths", "adviser").json() if n["external_id"]]
    assert not any(name in page.locator("main").inner_text() for name in names[:50])  # pseudonymised
    with page.expect_download() as download:
        page.locator("#export-csv").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig")), delimiter=";"))
    assert len(rows) - 1 == cards.count()  # one row per card shown, under a header

    first = cards.first
    first.locator("button[data-share-request]").click()  # htmx: the answer lands in the card
    expect(first.get_by_role("status")).to_have_text("Demande envoyée au conseiller")
    assert not re.search(r"Y-[0-9a-f]{16}", page.content())  # the youth's id never in the page
    expect(page.locator("#target-table tr[data-group]")).to_have_count(4)
    axe_check(page)
