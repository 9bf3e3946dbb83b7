"""``Idempotency-Key`` (issue #13, item 7): a retry answers as the first request did.

The store is ``tests/api_fixtures.py``'s (SQLite, and PostgreSQL when
``PASSERELLE_TEST_POSTGRES_URL`` is set). Each test uses fresh keys (a uuid): the fixture undoes
the youths, vacancies and employers a test created, not the idempotency rows.
"""

# ruff: noqa: F811  (test functions take the imported fixture `api` as an argument)
from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from api_fixtures import PROFILE_MARKER, api, shared_api  # noqa: F401  (the fixtures of tests/api, shared)
from sqlalchemy import func, select, update

from service.api.idempotency import HEADER, REPLAYED_HEADER
from service.store.columns import utcnow
from service.store.models import AuditLine, IdempotencyKey, Vacancy, Youth

EXAMPLE = json.loads((Path(__file__).resolve().parents[2] / "examples" / "youth.json").read_text())


def profile(**changes) -> dict:
    """The example profile, its dossier reference marked (must never reach the run's log)."""
    data = {k: v for k, v in EXAMPLE.items() if k not in ("available_from", "mission_locale")}
    return {**data, "external_id": f"{EXAMPLE['external_id']}-{PROFILE_MARKER}{Path(__file__).stem}", **changes}


def new_key() -> str:
    return f"retry-{uuid.uuid4()}"


def post(api, path: str, body: dict, role: str, key: str | None):
    headers = {**api.as_(role), **({HEADER: key} if key is not None else {})}
    return api.client.post(path, json=body, headers=headers)


def count(api, model, *where) -> int:
    _, _, read_sessions = api.workspace.store()
    with read_sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def rows_of(api, key: str) -> list[IdempotencyKey]:
    _, _, read_sessions = api.workspace.store()
    with read_sessions() as session:
        return list(session.scalars(select(IdempotencyKey).where(IdempotencyKey.idempotency_key == key)))


def metz_vacancy_body(api, reference: str) -> dict:
    siret = next(v.employer.siret for v in api.data.vacancies if v.employer.location.commune_insee.startswith("57"))
    return {"external_id": reference, "employer_siret": siret, "title": "Boulanger", "code_rome": "D1102",
            "contract": "CDI"}


def test_a_retry_replays_the_create_and_writes_nothing_more(api):
    key, body = new_key(), profile(external_id="IDEM-1")
    first = post(api, "/v1/youths", body, "adviser", key)
    assert first.status_code == 201, first.text
    assert REPLAYED_HEADER not in first.headers
    youth_id = first.json()["id"]
    creates = count(api, AuditLine, AuditLine.action == "create", AuditLine.object_kind == "youth")
    again = post(api, "/v1/youths", body, "adviser", key)
    assert again.status_code == 201, again.text
    assert again.headers[REPLAYED_HEADER] == "true"
    assert again.json()["id"] == youth_id and again.json()["profile"] == first.json()["profile"]
    assert count(api, Youth, Youth.external_id == "IDEM-1") == 1
    assert count(api, AuditLine, AuditLine.action == "create", AuditLine.object_kind == "youth") == creates
    stored = rows_of(api, key)
    assert len(stored) == 1 and stored[0].resource_id == youth_id and stored[0].status == 201
    assert stored[0].youth_id == youth_id and len(stored[0].request_hash) == 64
    without = post(api, "/v1/youths", body, "adviser", None)  # no key: a new youth, as before
    assert without.status_code == 201 and without.json()["id"] != youth_id


def test_a_vacancy_retry_answers_the_same_id(api):
    key, body = new_key(), metz_vacancy_body(api, "IDEM-V-1")
    first = post(api, "/v1/vacancies", body, "er", key)
    assert first.status_code == 201, first.text
    again = post(api, "/v1/vacancies", body, "er", key)
    assert (again.status_code, again.json()) == (201, first.json())
    assert count(api, Vacancy, Vacancy.external_id == "IDEM-V-1") == 1


def test_the_same_key_with_another_body_answers_422(api):
    key = new_key()
    assert post(api, "/v1/youths", profile(external_id="IDEM-2"), "adviser", key).status_code == 201
    other = post(api, "/v1/youths", profile(external_id="IDEM-2-bis"), "adviser", key)
    assert other.status_code == 422, other.text
    body = other.json()
    assert body["field"] == HEADER and HEADER in body["detail"] and HEADER in body["detail_fr"]
    assert count(api, Youth, Youth.external_id == "IDEM-2-bis") == 0
    elsewhere = post(api, "/v1/vacancies", metz_vacancy_body(api, "IDEM-2"), "er", key)
    assert elsewhere.status_code == 201, elsewhere.text  # another caller: its own keys


def test_another_caller_with_the_same_key_is_independent(api):
    key, body = new_key(), profile(external_id="IDEM-3")
    mine = post(api, "/v1/youths", body, "adviser", key)
    theirs = post(api, "/v1/youths", body, "adviser_other", key)
    assert (mine.status_code, theirs.status_code) == (201, 201), theirs.text
    assert REPLAYED_HEADER not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"]
    assert theirs.json()["mission_locale"] != mine.json()["mission_locale"]
    assert len(rows_of(api, key)) == 2


@pytest.mark.parametrize("key", ["", "x" * 129, "clé-é".encode(), "tab\there"])
def test_a_malformed_key_answers_422(api, key):
    answer = post(api, "/v1/youths", profile(external_id="IDEM-4"), "adviser", key)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == HEADER
    assert count(api, Youth, Youth.external_id == "IDEM-4") == 0


def test_erasing_the_youth_erases_its_rows(api):
    key, body = new_key(), profile(external_id="IDEM-5", consent_share=True)
    youth_id = post(api, "/v1/youths", body, "adviser", key).json()["id"]
    er_key = api.keys["er"]
    share_key = new_key()
    key_id = api.key_ids["er"]
    shared = post(api, f"/v1/youths/{youth_id}/shares", {"key_id": key_id}, "adviser", share_key)
    assert shared.status_code == 201, shared.text
    assert post(api, f"/v1/youths/{youth_id}/shares", {"key_id": key_id}, "adviser", share_key).json() == shared.json()
    assert len(rows_of(api, key)) == len(rows_of(api, share_key)) == 1
    assert api.client.delete(f"/v1/youths/{youth_id}", headers=api.as_("adviser")).status_code == 204
    assert rows_of(api, key) == [] and rows_of(api, share_key) == []
    assert er_key  # the key the youth was shared with is untouched


def test_a_replay_of_a_deleted_resource_answers_404(api):
    key, body = new_key(), metz_vacancy_body(api, "IDEM-6")
    vacancy_id = post(api, "/v1/vacancies", body, "er", key).json()["id"]
    assert api.client.delete(f"/v1/vacancies/{vacancy_id}", headers=api.as_("er")).status_code == 204
    again = post(api, "/v1/vacancies", body, "er", key)
    assert again.status_code == 404, again.text
    assert count(api, Vacancy, Vacancy.external_id == "IDEM-6") == 0


def test_keys_expire_after_24_hours(api):
    key, body = new_key(), profile(external_id="IDEM-7")
    first = post(api, "/v1/youths", body, "adviser", key).json()["id"]
    _, sessions, _ = api.workspace.store()
    with sessions.begin() as session:  # the row as it will be tomorrow
        session.execute(update(IdempotencyKey).where(IdempotencyKey.idempotency_key == key)
                        .values(created_at=utcnow() - timedelta(hours=24, minutes=1)))
    again = post(api, "/v1/youths", body, "adviser", key)
    assert again.status_code == 201 and REPLAYED_HEADER not in again.headers
    assert again.json()["id"] != first  # expired: a new create; the old row was pruned
    stored = rows_of(api, key)
    assert [row.resource_id for row in stored] == [again.json()["id"]]


def test_post_keys_ignores_the_header(api):
    key, body = new_key(), {"role": "batch", "label": "idempotency test"}
    first = post(api, "/v1/keys", body, "admin", key)
    again = post(api, "/v1/keys", body, "admin", key)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert first.json()["id"] != again.json()["id"] and again.json()["key"]
    assert rows_of(api, key) == []


def test_every_create_route_documents_the_header(api):
    paths = api.client.app.openapi()["paths"]
    documented = {path for path, operations in paths.items() if "post" in operations
                  and any(p["in"] == "header" and p["name"] == HEADER for p in operations["post"].get("parameters", []))}
    posts = {path for path, operations in paths.items() if "post" in operations}
    assert documented == posts - {"/v1/keys", "/v1/suggestions"}, documented


def test_concurrent_first_requests_make_one_youth(api):
    key, body = new_key(), profile(external_id="IDEM-8")
    barrier = threading.Barrier(4)

    def send(_):
        barrier.wait()
        return post(api, "/v1/youths", body, "adviser", key)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(send, range(4)))
    assert {a.status_code for a in answers} <= {201, 409}, [a.text for a in answers]
    ids = {a.json()["id"] for a in answers if a.status_code == 201}
    assert len(ids) == 1 and count(api, Youth, Youth.external_id == "IDEM-8") == 1
