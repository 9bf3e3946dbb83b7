"""API keys: the clear key is shown once and never stored."""

from __future__ import annotations

import pytest
from store_factories import dump_database

from matching.errors import UnknownId
from service.store import crud


def test_clear_key_is_nowhere_in_the_database(seeded, engine):
    with seeded.begin() as session:
        row, clear_key = crud.create_api_key(session, "adviser", "ML-METZ", label="Camille")
    assert clear_key.startswith("psl_") and len(clear_key) >= 40
    dump = dump_database(engine)
    assert clear_key not in dump
    assert clear_key[len(row.prefix) :] not in dump  # only the short display prefix is kept
    assert crud.hash_key(clear_key) in dump


def test_authenticate(seeded):
    with seeded.begin() as session:
        row, clear_key = crud.create_api_key(session, "employer_relations", "ML-NANCY")
        other, _ = crud.create_api_key(session, "admin")
    with seeded.begin() as session:
        found = crud.authenticate(session, clear_key)
        assert found is not None and (found.id, found.role, found.mission_locale) == (
            row.id,
            "employer_relations",
            "ML-NANCY",
        )
        assert crud.authenticate(session, clear_key + "x") is None
        assert crud.authenticate(session, "not-a-key") is None
        assert crud.authenticate(session, "") is None
        crud.revoke_api_key(session, row.id)
    with seeded.begin() as session:
        assert crud.authenticate(session, clear_key) is None
        assert [k.id for k in crud.list_api_keys(session)] == [row.id, other.id]


def test_roles_and_mission_locales_are_checked(seeded):
    with pytest.raises(ValueError, match="unknown role"), seeded.begin() as session:
        crud.create_api_key(session, "root")
    with pytest.raises(ValueError, match="needs a Mission Locale"), seeded.begin() as session:
        crud.create_api_key(session, "adviser")
    with pytest.raises(UnknownId), seeded.begin() as session:
        crud.create_api_key(session, "adviser", "ML-NOWHERE")
    with pytest.raises(UnknownId), seeded.begin() as session:
        crud.revoke_api_key(session, 999)
