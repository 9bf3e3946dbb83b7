"""Regression tests of the API faults of issue #13, each reproduced on the demo store before
its fix: an existence oracle through client-chosen ids, NaN stored as a number, ids no route can
reach, two 500s on null fields, shares to any key or vacancy, an English 400 for a chunked body
over the limit, and a codec message for a lone surrogate.

The store is ``tests/api_fixtures.py``'s (SQLite, and PostgreSQL when
``PASSERELLE_TEST_POSTGRES_URL`` is set), with one key per role; ``adviser_other`` and
``er_other`` belong to another Mission Locale (territory: département 54).
"""

# ruff: noqa: F811  (test functions take the imported fixtures `api` and `shared_api` as arguments)
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from api_fixtures import PROFILE_MARKER, api, shared_api  # noqa: F401  (the fixtures of tests/api, shared)
from pydantic import BaseModel

from service.api.employers import EmployerPatch, VacancyPatch
from service.store.models import Employer, Vacancy
from service.store.rows import table_of

EXAMPLE = json.loads((Path(__file__).resolve().parents[2] / "examples" / "youth.json").read_text())
UNKNOWN = {"youth": "Y-0123456789abcdef", "vacancy": "V-0123456789abcdef", "siret": "99999999999999"}


def profile(**changes) -> dict:
    """The example profile, its dossier reference marked (must never reach the run's log)."""
    data = {k: v for k, v in EXAMPLE.items() if k not in ("available_from", "mission_locale")}
    return {**data, "external_id": f"{EXAMPLE['external_id']}-{PROFILE_MARKER}{Path(__file__).stem}", **changes}


def create_youth(api, **changes) -> dict:
    response = api.client.post("/v1/youths", json=profile(**changes), headers=api.as_("adviser"))
    assert response.status_code == 201, response.text
    return response.json()


def problem(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["detail"] and body["detail_fr"] and body["detail"] != body["detail_fr"], body
    if field is not None:
        assert body.get("field") == field, body
    return body


def metz_vacancy(api) -> str:
    return next(v.id for v in api.data.vacancies if v.place.commune_insee.startswith("57") and v.status == "open")


def nancy_vacancy(api) -> str:
    return next(v.id for v in api.data.vacancies if v.place.commune_insee.startswith("54"))


def metz_siret(api) -> str:
    return next(v.employer.siret for v in api.data.vacancies if v.employer.location.commune_insee.startswith("57"))


def raw(api, method: str, path: str, role: str, text: str):
    headers = {**api.as_(role), "Content-Type": "application/json"}
    return api.client.request(method, path, content=text.encode("utf-8"), headers=headers)


# ------------------------------------------------------------------ 1. existence oracle
def test_the_service_assigns_ids_and_refuses_a_client_id(api):
    theirs = create_youth(api)  # an ML-METZ youth; its id is the service's
    assert re.fullmatch(r"Y-[0-9a-f]{16}", theirs["id"])
    for wanted in (theirs["id"], "SYN-2026-Y000003", "mine-1"):  # before: 409 "already exists"
        answer = api.client.post("/v1/youths", json=profile(id=wanted), headers=api.as_("adviser_other"))
        body = problem(answer, 422, "id")
        assert "external_id" in body["detail"] and "external_id" in body["detail_fr"]
    vacancy = {"id": metz_vacancy(api), "employer_siret": metz_siret(api), "title": "Boulanger",
               "code_rome": "D1102", "contract": "CDI"}
    problem(api.client.post("/v1/vacancies", json=vacancy, headers=api.as_("er")), 422, "id")
    vacancy = {k: v for k, v in vacancy.items() if k != "id"} | {"external_id": "OFFRE-42"}
    created = api.client.post("/v1/vacancies", json=vacancy, headers=api.as_("er"))
    assert created.status_code == 201, created.text
    assert re.fullmatch(r"V-[0-9a-f]{16}", created.json()["id"]) and created.json()["external_id"] == "OFFRE-42"
    again = create_youth(api, external_id="DOSSIER-1")
    assert again["profile"]["external_id"] == "DOSSIER-1" and again["id"] != theirs["id"]


def _same_answer(api, method: str, role: str, mine: tuple[str, str], theirs: tuple[str, str], body=None):
    """``theirs`` (another Mission Locale's resource) answers as ``mine`` (an unknown one) does:
    same status, same keys, same texts once the id is blanked."""
    answers = []
    for path, object_id in (mine, theirs):
        response = api.client.request(method, path, json=body(object_id) if body else None, headers=api.as_(role))
        document = {k: v for k, v in response.json().items() if k != "request_id"}
        answers.append((response.status_code, json.loads(json.dumps(document).replace(object_id, "<id>"))))
    assert answers[0] == answers[1], (method, mine[0], answers)
    assert answers[0][0] == 404, answers


def test_not_yours_and_unknown_answer_alike(api):
    youth = create_youth(api, consent_share=True)["id"]
    unknown = UNKNOWN["youth"]
    for method, suffix, body in [("GET", "", None), ("PATCH", "", {"version": 1, "mobility_km": 10}),
                                 ("DELETE", "", None), ("GET", "/suggestions", None), ("GET", "/export", None),
                                 ("POST", "/shares", {"vacancy_id": metz_vacancy(api)})]:
        _same_answer(api, method, "adviser_other", (f"/v1/youths/{unknown}{suffix}", unknown),
                     (f"/v1/youths/{youth}{suffix}", youth), (lambda _id, b=body: b) if body else None)
    vacancy, siret = metz_vacancy(api), metz_siret(api)
    for method, suffix, body in [("GET", "", None), ("PATCH", "", {"version": 1, "places": 2}),
                                 ("DELETE", "", None), ("GET", "/candidates", None)]:
        _same_answer(api, method, "er_other", (f"/v1/vacancies/{UNKNOWN['vacancy']}{suffix}", UNKNOWN["vacancy"]),
                     (f"/v1/vacancies/{vacancy}{suffix}", vacancy), (lambda _id, b=body: b) if body else None)
    for method, body in [("GET", None), ("PATCH", {"version": 1, "size_band": "10-19"}), ("DELETE", None)]:
        _same_answer(api, method, "er_other", (f"/v1/employers/{UNKNOWN['siret']}", UNKNOWN["siret"]),
                     (f"/v1/employers/{siret}", siret), (lambda _id, b=body: b) if body else None)
    new_vacancy = lambda s: {"employer_siret": s, "title": "Vendeur", "code_rome": "D1106", "contract": "CDI"}  # noqa: E731
    _same_answer(api, "POST", "er_other", ("/v1/vacancies", UNKNOWN["siret"]), ("/v1/vacancies", siret), new_vacancy)
    # shares: a vacancy outside the territory, a key of another Mission Locale, as unknown ones
    share = f"/v1/youths/{youth}/shares"
    _same_answer(api, "POST", "adviser", (share, UNKNOWN["vacancy"]), (share, nancy_vacancy(api)),
                 lambda v: {"vacancy_id": v})
    _same_answer(api, "POST", "adviser", (share, "2000000000"), (share, str(api.key_ids["er_other"])),
                 lambda k: {"key_id": int(k)})


def test_an_outcome_on_another_mission_locales_suggestion_answers_as_unknown(api):
    youth = create_youth(api)["id"]
    document = api.client.get(f"/v1/youths/{youth}/suggestions", headers=api.as_("adviser")).json()
    suggestion = str(document["trades"][0]["suggestion_id"])
    _same_answer(api, "POST", "adviser_other", ("/v1/outcomes", "999999999"), ("/v1/outcomes", suggestion),
                 lambda s: {"suggestion_id": int(s), "status": "contacted"})


# ------------------------------------------------------------------ 2. finite numbers only
@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused_with_the_field(api, literal):
    text = json.dumps(profile()).replace('"mobility_km": 15', f'"mobility_km": {literal}')
    assert literal in text
    problem(raw(api, "POST", "/v1/youths", "adviser", text), 422, "mobility_km")  # before: 201, NaN stored
    youth = create_youth(api)
    path = f"/v1/youths/{youth['id']}"
    problem(raw(api, "PATCH", path, "adviser", f'{{"version": 1, "mobility_km": {literal}}}'), 422, "mobility_km")
    assert api.client.get(path, headers=api.as_("adviser")).json()["profile"]["mobility_km"] == 15
    vacancy = metz_vacancy(api)
    problem(raw(api, "PATCH", f"/v1/vacancies/{vacancy}", "er", f'{{"version": 1, "places": {literal}}}'), 422, "places")
    problem(raw(api, "POST", "/v1/suggestions", "adviser", text), 422, "mobility_km")


def test_the_profile_parser_refuses_nan_for_the_cli_and_batch(referential):
    from matching.errors import InvalidProfile
    from matching.profiles import parse_youth

    for value in (float("nan"), float("inf")):
        with pytest.raises(InvalidProfile) as caught:
            parse_youth(profile(mobility_km=value), referential)
        assert caught.value.field == "mobility_km"


# ------------------------------------------------------------------ 3. ids every route can reach
@pytest.mark.parametrize("bad", ["a/b/c", "../../etc/passwd", ".", "..", "a b", "x" * 65, "é"])
def test_unreachable_ids_are_refused(api, referential, bad):
    from matching.errors import InvalidProfile
    from matching.profiles import parse_youth

    problem(api.client.post("/v1/youths", json=profile(id=bad), headers=api.as_("adviser")), 422, "id")
    with pytest.raises(InvalidProfile) as caught:  # profile files of the CLI and batch: exit code 2
        parse_youth(profile(id=bad), referential)
    assert caught.value.field == "id"


@pytest.mark.parametrize("path, field", [("/v1/youths/a%20b", "youth_id"), ("/v1/youths/.hidden", "youth_id"),
                                         ("/v1/vacancies/" + "x" * 65, "vacancy_id"),
                                         ("/v1/employers/a%3Bb", "siret")])
def test_id_path_parameters_outside_the_pattern_answer_422(api, path, field):
    role = "adviser" if "youths" in path else "er"
    problem(api.client.get(path, headers=api.as_(role)), 422, field)


# ------------------------------------------------------------------ 4. null for NOT NULL columns
def _not_null_patch_fields(patch: type[BaseModel], model: type) -> list[str]:
    required = {column.name for column in table_of(model).columns if not column.nullable}
    return sorted(set(patch.model_fields) & required - {"version"})


@pytest.mark.parametrize("field", _not_null_patch_fields(EmployerPatch, Employer))
def test_null_for_a_not_null_employer_column_answers_422(api, field):
    siret = metz_siret(api)
    version = api.client.get(f"/v1/employers/{siret}", headers=api.as_("er")).json()["version"]
    answer = api.client.patch(f"/v1/employers/{siret}", json={"version": version, field: None}, headers=api.as_("er"))
    problem(answer, 422, field)  # before: 500 (NOT NULL constraint failed)


@pytest.mark.parametrize("field", _not_null_patch_fields(VacancyPatch, Vacancy))
def test_null_for_a_not_null_vacancy_column_answers_422(api, field):
    vacancy = metz_vacancy(api)
    version = api.client.get(f"/v1/vacancies/{vacancy}", headers=api.as_("er")).json()["version"]
    answer = api.client.patch(f"/v1/vacancies/{vacancy}", json={"version": version, field: None}, headers=api.as_("er"))
    problem(answer, 422, field)


def test_the_two_reported_500s_are_covered():
    assert "name" in _not_null_patch_fields(EmployerPatch, Employer)
    assert "description" in _not_null_patch_fields(VacancyPatch, Vacancy)


# ------------------------------------------------------------------ 5. shares checked
def test_shares_need_a_vacancy_of_the_territory_or_a_live_key_of_the_mission_locale(api):
    youth = create_youth(api, consent_share=True)["id"]
    path = f"/v1/youths/{youth}/shares"
    share = lambda body: api.client.post(path, json=body, headers=api.as_("adviser"))  # noqa: E731
    problem(share({"vacancy_id": "V-does-not-exist"}), 404, "id")  # before: 201
    problem(share({"vacancy_id": nancy_vacancy(api)}), 404, "id")
    for name in ("admin", "batch", "adviser", "adviser_other", "er_other"):  # before: 201
        problem(share({"key_id": api.key_ids[name]}), 404, "id")
    revoked = api.client.post("/v1/keys", json={"role": "employer_relations", "mission_locale": "ML-METZ"},
                              headers=api.as_("admin")).json()
    api.client.delete(f"/v1/keys/{revoked['id']}", headers=api.as_("admin"))
    problem(share({"key_id": revoked["id"]}), 404, "id")
    assert share({"key_id": api.key_ids["er"]}).status_code == 201
    assert share({"vacancy_id": metz_vacancy(api)}).status_code == 201


def test_a_share_for_a_vacancy_id_cannot_be_turned_into_a_profile(api):
    """The reported scenario: share for a made-up vacancy id, then create a vacancy with that id
    to see the youth's full profile. Both steps now fail."""
    youth = create_youth(api, consent_share=True)["id"]
    made_up = "V-PIEGE-1"
    problem(api.client.post(f"/v1/youths/{youth}/shares", json={"vacancy_id": made_up},
                            headers=api.as_("adviser")), 404)
    trap = {"id": made_up, "employer_siret": metz_siret(api), "title": "Boulanger", "code_rome": "D1102",
            "contract": "CDI"}
    problem(api.client.post("/v1/vacancies", json=trap, headers=api.as_("er")), 422, "id")


# ------------------------------------------------------------------ 6. edges of the body
def test_a_chunked_body_over_the_limit_answers_413_in_french(api):
    limit = api.settings.max_body_bytes

    def chunks():
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536

    headers = {**api.as_("adviser"), "Content-Type": "application/json"}
    answer = api.client.post("/v1/youths", content=chunks(), headers=headers)  # no Content-Length
    body = problem(answer, 413)  # before: 400 with an English detail_fr
    assert "octets" in body["detail_fr"]


def test_a_lone_surrogate_answers_a_clean_422(api):
    text = json.dumps(profile()).replace('"Babysitting', '"\\ud800 Babysitting')
    body = problem(raw(api, "POST", "/v1/youths", "adviser", text), 422, "experiences.1")
    assert "codec" not in body["detail"] and "surrogate" in body["detail"]
    vacancy = {"employer_siret": metz_siret(api), "title": "Boulanger \\udfff", "code_rome": "D1102", "contract": "CDI"}
    problem(raw(api, "POST", "/v1/vacancies", "er", json.dumps(vacancy).replace("\\\\", "\\")), 422, "title")
