"""Every page, as each role sees it (the sign-in page and the error pages: test_signin.py,
test_adviser.py): axe-core (every rule) finds no serious or critical
violation at 1280 px and at 360 px, the page does not scroll sideways on a 360 px phone, and
it logs no console error (a script or style refused by the Content-Security-Policy would).

With ``PASSERELLE_SCREENSHOTS=1`` each page is also saved under ``docs/screenshots/`` (the
README shows them)."""

from __future__ import annotations

import pytest
from browsing import axe_check, no_console_errors, require_pages, screenshot, sign_in

PAGES = [
    # (screenshot name, key, path): {youth} is a youth of the adviser, {vacancy} an open vacancy of ML-METZ
    ("jeunes", "adviser", "/jeunes"),
    ("jeune-profil", "adviser", "/jeunes/{youth}"),
    ("jeune-modifier", "adviser", "/jeunes/{youth}/modifier"),
    ("jeune-suggestions", "adviser", "/jeunes/{youth}/suggestions"),
    ("jeune-fiche", "adviser", "/jeunes/{youth}/fiche"),
    ("offres", "er", "/offres"),
    ("offre-nouvelle", "er", "/offres/nouvelle"),
    ("offre-candidats", "er", "/offres/{vacancy}/candidats"),
    ("indicateurs-admin", "admin", "/indicateurs"),
    ("indicateurs-conseiller", "adviser", "/indicateurs"),
]
PHONE = 360


@pytest.fixture(scope="module")
def ids(web_server) -> dict[str, str]:
    vacancies = web_server.api("GET", "/v1/vacancies", "er").json()
    open_ids = [v["id"] for v in vacancies if v.get("status", "open") == "open"]
    assert open_ids, "no open vacancy in ML-METZ"
    return {"youth": web_server.new_youth(marked=False), "vacancy": open_ids[0]}


def sideways_overflow(page) -> int:
    """How many pixels the page is wider than the viewport (0: no horizontal scrolling)."""
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.mark.parametrize("name, key, path", PAGES)
def test_page_is_accessible_at_desktop_and_phone_widths(page, web_server, ids, name, key, path):
    require_pages(path)
    sign_in(page, web_server.keys[key])
    answer = page.goto(path.format(**ids))
    assert answer is not None and answer.status == 200, f"{path} answered {answer and answer.status}"
    axe_check(page)
    page.set_viewport_size({"width": PHONE, "height": 740})
    assert sideways_overflow(page) <= 0, f"{path} scrolls sideways at {PHONE} px"
    screenshot(page, f"{name}-{PHONE}")
    page.set_viewport_size({"width": 1280, "height": 800})
    screenshot(page, name)
    no_console_errors(page)


def test_keyboard_users_skip_to_the_content_and_see_the_focus(page, web_server):
    sign_in(page, web_server.keys["adviser"])
    page.goto("/jeunes")
    skip = page.locator("a[href='#contenu']")
    assert not skip.is_visible() or skip.bounding_box()["y"] < 0  # hidden until focused
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.getAttribute('href')") == "#contenu"
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0  # shown when focused
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "contenu"
    page.keyboard.press("Tab")  # the first control of the content
    style = page.evaluate("() => { const s = getComputedStyle(document.activeElement);"
                          " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }")
    assert style[0] != "none" and style[1] >= 2, f"no visible focus ring: {style}"
