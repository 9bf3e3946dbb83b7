"""Web page fixtures: the API's app and store (``tests/api_fixtures.py``), built once for the
whole ``tests/web`` package (encoding the store is the slow part), each test's writes undone."""

from __future__ import annotations

import pytest
from api_fixtures import running_api, undone


@pytest.fixture(scope="package", params=["sqlite", "postgresql"])
def web_api(request, engine_home, tmp_path_factory):
    """One running app over a small synthetic store for the package (SQLite, PostgreSQL)."""
    with running_api(request.param, engine_home, tmp_path_factory) as api:
        yield api


@pytest.fixture()
def web(web_api):
    """The package's app with a clean cookie jar; the test's writes undone after it."""
    with undone(web_api) as running:
        running.client.cookies.clear()
        yield running
        running.client.cookies.clear()
