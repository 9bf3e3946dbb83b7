"""An adviser's pages in the browser: create a youth through the form (with the commune
autocompletion), a form error that keeps the entries, suggestions and the mix policy switch,
another Mission Locale's youth answering 404."""

from __future__ import annotations

import re

from browsing import axe_check, no_console_errors, require_pages, screenshot, sign_in_as
from playwright.sync_api import expect

BAD_ENTRIES = {"Commune de résidence": "Villeinconnue-sur-Moselle", "Âge": "20",
               "Expériences (une par ligne)": "Livreur à vélo\nBénévole aux Restos du coeur",
               "Centres d'intérêt": "le sport, pas dans un bureau"}
"""A profile whose commune does not exist: every other entry must come back as typed."""


def fill(page, entries: dict[str, str]) -> None:
    """Type each value into the field labelled by its key."""
    for label, value in entries.items():
        page.get_by_label(label).fill(value)


def trade_codes(page) -> list[str]:
    return page.locator("#trade-cards [data-rome]").evaluate_all("cards => cards.map(c => c.dataset.rome)")


def test_create_a_youth_then_see_suggestions(page, web_server):
    require_pages("/jeunes/nouveau", "/jeunes/{id}", "/jeunes/{id}/suggestions")
    sign_in_as(page, web_server.keys["adviser"], "adviser")
    page.locator("#nouveau-profil").click()
    expect(page).to_have_url(re.compile(r"/jeunes/nouveau$"))
    page.get_by_label("Référence du dossier").fill("DOSSIER-MARQUEUR-PROFIL-browser-form")
    commune = page.get_by_label("Commune de résidence")
    commune.press_sequentially("Metz", delay=50)  # htmx fills the datalist from the referential
    expect(page.locator("#communes-list option[value='Metz (57463)']")).to_have_count(1)
    commune.fill("Metz (57463)")
    fill(page, {"Âge": "19", "Métier souhaité 1": "Boulangerie - viennoiserie (D1102)",
                "Expériences (une par ligne)": "Stage en boulangerie : vente et encaissement",
                "Centres d'intérêt": "J'aime la cuisine et le contact avec les clients"})
    page.get_by_label("Genre").select_option("F")
    page.get_by_label("Apprentissage").check()
    screenshot(page, "jeune-nouveau")
    page.locator("#enregistrer").click()
    expect(page).to_have_url(re.compile(r"/jeunes/Y-[^/?]+\?enregistre=1$"))
    expect(page.locator("#profil-enregistre")).to_be_visible()
    youth_id = re.search(r"/jeunes/([^/?]+)", page.url).group(1)
    stored = web_server.api("GET", f"/v1/youths/{youth_id}").json()["profile"]
    assert stored["commune_insee"] == "57463" and stored["wished_trades"] == ["D1102"]
    assert stored["age"] == 19 and stored["contracts"] == ["apprentissage"]
    page.locator("#voir-suggestions").click()
    expect(page).to_have_url(re.compile(rf"/jeunes/{youth_id}/suggestions"))
    cards = page.locator("#trade-cards [data-rome]")
    expect(cards.first).to_be_visible()
    assert "D1102" in trade_codes(page)  # the wished trade is suggested
    expect(page.locator("#vacancy-cards [data-vacancy-id]").first).to_be_visible()
    no_console_errors(page)


def stored_count(web_server) -> int:
    return len(web_server.api("GET", "/v1/youths", params={"limit": 1000}).json())


def test_a_form_error_keeps_the_entries(page, web_server):
    before = stored_count(web_server)
    sign_in_as(page, web_server.keys["adviser"], "adviser")
    page.goto("/jeunes/nouveau")
    fill(page, BAD_ENTRIES)
    page.get_by_label("Genre").select_option("M")
    page.get_by_label("Intérim").check()
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.locator("#enregistrer").click()
    assert answer.value.status == 422
    commune = page.get_by_label("Commune de résidence")
    expect(commune).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#commune-error")).to_contain_text("introuvable")
    expect(page.locator("#form-errors")).to_contain_text("introuvable")
    for label, value in BAD_ENTRIES.items():
        expect(page.get_by_label(label)).to_have_value(value)
    expect(page.get_by_label("Genre")).to_have_value("M")
    expect(page.get_by_label("Intérim")).to_be_checked()
    axe_check(page)
    screenshot(page, "jeune-erreur")
    assert stored_count(web_server) == before  # nothing was stored


def test_switching_the_mix_policy_changes_the_trade_list(page, web_server):
    require_pages("/jeunes/{id}/suggestions")
    youth_id = web_server.new_youth(gender="F", wished_trades=["D1202", "M1607"],
                                    interests="J'aime la coiffure, l'esthétique et l'accueil",
                                    experiences=["Stage dans un salon de coiffure", "Accueil en mairie"])
    sign_in_as(page, web_server.keys["adviser"], "adviser")
    page.goto(f"/jeunes/{youth_id}/suggestions?mix=off")
    expect(page.locator("#trade-cards")).to_have_attribute("data-mix-policy", "off")
    relevance_only = trade_codes(page)
    assert relevance_only and page.locator("#trade-cards [data-mix=true]").count() == 0
    page.locator("#mix-counter_stereotype").check()
    page.locator("#appliquer-mixite").click()
    expect(page).to_have_url(re.compile(r"mix=counter_stereotype"))
    expect(page.locator("#trade-cards")).to_have_attribute("data-mix-policy", "counter_stereotype")
    mixed = trade_codes(page)
    assert mixed != relevance_only
    marked = page.locator("#trade-cards [data-mix=true]")
    assert marked.count() >= 1
    expect(marked.first.locator("[data-marker=mixite]")).to_have_text("Proposé pour la mixité")
    assert set(marked.evaluate_all("cards => cards.map(c => c.dataset.rome)")) <= set(mixed)


def test_another_mission_locales_youth_answers_404(page, web_server):
    theirs = web_server.api("GET", "/v1/youths", "adviser_other").json()
    assert theirs, "no youth in the other Mission Locale"
    other_id = theirs[0]["id"]
    assert web_server.api("GET", f"/v1/youths/{other_id}", "adviser_other").status_code == 200
    sign_in_as(page, web_server.keys["adviser"], "adviser")
    answer = page.goto("/jeunes/Y-does-not-exist")
    assert answer is not None and answer.status == 404
    unknown = page.locator("main").inner_text()
    for path in (f"/jeunes/{other_id}", f"/jeunes/{other_id}/suggestions", f"/jeunes/{other_id}/modifier"):
        answer = page.goto(path)
        assert answer is not None and answer.status == 404, path
        assert page.locator("main").inner_text() == unknown  # the same page as an unknown id
    axe_check(page)  # the 404 page itself
    screenshot(page, "erreur-404")


def test_voir_plus_appends_the_next_young_people(page, web_server):
    sign_in_as(page, web_server.keys["adviser"], "adviser")
    rows = page.locator("#youth-rows tr[data-youth-id]")
    first = rows.evaluate_all("rows => rows.map(r => r.dataset.youthId)")
    assert len(first) == 20  # one page
    page.locator("#voir-plus-bouton").click()  # htmx appends the next rows in place
    expect(rows).not_to_have_count(20)
    shown = rows.evaluate_all("rows => rows.map(r => r.dataset.youthId)")
    assert shown[:20] == first and len(set(shown)) == len(shown) > 20
    expect(page).to_have_url(re.compile(r"/jeunes$"))  # no reload, nothing in the URL
    no_console_errors(page)


def test_a_search_is_posted_never_put_in_the_url(page, web_server):
    sign_in_as(page, web_server.keys["adviser"], "adviser")
    page.get_by_label("Rechercher un jeune").fill("Vigy")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.locator("#youth-table caption")).to_contain_text("Vigy")
    assert "Vigy" not in page.url and "?" not in page.url
    communes = page.locator("#youth-rows tr td:first-of-type").all_inner_texts()
    assert communes and all(text.startswith("Vigy") for text in communes)
