"""Candidate cards (issue #13, item 5): before a share, a shortlist names each youth by a keyed
``candidate_ref`` and a card of initials, age, commune, skills and ``shared``, nothing else (no
youth id, gender, diploma level or free text); the adviser resolves the reference to share.
"""

# ruff: noqa: F811  (test functions take the imported fixtures `api` and `shared_api` as arguments)
from __future__ import annotations

import json
import re
from pathlib import Path

from api_fixtures import PROFILE_MARKER, api, shared_api  # noqa: F401  (the fixtures of tests/api, shared)

from service.output import CARD_FIELDS, SHARED_FIELDS
from service.pseudonym import candidate_ref, pseudonym_key

EXAMPLE = json.loads((Path(__file__).resolve().parents[2] / "examples" / "youth.json").read_text())
ITEM_FIELDS = {"candidate_ref", "score", "score_parts", "reasons", "distance_km", "moved_by", "card"}


def bakery(api, siret: str) -> tuple[dict, str]:
    """A consenting Metz youth who wants to bake, and a bakery vacancy near her."""
    data = {k: v for k, v in EXAMPLE.items() if k not in ("available_from", "mission_locale")}
    data["external_id"] = f"{EXAMPLE['external_id']}-{PROFILE_MARKER}cards"  # never in the log
    youth = api.client.post("/v1/youths", json={**data, "wished_trades": ["D1102"], "mobility_km": 50},
                            headers=api.as_("adviser")).json()
    employer = {"siret": siret, "name": "Pains et Cie", "naf": "1071C", "commune_insee": "57463"}
    assert api.client.post("/v1/employers", json=employer, headers=api.as_("er")).status_code == 201
    vacancy = api.client.post("/v1/vacancies", json={
        "employer_siret": siret, "title": "Boulanger", "code_rome": "D1102",
        "description": "Fabrication du pain", "contract": "apprentissage"}, headers=api.as_("er")).json()
    return youth, vacancy["id"]


def shortlist(api, vacancy_id: str, role: str = "er"):
    response = api.client.get(f"/v1/vacancies/{vacancy_id}/candidates", params={"top_k": 50},
                              headers=api.as_(role))
    assert response.status_code == 200, response.text
    return response


def test_a_card_before_a_share_holds_nothing_personal(api):
    youth, vacancy_id = bakery(api, "90000000000041")
    for role in ("er", "batch"):
        response = shortlist(api, vacancy_id, role)
        candidates = response.json()["candidates"]
        assert candidates and youth["id"] not in response.text
        for item in candidates:
            assert set(item) == ITEM_FIELDS and set(item["card"]) == set(CARD_FIELDS)
            assert re.fullmatch(r"C-[0-9a-f]{32}", item["candidate_ref"]) and item["card"]["shared"] is False
    key = pseudonym_key(api.settings)
    mine = candidate_ref(key, vacancy_id, youth["id"])
    assert mine in {c["candidate_ref"] for c in candidates}
    assert candidate_ref(key, "V-other", youth["id"]) != mine  # no linking across vacancies


def test_the_adviser_resolves_a_candidate_ref_to_share(api):
    youth, vacancy_id = bakery(api, "90000000000058")
    mine = candidate_ref(pseudonym_key(api.settings), vacancy_id, youth["id"])
    body = {"vacancy_id": vacancy_id, "candidate_ref": mine}
    assert api.client.post("/v1/shares", json=body, headers=api.as_("er")).status_code == 403
    other = api.client.post("/v1/shares", json=body, headers=api.as_("adviser_other"))
    assert other.status_code == 404 and other.json()["field"] == "candidate_ref"  # not their youth
    elsewhere = api.client.post("/v1/shares", json={**body, "vacancy_id": "V-0123456789abcdef"},
                                headers=api.as_("adviser"))
    assert elsewhere.status_code == 404, elsewhere.text  # the reference is for this vacancy only
    shared = api.client.post("/v1/shares", json=body, headers=api.as_("adviser"))
    assert shared.status_code == 201, shared.text
    assert shared.json()["youth_id"] == youth["id"] and shared.json()["vacancy_id"] == vacancy_id
    card = next(c for c in shortlist(api, vacancy_id).json()["candidates"] if c["candidate_ref"] == mine)["card"]
    assert set(card) == {*CARD_FIELDS, *SHARED_FIELDS} and card["shared"] is True
    assert (card["gender"], card["diploma_level"], card["external_id"]) == (
        EXAMPLE["gender"], EXAMPLE["diploma_level"], f"{EXAMPLE['external_id']}-{PROFILE_MARKER}cards")
    assert card["experiences"] == EXAMPLE["experiences"]


def test_a_youth_who_did_not_consent_is_not_shared_by_reference(api):
    youth, vacancy_id = bakery(api, "90000000000066")
    patched = api.client.patch(f"/v1/youths/{youth['id']}", json={"version": 1, "consent_share": False},
                               headers=api.as_("adviser"))
    assert patched.status_code == 200, patched.text
    body = {"vacancy_id": vacancy_id, "candidate_ref": candidate_ref(pseudonym_key(api.settings), vacancy_id, youth["id"])}
    refused = api.client.post("/v1/shares", json=body, headers=api.as_("adviser"))
    assert refused.status_code == 409 and refused.json()["field"] == "consent_share"
