"""Outcomes recorded in one click on the suggestions page, and the indicator they feed: five
outcomes of one status in the month turn the Mission Locale's ``outcomes_<status>`` cell from
suppressed (1 to 4) into a count, in ``/v1/indicators`` and on ``/indicateurs``.

Hooks read on ``/indicateurs`` (its last-month table): the row of an indicator
``[data-indicator="<name>"]``, its cells ``[data-group="<group>"]`` (``total``, ``F``...), a
suppressed cell ``[data-suppressed="true"]``; the current month is in the page's default period.
"""

from __future__ import annotations

import re
from datetime import date

from browsing import axe_check, require_pages, screenshot, sign_in_as
from playwright.sync_api import expect


def month_total(web_server, status: str) -> tuple[int | None, bool]:
    """This month's ``outcomes_<status>`` total of ML-METZ (value, suppressed) from the API."""
    month = date.today().replace(day=1).isoformat()
    document = web_server.api("GET", "/v1/indicators", "adviser", params={"from": month}).json()
    row = document["indicators"][f"outcomes_{status}"]
    return row["values"]["total"], "total" in row["suppressed"]


def outcome_cards(page, web_server, status: str):
    """A new youth's suggestions page (opened in ``page``); its cards with a ``status`` button."""
    require_pages("/jeunes/{id}/suggestions")
    before = month_total(web_server, status)
    assert before == (0, False), f"another test recorded '{status}' outcomes this month"
    youth_id = web_server.new_youth()
    sign_in_as(page, web_server.keys["adviser"], "adviser")
    page.goto(f"/jeunes/{youth_id}/suggestions")
    cards = page.locator("[data-rome], [data-vacancy-id]").filter(has=page.locator(f"button[data-status={status}]"))
    assert cards.count() >= 5
    return cards


def record(card, status: str) -> None:
    """Click the outcome button ``status`` of ``card`` and wait for its confirmation."""
    card.locator(f"button[data-status={status}]").click()
    expect(card.locator(".outcome__result")).to_contain_text("Enregistré")


def test_five_outcomes_turn_a_suppressed_indicator_into_a_count(page, web_server):
    cards = outcome_cards(page, web_server, "applied")
    record(cards.nth(0), "applied")
    cards.nth(0).scroll_into_view_if_needed()
    screenshot(page, "suivi-enregistre")
    axe_check(page)  # the page with a confirmation
    assert month_total(web_server, "applied") == (None, True)  # 1: suppressed
    for number in range(1, 4):
        record(cards.nth(number), "applied")
    assert month_total(web_server, "applied") == (None, True)  # 4: still suppressed
    record(cards.nth(4), "applied")
    assert month_total(web_server, "applied") == (5, False)


def test_the_indicators_page_shows_the_cell_change(page, web_server):
    require_pages("/jeunes/{id}/suggestions", "/indicateurs")
    cards = outcome_cards(page, web_server, "hired")
    for number in range(4):
        record(cards.nth(number), "hired")
    indicators = page.context.new_page()  # same session: the adviser's own Mission Locale
    indicators.goto("/indicateurs")
    cell = indicators.locator("[data-indicator=outcomes_hired] [data-group=total]")
    expect(cell).to_have_attribute("data-suppressed", "true")
    record(cards.nth(4), "hired")
    indicators.reload()
    expect(cell).not_to_have_attribute("data-suppressed", "true")
    expect(cell).to_have_text(re.compile(r"^\s*5\s*$"))


def test_a_decline_needs_a_reason_from_the_list(page, web_server):
    require_pages("/jeunes/{id}/suggestions")
    youth_id = web_server.new_youth()
    sign_in_as(page, web_server.keys["adviser"], "adviser")
    page.goto(f"/jeunes/{youth_id}/suggestions")
    card = page.locator("[data-rome]").first
    card.locator("select[name=reason]").select_option("transport_distance")
    record(card, "declined")
    expect(card.locator(".outcome__result")).to_contain_text("transport / distance")
    assert month_total(web_server, "declined") == (None, True)  # one decline: suppressed, not 0
