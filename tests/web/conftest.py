"""Web page fixtures: the API's app and store (``tests/api_fixtures.py``), signed in per role."""

from __future__ import annotations

import re

import pytest
from api_fixtures import api, shared_api

__all__ = ["api", "shared_api", "csrf_of", "sign_in"]

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


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


@pytest.fixture()
def web(api):
    """The module's app with a clean cookie jar (the client is shared by the module's tests)."""
    api.client.cookies.clear()
    yield api
    api.client.cookies.clear()
