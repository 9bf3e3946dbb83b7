"""Sign-in, sign-out, CSRF, revoked keys and security headers of the web pages."""

from __future__ import annotations

from web_helpers import csrf_of, sign_in

from service.store import crud


def test_sign_in_page_is_french_and_has_the_key_field(web):
    answer = web.client.get("/connexion")
    assert answer.status_code == 200
    assert '<html lang="fr">' in answer.text
    assert 'name="api_key"' in answer.text and 'name="csrf_token"' in answer.text
    assert '<label for="api_key">' in answer.text


def test_each_role_lands_on_its_home(web):
    for name, home in [("adviser", "/jeunes"), ("er", "/offres"), ("admin", "/indicateurs")]:
        answer = sign_in(web.client, web.keys[name])
        assert answer.status_code == 303, name
        assert answer.headers["location"] == home
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
        assert web.keys[name] not in cookie


def test_batch_key_is_refused(web):
    answer = sign_in(web.client, web.keys["batch"])
    assert answer.status_code == 403
    assert "traitement par lots" in answer.text
    assert "set-cookie" not in answer.headers or "passerelle_session=" not in answer.headers.get("set-cookie", "")


def test_wrong_key_shows_the_form_again_with_its_message(web):
    answer = sign_in(web.client, "psl_not-a-key")
    assert answer.status_code == 401
    assert 'aria-describedby="api_key-error"' in answer.text
    assert "Clé inconnue ou révoquée" in answer.text


def test_post_without_csrf_token_is_refused(web):
    web.client.get("/connexion")
    answer = web.client.post("/connexion", data={"api_key": web.keys["adviser"]}, follow_redirects=False)
    assert answer.status_code == 403
    answer = web.client.post("/connexion", data={"api_key": web.keys["adviser"], "csrf_token": "forged"},
                             follow_redirects=False)
    assert answer.status_code == 403


def test_sign_out_needs_its_token_and_ends_the_session(web):
    sign_in(web.client, web.keys["admin"])
    page = web.client.get("/")
    assert page.status_code == 303 or page.history
    home = web.client.get("/", follow_redirects=False)
    assert home.headers["location"] == "/indicateurs"
    assert web.client.post("/deconnexion", data={}, follow_redirects=False).status_code == 403
    token = csrf_of(web.client.get("/connexion").text)
    answer = web.client.post("/deconnexion", data={"csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/connexion"
    assert web.client.get("/", follow_redirects=False).headers["location"] == "/connexion"


def test_revoked_key_session_is_refused_at_its_next_request(web):
    _, sessions, _ = web.workspace.store()
    with sessions.begin() as session:
        row, key = crud.create_api_key(session, "admin", label="web-revoked")
    assert sign_in(web.client, key).status_code == 303
    assert web.client.get("/", follow_redirects=False).headers["location"] == "/indicateurs"
    with sessions.begin() as session:
        crud.revoke_api_key(session, row.id)
    answer = web.client.get("/", follow_redirects=False)
    assert answer.headers["location"] == "/connexion"
    assert sign_in(web.client, key).status_code == 401


def test_security_headers_on_pages_not_on_the_api(web):
    for path in ("/connexion", "/page-inconnue", "/static/css/passerelle.css"):
        answer = web.client.get(path)
        policy = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
        assert "script-src 'self'" in policy
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"]
    api_answer = web.client.get("/health")
    assert "content-security-policy" not in api_answer.headers


def test_unknown_page_is_a_french_404_page(web):
    answer = web.client.get("/page-inconnue")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "Page introuvable" in answer.text
    assert web.client.get("/v1/nothing", headers=web.as_("admin")).headers["content-type"].startswith(
        "application/problem+json")


def test_pages_have_no_inline_script_or_style(web):
    html = web.client.get("/connexion").text
    assert "<script>" not in html and "<style" not in html and " style=" not in html
    assert "/static/vendor/htmx/htmx.min.js" in html
    assert web.client.get("/static/vendor/htmx/htmx.min.js").status_code == 200
