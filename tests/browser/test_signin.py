"""Sign-in, sign-out and CSRF in the browser: each role lands on its home page, a batch key and
a wrong key are refused, a form posted without its CSRF token is refused, a revoked key's open
session ends."""

from __future__ import annotations

import re

import pytest
from browsing import HOME_OF_ROLE, axe_check, screenshot, sign_in, sign_in_as
from playwright.sync_api import expect


@pytest.mark.parametrize("name, role", [("adviser", "adviser"), ("er", "employer_relations"),
                                        ("admin", "admin")])
def test_each_role_lands_on_its_home_page(page, web_server, name, role):
    sign_in_as(page, web_server.keys[name], role)
    assert page.context.cookies(), "no session cookie after sign-in"
    cookie = page.context.cookies()[0]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert web_server.keys[name] not in page.url and web_server.keys[name] not in page.content()


def test_the_sign_in_page_is_accessible(page):
    page.goto("/connexion")
    expect(page.get_by_label("Clé d'accès")).to_be_visible()
    axe_check(page)
    screenshot(page, "connexion")


def test_a_wrong_key_shows_the_form_again_with_a_message(page, web_server):
    sign_in(page, "psl_" + "0" * 43)
    expect(page).to_have_url(re.compile(r"/connexion$"))
    field = page.locator("input[name=api_key]")
    expect(field).to_have_attribute("aria-invalid", "true")
    message = page.locator("#" + field.get_attribute("aria-describedby"))
    expect(message).to_contain_text("Clé inconnue")
    axe_check(page)  # the page with its error message


def test_a_batch_key_is_refused(page, web_server):
    page.goto("/connexion")
    page.locator("input[name=api_key]").fill(web_server.keys["batch"])
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/connexion")) as answer:
        page.locator("form:has(input[name=api_key]) [type=submit]").click()
    assert answer.value.status == 403
    page.goto("/jeunes")
    expect(page).to_have_url(re.compile(r"/connexion"))  # no session was opened


def test_a_form_without_its_csrf_token_is_refused(page, web_server):
    page.goto("/connexion")
    page.locator("input[name=csrf_token]").evaluate("field => field.remove()")
    page.locator("input[name=api_key]").fill(web_server.keys["adviser"])
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.locator("form:has(input[name=api_key]) [type=submit]").click()
    assert answer.value.status == 403
    page.goto("/jeunes")
    expect(page).to_have_url(re.compile(r"/connexion"))


def test_a_signed_in_form_with_a_forged_csrf_token_is_refused(page, web_server):
    sign_in_as(page, web_server.keys["adviser"], "adviser")
    page.locator("#deconnexion").wait_for()
    page.locator("form[action='/deconnexion'] input[name=csrf_token]").evaluate(
        "field => { field.value = 'forged' + field.value; }")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.locator("#deconnexion").click()
    assert answer.value.status == 403
    page.goto(HOME_OF_ROLE["adviser"])  # still signed in: the forged sign-out did nothing
    expect(page).to_have_url(re.compile(r"/jeunes"))


def test_sign_out_ends_the_session(page, web_server):
    sign_in_as(page, web_server.keys["adviser"], "adviser")
    page.locator("#deconnexion").click()
    expect(page).to_have_url(re.compile(r"/connexion$"))
    page.goto("/jeunes")
    expect(page).to_have_url(re.compile(r"/connexion"))


def test_a_revoked_key_loses_its_open_session_and_cannot_sign_in(page, web_server):
    created = web_server.api("POST", "/v1/keys", "admin", json={
        "role": "adviser", "mission_locale": "ML-METZ", "label": "browser revoked"})
    assert created.status_code == 201, created.text
    key, key_id = created.json()["key"], created.json()["id"]
    sign_in_as(page, key, "adviser")
    assert web_server.api("DELETE", f"/v1/keys/{key_id}", "admin").status_code == 200
    answer = page.goto("/jeunes")
    assert answer is not None and not page.url.endswith("/jeunes"), "the revoked key's session still works"
    sign_in(page, key)
    expect(page).to_have_url(re.compile(r"/connexion$"))


def test_pages_carry_the_security_headers(page, web_server):
    sign_in_as(page, web_server.keys["adviser"], "adviser")
    answer = page.goto("/jeunes")
    headers = answer.all_headers()
    policy = headers["content-security-policy"]
    assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert "script-src 'self'" in policy
    assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"]
