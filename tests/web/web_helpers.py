"""Helpers of the web page tests: CSRF tokens, sign-in, a youth created through the form."""

from __future__ import annotations

import re

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
MARKER = "MARQUEUR-PROFIL-web"
"""In every profile these tests store (tests/conftest.py fails the run if a log line holds it)."""


def csrf_of(html: str) -> str:
    """The CSRF token of the first form of a page."""
    found = _CSRF.search(html)
    assert found, "no csrf_token field on the page"
    return found.group(1)


def sign_in(client, key: str):
    """Sign ``client`` in with ``key`` (cookies kept by the client); return the POST's answer."""
    client.cookies.clear()
    token = csrf_of(client.get("/connexion").text)
    return client.post("/connexion", data={"api_key": key, "csrf_token": token}, follow_redirects=False)


def profile_form(token: str, **changes) -> dict:
    """The fields of a valid profile form (a baker's apprentice in Metz), with ``changes``."""
    data = {"csrf_token": token, "external_id": f"{MARKER}-1", "commune": "Metz (57463)", "mobility_km": "15",
            "age": "19", "gender": "F", "diploma_level": "3",
            "experiences": "Stage en boulangerie : vente au comptoir\nBabysitting",
            "interests": "la cuisine et le contact avec les clients",
            "wished_trades": ["Boulanger / Boulangère (D1102)", "", ""], "contracts": ["apprentissage", "CDD"],
            "available_from": "", "consent_share": "on"}
    data.update(changes)
    return data


def create_youth(web) -> str:
    """A new youth of ML-METZ, created through the form (the fixture erases it after the test)."""
    token = csrf_of(web.client.get("/jeunes/nouveau").text)
    answer = web.client.post("/jeunes/nouveau", data=profile_form(token), follow_redirects=False)
    assert answer.status_code == 303, answer.text[:2000]
    return answer.headers["location"].split("/")[2].split("?")[0]
