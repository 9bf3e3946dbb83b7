"""The harness itself: Debian's Chromium reaches the served app, and axe-core finds what it must."""

from __future__ import annotations

from browsing import axe_violations


def test_chromium_reaches_the_served_app(page, web_server):
    response = page.goto("/health")
    assert response is not None and response.status == 200
    assert web_server.api("GET", "/v1/youths", "adviser").status_code == 200


def test_axe_reports_a_missing_label_and_alt(page):
    page.goto("/health")
    page.set_content('<!doctype html><html lang="fr"><head><title>t</title></head><body><main>'
                     '<h1>t</h1><img src="x.png"><input type="text"></main></body></html>')
    found = {violation["id"]: violation["impact"] for violation in axe_violations(page)}
    assert found.get("image-alt") == "critical" and found.get("label") == "critical"
