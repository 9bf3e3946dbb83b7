"""The API's edges: request ids on every answer, and a 500 that tells the truth.

An unexpected error after the route's commit must not claim the request was not applied; one
before any commit may. The log line of a 500 has the request id and the traceback, never the
request's content nor an exception's message (which may quote it). The store (``bare_api``) is
empty but for Mission Locales and keys: no data set to encode, so the module starts fast.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import sqlalchemy.exc

from service.api import youths
from service.store import crud

MARKER = "MARQUEUR-PROFIL-7f3a9c"  # planted in request bodies: must never reach the log
EXAMPLE = json.loads((Path(__file__).resolve().parents[2] / "examples" / "youth.json").read_text())


def marked_profile(external_id: str) -> dict:
    data = {k: v for k, v in EXAMPLE.items() if k not in ("available_from", "mission_locale")}
    return {**data, "external_id": external_id, "interests": f"{data.get('interests', '')} {MARKER}"}


def stored_external_ids(api) -> set[str]:
    listed = api.client.get("/v1/youths", params={"limit": 1000}, headers=api.as_("adviser"))
    assert listed.status_code == 200, listed.text
    return {item["external_id"] for item in listed.json()}


def fail_with_marked_causes(*_args, **_kwargs):
    """Raise what a store error looks like: its message and SQL parameters quote the profile."""
    try:
        raise sqlalchemy.exc.IntegrityError("INSERT INTO youths (profile) VALUES (?)", (MARKER,),
                                            Exception(f"constraint failed: {MARKER}"))
    except sqlalchemy.exc.IntegrityError as error:
        raise RuntimeError(f"could not answer for {MARKER}") from error


def test_every_answer_carries_a_request_id(bare_api):
    client, headers = bare_api.client, bare_api.as_("adviser")
    ok = client.get("/v1/youths", headers={**headers, "X-Request-ID": "abc.DEF_123-4"})
    assert ok.status_code == 200 and ok.headers["X-Request-ID"] == "abc.DEF_123-4"
    fresh = client.get("/v1/youths", headers=headers).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", fresh)
    for insane in (b"has space", b"x" * 65, "é".encode(), b"a/b", b""):
        answer = client.get("/v1/youths", headers={**headers, "X-Request-ID": insane})
        assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-ID"]), insane
    missing = client.get("/v1/youths/nobody", headers={**headers, "X-Request-ID": "lookup-1"})
    assert missing.status_code == 404 and missing.headers["X-Request-ID"] == "lookup-1"
    assert missing.json()["request_id"] == "lookup-1"
    too_big = client.post("/v1/youths", content=b"x" * (bare_api.settings.max_body_bytes + 1),
                          headers={**headers, "Content-Type": "application/json", "X-Request-ID": "big-1"})
    assert too_big.status_code == 413 and too_big.json()["request_id"] == "big-1"
    assert too_big.headers["X-Request-ID"] == "big-1"


def test_an_error_after_the_commit_does_not_claim_not_applied(bare_api, monkeypatch, caplog):
    monkeypatch.setattr(youths, "_stored", fail_with_marked_causes)  # runs after commit and catch-up
    with caplog.at_level(logging.ERROR, logger="passerelle.api"):
        answer = bare_api.client.post("/v1/youths", json=marked_profile("ERR-AFTER-1"),
                                      headers={**bare_api.as_("adviser"), "X-Request-ID": "after-commit-1"})
    assert answer.status_code == 500 and answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    assert "not applied" not in body["detail"] and "pas été appliquée" not in body["detail_fr"]
    assert "unknown" in body["detail"] and "relisez" in body["detail_fr"]
    assert body["request_id"] == answer.headers["X-Request-ID"] == "after-commit-1"
    assert "ERR-AFTER-1" in stored_external_ids(bare_api)  # it was indeed applied
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "passerelle.api")
    assert "request_id=after-commit-1" in logged and "Traceback (most recent call last)" in logged
    assert "fail_with_marked_causes" in logged and "sqlalchemy.exc.IntegrityError" in logged
    assert "RuntimeError" in logged and "direct cause" in logged
    assert MARKER not in logged and MARKER not in caplog.text


def test_an_error_before_any_commit_says_not_applied(bare_api, monkeypatch, caplog):
    monkeypatch.setattr(crud, "create_youth", fail_with_marked_causes)  # inside the transaction
    with caplog.at_level(logging.ERROR, logger="passerelle.api"):
        answer = bare_api.client.post("/v1/youths", json=marked_profile("ERR-BEFORE-1"),
                                      headers=bare_api.as_("adviser"))
    assert answer.status_code == 500
    body = answer.json()
    assert "not applied" in body["detail"] and "pas été appliquée" in body["detail_fr"]
    assert re.fullmatch(r"[0-9a-f]{32}", body["request_id"])
    assert answer.headers["X-Request-ID"] == body["request_id"]
    assert "ERR-BEFORE-1" not in stored_external_ids(bare_api)
    assert f"request_id={body['request_id']}" in caplog.text and MARKER not in caplog.text
