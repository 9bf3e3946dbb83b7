"""Property-based API tests (schemathesis 4, in-process over ASGI): whatever the request, the
service answers no 5xx and only documented statuses, content types and bodies.

Each operation is called with a key of a role allowed to run it (adviser, employer relations
or admin, see :func:`role_of`), so that the calls reach the route's code and not only its 403.
Path parameters are often swapped for ids that exist (a youth of the adviser's Mission Locale,
a vacancy and an employer of the employer-relations key's territory, a ROME code), so that
reads, writes and erasures of real rows are explored too, not only 404s. The store is a fresh
SQLite file; the run is bounded (``MAX_EXAMPLES`` per operation, derandomised: reproducible).
"""

from __future__ import annotations

import os
from pathlib import Path

import hypothesis.strategies as st
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from matching import synthetic
from service.api.app import create_app
from service.config import Settings
from service.workspace import Workspace
from tests.api.conftest import Api, make_keys, store_url

MAX_EXAMPLES = int(os.environ.get("PASSERELLE_SCHEMATHESIS_EXAMPLES", "12"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, negative_data_rejection]
ADMIN_PATHS = ("/v1/missions-locales", "/v1/keys", "/v1/audit")


def role_of(method: str, path: str) -> str:
    """The key that may run ``method path``: admin routes, employer-relations writes, adviser."""
    if path.startswith(ADMIN_PATHS):
        return "admin"
    if path.endswith("/candidates"):
        return "er"
    if path.startswith(("/v1/employers", "/v1/vacancies")) and method.upper() != "GET":
        return "er"
    return "adviser"


@pytest.fixture(scope="module")
def st_api(engine_home, tmp_path_factory):
    """A running app over a fresh SQLite store with a small synthetic data set."""
    url, cleanup = store_url("sqlite", tmp_path_factory.mktemp("schemathesis"))
    app_settings = Settings(home=engine_home.home, model="use", database_url=url, rate_limit_per_s=0,
                            snapshot_interval_s=3600)
    workspace = Workspace(app_settings)
    data = synthetic.generate(workspace.referential(), n_youths=60, n_vacancies=250, seed=5)
    workspace.load_demo_into_store(data)
    keys, ids = make_keys(workspace)
    try:
        with TestClient(create_app(app_settings)) as client:  # lifespan entered: live engine open
            yield Api(client, keys, ids, workspace, data, app_settings)
    finally:
        workspace.store()[0].dispose()
        cleanup()


def _known_ids(api: Api) -> dict[str, list]:
    """Ids that exist and that the keys may reach, to mix into the generated path parameters."""
    client = api.client
    youths = client.get("/v1/youths", headers=api.as_("adviser")).json()
    employers = client.get("/v1/employers", headers=api.as_("er")).json()
    vacancies = client.get("/v1/vacancies", headers=api.as_("er")).json()
    assert youths and employers and vacancies, "the synthetic store should hold ML-METZ rows"
    return {"youth_id": [y["id"] for y in youths[:5]], "siret": [e["siret"] for e in employers[:5]],
            "vacancy_id": [v["id"] for v in vacancies[:5]], "code_rome": ["D1106", "M1607", "H2913"]}


class _Forward:
    """An ASGI app that forwards requests to :attr:`target`, the app of the ``st_api`` fixture.

    The schema is built when this module is imported (one pytest item per operation), before the
    fixture opens the real app. Lifespan events are answered here: the real app's lifespan is the
    fixture's ``TestClient``'s.
    """

    target = None

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await self.target(scope, receive, send)


FORWARD = _Forward()
# Documentation does not depend on the settings: no store or model is opened to build it.
schema = schemathesis.openapi.from_dict(create_app(Settings(home=Path("unused"))).openapi())
schema.app = FORWARD
KNOWN: dict[str, list] = {}
PROTECTED_KEY_IDS: set[int] = set()


@pytest.fixture(scope="module", autouse=True)
def _target(st_api):
    """Point the schema at the running app; note the ids that exist and the keys not to revoke."""
    FORWARD.target = st_api.client.app
    KNOWN.update(_known_ids(st_api))
    PROTECTED_KEY_IDS.update(st_api.key_ids.values())
    yield
    FORWARD.target = None


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Keep the generated value or, half the time, use an id that exists."""
    if not path_parameters:
        return st.just(path_parameters)
    if path_parameters.get("key_id") in PROTECTED_KEY_IDS:  # never revoke the test's own keys
        path_parameters = {**path_parameters, "key_id": path_parameters["key_id"] + 10_000}
    choices = {name: st.one_of(st.just(value), st.sampled_from(KNOWN[name]))
               for name, value in path_parameters.items() if KNOWN.get(name)}
    if not choices:
        return st.just(path_parameters)
    return st.fixed_dictionaries(choices).map(lambda chosen: {**path_parameters, **chosen})


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_conforms(case, st_api):
    """No 5xx, and every answer is documented (status, content type, headers, body)."""
    role = role_of(case.method, case.path)
    headers = {"Authorization": f"Bearer {st_api.keys[role]}"}
    case.call_and_validate(headers=headers, checks=CHECKS)
