"""The route x role matrix of issue #13: another Mission Locale's resource answers as an unknown id.

Generated from the app's OpenAPI document, so a new route is covered without editing this file:
every operation whose path names a resource (a youth, a vacancy, an employer's SIRET, an API key)
is called by a key of each role (``adviser``, ``employer_relations``, ``batch``, ``admin``), all
keys of Mission Locale A (ML-METZ, département 57), on three targets made fresh for the call:

- ``B``: the same kind of resource, of Mission Locale B (ML-NANCY-TEST, département 54);
- ``unknown``: an id of the right form that no row holds;
- ``A``: the same kind of resource, of Mission Locale A.

Where the role is scoped to the resource (:data:`SCOPED`: an adviser's youths, an
employer-relations key's employers and vacancies), ``B`` must answer exactly as ``unknown``: the
same status and the same body (problem texts compared with the id replaced), so that existence
does not leak; and ``A`` must not answer as ``unknown`` (proof that the request reached the
resource, so the comparison means something). Where the role is national by the documented role
table of ``docs/API.md`` (batch reads youths and vacancies everywhere, advisers read every
vacancy and employer, admin manages every key), the key's Mission Locale plays no part: ``B``
must answer as ``A`` (same status, same body keys).

A body for each ``POST``/``PATCH`` of the matrix comes from :data:`BODIES` (keyed by operation
id); :func:`test_every_operation_is_classified` fails for any operation of the document that is
neither in the matrix nor listed in :data:`WITHOUT_RESOURCE`, for any path parameter not
classified, and for any matrix operation with a body but no entry in :data:`BODIES`: a new route
fails until someone decides how it is probed.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from api_fixtures import PROFILE_MARKER, make_keys, store_url
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.config import Settings
from service.store import crud
from service.workspace import Workspace

DOCUMENT = create_app(Settings(home=Path("unused"))).openapi()  # the document needs no store
METHODS = ("get", "put", "post", "patch", "delete")

RESOURCE_PARAMS = {"youth_id": "youth", "vacancy_id": "vacancy", "siret": "employer", "key_id": "key"}
"""Path parameters that name a resource of some Mission Locale, and the resource's kind."""
NATIONAL_PARAMS = {"code_rome": "a ROME trade: national reference data, of no Mission Locale"}
"""Path parameters that name nothing a Mission Locale owns (an operation with only these is in
:data:`WITHOUT_RESOURCE`)."""

WITHOUT_RESOURCE = {
    # operation id: why no resource of a Mission Locale is named by its path
    "create_youth_v1_youths_post": "creates (the service assigns the id)",
    "list_youths_v1_youths_get": "a list, filtered by the caller's scope",
    "suggestions_for_profile_v1_suggestions_post": "a profile in the body, nothing stored",
    "share_by_ref_v1_shares_post": "a candidate_ref (a keyed hash), tested in test_cards.py",
    "create_employer_v1_employers_post": "creates (the SIRET is the client's, checked in the territory)",
    "list_employers_v1_employers_get": "a list, filtered by the caller's territory",
    "create_vacancy_v1_vacancies_post": "creates (the service assigns the id)",
    "list_vacancies_v1_vacancies_get": "a list, filtered by the caller's territory",
    "search_trades_v1_trades_search_get": "national reference data",
    "get_trade_v1_trades__code_rome__get": "national reference data",
    "add_outcome_v1_outcomes_post": "a suggestion id in the body, checked in test_api.py",
    "get_indicators_v1_indicators_get": "aggregates, scoped by the caller's Mission Locale",
    "list_missions_locales_v1_missions_locales_get": "admin: every Mission Locale",
    "create_mission_locale_v1_missions_locales_post": "admin: creates",
    "list_keys_v1_keys_get": "admin: every key",
    "create_key_v1_keys_post": "admin: creates",
    "audit_trail_v1_audit_get": "admin: the whole trail",
    "health_health_get": "no authentication, no data",
    "ready_ready_get": "no authentication, no data",
    "metrics_metrics_get": "no authentication, counters only",
}

ROLES = {"adviser": "adviser", "employer_relations": "er", "batch": "batch_a", "admin": "admin_a"}
"""Each role, and the name of its key of Mission Locale A."""
SCOPED = {("adviser", "youth"), ("employer_relations", "employer"), ("employer_relations", "vacancy")}
"""(role, kind) pairs where the key's Mission Locale bounds what it may reach (docs/API.md)."""

UNKNOWN = {"youth": "Y-0123456789abcdef", "vacancy": "V-0123456789abcdef", "employer": "99999999999999",
           "key": 2**31 - 1}
"""An id of the right form that no row holds, per kind."""

BODIES = {
    # operation id -> the request body, from the targets' resources (``r``: a :class:`Resources`
    # of Mission Locale A, whose vacancy a share may name)
    "update_youth_v1_youths__youth_id__patch": lambda r: {"version": 1, "mobility_km": 30},
    "share_v1_youths__youth_id__shares_post": lambda r: {"vacancy_id": r.vacancy},
    "update_employer_v1_employers__siret__patch": lambda r: {"version": 1, "name": "Fournil renommé"},
    "update_vacancy_v1_vacancies__vacancy_id__patch": lambda r: {"version": 1, "title": "Boulanger (H/F)"},
}

EXAMPLE = json.loads((Path(__file__).resolve().parents[2] / "examples" / "youth.json").read_text())
PLACES = {"A": ("57463", "ML-METZ"), "B": ("54395", "ML-NANCY-TEST")}  # Metz, Nancy
VOLATILE = {"request_id", "instance"}
"""Problem fields that differ between any two requests."""


def operations() -> list[tuple[str, str, dict]]:
    return [(method, path, op) for path, item in DOCUMENT["paths"].items()
            for method, op in item.items() if method in METHODS]


def path_params(op: dict) -> list[str]:
    return [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]


def has_body(op: dict) -> bool:
    return "requestBody" in op


MATRIX = [(method, path, op) for method, path, op in operations()
          if any(name in RESOURCE_PARAMS for name in path_params(op))]


# ------------------------------------------------------------------------------ the store
@dataclass
class Resources:
    """A fresh youth, employer, vacancy and adviser key of one Mission Locale."""

    youth: str
    employer: str
    vacancy: str
    key: int

    def id_of(self, kind: str):
        return getattr(self, kind)


@dataclass
class Matrix:
    client: TestClient
    keys: dict[str, str]

    def as_(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[name]}"}


_sirets = itertools.count(1)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def matrix(request, engine_home, tmp_path_factory):
    """Two Missions Locales with disjoint territories (57, 54) and no data; one key per role of
    Mission Locale A, and an adviser and an employer-relations key of B to make B's resources.
    The client answers 500s instead of raising, so that a 500 shows as a status in the matrix."""
    with contextlib.ExitStack() as stack:
        url = store_url(request.param, tmp_path_factory.mktemp("matrix"), stack)
        settings = Settings(home=engine_home.home, model="use", database_url=url, rate_limit_per_s=0,
                            snapshot_interval_s=3600)
        workspace = Workspace(settings)
        stack.callback(lambda: workspace.store()[0].dispose())
        _, sessions, _ = workspace.store()
        with sessions.begin() as session:
            crud.create_mission_locale(session, "ML-METZ", "Mission Locale de Metz", departements=["57"])
        keys, _ = make_keys(workspace)
        with sessions.begin() as session:
            for name, role in (("batch_a", "batch"), ("admin_a", "admin")):
                _, keys[name] = crud.create_api_key(session, role, "ML-METZ", label=name)
        with TestClient(create_app(settings)) as client:
            yield Matrix(TestClient(client.app, raise_server_exceptions=False), keys)


def created(response, what: str) -> dict:
    assert response.status_code == 201, f"{what}: {response.status_code} {response.text}"
    return response.json()


def make_resources(matrix: Matrix, side: str) -> Resources:
    """A fresh youth (consenting to shares), employer, vacancy and adviser key of ``side``."""
    commune, mission = PLACES[side]
    adviser, er = ("adviser", "er") if side == "A" else ("adviser_other", "er_other")
    client = matrix.client
    profile = {k: v for k, v in EXAMPLE.items() if k not in ("available_from", "mission_locale", "postcode")}
    profile["external_id"] = f"{EXAMPLE['external_id']}-{PROFILE_MARKER}matrix"  # never in the log
    youth = created(client.post("/v1/youths", json={**profile, "commune_insee": commune},
                                headers=matrix.as_(adviser)), "youth")["id"]
    siret = f"9{next(_sirets):013d}"
    created(client.post("/v1/employers", json={"siret": siret, "name": "Fournil", "naf": "1071C",
                                               "commune_insee": commune}, headers=matrix.as_(er)), "employer")
    vacancy = created(client.post("/v1/vacancies", json={"employer_siret": siret, "title": "Boulanger",
                                                         "code_rome": "D1102", "contract": "CDI"},
                                  headers=matrix.as_(er)), "vacancy")["id"]
    key = created(client.post("/v1/keys", json={"role": "adviser", "mission_locale": mission},
                              headers=matrix.as_("admin")), "key")["id"]
    return Resources(youth, siret, vacancy, key)


# ------------------------------------------------------------------------------ comparing answers
def normalised(response, ids: list) -> tuple:
    """Status, and the body with the resource's ids replaced (problems: every field but the
    volatile ones; other bodies: their shape, i.e. their keys)."""
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if response.status_code < 400:
        return response.status_code, shape(body)
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in VOLATILE}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False)
    for value in ids:
        text = re.sub(rf"(?<![\w-]){re.escape(str(value))}(?![\w-])", "<id>", text)
    return response.status_code, text


def shape(body):
    if isinstance(body, dict):
        return {k: shape(v) for k, v in sorted(body.items())}
    if isinstance(body, list):
        return [shape(body[0])] if body else []
    return type(body).__name__


def call(matrix: Matrix, method: str, path: str, op: dict, role: str, target: Resources | None,
         unknown: bool, body_of: Resources):
    values = {}
    for name in path_params(op):
        kind = RESOURCE_PARAMS[name]
        values[name] = UNKNOWN[kind] if unknown else target.id_of(kind)
    url = path.format(**values)
    body = BODIES[op["operationId"]](body_of) if has_body(op) else None
    response = matrix.client.request(method.upper(), url, json=body, headers=matrix.as_(ROLES[role]))
    assert response.status_code < 500, f"{method.upper()} {url} as {role}: {response.status_code} {response.text}"
    return response, list(values.values())


# ------------------------------------------------------------------------------ the tests
def test_every_operation_is_classified():
    """Every operation of the document is in the matrix or listed as naming no resource; every
    path parameter is classified; every matrix operation with a body has one in BODIES."""
    ids = {op["operationId"] for _, _, op in operations()}
    in_matrix = {op["operationId"] for _, _, op in MATRIX}
    assert ids == in_matrix | set(WITHOUT_RESOURCE), (
        f"unclassified operations: {sorted(ids - in_matrix - set(WITHOUT_RESOURCE))}; "
        f"listed but gone or in the matrix: {sorted((set(WITHOUT_RESOURCE) - ids) | (set(WITHOUT_RESOURCE) & in_matrix))}")
    for method, path, op in operations():
        for name in path_params(op):
            assert name in RESOURCE_PARAMS or name in NATIONAL_PARAMS, f"{method.upper()} {path}: classify {{{name}}}"
    missing = sorted(op["operationId"] for _, _, op in MATRIX if has_body(op) and op["operationId"] not in BODIES)
    assert not missing, f"matrix operations without a body in BODIES: {missing}"
    assert set(BODIES) <= in_matrix, f"BODIES for operations no longer in the matrix: {set(BODIES) - in_matrix}"
    assert len(MATRIX) >= 14 and set(RESOURCE_PARAMS.values()) == {
        RESOURCE_PARAMS[n] for _, _, op in MATRIX for n in path_params(op) if n in RESOURCE_PARAMS}


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("method, path, op", MATRIX, ids=[f"{m.upper()} {p}" for m, p, _ in MATRIX])
def test_another_mission_locale_is_unknown(matrix, method, path, op, role):
    mine, theirs = make_resources(matrix, "A"), make_resources(matrix, "B")
    kinds = [RESOURCE_PARAMS[name] for name in path_params(op) if name in RESOURCE_PARAMS]
    b, b_ids = call(matrix, method, path, op, role, theirs, False, mine)
    nobody, nobody_ids = call(matrix, method, path, op, role, None, True, mine)
    a, a_ids = call(matrix, method, path, op, role, mine, False, mine)  # last: it may erase A's
    what = f"{method.upper()} {path} as {role} (key of ML-METZ)"
    if all((role, kind) in SCOPED for kind in kinds):
        assert normalised(b, b_ids) == normalised(nobody, nobody_ids), (
            f"{what}: another Mission Locale's resource answers {b.status_code} {b.text}, "
            f"an unknown id {nobody.status_code} {nobody.text}")
        if nobody.status_code == 404:
            assert a.status_code != 404, f"{what}: its own resource answers 404 ({a.text}): the matrix proves nothing"
    else:  # a national role for this kind: the key's Mission Locale plays no part
        assert normalised(b, b_ids) == normalised(a, a_ids), (
            f"{what}: another Mission Locale's resource answers {b.status_code} {b.text}, "
            f"its own {a.status_code} {a.text}")
