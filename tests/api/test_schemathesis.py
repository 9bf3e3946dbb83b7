"""Property-based API tests (schemathesis 4, in-process over ASGI): whatever the request, the
service answers no 5xx and only documented statuses, content types and bodies.

Each operation is called with a key of each of the four roles (adviser, employer relations,
batch, admin; issue #13): the role allowed to run it (see :func:`role_of`) reaches the route's
code, the others its 403, which must be documented too. The default run takes
``MAX_EXAMPLES`` (10) examples per operation and role; ``-m slow`` runs the acceptance run of
issue #13, 50 per operation and role.
Path parameters are often swapped for ids that exist (a youth of the adviser's Mission Locale,
a vacancy and an employer of the employer-relations key's territory, a ROME code), so that
reads, writes and erasures of real rows are explored too, not only 404s. The store is the
``api`` fixture's (a fresh SQLite file, and a fresh PostgreSQL schema when
``PASSERELLE_TEST_POSTGRES_URL`` is set). The run is bounded (``MAX_EXAMPLES`` per operation) and
derandomised (the same examples each run); ``PASSERELLE_SCHEMATHESIS_EXAMPLES=300
PASSERELLE_SCHEMATHESIS_RANDOM=1`` explores further.
"""

from __future__ import annotations

import os
from pathlib import Path

import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service.api.app import create_app
from service.config import Settings

MAX_EXAMPLES = int(os.environ.get("PASSERELLE_SCHEMATHESIS_EXAMPLES", "10"))
"""Examples per operation and role in the default run (``PASSERELLE_SCHEMATHESIS_EXAMPLES``)."""
FULL_EXAMPLES = 50
"""Examples per operation and role in the ``slow`` run (issue #13's acceptance: ``-m slow``)."""
ROLES = ("adviser", "er", "batch", "admin")
"""A key of each role (``er``: employer relations): every operation is called with each."""
RANDOM = bool(os.environ.get("PASSERELLE_SCHEMATHESIS_RANDOM"))  # explore: new examples each run
# Not `negative_data_rejection`: it counts unknown query parameters (ignored, as HTTP APIs do) and
# the Authorization header added here (not generated) as invalid requests that should fail.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
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


def _known_ids(api) -> dict[str, dict[str, list]]:
    """Ids that exist and that the keys may reach, to mix into the generated path parameters:
    ``"kept"`` ones for reads and updates, ``"doomed"`` ones for ``DELETE`` (so that erasing a
    youth or deleting a vacancy early in the run does not leave the later operations only 404s).
    """
    client = api.client
    youths = [y["id"] for y in client.get("/v1/youths", headers=api.as_("adviser")).json()]
    employers = [e["siret"] for e in client.get("/v1/employers", headers=api.as_("er")).json()]
    vacancies = [v["id"] for v in client.get("/v1/vacancies", headers=api.as_("er")).json()]
    assert len(youths) >= 10 and len(employers) >= 10 and len(vacancies) >= 10, "too few ML-METZ rows"
    trades = ["D1106", "M1607", "H2913"]
    return {"kept": {"youth_id": youths[:5], "siret": employers[:5], "vacancy_id": vacancies[:5],
                     "code_rome": trades},
            "doomed": {"youth_id": youths[5:10], "siret": employers[5:10], "vacancy_id": vacancies[5:10]}}


class _Forward:
    """An ASGI app that forwards requests to :attr:`target`, the app of the ``api`` fixture.

    The schema is built when this module is imported (one pytest item per operation), before the
    fixture opens the real app. Lifespan events are answered here: the real app's lifespan is the
    fixture's ``TestClient``'s (this module gets its own ``api``: a fresh store per backend).
    """

    target = None

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await self.target(scope, receive, send)


FORWARD = _Forward()
# Documentation does not depend on the settings: no store or model is opened to build it.
schema = schemathesis.openapi.from_dict(create_app(Settings(home=Path("unused"))).openapi())
schema.app = FORWARD
KNOWN: dict[str, dict[str, list]] = {}
PROTECTED_KEY_IDS: set[int] = set()


@pytest.fixture(scope="module")
def api(shared_api):
    """The module's app without the per-test undo: the exploration erases rows it did not
    create (the "doomed" ids), which no undo could restore; no test here needs a fresh store."""
    return shared_api


@pytest.fixture(scope="module", autouse=True)
def _target(api):
    """Point the schema at the running app; note the ids that exist and the keys not to revoke."""
    FORWARD.target = api.client.app
    KNOWN.clear()
    KNOWN.update(_known_ids(api))
    PROTECTED_KEY_IDS.clear()
    PROTECTED_KEY_IDS.update(api.key_ids.values())
    yield
    FORWARD.target = None


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Keep the generated value or, half the time, use an id that exists."""
    if not path_parameters:
        return st.just(path_parameters)
    known = KNOWN["doomed" if context.operation.method.upper() == "DELETE" else "kept"]
    choices = {name: st.one_of(st.just(value), st.sampled_from(known[name]))
               for name, value in path_parameters.items() if known.get(name)}
    if not choices:
        return st.just(path_parameters)
    return st.fixed_dictionaries(choices).map(lambda chosen: {**path_parameters, **chosen})


def _conforms(case, api, role: str) -> None:
    """No 5xx, and every answer is documented (status, content type, headers, body)."""
    headers = {"Authorization": f"Bearer {api.keys[role]}"}
    key_id = (case.path_parameters or {}).get("key_id")
    if str(key_id) in {str(k) for k in PROTECTED_KEY_IDS}:  # "1" as well as 1 (coverage phase)
        case.path_parameters["key_id"] = int(key_id) + 10_000  # never revoke the keys in use here
    case.call_and_validate(headers=headers, checks=CHECKS)


@schema.parametrize()
@pytest.mark.parametrize("role", ROLES)
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=not RANDOM, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_conforms(case, api, role):
    """Each operation with a key of each role: the role allowed to run it (see :func:`role_of`)
    reaches the route's code, the others its 403."""
    _conforms(case, api, role)


@pytest.mark.slow
@schema.parametrize()
@pytest.mark.parametrize("role", ROLES)
@settings(max_examples=FULL_EXAMPLES, deadline=None, derandomize=not RANDOM, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_fully(case, api, role):
    """The acceptance run of issue #13: 50 examples per operation and role (``-m slow``)."""
    _conforms(case, api, role)


# ------------------------------------------------------------------ what schemathesis found
def test_an_empty_mission_locale_is_no_mission_locale(api):
    """``"mission_locale": ""`` on an unscoped key broke the foreign key (500)."""
    response = api.client.post("/v1/keys", json={"role": "batch", "mission_locale": ""}, headers=api.as_("admin"))
    assert response.status_code == 201, response.text
    assert response.json()["mission_locale"] is None
    response = api.client.post("/v1/keys", json={"role": "adviser", "mission_locale": ""}, headers=api.as_("admin"))
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("method, path, body", [
    ("DELETE", f"/v1/keys/{2**31}", None),  # api_keys.id is a 32-bit INTEGER on PostgreSQL
    ("DELETE", f"/v1/keys/{2**63}", None),
    ("POST", "/v1/outcomes", {"suggestion_id": 2**63, "status": "hired"}),
])
def test_ids_beyond_the_store_integers_answer_422(api, method, path, body):
    """Ids over the columns' range overflowed in the SQLite driver (500)."""
    role = role_of(method, path)
    response = api.client.request(method, path, json=body, headers={"Authorization": f"Bearer {api.keys[role]}"})
    assert response.status_code == 422, response.text


def test_trade_routes_document_their_errors(api):
    responses = api.client.get("/openapi.json").json()["paths"]["/v1/trades/search"]["get"]["responses"]
    assert {"401", "422", "429"} <= set(responses)
    assert "application/problem+json" in responses["422"]["content"]
    assert api.client.get("/v1/trades/search", params={"q": "boulanger"}).status_code == 401
