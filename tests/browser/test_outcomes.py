"""Outcomes recorded in one click on the suggestions page, and the indicator they feed: five
"Candidature envoyée" in the month turn the Mission Locale's ``outcomes_applied`` cell from
suppressed (1 to 4) into a count on ``/indicateurs``."""

from __future__ import annotations

from datetime import date

from browsing import axe_check, screenshot, sign_in_as
from playwright.sync_api import expect

STATUS = "applied"
INDICATOR = f"outcomes_{STATUS}"


def applied_total(web_server) -> tuple[int | None, bool]:
    """This month's ``outcomes_applied`` total of ML-METZ (value, suppressed) from the API."""
    month = date.today().replace(day=1).isoformat()
    document = web_server.api("GET", "/v1/indicators", "adviser", params={"from": month}).json()
    row = document["indicators"][INDICATOR]
    return row["values"]["total"], "total" in row["suppressed"]


def record(page, card, status: str) -> None:
    """Click the outcome button ``status`` of ``card`` and wait for its confirmation."""
    card.locator(f"button[data-status={status}]").click()
    expect(card.locator(".outcome__result")).to_contain_text("Enregistré")


def test_five_outcomes_turn_a_suppressed_indicator_into_a_count(page, web_server):
    before, hidden = applied_total(web_server)
    assert (before, hidden) == (0, False), "another test recorded 'applied' outcomes this month"
    youth_id = web_server.new_youth()
    sign_in_as(page, web_server.keys["adviser"], "adviser")
    page.goto(f"/jeunes/{youth_id}/suggestions")
    cards = page.locator("[data-rome], [data-vacancy-id]").filter(has=page.locator(f"button[data-status={STATUS}]"))
    assert cards.count() >= 5
    record(page, cards.nth(0), STATUS)
    screenshot(page, "suggestions")
    assert applied_total(web_server) == (None, True)  # 1: suppressed
    for number in range(1, 4):
        record(page, cards.nth(number), STATUS)
    assert applied_total(web_server) == (None, True)  # 4: still suppressed
    record(page, cards.nth(4), STATUS)
    assert applied_total(web_server) == (5, False)
    axe_check(page)  # the page with its confirmations


def test_a_decline_needs_a_reason_from_the_list(page, web_server):
    youth_id = web_server.new_youth()
    sign_in_as(page, web_server.keys["adviser"], "adviser")
    page.goto(f"/jeunes/{youth_id}/suggestions")
    card = page.locator("[data-rome]").first
    card.locator("select[name=reason]").select_option("transport_distance")
    record(page, card, "declined")
    expect(card.locator(".outcome__result")).to_contain_text("transport / distance")
    month = date.today().replace(day=1).isoformat()
    document = web_server.api("GET", "/v1/indicators", "admin", params={"from": month}).json()
    assert document["indicators"]["outcomes_declined"]["values"]["total"] != 0
