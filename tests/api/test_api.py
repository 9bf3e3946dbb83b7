"""The API end to end on a real store (SQLite and PostgreSQL), real indexes and the USE model:
roles and scopes, validation errors, versions, erasure, shares, outcomes, indicators, restart."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from api_fixtures import PROFILE_MARKER
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from service.api.app import create_app
from service.config import Settings
from service.exports import SHORTLIST_HEADERS, shortlist_csv, shortlist_xlsx, suggestions_xlsx
from service.output import CARD_FIELDS, SHARED_FIELDS
from service.pseudonym import candidate_ref, pseudonym_key
from service.store.db import alembic_config
from service.workspace import Workspace

PROBLEM = "application/problem+json"
EXAMPLE = json.loads((Path(__file__).resolve().parents[2] / "examples" / "youth.json").read_text())


def profile(**changes) -> dict:
    """The example profile, its dossier reference marked (must never reach the run's log)."""
    data = {k: v for k, v in EXAMPLE.items() if k not in ("available_from", "mission_locale")}
    return {**data, "external_id": f"{EXAMPLE['external_id']}-{PROFILE_MARKER}test-api", **changes}


def create(api, **changes) -> dict:
    response = api.client.post("/v1/youths", json=profile(**changes), headers=api.as_("adviser"))
    assert response.status_code == 201, response.text
    return response.json()


def metz_vacancy(api) -> str:
    return next(v.id for v in api.data.vacancies
                if v.place.commune_insee.startswith("57") and v.status == "open")


def ref(api, vacancy_id: str, youth_id: str) -> str:
    """The youth's ``candidate_ref`` on the vacancy's shortlist (the service's key)."""
    return candidate_ref(pseudonym_key(api.settings), vacancy_id, youth_id)


def assert_problem(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["detail"] and body["detail_fr"]
    if field is not None:
        assert body.get("field") == field, body
    return body


# ------------------------------------------------------------------ authentication and roles
def test_health_and_ready_report_versions(api):
    assert api.client.get("/health").json() == {"status": "ok"}
    ready = api.client.get("/ready").json()
    assert ready["store_revision"] == ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert ready["index"]["model"] == "use"
    assert ready["index"]["vacancies"] >= len(api.data.vacancies) - 5
    assert "passerelle_requests_total" in api.client.get("/metrics").text


def test_missing_bad_and_revoked_keys_answer_401(api):
    assert_problem(api.client.get("/v1/youths"), 401)
    assert_problem(api.client.get("/v1/youths", headers={"Authorization": "Bearer psl_nope"}), 401)
    created = api.client.post("/v1/keys", json={"role": "batch", "label": "to revoke"}, headers=api.as_("admin"))
    assert created.status_code == 201
    key = created.json()["key"]
    assert api.client.get("/v1/youths", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert api.client.delete(f"/v1/keys/{created.json()['id']}", headers=api.as_("admin")).status_code == 200
    assert_problem(api.client.get("/v1/youths", headers={"Authorization": f"Bearer {key}"}), 401)
    listed = api.client.get("/v1/keys", headers=api.as_("admin")).json()
    assert all(item["key"] is None for item in listed)


def test_youths_are_scoped_to_their_mission_locale(api):
    youth = create(api)
    assert youth["mission_locale"] == "ML-METZ" and youth["version"] == 1
    path = f"/v1/youths/{youth['id']}"
    assert api.client.get(path, headers=api.as_("adviser")).status_code == 200
    assert api.client.get(path, headers=api.as_("batch")).status_code == 200
    assert_problem(api.client.get(path, headers=api.as_("adviser_other")), 404)  # existence does not leak
    assert_problem(api.client.get(path + "/suggestions", headers=api.as_("adviser_other")), 404)
    assert_problem(api.client.delete(path, headers=api.as_("adviser_other")), 404)
    assert_problem(api.client.get(path, headers=api.as_("er")), 403)
    assert_problem(api.client.get(path, headers=api.as_("admin")), 403)
    others = api.client.get("/v1/youths", headers=api.as_("adviser_other")).json()
    assert youth["id"] not in {item["id"] for item in others}


def test_a_profile_for_another_mission_locale_is_refused(api):
    response = api.client.post("/v1/youths", json=profile(mission_locale="ML-NANCY-TEST"),
                               headers=api.as_("adviser"))
    assert_problem(response, 422, "mission_locale")


def test_employer_relations_write_only_in_their_territory(api):
    employer = {"siret": "90000000000017", "name": "Boulangerie du Test", "naf": "10.71C",
                "commune_insee": "57463"}
    assert_problem(api.client.post("/v1/employers", json=employer, headers=api.as_("er_other")), 403)
    assert_problem(api.client.post("/v1/employers", json=employer, headers=api.as_("adviser")), 403)
    created = api.client.post("/v1/employers", json=employer, headers=api.as_("er"))
    assert created.status_code == 201, created.text
    assert created.json()["sector_family"] == "artisanat" and created.json()["naf"] == "1071C"
    assert_problem(api.client.get("/v1/employers/90000000000017", headers=api.as_("er_other")), 404)


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize("changes, field", [
    ({"wished_trades": ["Z9999"]}, "wished_trades"),
    ({"commune_insee": "99999", "postcode": None}, "commune_insee"),
    ({"experiences": [], "interests": "", "wished_trades": []}, "experiences"),
    ({"mobility_km": 500}, "mobility_km"),
    ({"gender": "female"}, "gender"),
])
def test_bad_profiles_answer_422_with_the_field(api, changes, field):
    response = api.client.post("/v1/youths", json=profile(**changes), headers=api.as_("adviser"))
    assert_problem(response, 422, field)


def test_malformed_json_oversized_body_and_bad_radius(api):
    headers = {**api.as_("adviser"), "Content-Type": "application/json"}
    assert_problem(api.client.post("/v1/youths", content=b"{not json", headers=headers), 400)
    big = json.dumps(profile(interests="x" * (api.settings.max_body_bytes + 10))).encode()
    assert_problem(api.client.post("/v1/youths", content=big, headers=headers), 413)
    youth = create(api)
    response = api.client.get(f"/v1/youths/{youth['id']}/suggestions", params={"radius_km": 0},
                              headers=api.as_("adviser"))
    assert_problem(response, 422, "radius_km")
    assert_problem(api.client.get("/v1/trades/Z9999", headers=api.as_("adviser")), 422)
    assert_problem(api.client.get("/v1/youths/nobody", headers=api.as_("adviser")), 404)


def test_stale_version_answers_409_and_nothing_changes(api):
    youth = create(api)
    path = f"/v1/youths/{youth['id']}"
    moved = api.client.patch(path, json={"version": 1, "mobility_km": 30}, headers=api.as_("adviser"))
    assert moved.status_code == 200 and moved.json()["version"] == 2
    stale = api.client.patch(path, json={"version": 1, "mobility_km": 5}, headers=api.as_("adviser"))
    assert_problem(stale, 409, "version")
    assert api.client.get(path, headers=api.as_("adviser")).json()["profile"]["mobility_km"] == 30
    assert_problem(api.client.patch(path, json={"mobility_km": 5}, headers=api.as_("adviser")), 422, "version")


# ------------------------------------------------------------------ suggestions
def cli_suggest(api, profile: dict, folder: Path, monkeypatch, *options: str) -> dict:
    """``passerelle suggest --json`` for ``profile`` on the API's data home, model and store."""
    from typer.testing import CliRunner

    from service import cli
    from service.cli import common
    from service.config import get_settings

    path = folder / "profile.json"
    path.write_text(json.dumps(profile, ensure_ascii=False), encoding="utf-8")
    for name, value in (("PASSERELLE_HOME", str(api.settings.home)), ("PASSERELLE_MODEL", "use"),
                        ("PASSERELLE_DATABASE_URL", api.settings.database_url)):
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(common, "_WORKSPACE", None)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli.app, ["suggest", "--profile", str(path), *options, "--json"])
    finally:
        if common._WORKSPACE is not None:
            common._WORKSPACE.store()[0].dispose()
        get_settings.cache_clear()
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def without_ids(document: dict) -> dict:
    """The document less what the API adds: ``youth_id`` and each item's ``suggestion_id``."""
    lists = {key: [{k: v for k, v in item.items() if k != "suggestion_id"} for item in document[key]]
             for key in ("trades", "vacancies")}
    return {**{k: v for k, v in document.items() if k != "youth_id"}, **lists}


def approx_numbers(value):
    """``value`` with each float replaced by ``pytest.approx(float, abs=1e-3)``."""
    if isinstance(value, dict):
        return {k: approx_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [approx_numbers(v) for v in value]
    return pytest.approx(value, abs=1e-3) if isinstance(value, float) else value


def test_suggestions_are_the_cli_document_and_are_recorded(api, tmp_path, monkeypatch):
    youth = create(api)
    response = api.client.get(f"/v1/youths/{youth['id']}/suggestions", params={"top_k": 5},
                              headers=api.as_("adviser"))
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["youth_id"] == youth["id"]
    codes = [t["code_rome"] for t in document["trades"]]
    assert len(codes) == 5 and {"D1102", "D1106"} & set(codes[:3])
    assert document["vacancies"], "Metz has synthetic vacancies within reach"
    # same lists, order, reasons and policy; numbers to 1e-3: the API reuses the youth's indexed
    # trade scores, kept as float16 (3 significant digits), the CLI encodes the profile afresh
    cli_document = cli_suggest(api, youth["profile"], tmp_path, monkeypatch, "--top-k", "5")
    assert without_ids(document) == approx_numbers(cli_document)
    items = [("trade", t["code_rome"], t) for t in document["trades"]]
    items += [("vacancy", v["vacancy_id"], v) for v in document["vacancies"]]
    exported = api.client.get(f"/v1/youths/{youth['id']}/export", headers=api.as_("adviser")).json()
    records = exported["suggestions"]  # one per item, in list order, with the item's id and score
    assert [(s["id"], s["rank"], s["item_kind"], s["item_id"], s["score"]) for s in records] == [
        (item["suggestion_id"], rank, kind, item_id, pytest.approx(item["score"]))
        for rank, (kind, item_id, item) in enumerate(items, start=1)]
    assert all(s["policy"] == document["policy"] and "model use" in s["engine_version"] for s in records)
    assert {"suggest", "create", "export"} <= {line["action"] for line in exported["audit"]}
    sheet = load_workbook(io.BytesIO(suggestions_xlsx(document)))["Suggestions"]
    assert [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        item["code_rome"] for _kind, _id, item in items]
    last = items[-1][2]["suggestion_id"]
    outcome = api.client.post("/v1/outcomes", json={"suggestion_id": last, "status": "contacted"},
                              headers=api.as_("adviser"))
    assert outcome.status_code == 201
    again = api.client.get(f"/v1/youths/{youth['id']}/export", headers=api.as_("adviser")).json()
    assert [o["status"] for o in again["suggestions"][-1]["outcomes"]] == ["contacted"]
    assert_problem(api.client.post("/v1/outcomes", json={"suggestion_id": last, "status": "hired"},
                                   headers=api.as_("adviser_other")), 404)
    # applied is a status; a decline takes a reason code (422 naming `reason` and the codes)
    for body in ({"status": "applied"}, {"status": "declined", "reason": "employer_no_reply"}):
        recorded = api.client.post("/v1/outcomes", json={"suggestion_id": last, **body},
                                   headers=api.as_("adviser"))
        assert recorded.status_code == 201, recorded.text
        assert recorded.json()["reason"] == body.get("reason")
    for reason in (None, "trop loin"):
        refused = assert_problem(api.client.post(
            "/v1/outcomes", json={"suggestion_id": last, "status": "declined", "reason": reason},
            headers=api.as_("adviser")), 422, field="reason")
        assert "position_filled" in refused["detail"] and "position_filled" in refused["detail_fr"]


def test_suggestions_for_a_profile_in_the_body_store_nothing(api):
    before = len(api.client.get("/v1/youths", params={"limit": 1000}, headers=api.as_("adviser")).json())
    response = api.client.post("/v1/suggestions", json=profile(), params={"top_k": 3}, headers=api.as_("adviser"))
    assert response.status_code == 200, response.text
    assert len(response.json()["trades"]) == 3
    after = len(api.client.get("/v1/youths", params={"limit": 1000}, headers=api.as_("adviser")).json())
    assert after == before


def test_filled_vacancies_are_no_longer_suggested(api):
    youth = create(api, mobility_km=10)
    path = f"/v1/youths/{youth['id']}/suggestions"
    first = api.client.get(path, headers=api.as_("adviser")).json()["vacancies"][0]["vacancy_id"]
    stored = api.client.get(f"/v1/vacancies/{first}", headers=api.as_("er")).json()
    patched = api.client.patch(f"/v1/vacancies/{first}", json={"version": stored["version"], "status": "filled"},
                               headers=api.as_("er"))
    assert patched.status_code == 200, patched.text
    again = api.client.get(path, headers=api.as_("adviser")).json()["vacancies"]
    assert first not in {v["vacancy_id"] for v in again}


def test_a_vacancy_without_rome_code_gets_one_inferred_and_is_indexed(api):
    employer = {"siret": "90000000000025", "name": "Fournil de Metz", "naf": "1071C", "commune_insee": "57463"}
    assert api.client.post("/v1/employers", json=employer, headers=api.as_("er")).status_code == 201
    vacancy = {"employer_siret": "90000000000025", "title": "Boulanger / boulangère",
               "description": "Pétrissage, façonnage et cuisson du pain au levain", "contract": "apprentissage"}
    created = api.client.post("/v1/vacancies", json=vacancy, headers=api.as_("er"))
    assert created.status_code == 201, created.text
    assert created.json()["code_rome"] == "D1102" and created.json()["rome_inferred"] is True
    youth = create(api, wished_trades=["D1102"], mobility_km=5)
    found = api.client.get(f"/v1/youths/{youth['id']}/suggestions", headers=api.as_("adviser")).json()
    assert created.json()["id"] in {v["vacancy_id"] for v in found["vacancies"]}


# ------------------------------------------------------------------ shortlists, shares, erasure
def test_shortlists_are_pseudonymised_until_an_adviser_shares(api):
    youth = create(api, wished_trades=["D1102"], mobility_km=50, consent_share=True)
    employer = {"siret": "90000000000033", "name": "Pains et Cie", "naf": "1071C", "commune_insee": "57463"}
    api.client.post("/v1/employers", json=employer, headers=api.as_("er"))
    vacancy = api.client.post("/v1/vacancies", json={
        "employer_siret": "90000000000033", "title": "Boulanger", "code_rome": "D1102",
        "description": "Fabrication du pain", "contract": "apprentissage"}, headers=api.as_("er")).json()
    path = f"/v1/vacancies/{vacancy['id']}/candidates"
    listed = api.client.get(path, params={"top_k": 50}, headers=api.as_("er")).json()
    mine = ref(api, vacancy["id"], youth["id"])
    assert all("youth_id" not in c for c in listed["candidates"])
    card = next(c for c in listed["candidates"] if c["candidate_ref"] == mine)["card"]
    assert set(card) == set(CARD_FIELDS) and card["shared"] is False and card["initials"]
    assert listed["policy"]["balance"] == "pool"
    assert_problem(api.client.get(path, headers=api.as_("er_other")), 404)
    assert_problem(api.client.get(path, headers=api.as_("adviser")), 403)
    shared = api.client.post(f"/v1/youths/{youth['id']}/shares", json={"vacancy_id": vacancy["id"]},
                             headers=api.as_("adviser"))
    assert shared.status_code == 201, shared.text
    listed = api.client.get(path, params={"top_k": 50}, headers=api.as_("er")).json()
    card = next(c for c in listed["candidates"] if c["candidate_ref"] == mine)["card"]
    assert set(card) == {*CARD_FIELDS, *SHARED_FIELDS} and card["shared"] is True
    assert card["external_id"] == profile()["external_id"] and card["gender"] == EXAMPLE["gender"]
    # the export of the real document: pseudonymised cards only, even once shared
    exported = shortlist_csv(listed).decode("utf-8-sig")
    assert exported.startswith(";".join(SHORTLIST_HEADERS)) and mine in exported
    assert profile()["external_id"] not in exported and youth["id"] not in exported
    sheet = load_workbook(io.BytesIO(shortlist_xlsx(listed)))["Candidats"]
    assert sheet.max_row == len(listed["candidates"]) + 1
    refused = create(api, consent_share=False)
    assert_problem(api.client.post(f"/v1/youths/{refused['id']}/shares", json={"key_id": api.key_ids["er"]},
                                   headers=api.as_("adviser")), 409, "consent_share")


def test_erasure_removes_the_youth_everywhere(api):
    youth = create(api, wished_trades=["D1102"], mobility_km=50)
    path = f"/v1/youths/{youth['id']}"
    document = api.client.get(path + "/suggestions", headers=api.as_("adviser")).json()
    vacancy_id = document["vacancies"][0]["vacancy_id"]
    shortlist = api.client.get(f"/v1/vacancies/{vacancy_id}/candidates", params={"top_k": 100},
                               headers=api.as_("batch")).json()
    assert ref(api, vacancy_id, youth["id"]) in {c["candidate_ref"] for c in shortlist["candidates"]}
    assert api.client.delete(path, headers=api.as_("adviser")).status_code == 204
    assert_problem(api.client.get(path, headers=api.as_("adviser")), 404)
    assert_problem(api.client.get(path + "/export", headers=api.as_("adviser")), 404)
    shortlist = api.client.get(f"/v1/vacancies/{vacancy_id}/candidates", params={"top_k": 100},
                               headers=api.as_("batch")).json()
    assert ref(api, vacancy_id, youth["id"]) not in {c["candidate_ref"] for c in shortlist["candidates"]}
    _, _, read_sessions = api.workspace.store()
    from sqlalchemy import func, select

    from service.store.models import AuditLine, Suggestion
    with read_sessions() as session:
        assert session.scalar(select(func.count()).where(Suggestion.youth_id == youth["id"])) == 0
        assert session.scalar(select(func.count()).where(AuditLine.object_id == youth["id"])) == 0
    audit = api.client.get("/v1/audit", params={"object_kind": "youth", "limit": 200},
                           headers=api.as_("admin")).json()
    erasures = [line for line in audit if line["action"] == "erase"]
    assert erasures and erasures[0]["object_id"].startswith("erased-")


# ------------------------------------------------------------------ indicators and trades
def test_indicators_are_scoped_and_exported_as_csv(api):
    youth = create(api)
    api.client.get(f"/v1/youths/{youth['id']}/suggestions", headers=api.as_("adviser"))
    document = api.client.get("/v1/indicators", headers=api.as_("adviser")).json()
    assert document["mission_locale"] == "ML-METZ" and document["suppression_threshold"] == 5
    assert_problem(api.client.get("/v1/indicators", params={"mission_locale": "ML-NANCY-TEST"},
                                  headers=api.as_("adviser")), 403)
    csv = api.client.get("/v1/indicators", params={"format": "csv"}, headers=api.as_("adviser"))
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("mission_locale,from,to,indicator")
    assert_problem(api.client.get("/v1/indicators", headers=api.as_("batch")), 403)


def test_trade_search_and_card(api):
    found = api.client.get("/v1/trades/search", params={"q": "je veux travailler avec du pain"},
                           headers=api.as_("er")).json()
    assert found[0]["code_rome"] == "D1102"
    card = api.client.get("/v1/trades/D1102", headers=api.as_("adviser")).json()
    assert card["band"] in {"male", "mixed", "female", "unknown"} and card["skills"] and card["close_trades"]


# ------------------------------------------------------------------ limits and restart
def test_rate_limit_and_closed_cors(api):
    settings = Settings(home=api.settings.home, model="use", database_url=api.settings.database_url,
                        rate_limit_per_s=0.5, rate_limit_burst=2)
    with TestClient(create_app(settings)) as client:
        statuses = [client.get("/v1/trades/D1102", headers=api.as_("adviser")).status_code for _ in range(4)]
        assert statuses[:2] == [200, 200] and statuses[-1] == 429
        preflight = client.options("/v1/youths", headers={"Origin": "https://evil.example",
                                                          "Access-Control-Request-Method": "GET"})
        assert "access-control-allow-origin" not in preflight.headers


def test_a_restarted_service_matches_the_store(api):
    kept = create(api, wished_trades=["D1102"])
    erased = create(api)
    api.client.delete(f"/v1/youths/{erased['id']}", headers=api.as_("adviser"))
    before = api.client.get("/ready").json()["index"]
    with TestClient(create_app(Settings(home=api.settings.home, model="use",
                                        database_url=api.settings.database_url))) as client:
        after = client.get("/ready").json()["index"]
        engine = client.app.state.live.recommender
        assert kept["id"] in engine.youths.rows and erased["id"] not in engine.youths.rows
    assert (after["youths"], after["vacancies"], after["generation"]) == (
        before["youths"], before["vacancies"], before["generation"])
    store_rows = Workspace(api.settings)
    _, _, read_sessions = store_rows.store()
    from sqlalchemy import func, select

    from service.store.models import Vacancy, Youth
    with read_sessions() as session:
        assert after["youths"] == session.scalar(select(func.count()).select_from(Youth))
        assert after["vacancies"] == session.scalar(select(func.count()).select_from(Vacancy))
    store_rows.store()[0].dispose()


def test_vacancies_past_their_end_date_expire_and_leave_the_lists(api):
    from datetime import date, timedelta

    youth = create(api, mobility_km=10)
    path = f"/v1/youths/{youth['id']}/suggestions"
    first = api.client.get(path, headers=api.as_("adviser")).json()["vacancies"][0]["vacancy_id"]
    stored = api.client.get(f"/v1/vacancies/{first}", headers=api.as_("er")).json()
    ends = (date.today() + timedelta(days=3)).isoformat()
    patched = api.client.patch(f"/v1/vacancies/{first}", json={"version": stored["version"], "end_date": ends},
                               headers=api.as_("er"))
    assert patched.status_code == 200 and patched.json()["status"] == "open"
    live = api.client.app.state.live
    assert live.expire_vacancies(date.today() + timedelta(days=4)) == [first]
    assert api.client.get(f"/v1/vacancies/{first}", headers=api.as_("er")).json()["status"] == "expired"
    again = api.client.get(path, headers=api.as_("adviser")).json()["vacancies"]
    assert first not in {v["vacancy_id"] for v in again}


def test_an_empty_store_starts_and_serves(engine_home, tmp_path):
    settings = Settings(home=engine_home.home, model="use", database_url=f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    for _ in range(2):  # first start writes an empty snapshot, the second reads it
        with TestClient(create_app(settings)) as client:
            index = client.get("/ready").json()["index"]
            assert (index["youths"], index["vacancies"], index["generation"]) == (0, 0, 0)
